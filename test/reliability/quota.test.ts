import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import type { RunSummary } from '#shared/domain/outcomes';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, startServiceSandbox } from '../support/service-sandbox';
import { oneInvocation } from '../support/one-invocation';

/**
 * At Macie's quota of 1,000 invitation-based members per administrator and region (the emulator's
 * default `memberQuota`, reached by seeding 1,000 real members): the accounts that cannot be added
 * are reported and dead-lettered with ServiceQuotaExceededException, and the rest keeps working.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const FULL = 'us-east-1';
const QUOTA = 1_000;
const existing = seedAccounts(QUOTA - 2, 1, '3333333');
const leaving = { accountId: '222222200001', email: 'leaving@example.com' };
const accepting = { accountId: '222222200002', email: 'accepting@example.com' };
const newcomers = seedAccounts(5, 11);

let sandbox: Sandbox;
let handler: typeof import('#functions/reconcile/handler').handler;

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts: [...existing, leaving, accepting, ...newcomers] });
  const administratorAccountId = sandbox.administrator.accountId;
  const seed = (accountId: string, region: string, relationshipStatus: 'Enabled' | 'Invited') =>
    sandbox.emulator.control.seedMembership({ administratorAccountId, accountId, region, relationshipStatus });
  // us-east-1 holds 998 members nobody asked the table about, one to remove and one to accept: 1,000.
  for (const account of existing) seed(account.accountId, FULL, 'Enabled');
  for (const region of REGIONS) {
    seed(leaving.accountId, region, 'Enabled');
    seed(accepting.accountId, region, 'Invited');
  }
  expect(sandbox.emulator.control.members(administratorAccountId, FULL)).toHaveLength(QUOTA);

  ({ handler } = await import('#functions/reconcile/handler'));
  const { store } = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  const requestedAt = new Date().toISOString();
  const row = { tags: {}, autoAccept: true, paused: false, requestedBy: 'test', requestedAt };
  await store.recordDesired({ ...leaving, ...row, desiredState: 'absent' });
  for (const account of [accepting, ...newcomers]) await store.recordDesired({ ...account, ...row, desiredState: 'member' });
});

afterAll(() => sandbox?.close());

describe('reliability: quota', () => {
  it('dead-letters the accounts it cannot add at the 1,000-member quota and keeps the others working', async () => {
    const schedule = await loadEvent<ScheduledEvent>('schedule.json');
    const runs: RunSummary[] = [];
    for (let run = 1; run <= 2; run++) runs.push(await oneInvocation(handler(schedule, lambdaContext('reconcile'))));

    const full = await listMembersStatus(sandbox, FULL);
    const other = await listMembersStatus(sandbox, 'eu-west-1');
    // The quota holds; the removal freed exactly one place, and exactly one newcomer took it.
    expect(full.size).toBe(QUOTA);
    const admitted = newcomers.filter((account) => full.has(account.accountId));
    const refused = newcomers.filter((account) => !full.has(account.accountId));
    expect(admitted).toHaveLength(1);
    expect(full.get(admitted[0]!.accountId)).toBe('Enabled');
    // The others kept working: the removal and the acceptance happened in both regions, every
    // newcomer is Enabled where there was room, and the 998 unmanaged members were not touched.
    for (const statuses of [full, other]) {
      expect(statuses.has(leaving.accountId)).toBe(false);
      expect(statuses.get(accepting.accountId)).toBe('Enabled');
    }
    for (const account of newcomers) expect(other.get(account.accountId)).toBe('Enabled');
    expect(existing.every((account) => full.get(account.accountId) === 'Enabled')).toBe(true);

    // Reported in each run's summary...
    for (const summary of runs) {
      const quotaFailures = summary.failures.filter((failure) => failure.code === 'ServiceQuotaExceededException');
      expect(quotaFailures.length).toBeGreaterThanOrEqual(refused.length);
      for (const failure of quotaFailures) {
        expect(failure).toMatchObject({ region: FULL, action: 'createMember', message: expect.stringMatching(/quota/i) });
      }
      expect(summary.failures.filter((failure) => failure.code !== 'ServiceQuotaExceededException')).toEqual([]);
    }
    // ...and every refused account is dead-lettered once (the later runs' failures are the same
    // episode, counted as known), with a body that replays the enrollment.
    const [, ...later] = runs;
    for (const summary of later) expect(summary.failuresKnown).toBeGreaterThanOrEqual(refused.length);
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    for (const account of refused) {
      const mine = letters.filter((letter) => letter.accountId === account.accountId);
      expect(mine.length, account.accountId).toBe(1);
      for (const letter of mine) {
        expect(letter).toMatchObject({
          action: 'enroll',
          email: account.email,
          reason: 'action-failed',
          operation: 'CreateMember',
          errorCode: 'ServiceQuotaExceededException',
          region: FULL,
          errorMessage: expect.stringMatching(/quota of 1000 member accounts/),
        });
      }
    }
    expect(letters.every((letter) => letter.errorCode === 'ServiceQuotaExceededException')).toBe(true);

    console.log(
      `[reliability] quota: members=${QUOTA} in ${FULL} (998 unmanaged + 1 removed + 1 accepted) newcomers=${newcomers.length} ` +
        `admitted=${admitted.length} refused=${refused.length} deadLetters=${letters.length} (all ServiceQuotaExceededException) ` +
        `quotaFailuresPerRun=${runs.map((s) => s.failures.length).join('/')} removalsDone=2 acceptsDone=2 otherRegionEnabled=${newcomers.length}/${newcomers.length} lost=0 ` +
        `runMs=${runs.map((s) => s.durationMs).join('/')}`,
    );
  });
});
