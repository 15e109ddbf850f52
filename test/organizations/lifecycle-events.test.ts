import type { EventBridgeEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { drainQueue, loadEvent, startServiceSandbox } from '../support/service-sandbox';

/**
 * The Organizations account-lifecycle events (AWS API Call via CloudTrail: AcceptHandshake,
 * RemoveAccountFromOrganization, LeaveOrganization, CloseAccount) through the real onboard handler,
 * the real SDK clients and the sandbox, with the administrator the organization's delegated Macie
 * administrator in every region.
 */

type AnyEvent = EventBridgeEvent<string, unknown>;
type Detail = {
  userIdentity: { accountId?: unknown };
  requestParameters: { accountId?: unknown } | null;
  errorCode?: string;
  errorMessage?: string;
};

const REGIONS = ['us-east-1', 'eu-west-1'];
const ADMIN = '111111111111';
const MANAGEMENT = { accountId: '999999999999', email: 'management@example.com', name: 'Management' };
const account = (id: string, extra: Record<string, unknown> = {}) => ({ accountId: id, email: `owner-${id}@example.com`, ...extra });

const JOINER = account('222222222203', { inOrganization: false });
const REMOVED_ORG_ROW = account('222222222204');
const REMOVED_OPERATOR_ROW = account('222222222214');
const LEFT_ORG_ROW = account('222222222205');
const LEFT_OPERATOR_ROW = account('222222222215');
const CLOSED = account('222222222206');
const FAILED_CALL = account('222222222207');
const NOT_IN_TABLE = account('222222222208');
const OPERATOR_REMOVED = account('222222222209');

let sandbox: Sandbox;
let handler: typeof import('#functions/onboard/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
let recordMembershipRequest: typeof import('#shared/intake').recordMembershipRequest;

const onboard = (event: AnyEvent) => handler(event, lambdaContext('onboard'));
const members = (region: string) => new Map(sandbox.emulator.control.members(ADMIN, region).map((member) => [member.accountId, member]));
const rowOf = async (accountId: string) => (await runtime.store.getMany([accountId])).rows[0];

/** A sample event, sent now (so it is newer than the rows recorded before it). */
async function lifecycleEvent(name: string, change: (detail: Detail) => void = () => {}): Promise<AnyEvent> {
  const event = await loadEvent<AnyEvent>(name);
  change(event.detail as Detail);
  return { ...event, time: new Date().toISOString() };
}
const removeAccount = (accountId: unknown) => lifecycleEvent('organizations-remove-account.json', (detail) => (detail.requestParameters = { accountId }));
const leaveOrganization = (accountId: unknown) => lifecycleEvent('organizations-leave-organization.json', (detail) => (detail.userIdentity.accountId = accountId));
const closeAccount = (accountId: unknown) => lifecycleEvent('organizations-close-account.json', (detail) => (detail.requestParameters = { accountId }));

/** A row recorded a minute ago by `requestedBy`, and the account enrolled from it. */
async function enrolled(subject: { accountId: string; email: string }, requestedBy: string): Promise<void> {
  const requestedAt = new Date(Date.now() - 60_000).toISOString();
  await recordMembershipRequest(runtime.store, { action: 'enroll', accountId: subject.accountId, email: subject.email }, { requestedBy, requestedAt });
  const { summary } = await runtime.reconciler.reconcile({ trigger: 'test', accountIds: [subject.accountId] });
  expect(summary.failuresNew).toBe(0);
  for (const region of REGIONS) expect(members(region).get(subject.accountId), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
}

function memberSideCalls(accountId: string) {
  return sandbox.emulator.control.calls().filter((call) => call.assumedRole && call.accountId === accountId);
}

beforeAll(async () => {
  sandbox = await startServiceSandbox({
    regions: REGIONS,
    administratorAccountId: ADMIN,
    managementAccount: MANAGEMENT,
    accounts: [JOINER, REMOVED_ORG_ROW, REMOVED_OPERATOR_ROW, LEFT_ORG_ROW, LEFT_OPERATOR_ROW, CLOSED, FAILED_CALL, NOT_IN_TABLE, OPERATOR_REMOVED],
    delegatedAdministrator: true,
  });
  ({ handler } = await import('#functions/onboard/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  ({ recordMembershipRequest } = await import('#shared/intake'));
});

afterAll(() => sandbox?.close());

describe('AcceptHandshake: an invited account joined the organization', () => {
  it('records the account with its email from Organizations and enrolls it through Organizations, with no invitation', async () => {
    sandbox.emulator.control.joinOrganization(JOINER.accountId);
    sandbox.clearCalls();
    const result = await onboard(await lifecycleEvent('organizations-accept-handshake.json'));

    expect(result).toMatchObject({ outcome: 'reconciled', accountId: JOINER.accountId });
    expect(await rowOf(JOINER.accountId)).toMatchObject({ desiredState: 'member', email: JOINER.email, requestedBy: 'event:aws.organizations' });
    for (const region of REGIONS) expect(members(region).get(JOINER.accountId), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
    const operations = sandbox.calls().map((call) => call.operation);
    expect(operations).toContain('DescribeAccount');
    expect(operations).not.toContain('CreateInvitations');
    expect(operations).not.toContain('AssumeRole');
  });

  it('ignores a handshake that is not an invitation to join', async () => {
    const event = await lifecycleEvent('organizations-accept-handshake.json', (detail) => {
      (detail as unknown as { responseElements: { handshake: { action: string } } }).responseElements.handshake.action = 'ENABLE_ALL_FEATURES';
    });
    expect(await onboard(event)).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('ENABLE_ALL_FEATURES') });
  });
});

describe.each([
  { event: 'RemoveAccountFromOrganization', make: removeAccount, orgRow: { subject: REMOVED_ORG_ROW, by: 'event:aws.organizations' }, operatorRow: REMOVED_OPERATOR_ROW },
  { event: 'LeaveOrganization', make: leaveOrganization, orgRow: { subject: LEFT_ORG_ROW, by: 'organization-sync' }, operatorRow: LEFT_OPERATOR_ROW },
])('$event: an account left the organization', ({ make, orgRow, operatorRow }) => {
  it(`removes a row the organization brought in (${orgRow.by}), and the membership`, async () => {
    const { subject, by } = orgRow;
    await enrolled(subject, by);
    sandbox.emulator.control.leaveOrganization(subject.accountId);
    expect(members('us-east-1').get(subject.accountId)?.relationshipStatus).toBe('Removed');

    sandbox.clearCalls();
    const result = await onboard(await make(subject.accountId));
    expect(result).toMatchObject({ outcome: 'reconciled', accountId: subject.accountId, summary: { failuresNew: 0 } });
    expect(await rowOf(subject.accountId)).toMatchObject({ desiredState: 'absent', requestedBy: 'event:aws.organizations' });
    for (const region of REGIONS) expect(members(region).has(subject.accountId), region).toBe(false);
    expect(sandbox.emulator.control.calls().filter((call) => call.operation === 'DeleteMember' && call.statusCode === 200)).toHaveLength(REGIONS.length);
    expect(memberSideCalls(subject.accountId)).toEqual([]);
  });

  it("keeps an operator's row, and invites the account from then on", async () => {
    await enrolled(operatorRow, 'cli:alice');
    const before = await rowOf(operatorRow.accountId);
    sandbox.emulator.control.leaveOrganization(operatorRow.accountId);

    sandbox.clearCalls();
    const result = await onboard(await make(operatorRow.accountId));
    expect(result).toMatchObject({ outcome: 'kept', accountId: operatorRow.accountId, summary: { failuresNew: 0 } });
    expect(await rowOf(operatorRow.accountId)).toMatchObject({ desiredState: 'member', requestedBy: 'cli:alice', requestedAt: before!.requestedAt, email: operatorRow.email });
    for (const region of REGIONS) expect(members(region).get(operatorRow.accountId), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'invitation' });

    const calls = sandbox.emulator.control.calls();
    expect(calls.filter((call) => call.operation === 'AssumeRole' && call.statusCode === 200).length).toBeGreaterThan(0);
    expect(calls.filter((call) => call.operation === 'CreateInvitations' && call.statusCode === 200).length).toBeGreaterThan(0);
    const accepted = memberSideCalls(operatorRow.accountId).filter((call) => call.operation === 'AcceptInvitation' && call.statusCode === 200);
    expect(accepted.map((call) => call.region).sort()).toEqual([...REGIONS].sort());

    // Macie and the plan agree on the new type.
    const view = await runtime.reconciler.plan([operatorRow.accountId]);
    expect(view.plan.items.map((item) => [item.region, item.verdict, item.membershipType])).toEqual(REGIONS.map((region) => [region, 'inSync', 'invitation']));
  });
});

describe('departures the table does not act on', () => {
  it('ignores the departure of an account the table does not know, writing nothing', async () => {
    sandbox.emulator.control.leaveOrganization(NOT_IN_TABLE.accountId);
    for (const event of [await removeAccount(NOT_IN_TABLE.accountId), await leaveOrganization(NOT_IN_TABLE.accountId)]) {
      sandbox.clearCalls();
      expect(await onboard(event)).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining(NOT_IN_TABLE.accountId) });
      expect(await rowOf(NOT_IN_TABLE.accountId)).toBeUndefined();
      // Only reads of the table: nothing written, nothing asked of Macie.
      expect(sandbox.calls().filter((call) => call.service !== 'dynamodb' || (call.operation !== 'BatchGetItem' && call.operation !== 'GetItem'))).toEqual([]);
    }
  });

  it("keeps an operator's removal: the account that leaves is not enrolled again", async () => {
    await enrolled(OPERATOR_REMOVED, 'organization-sync');
    await recordMembershipRequest(runtime.store, { action: 'remove', accountId: OPERATOR_REMOVED.accountId }, { requestedBy: 'cli:alice', requestedAt: new Date(Date.now() - 30_000).toISOString() });
    await runtime.reconciler.reconcile({ trigger: 'test', accountIds: [OPERATOR_REMOVED.accountId] });
    for (const region of REGIONS) expect(members(region).has(OPERATOR_REMOVED.accountId), region).toBe(false);
    const before = await rowOf(OPERATOR_REMOVED.accountId);
    sandbox.emulator.control.leaveOrganization(OPERATOR_REMOVED.accountId);

    sandbox.clearCalls();
    expect(await onboard(await leaveOrganization(OPERATOR_REMOVED.accountId))).toMatchObject({ outcome: 'kept', accountId: OPERATOR_REMOVED.accountId });
    expect(await rowOf(OPERATOR_REMOVED.accountId)).toEqual(before);
    for (const region of REGIONS) expect(members(region).has(OPERATOR_REMOVED.accountId), region).toBe(false);
    expect(sandbox.emulator.control.calls().filter((call) => ['CreateMember', 'CreateInvitations', 'AssumeRole'].includes(call.operation))).toEqual([]);
  });

  it('ignores a failed call (errorCode set): the row and the membership stay', async () => {
    await enrolled(FAILED_CALL, 'organization-sync');
    const before = await rowOf(FAILED_CALL.accountId);
    const failed = await removeAccount(FAILED_CALL.accountId);
    Object.assign(failed.detail as Detail, { errorCode: 'ConstraintViolationException', errorMessage: 'the account has no payment method' });

    sandbox.clearCalls();
    expect(await onboard(failed)).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('ConstraintViolationException') });
    expect(sandbox.calls()).toEqual([]);
    expect(await rowOf(FAILED_CALL.accountId)).toEqual(before);
    for (const region of REGIONS) expect(members(region).get(FAILED_CALL.accountId), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
  });

  it('ignores an event about the administrator account itself', async () => {
    expect(await onboard(await removeAccount(ADMIN))).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('administrator') });
  });
});

