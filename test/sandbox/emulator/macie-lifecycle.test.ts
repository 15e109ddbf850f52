import {
  AcceptInvitationCommand,
  CreateInvitationsCommand,
  CreateMemberCommand,
  DeclineInvitationsCommand,
  DeleteInvitationsCommand,
  DeleteMemberCommand,
  DisassociateFromAdministratorAccountCommand,
  DisassociateMemberCommand,
  EnableMacieCommand,
  GetAdministratorAccountCommand,
  GetInvitationsCountCommand,
  GetMacieSessionCommand,
  GetMemberCommand,
  ListInvitationsCommand,
  ListMembersCommand,
  ListTagsForResourceCommand,
  type Macie2Client,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateMacieSessionCommand,
  UpdateMemberSessionCommand,
} from '@aws-sdk/client-macie2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEmulator, RELATIONSHIP_STATUSES } from '#sandbox/emulator/index';
import {
  ADMIN,
  OTHER_REGION,
  REGION,
  SECOND_ADMIN,
  expectAwsError,
  macieAs,
  memberId,
  seedAccount,
  startEmulator,
} from './support/harness';

// AWS's own words (terraform-provider-aws issue 40587 quotes the trace).
const NO_PENDING_INVITATION =
  'The request is rejected because the current account has no pending invitation from the given master account ID or is already an associated member of another master account.';

let emulator: AwsEmulator;
let admin: Macie2Client;

// Each test owns its member accounts (by number), so tests stay independent while sharing one emulator.
const SUSPENDED = memberId(90);
const REGION_DISABLED = memberId(91);
const WITHOUT_MACIE = memberId(92);
const SEEDED_STATUS_BASE = 100;

// The emulator's clock runs ahead of the wall clock by `skew`: a test moves time on instead of sleeping,
// so verification "finishes" exactly when the test says, however slow the machine is.
let skew = 0;
const advance = (ms: number) => {
  skew += ms;
};
const VERIFICATION_MS = 60_000;

beforeAll(async () => {
  emulator = await startEmulator([
    seedAccount(ADMIN),
    seedAccount(SECOND_ADMIN),
    ...Array.from({ length: 40 }, (_, i) => seedAccount(memberId(i + 1))),
    seedAccount(SUSPENDED, { status: 'SUSPENDED' }),
    seedAccount(REGION_DISABLED, { disabledRegions: [REGION] }),
    seedAccount(WITHOUT_MACIE, { macieEnabled: false }),
    ...RELATIONSHIP_STATUSES.map((_, i) => seedAccount(memberId(SEEDED_STATUS_BASE + i))),
  ], {}, () => Date.now() + skew);
  admin = macieAs(emulator, ADMIN);
});

afterEach(() => emulator.control.resetKnobs());
afterAll(() => emulator.close());

const memberClient = (accountId: string, region = REGION) => macieAs(emulator, accountId, { region });

async function statusOf(accountId: string, client = admin): Promise<string | undefined> {
  return (await client.send(new GetMemberCommand({ id: accountId }))).relationshipStatus;
}

async function addAndInvite(accountId: string, client = admin): Promise<void> {
  await client.send(new CreateMemberCommand({ account: { accountId, email: `aws+${accountId}@example.com` } }));
  const invited = await client.send(new CreateInvitationsCommand({ accountIds: [accountId] }));
  expect(invited.unprocessedAccounts).toEqual([]);
}

async function acceptFrom(accountId: string, administratorAccountId = ADMIN, region = REGION): Promise<string> {
  const member = memberClient(accountId, region);
  const { invitations = [] } = await member.send(new ListInvitationsCommand({}));
  const invitation = invitations.find((candidate) => candidate.accountId === administratorAccountId);
  if (!invitation?.invitationId) throw new Error(`no invitation from ${administratorAccountId} for ${accountId}`);
  await member.send(new AcceptInvitationCommand({ administratorAccountId, invitationId: invitation.invitationId }));
  return invitation.invitationId;
}

