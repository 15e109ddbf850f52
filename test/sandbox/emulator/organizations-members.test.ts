import {
  CreateInvitationsCommand,
  CreateMemberCommand,
  DeleteMemberCommand,
  DescribeOrganizationConfigurationCommand,
  DisableOrganizationAdminAccountCommand,
  DisassociateFromAdministratorAccountCommand,
  DisassociateFromMasterAccountCommand,
  DisassociateMemberCommand,
  GetAdministratorAccountCommand,
  GetMemberCommand,
  ListMembersCommand,
  type Macie2Client,
  UpdateMemberSessionCommand,
  UpdateOrganizationConfigurationCommand,
} from '@aws-sdk/client-macie2';
import { DescribeAccountCommand, ListAccountsCommand } from '@aws-sdk/client-organizations';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '#sandbox/emulator/index';
import {
  ADMIN,
  OTHER_REGION,
  REGION,
  SECOND_ADMIN,
  expectAwsError,
  macieAs,
  memberId,
  organizationsAs,
  seedAccount,
  startEmulator,
} from './support/harness';

// Organizations state is one per emulator, so every test starts its own (a loopback server: cheap).
const MANAGEMENT = '100000000001';
const OUTSIDER = '333333333333';
const SECOND_OUTSIDER = '333333333334';
const SUSPENDED = memberId(90);
const NEWCOMER = memberId(50);

let emulator: AwsEmulator;
let admin: Macie2Client;

beforeEach(async () => {
  emulator = await startEmulator([
    seedAccount(MANAGEMENT),
    seedAccount(ADMIN),
    seedAccount(SECOND_ADMIN),
    ...[1, 2, 3, 4].map((n) => seedAccount(memberId(n), { macieEnabled: false })),
    seedAccount(SUSPENDED, { status: 'SUSPENDED' }),
    seedAccount(OUTSIDER, { inOrganization: false }),
    seedAccount(SECOND_OUTSIDER, { inOrganization: false }),
    seedAccount(NEWCOMER, { inOrganization: false, macieEnabled: false }),
  ]);
  emulator.control.designateMacieAdministrator(ADMIN, REGION);
  emulator.control.designateMacieAdministrator(ADMIN, OTHER_REGION);
  admin = macieAs(emulator, ADMIN);
});

afterEach(() => emulator.close());

const macie = (accountId: string, region = REGION) => macieAs(emulator, accountId, { region });
const createMember = (accountId: string, client = admin) =>
  client.send(new CreateMemberCommand({ account: { accountId, email: `aws+${accountId}@example.com` }, tags: { team: 'data' } }));
const statusOf = async (accountId: string, client = admin) => (await client.send(new GetMemberCommand({ id: accountId }))).relationshipStatus;
const viewOf = (accountId: string, administratorAccountId = ADMIN, region = REGION) =>
  emulator.control.members(administratorAccountId, region).find((member) => member.accountId === accountId);

