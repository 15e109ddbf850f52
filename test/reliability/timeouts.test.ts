import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import type { RunSummary } from '#shared/domain/outcomes';
import { listMembersStatus, loadEvent, seedAccounts, startServiceSandbox } from '../support/service-sandbox';
import { startMacieTap, successesPerAccountRegion, type MacieTap } from '../support/macie-tap';
import { oneInvocation } from '../support/one-invocation';

/**
 * A scheduled run that cannot finish before the Lambda deadline: it must stop starting new work
 * `DEADLINE_SAFETY_MS` before the end, record what it finished, and leave the rest to the next run,
 * with nothing lost and nothing done twice.
 *
 * Time here is the run's own clock, not the machine's: every look at the remaining time costs
 * `MS_PER_LOOK` (the run looks once per step it starts), so each run can start the same 99 steps
 * however busy the machine is. The fleet needs 2 steps per account-region (CreateMember, then the
 * acceptance; invitations are batched and always go out): 160, more than one run's share.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const FLEET_SIZE = 40;
const TIMEOUT_MS = 2_000;
const DEADLINE_SAFETY_MS = 700;
const MS_PER_LOOK = 13;
/** Looks 1..n find more than the safety margin left while n × MS_PER_LOOK < TIMEOUT_MS - DEADLINE_SAFETY_MS. */
const STEPS_PER_RUN = Math.ceil((TIMEOUT_MS - DEADLINE_SAFETY_MS) / MS_PER_LOOK) - 1;
const MAX_RUNS = 10;

/** A run's clock that advances only when the run looks at it. */
function clockOfLooks(): { now: () => number; looks: () => number } {
  let looks = 0;
  return { now: () => looks++ * MS_PER_LOOK, looks: () => looks };
}
const fleet = seedAccounts(FLEET_SIZE, 1);

let sandbox: Sandbox;
let tap: MacieTap;
let handler: typeof import('#functions/reconcile/handler').reconcileHandler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;

beforeAll(async () => {
  sandbox = await startServiceSandbox(
    { regions: REGIONS, accounts: fleet, knobs: { latencyMs: 5 } },
    {
      DEADLINE_SAFETY_MS: String(DEADLINE_SAFETY_MS),
      ADMIN_CONCURRENCY: '2',
      MEMBER_CONCURRENCY: '4',
      AWS_MAX_ATTEMPTS: '3',
      ACCEPT_POLL_ATTEMPTS: '1',
    },
  );
  tap = await startMacieTap(sandbox.endpoints.macie2);
  process.env.AWS_ENDPOINT_URL_MACIE2 = tap.url;
  // The inner handler: middy's own timer would put the wall clock back in charge.
  ({ reconcileHandler: handler } = await import('#functions/reconcile/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  const requestedAt = new Date().toISOString();
  for (const account of fleet) {
    await runtime.store.recordDesired({ ...account, desiredState: 'member', tags: {}, autoAccept: true, paused: false, requestedBy: 'test', requestedAt });
  }
});

afterAll(async () => {
  await sandbox?.close();
  await tap?.close();
});

async function macieStatuses(): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for (const region of REGIONS) {
    for (const [accountId, status] of await listMembersStatus(sandbox, region)) statuses.set(`${accountId} ${region}`, status);
  }
  return statuses;
}

describe('reliability: timeouts', () => {
  it('stops before the deadline, records what it finished, and the next runs continue without repeating anything', async () => {
    const schedule = await loadEvent<ScheduledEvent>('schedule.json');
    const runs: Array<{ summary: RunSummary; steps: number }> = [];
    let statuses = new Map<string, string>();
    for (let run = 1; run <= MAX_RUNS; run++) {
      const clock = clockOfLooks();
      const context = lambdaContext('reconcile', TIMEOUT_MS, clock.now);
      const summary = await oneInvocation(handler(schedule, context));
      // The first look is the context's own start; every other one is a step asking to start.
      runs.push({ summary, steps: clock.looks() - 1 });

      // Whatever the run finished is in the table, exactly as Macie has it now; what it did not
      // start has no observation yet, so the next run plans it afresh.
      statuses = await macieStatuses();
      const { rows } = await runtime.store.listAll();
      for (const row of rows) {
        for (const region of REGIONS) {
          expect(row.observed[region]?.relationshipStatus ?? 'NotListed', `${row.accountId} ${region} after run ${run}`).toBe(
            statuses.get(`${row.accountId} ${region}`) ?? 'NotListed',
          );
        }
      }
      if (summary.byOutcome.deferred === 0 && summary.byOutcome.pending === 0 && summary.byOutcome.failed === 0) break;
    }

    // The first run could not finish: it finished some accounts and deferred the rest.
    const [first] = runs;
    expect(first!.summary.byOutcome.deferred).toBeGreaterThan(0);
    expect(first!.summary.byOutcome.done).toBeGreaterThan(0);
    // A run defers work only once its share of steps is spent, and then starts nothing more.
    expect(first!.summary.byAction.createMember?.attempted ?? 0).toBeLessThanOrEqual(STEPS_PER_RUN);
    for (const { summary, steps } of runs) {
      if (summary.byOutcome.deferred > 0) expect(steps).toBeGreaterThan(STEPS_PER_RUN);
    }
    // Later runs continued where the earlier ones stopped, and the fleet converged.
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.length).toBeLessThanOrEqual(MAX_RUNS);
    expect([...statuses.values()].filter((status) => status === 'Enabled')).toHaveLength(FLEET_SIZE * REGIONS.length);
    expect(runs.reduce((sum, { summary }) => sum + summary.byOutcome.failed, 0)).toBe(0);

    // Nothing repeated: one CreateMember and one invitation per account and region, no conflicts.
    const tapped = tap.calls();
    const created = successesPerAccountRegion(tapped, 'CreateMember');
    expect(created.size).toBe(FLEET_SIZE * REGIONS.length);
    expect([...created.values()].every((count) => count === 1)).toBe(true);
    const invited = successesPerAccountRegion(tapped, 'CreateInvitations');
    expect([...invited.values()].every((count) => count === 1)).toBe(true);
    // EnableMacie's conflict is how a member whose Macie is on already answers: not a repeat.
    expect(tapped.filter((call) => call.errorType === 'ConflictException' && call.operation !== 'EnableMacie')).toEqual([]);
    const accepted = sandbox.emulator.control.calls().filter((call) => call.operation === 'AcceptInvitation' && call.statusCode === 200);
    expect(accepted).toHaveLength(FLEET_SIZE * REGIONS.length);

    console.log(
      `[reliability] timeouts: accounts=${FLEET_SIZE} regions=${REGIONS.length} timeoutMs=${TIMEOUT_MS} safetyMs=${DEADLINE_SAFETY_MS} stepsPerRun=${STEPS_PER_RUN} ` +
        `runs=${runs.length} lost=0 createMemberTwice=0 invitedTwice=0 ` +
        `perRun=${JSON.stringify(runs.map(({ summary }) => ({ done: summary.byOutcome.done, deferred: summary.byOutcome.deferred, pending: summary.byOutcome.pending })))}`,
    );
  }, 60_000);
});
