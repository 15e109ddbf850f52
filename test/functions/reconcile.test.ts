import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { parseMembershipRequest } from '#shared/domain/requests';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, startServiceSandbox } from '../support/service-sandbox';
import { oneInvocation } from '../support/one-invocation';

/** The `reconcile` function, through its real handler, against the sandbox. */

const REGIONS = ['us-east-1', 'eu-west-1'];
const fleet = seedAccounts(8, 1);
const otherAdministrator = '333333333333';
const poached = { accountId: '222222222901', email: 'poached@example.com' };
const leaving = { accountId: '222222222902', email: 'leaving@example.com' };

let sandbox: Sandbox;
let handler: typeof import('#functions/reconcile/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
let schedule: ScheduledEvent;

beforeAll(async () => {
  sandbox = await startServiceSandbox(
    {
      regions: REGIONS,
      accounts: [...fleet, poached, leaving, { accountId: otherAdministrator, email: 'other-admin@example.com' }],
      // An invitation reaches its member only when the test delivers it (an hour is never, here).
      knobs: { invitationDelayMs: 3_600_000 },
    },
    { ACCEPT_POLL_ATTEMPTS: '1' },
  );
  ({ handler } = await import('#functions/reconcile/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  schedule = await loadEvent<ScheduledEvent>('schedule.json');
  for (const account of [...fleet, poached]) {
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
});

afterAll(() => sandbox?.close());

describe('reconcile (scheduled drift correction)', () => {
  it('takes every desired account from nothing to Enabled in every managed region within two runs', async () => {
    for (const region of REGIONS) {
      sandbox.emulator.control.seedMembership({ administratorAccountId: otherAdministrator, accountId: poached.accountId, region, relationshipStatus: 'Enabled' });
    }
    const first = await oneInvocation(handler(schedule, lambdaContext('reconcile')));
    expect(first.byAction.createMember?.succeeded).toBe(fleet.length * REGIONS.length + REGIONS.length);
    // The invitation delay hides the invitations from the members during the first run.
    expect(first.byOutcome.pending).toBe(fleet.length * REGIONS.length);

    sandbox.emulator.control.deliverInvitations(fleet.map((account) => account.accountId));
    const second = await oneInvocation(handler(schedule, lambdaContext('reconcile')));
    expect(second.byAction.accept?.succeeded).toBe(fleet.length * REGIONS.length);

    for (const region of REGIONS) {
      const statuses = await listMembersStatus(sandbox, region);
      for (const account of fleet) expect(statuses.get(account.accountId), `${account.accountId} in ${region}`).toBe('Enabled');
    }
    const { rows } = await runtime.store.getMany(fleet.map((account) => account.accountId));
    for (const row of rows) {
      for (const region of REGIONS) expect(row.observed[region]).toMatchObject({ relationshipStatus: 'Enabled', lastAction: 'accept' });
    }
  });

  it('dead-letters every unprocessed account with a body that replays as a valid request', async () => {
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    const unprocessed = letters.filter((letter) => letter.reason === 'unprocessed-account');
    // Two runs, two regions: the account another administrator owns is left unprocessed each time,
    // and dead-lettered once per region: the second run's failure is the same episode.
    expect(unprocessed).toHaveLength(2);
    for (const letter of unprocessed) {
      expect(letter).toMatchObject({
        accountId: poached.accountId,
        operation: 'CreateInvitations',
        errorCode: 'ClientError',
        attempts: 1,
      });
      expect(REGIONS).toContain(letter.region);
      expect(String(letter.errorMessage)).toMatch(/administrator/i);
      expect(Date.parse(String(letter.at))).not.toBeNaN();
      const replay = parseMembershipRequest(letter, { administratorAccountId: sandbox.administrator.accountId, managedRegions: REGIONS });
      expect(replay).toMatchObject({ ok: true, request: { action: 'enroll', accountId: poached.accountId, email: poached.email } });
    }
    expect(letters.filter((letter) => letter.reason !== 'unprocessed-account')).toEqual([]);
  });

  it('makes no changes and no table writes on a run with no drift', async () => {
    await runtime.store.recordDesired({
      ...poached,
      desiredState: 'absent',
      tags: {},
      autoAccept: true,
      paused: false,
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
    });
    await oneInvocation(handler(schedule, lambdaContext('reconcile')));
    sandbox.clearCalls();

    const quiet = await oneInvocation(handler(schedule, lambdaContext('reconcile')));
    expect(quiet.byOutcome).toMatchObject({ done: 0, failed: 0, pending: 0 });
    expect(quiet.byVerdict.inSync).toBe(quiet.planned);
    const operations = sandbox.calls().map((call) => call.operation);
    // Only reads: the table, the members, and whether the administrator is a delegated one (it is not here).
    const reads = new Set(['ListMembers', 'Scan', 'DescribeOrganizationConfiguration']);
    expect(operations.filter((operation) => !reads.has(operation))).toEqual([]);
  });

  it('removes a member the table marks absent', async () => {
    for (const region of REGIONS) {
      sandbox.emulator.control.seedMembership({ administratorAccountId: sandbox.administrator.accountId, accountId: leaving.accountId, region, relationshipStatus: 'Enabled' });
    }
    await runtime.store.recordDesired({
      ...leaving,
      desiredState: 'absent',
      tags: {},
      autoAccept: true,
      paused: false,
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
    });
    const summary = await oneInvocation(handler(schedule, lambdaContext('reconcile')));
    expect(summary.byAction).toMatchObject({ disassociateMember: { succeeded: 2 }, deleteMember: { succeeded: 2 } });
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).has(leaving.accountId)).toBe(false);
  });

  it('reports members the table does not know without touching them', async () => {
    const stranger = '222222222903';
    sandbox.emulator.control.seedAccounts([{ accountId: stranger, email: 'stranger@example.com' }]);
    sandbox.emulator.control.seedMembership({ administratorAccountId: sandbox.administrator.accountId, accountId: stranger, region: 'us-east-1', relationshipStatus: 'Enabled' });
    const summary = await oneInvocation(handler(schedule, lambdaContext('reconcile')));
    expect(summary.unmanaged).toBe(1);
    expect((await listMembersStatus(sandbox, 'us-east-1')).get(stranger)).toBe('Enabled');
  });
});
