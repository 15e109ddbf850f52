import { DescribeOrganizationConfigurationCommand, DisassociateMemberCommand, Macie2Client, UpdateMemberSessionCommand } from '@aws-sdk/client-macie2';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, startServiceSandbox } from '../support/service-sandbox';
import { oneInvocation } from '../support/one-invocation';

/**
 * A mixed fleet under one delegated administrator, through the real reconcile handler and the real
 * SDK clients against the sandbox (README, Membership modes): 30 accounts of the organization and 5
 * outside it, in two regions.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const MANAGEMENT = { accountId: '999999999999', email: 'management@example.com', name: 'Management' };
const insiders = seedAccounts(30, 1);
// Outsiders have Macie off: the acceptance must enable it from inside the account.
const outsiders = seedAccounts(5, 1, '3333333').map((account) => ({ ...account, inOrganization: false, macieEnabled: false }));
// Accounts for the quota test, enrolled after the fleet has converged.
const lateInsiders = seedAccounts(3, 41);
const lateOutsiders = seedAccounts(3, 41, '3333333').map((account) => ({ ...account, inOrganization: false }));

let sandbox: Sandbox;
let handler: typeof import('#functions/reconcile/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
let schedule: ScheduledEvent;
let macie: (region: string) => Macie2Client;

const ids = (accounts: ReadonlyArray<{ accountId: string }>) => new Set(accounts.map((account) => account.accountId));

async function desire(accounts: ReadonlyArray<{ accountId: string; email: string }>): Promise<void> {
  for (const account of accounts) {
    await runtime.store.recordDesired({
      accountId: account.accountId,
      email: account.email,
      desiredState: 'member',
      tags: { Fleet: 'mixed' },
      autoAccept: true,
      paused: false,
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
    });
  }
}

const run = () => oneInvocation(handler(schedule, lambdaContext('reconcile')));
const viaOf = (region: string) => new Map(sandbox.emulator.control.members(sandbox.administrator.accountId, region).map((member) => [member.accountId, member]));

beforeAll(async () => {
  sandbox = await startServiceSandbox(
    { regions: REGIONS, managementAccount: MANAGEMENT, accounts: [...insiders, ...outsiders, ...lateInsiders, ...lateOutsiders], delegatedAdministrator: true },
    { ORGANIZATION_AUTO_ENABLE: 'true' },
  );
  ({ handler } = await import('#functions/reconcile/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  schedule = await loadEvent<ScheduledEvent>('schedule.json');
  const credentials = { accessKeyId: sandbox.administrator.accessKeyId, secretAccessKey: sandbox.administrator.secretAccessKey };
  macie = (region) => new Macie2Client({ region, endpoint: sandbox.endpoints.macie2, credentials });
  await desire([...insiders, ...outsiders]);
});

afterAll(() => sandbox?.close());

describe('a mixed fleet: 30 accounts of the organization and 5 outside it, two regions', () => {
  it('converges all 35 in one run: the organization through Organizations, the outsiders by invitation', async () => {
    sandbox.clearCalls();
    const summary = await run();

    expect(summary.failuresNew).toBe(0);
    expect(summary.byOutcome.done).toBe(35 * REGIONS.length);
    for (const region of REGIONS) {
      const members = viaOf(region);
      for (const account of insiders) expect(members.get(account.accountId), `${account.accountId} ${region}`).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
      for (const account of outsiders) expect(members.get(account.accountId), `${account.accountId} ${region}`).toMatchObject({ relationshipStatus: 'Enabled', via: 'invitation' });
    }

    const calls = sandbox.emulator.control.calls();
    // CreateMember is made for every account and region; invitations and acceptance only for the outsiders.
    expect(calls.filter((call) => call.operation === 'CreateMember' && call.statusCode === 200)).toHaveLength(35 * REGIONS.length);
    const invited = calls.filter((call) => call.operation === 'CreateInvitations').length;
    expect(invited).toBeGreaterThan(0);
    const memberSide = calls.filter((call) => call.assumedRole);
    expect(new Set(memberSide.map((call) => call.accountId))).toEqual(ids(outsiders));
    // AssumeRole is made by the administrator; the session names the member it was for.
    const assumeRoleCalls = calls.filter((call) => call.operation === 'AssumeRole');
    expect(assumeRoleCalls.length).toBeGreaterThan(0);
    expect(assumeRoleCalls.length).toBeLessThanOrEqual(outsiders.length * REGIONS.length);
  });

  it('turns autoEnable on in each region where the administrator is the delegated one', async () => {
    for (const region of REGIONS) {
      const configuration = await macie(region).send(new DescribeOrganizationConfigurationCommand({}));
      expect(configuration.autoEnable, region).toBe(true);
    }
  });

  it('reports each member with its type in the plan', async () => {
    const view = await runtime.reconciler.plan();
    const typeOf = (accountId: string) => view.plan.items.find((item) => item.accountId === accountId && item.region === 'us-east-1')?.membershipType;
    expect(typeOf(insiders[0]!.accountId)).toBe('organization');
    expect(typeOf(outsiders[0]!.accountId)).toBe('invitation');
    expect(view.plan.items.every((item) => item.verdict === 'inSync')).toBe(true);
  });

  it('corrects drift by the rules: a removed member re-created, a paused one resumed, autoEnable put back', async () => {
    const [removed, paused] = [insiders[0]!.accountId, insiders[1]!.accountId];
    await macie('us-east-1').send(new DisassociateMemberCommand({ id: removed }));
    await macie('eu-west-1').send(new UpdateMemberSessionCommand({ id: paused, status: 'PAUSED' }));
    sandbox.emulator.control.setAutoEnable('eu-west-1', false);
    expect(viaOf('us-east-1').get(removed)?.relationshipStatus).toBe('Removed');

    sandbox.clearCalls();
    const summary = await run();
    expect(summary.failuresNew).toBe(0);
    expect(viaOf('us-east-1').get(removed)).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
    expect(viaOf('eu-west-1').get(paused)).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
    expect(summary.organizationSettings).toEqual([{ region: 'eu-west-1', autoEnable: true, status: 'done' }]);
    expect(sandbox.emulator.control.calls().some((call) => call.assumedRole)).toBe(false);
  });

  it('invites an account that left the organization (its row is an operator\'s), and skips a closed one', async () => {
    const [leaver, closed] = [insiders[2]!.accountId, insiders[3]!.accountId];
    sandbox.emulator.control.leaveOrganization(leaver);
    sandbox.emulator.control.closeAccount(closed);

    const summary = await run();
    expect(summary.failuresNew).toBe(0);
    for (const region of REGIONS) {
      expect(viaOf(region).get(leaver), region).toMatchObject({ relationshipStatus: 'Enabled', via: 'invitation' });
      expect(viaOf(region).get(closed)?.relationshipStatus, region).toBe('AccountSuspended');
    }
    const view = await runtime.reconciler.plan([closed]);
    expect(view.plan.items.map((item) => item.verdict)).toEqual(['skipped', 'skipped']);
  });

  it("holds each type's quota on its own: Organizations members past theirs are dead-lettered, invitations go on", async () => {
    const organizationMembers = viaOf('us-east-1');
    const inOrganization = [...organizationMembers.values()].filter((member) => member.via === 'organization').length;
    const invitationMembers = organizationMembers.size - inOrganization;
    // Room for one more of each type.
    sandbox.emulator.control.setKnobs({ organizationMemberQuota: inOrganization + 1, memberQuota: invitationMembers + 1 });
    await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    await desire([...lateInsiders, ...lateOutsiders]);

    const summary = await run();
    const statuses = await listMembersStatus(sandbox, 'us-east-1');
    expect(lateInsiders.filter((account) => statuses.get(account.accountId) === 'Enabled')).toHaveLength(1);
    expect(lateOutsiders.filter((account) => statuses.get(account.accountId) === 'Enabled')).toHaveLength(1);
    const quotaFailures = summary.failures.filter((failure) => failure.code === 'ServiceQuotaExceededException');
    expect(quotaFailures).toHaveLength(4 * REGIONS.length);
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters.filter((letter) => letter.errorCode === 'ServiceQuotaExceededException')).toHaveLength(4 * REGIONS.length);
    sandbox.emulator.control.resetKnobs();
  });
});
