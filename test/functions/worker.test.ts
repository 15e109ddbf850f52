import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { fleetRunState } from '#shared/domain/fleet-run';
import { readWorkUnit } from '#shared/domain/work-units';
import { runStatus } from '#cli/commands/status';
import { captureTerminal } from '../cli/support/cli-sandbox';
import { isFleetPlanSummary, type FleetPlanSummary } from '#shared/fleet-planner';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, sqsEvent, startServiceSandbox } from '../support/service-sandbox';
import { HandDrivenWorkQueue } from '../support/work-queue';

/**
 * The fan-out in one process: the scheduled run plans and queues units, and this test plays the
 * event source mapping by hand (receive, invoke the real worker handler, delete what succeeded).
 * The sandbox's driver, with a process per invocation, is tested in test/sandbox/ and test/fleet/.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const fleet = seedAccounts(30, 1);
// Accounts the deadline test adds to the table on its own.
const late = seedAccounts(6, 101);
// Accounts the lease test adds; another run holds the first one's lease.
const contended = seedAccounts(3, 201);
const UNIT_SIZE = 8;

let sandbox: Sandbox;
let sqs: SQSClient;
let queue: HandDrivenWorkQueue;
let reconcile: typeof import('#functions/reconcile/handler').handler;
let worker: typeof import('#functions/worker/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
let schedule: ScheduledEvent;

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts: [...fleet, ...late, ...contended], knobs: { invitationDelayMs: 0 } }, {});
  Object.assign(process.env, { WORK_QUEUE_URL: sandbox.workQueueUrl, WORK_UNIT_SIZE: String(UNIT_SIZE) });
  ({ handler: reconcile } = await import('#functions/reconcile/handler'));
  ({ handler: worker } = await import('#functions/worker/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  schedule = await loadEvent<ScheduledEvent>('schedule.json');
  queue = new HandDrivenWorkQueue(sandbox);
  sqs = new SQSClient({ region: sandbox.homeRegion, endpoint: sandbox.endpoints.sqs, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  await recordDesired(fleet);
});

async function recordDesired(accounts: ReadonlyArray<{ accountId: string; email: string }>): Promise<void> {
  for (const account of accounts) {
    await runtime.store.recordDesired({
      ...account,
      desiredState: 'member',
      tags: { Team: 'test' },
      autoAccept: true,
      paused: false,
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
    });
  }
}

afterAll(async () => {
  sqs?.destroy();
  queue?.close();
  await sandbox?.close();
});

async function planRun(): Promise<FleetPlanSummary> {
  const summary = await reconcile(schedule, lambdaContext('reconcile'));
  if (!isFleetPlanSummary(summary)) throw new Error('expected the scheduled run to fan out');
  return summary;
}

describe('the scheduled run fanned out over the work queue', () => {
  it('queues units of one region each, no larger than the unit size, and records the run as running', async () => {
    const summary = await planRun();
    const perRegion = Math.ceil(fleet.length / UNIT_SIZE);
    expect(summary.unitsQueued).toBe(perRegion * REGIONS.length);
    expect(summary.itemsQueued).toBe(fleet.length * REGIONS.length);
    expect(summary.unitsNotQueued).toEqual([]);

    const run = (await runtime.runs.latest())!;
    expect(run.runId).toBe(summary.runId);
    expect(run.plan?.queuedItems).toBe(fleet.length * REGIONS.length);
    expect(fleetRunState(run)).toBe('running');
    // Nothing is done until a worker takes a unit.
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).size).toBe(0);
  });

  it('the workers take every account to Enabled, and the run record sums their outcomes', async () => {
    const { invocations, failed } = await queue.workUntilEmpty(worker);
    expect(failed).toBe(0);
    expect(invocations).toBe(Math.ceil(fleet.length / UNIT_SIZE) * REGIONS.length);
    for (const region of REGIONS) {
      const statuses = await listMembersStatus(sandbox, region);
      expect([...statuses.values()].filter((status) => status === 'Enabled')).toHaveLength(fleet.length);
    }
    const run = (await runtime.runs.latest())!;
    expect(fleetRunState(run)).toBe('finished');
    expect(run.unitsDone).toBe(run.unitsQueued);
    expect(run.outcomes.done).toBe(fleet.length * REGIONS.length);
    // Observations were written back as the units ran.
    const { rows } = await runtime.store.listAll();
    expect(rows).toHaveLength(fleet.length);
    for (const row of rows) for (const region of REGIONS) expect(row.observed[region]?.relationshipStatus).toBe('Enabled');
  });

  it('a run with nothing to do queues nothing, writes nothing to the rows, and is finished at once', async () => {
    sandbox.clearCalls();
    const summary = await planRun();
    expect(summary.unitsQueued).toBe(0);
    expect(summary.byVerdict.inSync).toBe(fleet.length * REGIONS.length);
    const writes = sandbox.calls().filter((call) => call.service === 'dynamodb' && /Put|Update|Delete|Write/.test(call.operation));
    // The run's own record: started, then planned.
    expect(writes.map((call) => call.operation)).toEqual(['PutItem', 'UpdateItem']);
    expect(sandbox.calls().filter((call) => call.service === 'sqs' && call.operation === 'SendMessage')).toHaveLength(0);
    expect(fleetRunState((await runtime.runs.latest())!)).toBe('finished');
  });

  it('dead-letters a unit it cannot read, naming the field, and does not let it come back', async () => {
    const body = JSON.stringify({ version: 1, runId: 'r', region: 'us-east-1', unitId: 'us-east-1/1', items: [{ accountId: 'not-an-account' }] });
    const response = await worker(sqsEvent([body]), lambdaContext('worker'));
    expect(response.batchItemFailures).toEqual([]);
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    const letter = letters.find((entry) => entry.reason === 'invalid-work-unit')!;
    expect(letter).toBeDefined();
    expect(String(letter.errorMessage)).toContain('items[0].accountId must be exactly 12 digits');
    expect(readWorkUnit(body).ok).toBe(false);
  });

  it('a unit stopped by its deadline re-queues its remainder at once, from the step each item reached', async () => {
    await recordDesired(late);
    const summary = await planRun();
    expect(summary.itemsQueued).toBe(late.length * REGIONS.length);
    const before = (await runtime.runs.latest())!;

    // A clock that moves a second each time the worker asks how much time is left: the budget
    // (DEADLINE_SAFETY_MS, 20 s) lets exactly five steps start, however fast the machine is.
    let now = 0;
    const clock = () => (now += 1_000) - 1_000;
    const batch = (await queue.receive())!;
    const [unit] = batch.event.Records.map((record) => readWorkUnit(record.body)).map((reading) => (reading.ok ? reading.unit : undefined));
    const response = await worker(batch.event, lambdaContext('worker', 25_500, clock));
    expect(response.batchItemFailures).toEqual([]);
    await queue.delete(batch.handles.values());

    const afterFirst = (await runtime.runs.latest())!;
    expect(afterFirst.unitsQueued).toBe(before.unitsQueued + 1);
    expect(afterFirst.outcomes.deferred).toBe(0);
    expect(fleetRunState(afterFirst)).toBe('running');
    // The remainder is on the queue now, not at the next schedule; its items carry on from their step.
    const queued = await sqs.send(new ReceiveMessageCommand({ QueueUrl: sandbox.workQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
    const units = (queued.Messages ?? []).map((message) => readWorkUnit(message.Body!)).flatMap((reading) => (reading.ok ? [reading.unit] : []));
    const remainder = units.find((entry) => entry.unitId === `${unit!.unitId}+`)!;
    expect(remainder).toBeDefined();
    expect(remainder.items.length).toBeGreaterThan(0);
    expect(remainder.items.length).toBeLessThan(unit!.items.length + 1);
    expect(remainder.items.some((item) => item.actions[0]?.kind !== 'createMember')).toBe(true);

    expect((await queue.workUntilEmpty(worker)).failed).toBe(0);
    for (const region of REGIONS) {
      const statuses = await listMembersStatus(sandbox, region);
      for (const account of late) expect(statuses.get(account.accountId)).toBe('Enabled');
    }
    const run = (await runtime.runs.latest())!;
    expect(fleetRunState(run)).toBe('finished');
    expect(run.outcomes.done).toBe(late.length * REGIONS.length);
    expect(run.outcomes.deferred).toBe(0);
  });

  it("leaves an account another run holds to that run: deferred, not re-queued, its lease untouched", async () => {
    const [held, ...free] = contended as [(typeof contended)[number], ...typeof contended];
    await recordDesired(contended);
    const nowMs = Date.now();
    expect(await runtime.store.acquireLease(held.accountId, 'another-run', nowMs, nowMs + 600_000)).toBe(true);
    const summary = await planRun();
    expect(summary.itemsQueued).toBe(contended.length * REGIONS.length);

    expect((await queue.workUntilEmpty(worker)).failed).toBe(0);
    for (const region of REGIONS) {
      const statuses = await listMembersStatus(sandbox, region);
      expect(statuses.get(held.accountId)).toBeUndefined();
      for (const account of free) expect(statuses.get(account.accountId)).toBe('Enabled');
    }
    const run = (await runtime.runs.latest())!;
    expect(run.runId).toBe(summary.runId);
    expect(run.unitsQueued).toBe(summary.unitsQueued);
    expect(fleetRunState(run)).toBe('finished');
    expect(run.outcomes).toMatchObject({ done: free.length * REGIONS.length, deferred: REGIONS.length });
    expect(await runtime.store.acquireLease(held.accountId, 'a-third-run', Date.now(), Date.now() + 1_000)).toBe(false);
    await runtime.store.releaseLease(held.accountId, 'another-run');
  });

  it('`status` shows the fleet run, in flight and finished', async () => {
    const statusOf = async () => {
      const { terminal, stdout } = captureTerminal();
      await runStatus({ runtime, queues: { depths: async () => [] }, terminal });
      return stdout();
    };
    const summary = await planRun();
    expect(await statusOf()).toContain(`Fleet run ${summary.runId} (schedule), started`);
    await runtime.runs.start({ runId: 'in-flight', trigger: 'schedule', startedAt: new Date().toISOString() });
    await runtime.runs.addUnits('in-flight', 3, 0);
    await runtime.runs.planned('in-flight', { accounts: 1, regions: 2, planned: 2, queuedItems: 2, inSync: 0, unmanaged: 0, unobserved: 0, corruptRows: 0, plannedAt: new Date().toISOString() });
    await runtime.runs.recordUnit({ runId: 'in-flight', outcomes: { done: 1, pending: 0, failed: 1, deferred: 0, noop: 0 }, deadLettered: 1, remainderQueued: false, at: new Date().toISOString() });
    const text = await statusOf();
    expect(text).toMatch(/Fleet run in-flight \(schedule\), started \S+: running\n {2}planned \S+: 2 account-regions, 0 in sync, 2 queued; 1 of 3 work units done\n {2}outcomes so far: 1 changed, 0 pending, 1 failed, 0 deferred; 1 dead-lettered/);
    // A unit of a run that a newer one replaced counts nowhere.
    expect(await runtime.runs.recordUnit({ runId: summary.runId, outcomes: { done: 5, pending: 0, failed: 0, deferred: 0, noop: 0 }, deadLettered: 0, remainderQueued: false, at: new Date().toISOString() })).toBe(false);
    expect((await runtime.runs.latest())!.outcomes.done).toBe(1);
  });
});
