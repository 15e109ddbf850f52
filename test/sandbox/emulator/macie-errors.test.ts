import {
  AcceptInvitationCommand,
  CreateInvitationsCommand,
  CreateMemberCommand,
  DeclineInvitationsCommand,
  DeleteInvitationsCommand,
  DeleteMemberCommand,
  DisableMacieCommand,
  DisassociateFromAdministratorAccountCommand,
  DisassociateMemberCommand,
  EnableMacieCommand,
  GetAdministratorAccountCommand,
  GetMacieSessionCommand,
  GetMemberCommand,
  ListFindingsCommand,
  ListInvitationsCommand,
  ListMembersCommand,
  type Macie2Client,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateMacieSessionCommand,
  UpdateMemberSessionCommand,
} from '@aws-sdk/client-macie2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '#sandbox/emulator/index';
import { ADMIN, REGION, SECOND_ADMIN, expectAwsError, macieAs, memberId, seedAccount, startEmulator } from './support/harness';

let emulator: AwsEmulator;
let admin: Macie2Client;

const WITHOUT_MACIE = memberId(99);
const ENABLED_WITH_ADMIN = memberId(1);
const ENABLED_WITH_SECOND_ADMIN = memberId(2);
const CREATED = memberId(3);
const INVITED = memberId(4);
const NOT_SEEDED = '999999999999';

const validation = (message: string | RegExp) => ({ name: 'ValidationException', status: 400, message });
const conflict = (message: string | RegExp) => ({ name: 'ConflictException', status: 409, message });
const notFound = (message: string | RegExp) => ({ name: 'ResourceNotFoundException', status: 404, message });

beforeAll(async () => {
  emulator = await startEmulator([
    seedAccount(ADMIN),
    seedAccount(SECOND_ADMIN),
    ...Array.from({ length: 30 }, (_, i) => seedAccount(memberId(i + 1))),
    seedAccount(WITHOUT_MACIE, { macieEnabled: false }),
  ]);
  admin = macieAs(emulator, ADMIN);
  const seed = (administratorAccountId: string, accountId: string, relationshipStatus: 'Enabled' | 'Created' | 'Invited') =>
    emulator.control.seedMembership({ administratorAccountId, accountId, region: REGION, relationshipStatus });
  seed(ADMIN, ENABLED_WITH_ADMIN, 'Enabled');
  seed(SECOND_ADMIN, ENABLED_WITH_SECOND_ADMIN, 'Enabled');
  seed(ADMIN, CREATED, 'Created');
  seed(ADMIN, INVITED, 'Invited');
});

afterEach(() => emulator.control.resetKnobs());
afterAll(() => emulator.close());

describe('Macie not enabled', () => {
  it.each([
    ['GetMacieSession', (c: Macie2Client) => c.send(new GetMacieSessionCommand({}))],
    ['CreateMember', (c: Macie2Client) => c.send(new CreateMemberCommand({ account: { accountId: memberId(30), email: 'a@example.com' } }))],
    ['ListMembers', (c: Macie2Client) => c.send(new ListMembersCommand({}))],
    ['ListInvitations', (c: Macie2Client) => c.send(new ListInvitationsCommand({}))],
    ['GetAdministratorAccount', (c: Macie2Client) => c.send(new GetAdministratorAccountCommand({}))],
    ['AcceptInvitation', (c: Macie2Client) => c.send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId: 'x' }))],
  ])('answers %s from an account without Macie with AccessDeniedException', async (_operation, call) => {
    await expectAwsError(call(macieAs(emulator, WITHOUT_MACIE)), { name: 'AccessDeniedException', status: 403, message: 'Macie is not enabled' });
  });

  it('answers EnableMacie on an enabled account with ConflictException', async () => {
    await expectAwsError(admin.send(new EnableMacieCommand({})), conflict('Macie is already enabled'));
  });

  it('rejects unknown enum values in EnableMacie and UpdateMacieSession', async () => {
    await expectAwsError(
      admin.send(new UpdateMacieSessionCommand({ findingPublishingFrequency: 'HOURLY' as never })),
      validation('findingPublishingFrequency must be one of FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS, got "HOURLY"'),
    );
    await expectAwsError(
      macieAs(emulator, WITHOUT_MACIE).send(new EnableMacieCommand({ status: 'ON' as never })),
      validation('status must be one of ENABLED, PAUSED, got "ON"'),
    );
  });

  it('refuses to disable Macie for an administrator that has members', async () => {
    await expectAwsError(admin.send(new DisableMacieCommand({})), conflict(/member accounts are associated with your account/));
  });
});

