import { fileURLToPath } from 'node:url';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { startEventSourceMapping, type EventSourceMapping } from '#sandbox/event-source-mapping';
import { fleetRunState } from '#shared/domain/fleet-run';
import { isFleetPlanSummary } from '#shared/fleet-planner';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, sleep, startServiceSandbox } from '../support/service-sandbox';

/**
 * The fan-out as it runs in AWS: the scheduled run's planner here, and the real worker handler
 * driven from the work queue by the sandbox's event source mapping, each invocation in an
 * environment process of its own. One worker is killed in the middle of its unit.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const fleet = seedAccounts(12, 1);
const UNIT_SIZE = 4;
// Short, so the killed unit comes back within the test; the worker's timeout stays below it.
const VISIBILITY_SECONDS = 10;
const WORKER_TIMEOUT_MS = 9_000;

let sandbox: Sandbox;
let mapping: EventSourceMapping;
let reconcile: typeof import('#functions/reconcile/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
let schedule: ScheduledEvent;
let killed: { environmentId: number; messageId: string } | undefined;

beforeAll(async () => {
  sandbox = await startServiceSandbox({
    regions: REGIONS,
    accounts: fleet,
    // Slow calls, so a unit's four accounts take a moment and the kill lands in the middle of one.
    knobs: { invitationDelayMs: 0, latencyMs: 150 },
    workVisibilityTimeoutSeconds: VISIBILITY_SECONDS,
  });
  const environment = {
    ...sandbox.environment(),
    WORK_QUEUE_URL: sandbox.workQueueUrl,
    WORK_UNIT_SIZE: String(UNIT_SIZE),
    // One administrator call at a time: the unit's CreateMember calls follow one another.
    ADMIN_CONCURRENCY: '1',
    DEADLINE_SAFETY_MS: '1000',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  Object.assign(process.env, environment);
  ({ handler: reconcile } = await import('#functions/reconcile/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  schedule = await loadEvent<ScheduledEvent>('schedule.json');
  for (const account of fleet) {
    await runtime.store.recordDesired({ ...account, desiredState: 'member', tags: {}, autoAccept: true, paused: false, requestedBy: 'test', requestedAt: new Date().toISOString() });
  }
  mapping = await startEventSourceMapping(
    {
      queueUrl: sandbox.workQueueUrl,
      environment,
      handler: { module: fileURLToPath(new URL('../../functions/worker/handler.ts', import.meta.url)) },
      functionName: 'worker',
      batchSize: 1,
      maximumConcurrency: 2,
      functionTimeoutMs: WORKER_TIMEOUT_MS,
      onInvocationStart: ({ environmentId, event }) => {
        if (killed) return;
        const record = event.Records[0]!;
        killed = { environmentId, messageId: record.messageId };
        void killAfterFirstCreateMember(environmentId, (JSON.parse(record.body) as { region: string }).region);
      },
    },
    { region: sandbox.homeRegion, endpoint: sandbox.endpoints.sqs, credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } },
  );
});

afterAll(async () => {
  await mapping?.stop();
  await sandbox?.close();
});

/** Kills the worker once its unit has created its first member: mid-unit, whatever the machine's speed. */
async function killAfterFirstCreateMember(environmentId: number, region: string): Promise<void> {
  const created = () => sandbox.emulator.control.calls().filter((call) => call.operation === 'CreateMember' && call.region === region && !call.errorType).length;
  const before = created();
  while (created() === before) await sleep(5);
  mapping.kill(environmentId);
}

describe('fan-out with a process per invocation', () => {
  it('a worker killed in the middle of its unit loses nothing: the unit comes back and the fleet converges', async () => {
    const summary = await reconcile(schedule, lambdaContext('reconcile'));
    if (!isFleetPlanSummary(summary)) throw new Error('expected the scheduled run to fan out');
    expect(summary.unitsQueued).toBe((fleet.length / UNIT_SIZE) * REGIONS.length);

    await mapping.drain({ maxMs: 120_000 });

    const invocations = mapping.invocations();
    const crashed = invocations.filter((invocation) => invocation.outcome === 'crashed');
    expect(crashed).toHaveLength(1);
    expect(crashed[0]!.messageIds).toEqual([killed!.messageId]);
    // The same message, delivered again after its visibility timeout, then done.
    const again = invocations.filter((invocation) => invocation.messageIds.includes(killed!.messageId) && invocation.outcome === 'ok');
    expect(again).toHaveLength(1);
    expect(again[0]!.environmentId).not.toBe(killed!.environmentId);

    for (const region of REGIONS) {
      const statuses = await listMembersStatus(sandbox, region);
      for (const account of fleet) expect(statuses.get(account.accountId), `${account.accountId} ${region}`).toBe('Enabled');
    }
    expect(await drainQueue(sandbox, sandbox.deadLetterQueueUrl)).toEqual([]);
    expect(await drainQueue(sandbox, sandbox.workDeadLetterQueueUrl)).toEqual([]);
    const run = (await runtime.runs.latest())!;
    expect(fleetRunState(run)).toBe('finished');
    expect(run.outcomes.failed).toBe(0);

    // Each invocation ran in a process of its own, at most two at once, and reported its memory.
    expect(mapping.environments().length).toBeGreaterThanOrEqual(2);
    for (const invocation of invocations.filter((entry) => entry.outcome === 'ok')) expect(invocation.peakRssMiB).toBeGreaterThan(20);
  });
});
