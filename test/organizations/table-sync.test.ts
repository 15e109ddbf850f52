import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '#cli/commands/plan';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { captureTerminal } from '../cli/support/cli-sandbox';
import { loadEvent, startServiceSandbox } from '../support/service-sandbox';
import { oneInvocation } from '../support/one-invocation';

/**
 * The table sync (ORGANIZATION_SYNC=true) through the real reconcile handler and the real SDK
 * clients against the sandbox: which rows it adds and removes, how the accounts it adds are
 * enrolled, and that an operator's rows are never touched by it. `plan` shows its changes without
 * making them.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const ADMIN = '111111111111';
const MANAGEMENT = { accountId: '999999999999', email: 'management@example.com', name: 'Management' };
const insider = (n: number) => ({ accountId: `2222222222${String(n).padStart(2, '0')}`, email: `owner-${n}@example.com` });
const [A1, A2, A3, A4] = [insider(1), insider(2), insider(3), insider(4)];
// In the organization, but outside the sync's scope.
const EXCLUDED = insider(9);
// Joins the organization during the test.
const JOINER = { ...insider(5), inOrganization: false };
// Outside the organization; an operator enrolls it.
const OUTSIDER = { accountId: '333333333301', email: 'outsider@example.com', inOrganization: false, macieEnabled: false };

let sandbox: Sandbox;
let handler: typeof import('#functions/reconcile/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
let recordMembershipRequest: typeof import('#shared/intake').recordMembershipRequest;
let runPlan: typeof import('#cli/commands/plan').runPlan;
let schedule: ScheduledEvent;

const run = () => oneInvocation(handler(schedule, lambdaContext('reconcile')));
const members = (region: string) => new Map(sandbox.emulator.control.members(ADMIN, region).map((member) => [member.accountId, member]));
const rowOf = async (accountId: string) => (await runtime.store.getMany([accountId])).rows[0];
const operator = (request: Parameters<typeof recordMembershipRequest>[1]) =>
  recordMembershipRequest(runtime.store, request, { requestedBy: 'cli:alice', requestedAt: new Date().toISOString() });

async function planJson(): Promise<{ exitCode: number; document: PlanDocument }> {
  const { terminal, stdout } = captureTerminal();
  const exitCode = await runPlan({ runtime, terminal, json: true });
  return { exitCode, document: JSON.parse(stdout()) as PlanDocument };
}

const WRITES = new Set(['CreateMember', 'CreateInvitations', 'AcceptInvitation', 'DisassociateMember', 'DeleteMember', 'UpdateMemberSession', 'TagResource', 'UntagResource', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'UpdateOrganizationConfiguration']);

beforeAll(async () => {
  sandbox = await startServiceSandbox(
    { regions: REGIONS, administratorAccountId: ADMIN, managementAccount: MANAGEMENT, accounts: [A1, A2, A3, A4, EXCLUDED, JOINER, OUTSIDER], delegatedAdministrator: true },
    { ORGANIZATION_SYNC: 'true', SYNC_EXCLUDE_ACCOUNTS: EXCLUDED.accountId },
  );
  ({ handler } = await import('#functions/reconcile/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  ({ recordMembershipRequest } = await import('#shared/intake'));
  ({ runPlan } = await import('#cli/commands/plan'));
  schedule = await loadEvent<ScheduledEvent>('schedule.json');
  await operator({ action: 'enroll', accountId: OUTSIDER.accountId, email: OUTSIDER.email });
});

afterAll(() => sandbox?.close());

describe('the table sync through the reconcile handler (ORGANIZATION_SYNC=true)', () => {
  it("plan shows the sync's changes (tableSync) without making them; the reconciler's own plan holds only the table", async () => {
    sandbox.clearCalls();
    const { exitCode, document } = await planJson();

    expect(exitCode).toBe(2);
    expect(document.drift).toBe(true);
    expect(document.tableSync?.error).toBeUndefined();
    expect(document.tableSync?.changes).toEqual(
      [A1, A2, A3, A4].map((account) => ({ kind: 'enroll', accountId: account.accountId, email: account.email, reason: expect.any(String) })),
    );
    // The reconciler's plan is of the table as it is: only the operator's outsider.
    const view = await runtime.reconciler.plan();
    expect([...new Set(view.plan.items.map((item) => item.accountId))]).toEqual([OUTSIDER.accountId]);
    expect(document.items.map((item) => item.accountId)).toEqual([OUTSIDER.accountId, OUTSIDER.accountId]);

    expect(sandbox.calls().filter((call) => WRITES.has(call.operation))).toEqual([]);
    expect((await runtime.store.listAll()).rows.map((row) => row.accountId)).toEqual([OUTSIDER.accountId]);
  });

  it('adds a row for every active organization account in scope on the first run, and enrolls each through Organizations', async () => {
    sandbox.clearCalls();
    const summary = await run();
    expect(summary.failuresNew).toBe(0);

    const { rows } = await runtime.store.listAll();
    const byAccount = new Map(rows.map((row) => [row.accountId, row]));
    // Not the administrator, not the management account, not the excluded account, not an account outside the organization.
    expect([...byAccount.keys()].sort()).toEqual([A1, A2, A3, A4, OUTSIDER].map((account) => account.accountId).sort());
    for (const account of [A1, A2, A3, A4]) {
      expect(byAccount.get(account.accountId), account.accountId).toMatchObject({ desiredState: 'member', email: account.email, requestedBy: 'organization-sync' });
    }
    expect(byAccount.get(OUTSIDER.accountId)).toMatchObject({ desiredState: 'member', requestedBy: 'cli:alice' });

    for (const region of REGIONS) {
      const listed = members(region);
      for (const account of [A1, A2, A3, A4]) expect(listed.get(account.accountId), `${account.accountId} ${region}`).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
      expect(listed.get(OUTSIDER.accountId), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'invitation' });
      for (const skipped of [ADMIN, MANAGEMENT.accountId, EXCLUDED.accountId]) expect(listed.has(skipped), `${skipped} ${region}`).toBe(false);
    }
    // Only the outsider was invited: every call from inside a member account is the outsider's.
    const calls = sandbox.emulator.control.calls();
    expect(new Set(calls.filter((call) => call.assumedRole).map((call) => call.accountId))).toEqual(new Set([OUTSIDER.accountId]));
    expect(calls.filter((call) => call.operation === 'CreateMember' && call.statusCode === 200)).toHaveLength(5 * REGIONS.length);
  });

  it('is idempotent: a second run changes no row and makes no Macie write', async () => {
    const before = (await runtime.store.listAll()).rows.map(({ accountId, requestedAt, desiredState }) => ({ accountId, requestedAt, desiredState }));
    sandbox.clearCalls();
    const summary = await run();
    expect(summary.failuresNew).toBe(0);
    const after = (await runtime.store.listAll()).rows.map(({ accountId, requestedAt, desiredState }) => ({ accountId, requestedAt, desiredState }));
    expect(after).toEqual(before);
    expect(sandbox.emulator.control.calls().filter((call) => WRITES.has(call.operation))).toEqual([]);
    // The organization is listed once per run: the reconcile plans from the sync's listing (pages of 20).
    const pages = Math.ceil(sandbox.emulator.control.organizationAccounts().length / 20);
    expect(sandbox.emulator.control.calls().filter((call) => call.operation === 'ListAccounts')).toHaveLength(pages);
    expect((await planJson()).document.tableSync?.changes).toEqual([]);
  });

  it('adds and enrolls, on the next run, an account that joined the organization', async () => {
    sandbox.emulator.control.joinOrganization(JOINER.accountId);
    expect((await planJson()).document.tableSync?.changes).toEqual([{ kind: 'enroll', accountId: JOINER.accountId, email: JOINER.email, reason: expect.any(String) }]);
    expect(await rowOf(JOINER.accountId)).toBeUndefined();

    sandbox.clearCalls();
    const summary = await run();
    expect(summary.failuresNew).toBe(0);
    expect(await rowOf(JOINER.accountId)).toMatchObject({ desiredState: 'member', email: JOINER.email, requestedBy: 'organization-sync' });
    for (const region of REGIONS) expect(members(region).get(JOINER.accountId), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
    expect(sandbox.emulator.control.calls().some((call) => call.assumedRole || call.operation === 'CreateInvitations')).toBe(false);
  });

  it('removes the row the sync added, and the membership, of an account that left the organization and of one that was closed', async () => {
    const [leaver, closed] = [A1.accountId, A2.accountId];
    sandbox.emulator.control.leaveOrganization(leaver);
    sandbox.emulator.control.closeAccount(closed);
    expect(members('us-east-1').get(closed)?.relationshipStatus).toBe('AccountSuspended');

    const planned = (await planJson()).document.tableSync?.changes;
    expect(planned).toEqual([
      { kind: 'remove', accountId: leaver, reason: expect.stringContaining('no longer in the organization') },
      { kind: 'remove', accountId: closed, reason: expect.stringContaining('SUSPENDED') },
    ]);
    // The plan changed nothing.
    expect(await rowOf(leaver)).toMatchObject({ desiredState: 'member' });

    sandbox.clearCalls();
    const summary = await run();
    expect(summary.failuresNew).toBe(0);
    for (const accountId of [leaver, closed]) {
      expect(await rowOf(accountId), accountId).toMatchObject({ desiredState: 'absent', requestedBy: 'organization-sync' });
      for (const region of REGIONS) expect(members(region).has(accountId), `${accountId} ${region}`).toBe(false);
    }
    const deletes = sandbox.emulator.control.calls().filter((call) => call.operation === 'DeleteMember' && call.statusCode === 200);
    expect(deletes).toHaveLength(2 * REGIONS.length);
    // The others are untouched.
    for (const region of REGIONS) expect(members(region).get(A3.accountId), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
  });

  it('adds back, and enrolls again, an account that rejoins the organization after the sync removed its row', async () => {
    const rejoiner = A1.accountId;
    expect(await rowOf(rejoiner)).toMatchObject({ desiredState: 'absent', requestedBy: 'organization-sync' });
    sandbox.emulator.control.joinOrganization(rejoiner);
    expect((await planJson()).document.tableSync?.changes).toEqual([{ kind: 'enroll', accountId: rejoiner, email: A1.email, reason: expect.any(String) }]);

    const summary = await run();
    expect(summary.failuresNew).toBe(0);
    expect(await rowOf(rejoiner)).toMatchObject({ desiredState: 'member', email: A1.email, requestedBy: 'organization-sync' });
    for (const region of REGIONS) expect(members(region).get(rejoiner), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
    // The closed account stays out: it is not active.
    expect(await rowOf(A2.accountId)).toMatchObject({ desiredState: 'absent' });
  });

  it("never undoes an operator's removal of an organization account", async () => {
    await operator({ action: 'remove', accountId: A3.accountId });
    expect((await planJson()).document.tableSync?.changes).toEqual([]);

    for (let i = 0; i < 2; i++) {
      const summary = await run();
      expect(summary.failuresNew).toBe(0);
      expect(await rowOf(A3.accountId)).toMatchObject({ desiredState: 'absent', requestedBy: 'cli:alice' });
      for (const region of REGIONS) expect(members(region).has(A3.accountId), `${region}, run ${i + 1}`).toBe(false);
    }
  });

  it("never removes an operator's row: an outsider stays enrolled, and an organization account that leaves is invited instead", async () => {
    // The operator takes over the row the sync added for A4.
    await operator({ action: 'enroll', accountId: A4.accountId, email: A4.email });
    sandbox.emulator.control.leaveOrganization(A4.accountId);
    expect((await planJson()).document.tableSync?.changes).toEqual([]);

    sandbox.clearCalls();
    const summary = await run();
    expect(summary.failuresNew).toBe(0);
    for (const account of [A4, OUTSIDER]) {
      expect(await rowOf(account.accountId), account.accountId).toMatchObject({ desiredState: 'member', requestedBy: 'cli:alice' });
      for (const region of REGIONS) expect(members(region).get(account.accountId), `${account.accountId} ${region}`).toMatchObject({ relationshipStatus: 'Enabled', via: 'invitation' });
    }
    expect(new Set(sandbox.emulator.control.calls().filter((call) => call.assumedRole).map((call) => call.accountId))).toEqual(new Set([A4.accountId]));
  });

  it('never adds an account the scope excludes', async () => {
    expect(await rowOf(EXCLUDED.accountId)).toBeUndefined();
    expect(await rowOf(MANAGEMENT.accountId)).toBeUndefined();
    expect(await rowOf(ADMIN)).toBeUndefined();
  });
});