describe('CreateMember validation', () => {
  const create = (accountId: string, email: string, tags?: Record<string, string>) =>
    admin.send(new CreateMemberCommand({ account: { accountId, email }, tags }));

  it('rejects an account ID that is not 12 digits, naming the field', async () => {
    await expectAwsError(create('12345', 'a@example.com'), validation('account.accountId must be a 12-digit AWS account ID, got "12345"'));
  });

  it('rejects an email that is not an email, naming the field', async () => {
    await expectAwsError(create(memberId(10), 'not-an-email'), validation('account.email must be a valid email address, got "not-an-email"'));
  });

  it('rejects more than 50 tags', async () => {
    const tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    await expectAwsError(create(memberId(10), 'a@example.com', tags), validation('tags must have at most 50 tags, got 51'));
  });

  it('rejects a tag key over 128 characters, a value over 256 and an aws: prefix', async () => {
    await expectAwsError(create(memberId(10), 'a@example.com', { ['k'.repeat(129)]: 'v' }), validation(/key "k+" must be 1 to 128 characters/));
    await expectAwsError(create(memberId(10), 'a@example.com', { k: 'v'.repeat(257) }), validation('tags value for key "k" must be at most 256 characters'));
    await expectAwsError(create(memberId(10), 'a@example.com', { 'aws:team': 'x' }), validation('tags key "aws:team" must not start with "aws:"'));
  });

  it('accepts the limits themselves: 50 tags, 128-character keys, 256-character values', async () => {
    const tags = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v']));
    tags['k'.repeat(128)] = 'v'.repeat(256);
    const created = await create(memberId(11), 'limits@example.com', tags);
    expect(created.arn).toContain(memberId(11));
  });

  it('refuses to add the caller itself', async () => {
    await expectAwsError(create(ADMIN, 'a@example.com'), validation(/must not be your own account \(111111111111\)/));
  });

  it('refuses to add an account twice', async () => {
    await expectAwsError(create(CREATED, 'a@example.com'), conflict(`The account ${CREATED} is already associated with your account (relationship status Created)`));
  });

  it('refuses members to an account that is itself a member', async () => {
    await expectAwsError(
      macieAs(emulator, ENABLED_WITH_ADMIN).send(new CreateMemberCommand({ account: { accountId: memberId(12), email: 'a@example.com' } })),
      conflict(`Your account is a member of Macie administrator account ${ADMIN}; a member account can't add members`),
    );
  });

  it('answers ServiceQuotaExceededException once the administrator has memberQuota members in the region', async () => {
    const fresh = macieAs(emulator, memberId(20));
    emulator.control.setKnobs({ memberQuota: 2 });
    await fresh.send(new CreateMemberCommand({ account: { accountId: memberId(21), email: 'a@example.com' } }));
    await fresh.send(new CreateMemberCommand({ account: { accountId: memberId(22), email: 'b@example.com' } }));
    await expectAwsError(fresh.send(new CreateMemberCommand({ account: { accountId: memberId(23), email: 'c@example.com' } })), {
      name: 'ServiceQuotaExceededException',
      status: 402,
      message: `Adding the account would exceed the quota of 2 member accounts for your administrator account in ${REGION}`,
    });
  });
});