describe('invitation-based membership', () => {
  it('walks a member from Created through EmailVerificationInProgress and Invited to Enabled', async () => {
    const accountId = memberId(1);
    const member = memberClient(accountId);
    emulator.control.setKnobs({ emailVerificationMs: VERIFICATION_MS });

    const created = await admin.send(
      new CreateMemberCommand({ account: { accountId, email: 'security+1@example.com' }, tags: { team: 'data' } }),
    );
    expect(created.arn).toBe(`arn:aws:macie2:${REGION}:${ADMIN}:member/${accountId}`);
    expect(await statusOf(accountId)).toBe('Created');

    const invited = await admin.send(new CreateInvitationsCommand({ accountIds: [accountId], message: 'Join us' }));
    expect(invited.unprocessedAccounts).toEqual([]);
    const verifying = await admin.send(new GetMemberCommand({ id: accountId }));
    expect(verifying.relationshipStatus).toBe('EmailVerificationInProgress');
    expect(verifying.invitedAt).toBeInstanceOf(Date);
    expect((await member.send(new ListInvitationsCommand({}))).invitations).toEqual([]);

    advance(VERIFICATION_MS);
    expect(await statusOf(accountId)).toBe('Invited');
    const { invitations = [] } = await member.send(new ListInvitationsCommand({}));
    expect(invitations).toHaveLength(1);
    expect(invitations[0]).toMatchObject({ accountId: ADMIN, relationshipStatus: 'Invited' });
    expect((await member.send(new GetInvitationsCountCommand({}))).invitationsCount).toBe(1);

    const invitationId = invitations[0]?.invitationId ?? '';
    await member.send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId }));

    const enabled = await admin.send(new GetMemberCommand({ id: accountId }));
    expect(enabled).toMatchObject({
      relationshipStatus: 'Enabled',
      administratorAccountId: ADMIN,
      email: 'security+1@example.com',
      tags: { team: 'data' },
    });
    const { administrator } = await member.send(new GetAdministratorAccountCommand({}));
    expect(administrator).toMatchObject({ accountId: ADMIN, invitationId, relationshipStatus: 'Enabled' });
    expect((await member.send(new GetInvitationsCountCommand({}))).invitationsCount).toBe(0);
    expect(emulator.control.administratorOf(accountId, REGION)).toBe(ADMIN);
    const associated = await admin.send(new ListMembersCommand({}));
    expect(associated.members?.map((m) => m.accountId)).toContain(accountId);
  });

  it('answers a repeated AcceptInvitation as AWS does, with its 400 ValidationException, and the member stays Enabled', async () => {
    const accountId = memberId(2);
    await addAndInvite(accountId);
    const invitationId = await acceptFrom(accountId);
    await expectAwsError(memberClient(accountId).send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId })), {
      name: 'ValidationException',
      status: 400,
      message: NO_PENDING_INVITATION,
    });
    expect(await statusOf(accountId)).toBe('Enabled');
  });

  it('pauses and resumes an associated member with UpdateMemberSession, and the member sees its session follow', async () => {
    const accountId = memberId(3);
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId, region: REGION, relationshipStatus: 'Enabled' });

    await admin.send(new UpdateMemberSessionCommand({ id: accountId, status: 'PAUSED' }));
    expect(await statusOf(accountId)).toBe('Paused');
    expect((await memberClient(accountId).send(new GetMacieSessionCommand({}))).status).toBe('PAUSED');
    const current = await admin.send(new ListMembersCommand({}));
    expect(current.members?.find((m) => m.accountId === accountId)?.relationshipStatus).toBe('Paused');

    await admin.send(new UpdateMemberSessionCommand({ id: accountId, status: 'ENABLED' }));
    expect(await statusOf(accountId)).toBe('Enabled');
    expect((await memberClient(accountId).send(new GetMacieSessionCommand({}))).status).toBe('ENABLED');
  });

  it('shows a member that suspends its own Macie as Paused to the administrator', async () => {
    const accountId = memberId(4);
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId, region: REGION, relationshipStatus: 'Enabled' });
    await memberClient(accountId).send(new UpdateMacieSessionCommand({ status: 'PAUSED' }));
    expect(await statusOf(accountId)).toBe('Paused');
  });

  it('moves a member the administrator disassociates to Removed, and repeating it changes nothing', async () => {
    const accountId = memberId(5);
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId, region: REGION, relationshipStatus: 'Enabled' });

    await admin.send(new DisassociateMemberCommand({ id: accountId }));
    await admin.send(new DisassociateMemberCommand({ id: accountId }));

    expect(await statusOf(accountId)).toBe('Removed');
    expect((await memberClient(accountId).send(new GetAdministratorAccountCommand({}))).administrator).toBeUndefined();
    expect(emulator.control.administratorOf(accountId, REGION)).toBeUndefined();
    const current = await admin.send(new ListMembersCommand({ onlyAssociated: 'true' }));
    expect(current.members?.map((m) => m.accountId)).not.toContain(accountId);
  });

  it('requires a Removed member to be deleted and re-created before it can be invited again', async () => {
    const accountId = memberId(6);
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId, region: REGION, relationshipStatus: 'Removed' });

    const refused = await admin.send(new CreateInvitationsCommand({ accountIds: [accountId] }));
    expect(refused.unprocessedAccounts).toEqual([
      { accountId, errorCode: 'ClientError', errorMessage: expect.stringMatching(/was removed from your account; delete it/) },
    ]);
    expect(await statusOf(accountId)).toBe('Removed');

    await admin.send(new DeleteMemberCommand({ id: accountId }));
    await addAndInvite(accountId);
    expect(await statusOf(accountId)).toBe('Invited');
  });

  it('shows a member that leaves with DisassociateFromAdministratorAccount as Resigned, and re-invites it with a new invitation', async () => {
    const accountId = memberId(7);
    await addAndInvite(accountId);
    const firstInvitation = await acceptFrom(accountId);

    await memberClient(accountId).send(new DisassociateFromAdministratorAccountCommand({}));
    expect(await statusOf(accountId)).toBe('Resigned');
    expect(emulator.control.administratorOf(accountId, REGION)).toBeUndefined();

    const again = await admin.send(new CreateInvitationsCommand({ accountIds: [accountId] }));
    expect(again.unprocessedAccounts).toEqual([]);
    expect(await statusOf(accountId)).toBe('Invited');
    const secondInvitation = await acceptFrom(accountId);
    expect(secondInvitation).not.toBe(firstInvitation);
    expect(await statusOf(accountId)).toBe('Enabled');
  });

  it('shows a declined invitation as Resigned to the administrator and keeps it listed for the member until deleted', async () => {
    const accountId = memberId(8);
    const member = memberClient(accountId);
    await addAndInvite(accountId);

    const declined = await member.send(new DeclineInvitationsCommand({ accountIds: [ADMIN] }));
    expect(declined.unprocessedAccounts).toEqual([]);
    expect(await statusOf(accountId)).toBe('Resigned');
    const listed = await member.send(new ListInvitationsCommand({}));
    expect(listed.invitations).toEqual([expect.objectContaining({ accountId: ADMIN, relationshipStatus: 'Resigned' })]);

    const deleted = await member.send(new DeleteInvitationsCommand({ accountIds: [ADMIN] }));
    expect(deleted.unprocessedAccounts).toEqual([]);
    expect((await member.send(new ListInvitationsCommand({}))).invitations).toEqual([]);
    expect((await member.send(new GetInvitationsCountCommand({}))).invitationsCount).toBe(0);
  });

  it('treats deleting an unanswered invitation as declining it', async () => {
    const accountId = memberId(9);
    await addAndInvite(accountId);
    const deleted = await memberClient(accountId).send(new DeleteInvitationsCommand({ accountIds: [ADMIN] }));
    expect(deleted.unprocessedAccounts).toEqual([]);
    expect(await statusOf(accountId)).toBe('Resigned');
  });

  it('ends verification of a bouncing address in EmailVerificationFailed, never shows it to the member, and lets a fixed address through', async () => {
    const accountId = memberId(10);
    emulator.control.setKnobs({ emailVerificationMs: VERIFICATION_MS, bouncingEmails: [`AWS+${accountId}@example.com`] });
    await addAndInvite(accountId);
    expect(await statusOf(accountId)).toBe('EmailVerificationInProgress');
    advance(VERIFICATION_MS);
    expect(await statusOf(accountId)).toBe('EmailVerificationFailed');
    expect((await memberClient(accountId).send(new ListInvitationsCommand({}))).invitations).toEqual([]);

    emulator.control.setKnobs({ bouncingEmails: [] });
    await admin.send(new CreateInvitationsCommand({ accountIds: [accountId] }));
    advance(VERIFICATION_MS);
    expect(await statusOf(accountId)).toBe('Invited');
  });

  it('deletes Created and EmailVerificationFailed members without disassociating first', async () => {
    const created = memberId(11);
    const failed = memberId(12);
    await admin.send(new CreateMemberCommand({ account: { accountId: created, email: 'c@example.com' } }));
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: failed, region: REGION, relationshipStatus: 'EmailVerificationFailed' });

    await admin.send(new DeleteMemberCommand({ id: created }));
    await admin.send(new DeleteMemberCommand({ id: failed }));

    const all = await admin.send(new ListMembersCommand({ onlyAssociated: 'false' }));
    const ids = all.members?.map((m) => m.accountId);
    expect(ids).not.toContain(created);
    expect(ids).not.toContain(failed);
    await expectAwsError(admin.send(new GetMemberCommand({ id: created })), { name: 'ResourceNotFoundException', status: 404 });
  });

  it('withdraws an unaccepted invitation when the administrator disassociates the member', async () => {
    const accountId = memberId(13);
    await addAndInvite(accountId);
    const { invitations = [] } = await memberClient(accountId).send(new ListInvitationsCommand({}));
    await admin.send(new DisassociateMemberCommand({ id: accountId }));

    expect(await statusOf(accountId)).toBe('Removed');
    await expectAwsError(
      memberClient(accountId).send(
        new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId: invitations[0]?.invitationId ?? '' }),
      ),
      { name: 'ValidationException', status: 400, message: NO_PENDING_INVITATION },
    );
  });

  it('lists only Enabled and Paused members by default and every member with onlyAssociated "false"', async () => {
    const client = macieAs(emulator, SECOND_ADMIN);
    const seeded = { Enabled: memberId(14), Paused: memberId(15), Created: memberId(16), Resigned: memberId(17) } as const;
    for (const [relationshipStatus, accountId] of Object.entries(seeded)) {
      emulator.control.seedMembership({
        administratorAccountId: SECOND_ADMIN,
        accountId,
        region: REGION,
        relationshipStatus: relationshipStatus as keyof typeof seeded,
      });
    }
    const current = await client.send(new ListMembersCommand({}));
    expect(current.members?.map((m) => [m.accountId, m.relationshipStatus])).toEqual([
      [seeded.Enabled, 'Enabled'],
      [seeded.Paused, 'Paused'],
    ]);
    const all = await client.send(new ListMembersCommand({ onlyAssociated: 'false' }));
    expect(all.members?.map((m) => m.accountId)).toEqual(Object.values(seeded));
  });
});