describe('CloseAccount: the account is closed', () => {
  it("removes the row, even an operator's, and the suspended member", async () => {
    await enrolled(CLOSED, 'cli:alice');
    sandbox.emulator.control.closeAccount(CLOSED.accountId);
    for (const region of REGIONS) expect(members(region).get(CLOSED.accountId)?.relationshipStatus, region).toBe('AccountSuspended');

    sandbox.clearCalls();
    const result = await onboard(await closeAccount(CLOSED.accountId));
    expect(result).toMatchObject({ outcome: 'reconciled', accountId: CLOSED.accountId, summary: { failuresNew: 0 } });
    expect(await rowOf(CLOSED.accountId)).toMatchObject({ desiredState: 'absent', requestedBy: 'event:aws.organizations' });
    const deleted = sandbox.emulator.control.calls().filter((call) => call.operation === 'DeleteMember' && call.statusCode === 200);
    expect(deleted.map((call) => call.region).sort()).toEqual([...REGIONS].sort());
    for (const region of REGIONS) expect(members(region).has(CLOSED.accountId), region).toBe(false);
    expect(memberSideCalls(CLOSED.accountId)).toEqual([]);
  });
});

describe('invalid lifecycle events', () => {
  it.each([
    { name: 'RemoveAccountFromOrganization with a malformed account id', make: () => removeAccount('12345'), field: 'detail.requestParameters.accountId' },
    { name: 'CloseAccount with no account id', make: () => closeAccount(undefined), field: 'detail.requestParameters.accountId' },
    { name: 'LeaveOrganization with a malformed caller account', make: () => leaveOrganization('22222222220x'), field: 'detail.userIdentity.accountId' },
    { name: 'AcceptHandshake with a numeric caller account', make: () => lifecycleEvent('organizations-accept-handshake.json', (detail) => (detail.userIdentity.accountId = 222222222203)), field: 'detail.userIdentity.accountId' },
  ])('dead-letters $name, naming the field', async ({ make, field }) => {
    await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    const rowsBefore = (await runtime.store.listAll()).rows;

    const result = await onboard(await make());
    expect(result).toMatchObject({ outcome: 'invalid', summary: expect.stringContaining(field) });
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toEqual([expect.objectContaining({ reason: 'invalid-request', operation: 'validate', errorMessage: expect.stringContaining(field) })]);
    expect((await runtime.store.listAll()).rows).toEqual(rowsBefore);
  });
});