describe('CreateMember through Organizations', () => {
  it('makes an active organization account an Enabled member at once, Macie on, no invitation, listed with no email', async () => {
    const accountId = memberId(1);
    expect(emulator.control.macieEnabled(accountId, REGION)).toBe(false);
    const { arn } = await createMember(accountId);
    expect(arn).toBe(`arn:aws:macie2:${REGION}:${ADMIN}:member/${accountId}`);

    const member = await admin.send(new GetMemberCommand({ id: accountId }));
    expect(member).toMatchObject({ accountId, administratorAccountId: ADMIN, relationshipStatus: 'Enabled', tags: { team: 'data' } });
    expect(member.email).toBeUndefined();
    expect(member.invitedAt).toBeUndefined();
    const { members = [] } = await admin.send(new ListMembersCommand({}));
    expect(members.map((m) => [m.accountId, m.relationshipStatus, m.email, m.invitedAt])).toEqual([[accountId, 'Enabled', undefined, undefined]]);

    expect(emulator.control.macieEnabled(accountId, REGION)).toBe(true);
    expect(emulator.control.macieEnabled(accountId, OTHER_REGION)).toBe(false);
    expect(emulator.control.administratorOf(accountId, REGION)).toBe(ADMIN);
    expect(viewOf(accountId)).toMatchObject({ via: 'organization', relationshipStatus: 'Enabled' });
    const { administrator } = await macie(accountId).send(new GetAdministratorAccountCommand({}));
    expect(administrator).toMatchObject({ accountId: ADMIN, relationshipStatus: 'Enabled' });
    expect(administrator?.invitationId).toBeUndefined();
  });

  it('keeps the invitation behaviour (Created, email kept) for accounts outside the organization and for administrators not delegated', async () => {
    await createMember(OUTSIDER);
    expect(await statusOf(OUTSIDER)).toBe('Created');
    expect((await admin.send(new GetMemberCommand({ id: OUTSIDER }))).email).toBe(`aws+${OUTSIDER}@example.com`);
    expect(viewOf(OUTSIDER)?.via).toBe('invitation');

    const second = macie(SECOND_ADMIN);
    await createMember(memberId(2), second);
    expect(await statusOf(memberId(2), second)).toBe('Created');
    expect(emulator.control.macieEnabled(memberId(2), REGION)).toBe(false);

    // A suspended account is not active: the invitation path, and Macie reports the suspension over it.
    await createMember(SUSPENDED);
    expect(viewOf(SUSPENDED)).toMatchObject({ via: 'invitation', relationshipStatus: 'AccountSuspended' });
  });

  it('uses the region of the call: where the account is not the delegated administrator, invitations it is', async () => {
    const elsewhere = macie(ADMIN, 'ap-southeast-2');
    await createMember(memberId(1), elsewhere);
    expect(await statusOf(memberId(1), elsewhere)).toBe('Created');
  });

  it('refuses an account already Enabled with this administrator, or associated with another one (ConflictException)', async () => {
    await createMember(memberId(1));
    await expectAwsError(createMember(memberId(1)), { name: 'ConflictException', status: 409, message: /already associated with your account/ });
    emulator.control.seedMembership({ administratorAccountId: SECOND_ADMIN, accountId: memberId(2), region: OTHER_REGION, relationshipStatus: 'Enabled' });
    await expectAwsError(createMember(memberId(2)), {
      name: 'ConflictException',
      status: 409,
      message: `The account ${memberId(2)} is already associated with another Macie administrator account (${SECOND_ADMIN})`,
    });
  });
});

describe('quotas', () => {
  it('counts Organizations and invitation members apart, each against its own knob, with the 402 shape', async () => {
    emulator.control.setKnobs({ memberQuota: 1, organizationMemberQuota: 2 });
    await createMember(memberId(1));
    await createMember(memberId(2));
    await expectAwsError(createMember(memberId(3)), {
      name: 'ServiceQuotaExceededException',
      status: 402,
      message: `Adding the account would exceed the quota of 2 Organizations member accounts for your administrator account in ${REGION}`,
    });
    expect((await admin.send(new DescribeOrganizationConfigurationCommand({}))).maxAccountLimitReached).toBe(true);

    // The invitation quota is untouched by the two Organizations members.
    await createMember(OUTSIDER);
    await expectAwsError(createMember(SECOND_OUTSIDER), { name: 'ServiceQuotaExceededException', status: 402, message: /quota of 1 member accounts/ });

    // Per region: the other region has room for both kinds.
    const elsewhere = macie(ADMIN, OTHER_REGION);
    await createMember(memberId(3), elsewhere);
    expect(await statusOf(memberId(3), elsewhere)).toBe('Enabled');
    expect((await elsewhere.send(new DescribeOrganizationConfigurationCommand({}))).maxAccountLimitReached).toBe(false);

    // Re-creating a Removed Organizations member does not need a free place: it takes its own back.
    await admin.send(new DisassociateMemberCommand({ id: memberId(1) }));
    await createMember(memberId(1));
    expect(await statusOf(memberId(1))).toBe('Enabled');
  });

  it('defaults to AWS figures: 10,000 Organizations members and 1,000 invitation members', () => {
    expect(emulator.control.knobs()).toMatchObject({ organizationMemberQuota: 10_000, memberQuota: 1000, organizationAdminDisablingMs: 0 });
    expect(() => emulator.control.setKnobs({ organizationMemberQuota: -1 })).toThrow('knob organizationMemberQuota must be an integer >= 0, got -1');
    expect(() => emulator.control.setKnobs({ organizationAdminDisablingMs: -1 })).toThrow(/organizationAdminDisablingMs/);
  });
});