describe('accounts that cannot take part', () => {
  it('reports a suspended account as AccountSuspended, refuses to invite it, and deletes it directly', async () => {
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: SUSPENDED, region: REGION, relationshipStatus: 'Enabled' });
    expect(await statusOf(SUSPENDED)).toBe('AccountSuspended');
    const refused = await admin.send(new CreateInvitationsCommand({ accountIds: [SUSPENDED] }));
    expect(refused.unprocessedAccounts?.[0]).toMatchObject({ accountId: SUSPENDED, errorCode: 'ClientError', errorMessage: expect.stringMatching(/suspended/) });

    await admin.send(new DeleteMemberCommand({ id: SUSPENDED }));
    expect(emulator.control.members(ADMIN, REGION).map((m) => m.accountId)).not.toContain(SUSPENDED);
  });

  it('reports a member in a region it has disabled as RegionDisabled, and rejects that account\'s own calls there', async () => {
    await admin.send(new CreateMemberCommand({ account: { accountId: REGION_DISABLED, email: 'rd@example.com' } }));
    expect(await statusOf(REGION_DISABLED)).toBe('RegionDisabled');
    await expectAwsError(memberClient(REGION_DISABLED).send(new ListInvitationsCommand({})), {
      name: 'UnrecognizedClientException',
      status: 403,
      message: 'The security token included in the request is invalid.',
    });
    const elsewhere = await memberClient(REGION_DISABLED, OTHER_REGION).send(new GetMacieSessionCommand({}));
    expect(elsewhere.status).toBe('ENABLED');
  });

  it('reaches every relationship status through seedMembership', async () => {
    for (const [i, relationshipStatus] of RELATIONSHIP_STATUSES.entries()) {
      const accountId = memberId(SEEDED_STATUS_BASE + i);
      emulator.control.seedMembership({ administratorAccountId: SECOND_ADMIN, accountId, region: OTHER_REGION, relationshipStatus });
      const client = macieAs(emulator, SECOND_ADMIN, { region: OTHER_REGION });
      expect(await statusOf(accountId, client), relationshipStatus).toBe(relationshipStatus);
    }
    const view = emulator.control.members(SECOND_ADMIN, OTHER_REGION);
    expect(view.map((m) => m.relationshipStatus)).toEqual([...RELATIONSHIP_STATUSES]);
  });

  it('hides a seeded Invited invitation from the member when invitationVisible is false', async () => {
    const hidden = memberId(18);
    const visible = memberId(19);
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: hidden, region: REGION, relationshipStatus: 'Invited', invitationVisible: false });
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: visible, region: REGION, relationshipStatus: 'Invited' });
    expect((await memberClient(hidden).send(new ListInvitationsCommand({}))).invitations).toEqual([]);
    expect((await memberClient(visible).send(new ListInvitationsCommand({}))).invitations).toHaveLength(1);
  });
});