describe('CreateInvitations', () => {
  it('rejects a message over 80 characters or with punctuation, and malformed or own account IDs', async () => {
    await expectAwsError(
      admin.send(new CreateInvitationsCommand({ accountIds: [CREATED], message: 'a'.repeat(81) })),
      validation('message must be at most 80 characters, got 81'),
    );
    await expectAwsError(
      admin.send(new CreateInvitationsCommand({ accountIds: [CREATED], message: 'Join us!' })),
      validation('message must contain only alphanumeric characters (letters, digits and spaces)'),
    );
    await expectAwsError(
      admin.send(new CreateInvitationsCommand({ accountIds: [CREATED, '12'] })),
      validation('accountIds[1] must be a 12-digit AWS account ID, got "12"'),
    );
    await expectAwsError(admin.send(new CreateInvitationsCommand({ accountIds: [ADMIN] })), validation(/can't invite itself/));
    await expectAwsError(admin.send(new CreateInvitationsCommand({ accountIds: [] })), validation('accountIds must contain at least one account ID'));
  });

  it('answers unprocessedAccounts ClientError for accounts it cannot invite, and invites the rest', async () => {
    const secondAdmin = macieAs(emulator, SECOND_ADMIN);
    await secondAdmin.send(new CreateMemberCommand({ account: { accountId: ENABLED_WITH_ADMIN, email: 'x@example.com' } }));
    await secondAdmin.send(new CreateMemberCommand({ account: { accountId: ADMIN, email: 'admin@example.com' } }));
    await secondAdmin.send(new CreateMemberCommand({ account: { accountId: memberId(24), email: 'ok@example.com' } }));

    const result = await secondAdmin.send(
      new CreateInvitationsCommand({ accountIds: [memberId(25), ENABLED_WITH_ADMIN, ENABLED_WITH_SECOND_ADMIN, ADMIN, memberId(24)] }),
    );
    expect(result.unprocessedAccounts).toEqual([
      { accountId: memberId(25), errorCode: 'ClientError', errorMessage: expect.stringMatching(/not associated with your account; associate it \(CreateMember\)/) },
      { accountId: ENABLED_WITH_ADMIN, errorCode: 'ClientError', errorMessage: expect.stringMatching(/already associated with another Macie administrator/) },
      { accountId: ENABLED_WITH_SECOND_ADMIN, errorCode: 'ClientError', errorMessage: expect.stringMatching(/already a member of your account/) },
      { accountId: ADMIN, errorCode: 'ClientError', errorMessage: expect.stringMatching(/administrator account with members of its own/) },
    ]);
    expect(emulator.control.members(SECOND_ADMIN, REGION).find((m) => m.accountId === memberId(24))?.relationshipStatus).toBe('Invited');
  });
});

describe('AcceptInvitation', () => {
  // AWS's own words (terraform-provider-aws issue 40587 quotes the trace).
  const NO_PENDING_INVITATION =
    'The request is rejected because the current account has no pending invitation from the given master account ID or is already an associated member of another master account.';

  const member = () => macieAs(emulator, INVITED);

  it('rejects the deprecated masterAccount-only form', async () => {
    await expectAwsError(
      member().send(new AcceptInvitationCommand({ masterAccount: ADMIN, invitationId: 'abc' })),
      validation('administratorAccountId is required; the deprecated masterAccount property is not accepted'),
    );
  });

  it('answers a 400 ValidationException in AWS words for an invitation ID that does not match', async () => {
    await expectAwsError(
      member().send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId: 'not-the-id' })),
      validation(NO_PENDING_INVITATION),
    );
  });

  it('answers the same for an empty invitation ID, as AWS did in the reported trace', async () => {
    await expectAwsError(member().send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId: '' })), {
      name: 'ValidationException',
      status: 400,
    });
  });

  it('refuses an account that already belongs to another administrator', async () => {
    const accountId = ENABLED_WITH_SECOND_ADMIN;
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId, region: REGION, relationshipStatus: 'Invited' });
    const client = macieAs(emulator, accountId);
    const { invitations = [] } = await client.send(new ListInvitationsCommand({}));
    const invitationId = invitations.find((i) => i.accountId === ADMIN)?.invitationId ?? '';
    await expectAwsError(client.send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId })), validation(NO_PENDING_INVITATION));
  });

  it('refuses an administrator with members of its own', async () => {
    emulator.control.seedMembership({ administratorAccountId: SECOND_ADMIN, accountId: ADMIN, region: REGION, relationshipStatus: 'Invited' });
    const { invitations = [] } = await admin.send(new ListInvitationsCommand({}));
    const invitationId = invitations.find((i) => i.accountId === SECOND_ADMIN)?.invitationId ?? '';
    await expectAwsError(
      admin.send(new AcceptInvitationCommand({ administratorAccountId: SECOND_ADMIN, invitationId })),
      conflict("Your account is a Macie administrator account with members; it can't become a member account"),
    );
  });

  it('refuses the caller as its own administrator', async () => {
    await expectAwsError(member().send(new AcceptInvitationCommand({ administratorAccountId: INVITED, invitationId: 'x' })), validation(/own account/));
  });
});