describe('Organizations member rules', () => {
  it('does not let the member disassociate itself (AccessDeniedException, both operations); it stays Enabled', async () => {
    await createMember(memberId(1));
    const member = macie(memberId(1));
    for (const command of [new DisassociateFromAdministratorAccountCommand({}), new DisassociateFromMasterAccountCommand({})]) {
      await expectAwsError(member.send(command), {
        name: 'AccessDeniedException',
        status: 403,
        message: /only that administrator can disassociate it/,
      });
    }
    expect(await statusOf(memberId(1))).toBe('Enabled');
  });

  it('refuses DeleteMember while associated; DisassociateMember makes it Removed, CreateMember Enabled again, then delete works', async () => {
    await createMember(memberId(1));
    await expectAwsError(admin.send(new DeleteMemberCommand({ id: memberId(1) })), {
      name: 'ValidationException',
      status: 400,
      message: /still associated with your account \(relationship status Enabled\)/,
    });
    await admin.send(new DisassociateMemberCommand({ id: memberId(1) }));
    expect(await statusOf(memberId(1))).toBe('Removed');
    expect(emulator.control.macieEnabled(memberId(1), REGION)).toBe(true);
    expect(emulator.control.administratorOf(memberId(1), REGION)).toBeUndefined();

    await createMember(memberId(1));
    expect(await statusOf(memberId(1))).toBe('Enabled');

    await admin.send(new DisassociateMemberCommand({ id: memberId(1) }));
    await admin.send(new DeleteMemberCommand({ id: memberId(1) }));
    expect(viewOf(memberId(1))).toBeUndefined();
  });

  it('pauses and resumes with UpdateMemberSession as an invitation member does', async () => {
    await createMember(memberId(1));
    await admin.send(new UpdateMemberSessionCommand({ id: memberId(1), status: 'PAUSED' }));
    expect(await statusOf(memberId(1))).toBe('Paused');
    await admin.send(new UpdateMemberSessionCommand({ id: memberId(1), status: 'ENABLED' }));
    expect(await statusOf(memberId(1))).toBe('Enabled');
  });

  it('cannot be invited: CreateInvitations reports it as already a member', async () => {
    await createMember(memberId(1));
    const { unprocessedAccounts } = await admin.send(new CreateInvitationsCommand({ accountIds: [memberId(1)] }));
    expect(unprocessedAccounts).toEqual([{ accountId: memberId(1), errorCode: 'ClientError', errorMessage: `The account ${memberId(1)} is already a member of your account` }]);
  });
});