describe('the caller\'s own Macie session', () => {
  it('enables, reads and updates Macie for the calling account in one region only', async () => {
    const client = memberClient(WITHOUT_MACIE);
    await expectAwsError(client.send(new GetMacieSessionCommand({})), { name: 'AccessDeniedException', status: 403, message: 'Macie is not enabled' });

    await client.send(new EnableMacieCommand({ findingPublishingFrequency: 'ONE_HOUR' }));
    const session = await client.send(new GetMacieSessionCommand({}));
    expect(session).toMatchObject({
      status: 'ENABLED',
      findingPublishingFrequency: 'ONE_HOUR',
      serviceRole: `arn:aws:iam::${WITHOUT_MACIE}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`,
    });
    expect(session.createdAt).toBeInstanceOf(Date);

    await client.send(new UpdateMacieSessionCommand({ status: 'PAUSED', findingPublishingFrequency: 'SIX_HOURS' }));
    const updated = await client.send(new GetMacieSessionCommand({}));
    expect(updated).toMatchObject({ status: 'PAUSED', findingPublishingFrequency: 'SIX_HOURS' });
    expect(updated.updatedAt?.getTime()).toBeGreaterThanOrEqual(session.createdAt?.getTime() ?? 0);

    expect(emulator.control.macieEnabled(WITHOUT_MACIE, REGION)).toBe(true);
    expect(emulator.control.macieEnabled(WITHOUT_MACIE, OTHER_REGION)).toBe(false);
  });
});