describe('administrator operations on members in the wrong state', () => {
  it('refuses to delete an Enabled or Invited member until it is disassociated', async () => {
    await expectAwsError(
      admin.send(new DeleteMemberCommand({ id: ENABLED_WITH_ADMIN })),
      validation(`The account ${ENABLED_WITH_ADMIN} is still associated with your account (relationship status Enabled); disassociate it (DisassociateMember) before deleting it`),
    );
    await expectAwsError(admin.send(new DeleteMemberCommand({ id: INVITED })), validation(/relationship status Invited/));
  });

  it('refuses to disassociate a member that was never associated', async () => {
    await expectAwsError(
      admin.send(new DisassociateMemberCommand({ id: CREATED })),
      validation(`The account ${CREATED} is not an associated member of account ${ADMIN} (relationship status Created)`),
    );
  });

  it('refuses UpdateMemberSession on a member that is not Enabled or Paused, and bad status values', async () => {
    await expectAwsError(admin.send(new UpdateMemberSessionCommand({ id: CREATED, status: 'PAUSED' })), validation(/only Enabled or Paused members can be updated/));
    await expectAwsError(
      admin.send(new UpdateMemberSessionCommand({ id: ENABLED_WITH_ADMIN, status: 'SLEEPING' as never })),
      validation('status must be one of ENABLED, PAUSED, got "SLEEPING"'),
    );
  });

  it('answers ResourceNotFoundException for unknown members and ValidationException for malformed IDs', async () => {
    await expectAwsError(admin.send(new GetMemberCommand({ id: NOT_SEEDED })), notFound(`The account ${NOT_SEEDED} isn't associated with your account in ${REGION}`));
    await expectAwsError(admin.send(new DeleteMemberCommand({ id: NOT_SEEDED })), notFound(/isn't associated/));
    await expectAwsError(admin.send(new GetMemberCommand({ id: 'abc' })), validation('id must be a 12-digit AWS account ID, got "abc"'));
  });
});

describe('member-side operations without a relationship', () => {
  it('answers DisassociateFromAdministratorAccount without an administrator with ResourceNotFoundException', async () => {
    await expectAwsError(
      macieAs(emulator, memberId(26)).send(new DisassociateFromAdministratorAccountCommand({})),
      notFound(`Your account isn't associated with a Macie administrator account in ${REGION}`),
    );
  });

  it('leaves unknown and current administrators unprocessed in Decline and Delete', async () => {
    const client = macieAs(emulator, ENABLED_WITH_ADMIN);
    const declined = await client.send(new DeclineInvitationsCommand({ accountIds: [ADMIN, SECOND_ADMIN] }));
    expect(declined.unprocessedAccounts).toEqual([
      { accountId: ADMIN, errorCode: 'ClientError', errorMessage: expect.stringMatching(/current administrator account/) },
      { accountId: SECOND_ADMIN, errorCode: 'ClientError', errorMessage: `There is no pending invitation from account ${SECOND_ADMIN}` },
    ]);
    const deleted = await client.send(new DeleteInvitationsCommand({ accountIds: [ADMIN, SECOND_ADMIN] }));
    expect(deleted.unprocessedAccounts?.map((u) => [u.accountId, u.errorCode])).toEqual([
      [ADMIN, 'ClientError'],
      [SECOND_ADMIN, 'ClientError'],
    ]);
    expect(emulator.control.administratorOf(ENABLED_WITH_ADMIN, REGION)).toBe(ADMIN);
  });
});

describe('tags', () => {
  const arnOf = (accountId: string, administrator = ADMIN) => `arn:aws:macie2:${REGION}:${administrator}:member/${accountId}`;

  it('answers ResourceNotFoundException for unknown ARNs and for another administrator\'s member', async () => {
    await expectAwsError(admin.send(new TagResourceCommand({ resourceArn: arnOf(NOT_SEEDED), tags: { a: 'b' } })), notFound(`The resource ${arnOf(NOT_SEEDED)} doesn't exist`));
    await expectAwsError(admin.send(new UntagResourceCommand({ resourceArn: arnOf(ENABLED_WITH_SECOND_ADMIN, SECOND_ADMIN), tagKeys: ['a'] })), notFound(/doesn't exist/));
  });

  it('validates tags and the merged tag count', async () => {
    const resourceArn = arnOf(CREATED);
    await expectAwsError(admin.send(new TagResourceCommand({ resourceArn, tags: { 'AWS:x': 'y' } })), validation('tags key "AWS:x" must not start with "aws:"'));
    await admin.send(new TagResourceCommand({ resourceArn, tags: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, 'v'])) }));
    await expectAwsError(
      admin.send(new TagResourceCommand({ resourceArn, tags: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`b${i}`, 'v'])) })),
      validation('tags: a resource can have at most 50 tags, this request would leave 51'),
    );
  });
});

describe('listing parameters', () => {
  it('rejects maxResults outside 1..25, foreign tokens and odd onlyAssociated values', async () => {
    await expectAwsError(admin.send(new ListMembersCommand({ maxResults: 0 })), validation('maxResults must be an integer between 1 and 25, got "0"'));
    await expectAwsError(admin.send(new ListMembersCommand({ maxResults: 26 })), validation('maxResults must be an integer between 1 and 25, got "26"'));
    await expectAwsError(admin.send(new ListInvitationsCommand({ maxResults: 26 })), validation(/maxResults/));
    await expectAwsError(admin.send(new ListMembersCommand({ nextToken: 'garbage' })), validation('nextToken is invalid or has expired'));
    await expectAwsError(admin.send(new ListMembersCommand({ onlyAssociated: 'maybe' })), validation('onlyAssociated must be "true" or "false", got "maybe"'));
  });
});

describe('routing', () => {
  it('answers an operation the emulator does not serve with 404 UnknownOperationException', async () => {
    await expectAwsError(admin.send(new ListFindingsCommand({})), {
      name: 'UnknownOperationException',
      status: 404,
      message: 'No operation matches POST /findings',
    });
  });
});