describe('the organization changes', () => {
  it('with autoEnable on in a region, an account that joins becomes an Enabled member there, and only there', async () => {
    await admin.send(new UpdateOrganizationConfigurationCommand({ autoEnable: true }));
    emulator.control.joinOrganization(NEWCOMER);
    expect(viewOf(NEWCOMER)).toMatchObject({ via: 'organization', relationshipStatus: 'Enabled' });
    expect(emulator.control.macieEnabled(NEWCOMER, REGION)).toBe(true);
    expect(viewOf(NEWCOMER, ADMIN, OTHER_REGION)).toBeUndefined();
    expect(emulator.control.macieEnabled(NEWCOMER, OTHER_REGION)).toBe(false);
    // Existing accounts are not touched: they still need CreateMember.
    expect(viewOf(memberId(1))).toBeUndefined();
  });

  it('adds nobody on join while autoEnable is off, or once the Organizations quota is reached', async () => {
    emulator.control.joinOrganization(NEWCOMER);
    expect(viewOf(NEWCOMER)).toBeUndefined();
    emulator.control.leaveOrganization(NEWCOMER);

    emulator.control.setKnobs({ organizationMemberQuota: 1 });
    emulator.control.setAutoEnable(REGION, true);
    await createMember(memberId(1));
    emulator.control.joinOrganization(NEWCOMER);
    expect(viewOf(NEWCOMER)).toBeUndefined();
  });

  it('treats seeding an account into the organization as joining it', async () => {
    emulator.control.setAutoEnable(REGION, true);
    emulator.control.seedAccounts([seedAccount(memberId(60))]);
    expect(viewOf(memberId(60))?.relationshipStatus).toBe('Enabled');
  });

  it('ends Organizations memberships of an account that leaves: Removed everywhere, Macie still on, invitation rules from then on', async () => {
    await createMember(memberId(1));
    const elsewhere = macie(ADMIN, OTHER_REGION);
    await createMember(memberId(1), elsewhere);
    emulator.control.leaveOrganization(memberId(1));

    expect(await statusOf(memberId(1))).toBe('Removed');
    expect(await statusOf(memberId(1), elsewhere)).toBe('Removed');
    expect(emulator.control.macieEnabled(memberId(1), REGION)).toBe(true);
    expect(emulator.control.administratorOf(memberId(1), REGION)).toBeUndefined();

    const organizations = organizationsAs(emulator, MANAGEMENT);
    await expectAwsError(organizations.send(new DescribeAccountCommand({ AccountId: memberId(1) })), { name: 'AccountNotFoundException', status: 400 });
    const { Accounts = [] } = await organizations.send(new ListAccountsCommand({}));
    expect(Accounts.map((account) => account.Id)).not.toContain(memberId(1));
    await expectAwsError(organizationsAs(emulator, memberId(1)).send(new ListAccountsCommand({})), {
      name: 'AWSOrganizationsNotInUseException',
      status: 400,
    });

    // No longer an organization account: the Removed record must go before an invitation member replaces it.
    await expectAwsError(createMember(memberId(1)), { name: 'ConflictException', status: 409 });
    await admin.send(new DeleteMemberCommand({ id: memberId(1) }));
    await createMember(memberId(1));
    expect(viewOf(memberId(1))).toMatchObject({ via: 'invitation', relationshipStatus: 'Created' });
  });

  it('shows a closed account SUSPENDED in Organizations, still in it, and AccountSuspended in Macie', async () => {
    await createMember(memberId(1));
    emulator.control.closeAccount(memberId(1));
    expect(await statusOf(memberId(1))).toBe('AccountSuspended');
    const { Account } = await organizationsAs(emulator, MANAGEMENT).send(new DescribeAccountCommand({ AccountId: memberId(1) }));
    expect(Account?.Status).toBe('SUSPENDED');
    expect(emulator.control.organizationAccounts().find((account) => account.accountId === memberId(1))?.status).toBe('SUSPENDED');
    // Not active any more: CreateMember for it takes the invitation path.
    emulator.control.closeAccount(memberId(3));
    await createMember(memberId(3));
    expect(viewOf(memberId(3))?.via).toBe('invitation');
  });

  it('takes the designation away, in every region, from a delegated administrator that leaves', async () => {
    await createMember(memberId(1));
    emulator.control.leaveOrganization(ADMIN);
    expect(emulator.control.macieAdministrator(REGION)).toBeUndefined();
    expect(emulator.control.macieAdministrator(OTHER_REGION)).toBeUndefined();
    // Its Organizations members are no longer its members (the designation's removal disassociates them).
    expect(viewOf(memberId(1))).toBeUndefined();
    await expectAwsError(admin.send(new DescribeOrganizationConfigurationCommand({})), { name: 'AccessDeniedException', status: 403 });
  });

  it('removing the designation ends its Organizations memberships in that region only; invitation members and Macie stay', async () => {
    await createMember(memberId(1));
    await createMember(memberId(1), macie(ADMIN, OTHER_REGION));
    await createMember(OUTSIDER);
    await admin.send(new UpdateOrganizationConfigurationCommand({ autoEnable: true }));
    await macie(MANAGEMENT).send(new DisableOrganizationAdminAccountCommand({ adminAccountId: ADMIN }));

    expect(viewOf(memberId(1))).toBeUndefined();
    expect(viewOf(OUTSIDER)).toMatchObject({ via: 'invitation', relationshipStatus: 'Created' });
    expect(viewOf(memberId(1), ADMIN, OTHER_REGION)?.relationshipStatus).toBe('Enabled');
    expect(emulator.control.macieEnabled(memberId(1), REGION)).toBe(true);
    // Designated again, it starts with autoEnable off.
    emulator.control.designateMacieAdministrator(ADMIN, REGION);
    expect((await admin.send(new DescribeOrganizationConfigurationCommand({}))).autoEnable).toBe(false);
  });

  it('never lets the management account leave or close, and rejoining is a no-op for an account already in', () => {
    expect(() => emulator.control.leaveOrganization(MANAGEMENT)).toThrow(/management account and cannot leave/);
    expect(() => emulator.control.closeAccount(MANAGEMENT)).toThrow(/CloseAccount can't close it/);
    emulator.control.joinOrganization(memberId(1));
    expect(emulator.control.organizationAccounts().filter((account) => account.accountId === memberId(1))).toHaveLength(1);
  });
});