describe('tags on members', () => {
  it('lists, adds and removes tags on a member ARN, answering 204 for changes', async () => {
    const accountId = memberId(20);
    const { arn = '' } = await admin.send(
      new CreateMemberCommand({ account: { accountId, email: 't@example.com' }, tags: { team: 'data', cost: '42' } }),
    );
    expect((await admin.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ team: 'data', cost: '42' });

    const tagged = await admin.send(new TagResourceCommand({ resourceArn: arn, tags: { owner: 'sec ops', team: 'platform' } }));
    expect(tagged.$metadata.httpStatusCode).toBe(204);
    const untagged = await admin.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['cost', 'absent'] }));
    expect(untagged.$metadata.httpStatusCode).toBe(204);

    expect((await admin.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ team: 'platform', owner: 'sec ops' });
    expect((await admin.send(new GetMemberCommand({ id: accountId }))).tags).toEqual({ team: 'platform', owner: 'sec ops' });
  });
});

describe('isolation', () => {
  it('keeps membership per region while the administrator stays the same in every region', async () => {
    const accountId = memberId(21);
    await addAndInvite(accountId);
    await acceptFrom(accountId);

    const adminElsewhere = macieAs(emulator, ADMIN, { region: OTHER_REGION });
    const elsewhere = await adminElsewhere.send(new ListMembersCommand({ onlyAssociated: 'false' }));
    expect(elsewhere.members?.map((m) => m.accountId)).not.toContain(accountId);
    expect(emulator.control.administratorOf(accountId, OTHER_REGION)).toBeUndefined();

    await addAndInvite(accountId, adminElsewhere);
    await acceptFrom(accountId, ADMIN, OTHER_REGION);
    expect(emulator.control.administratorOf(accountId, OTHER_REGION)).toBe(ADMIN);
    expect(emulator.control.administratorOf(accountId, REGION)).toBe(ADMIN);
  });

  it('keeps one administrator\'s members out of another\'s view', async () => {
    const accountId = memberId(22);
    await admin.send(new CreateMemberCommand({ account: { accountId, email: 'iso@example.com' } }));
    const other = macieAs(emulator, SECOND_ADMIN);
    const listed = await other.send(new ListMembersCommand({ onlyAssociated: 'false' }));
    expect(listed.members?.map((m) => m.accountId)).not.toContain(accountId);
    await expectAwsError(other.send(new GetMemberCommand({ id: accountId })), { name: 'ResourceNotFoundException', status: 404 });
  });
});
