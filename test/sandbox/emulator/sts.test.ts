import { AcceptInvitationCommand, GetMemberCommand, ListInvitationsCommand } from '@aws-sdk/client-macie2';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '#sandbox/emulator/index';
import {
  ADMIN,
  MEMBER_ROLE,
  REGION,
  type TemporaryCredentials,
  expectAwsError,
  macieAs,
  memberId,
  seedAccount,
  startEmulator,
  stsAs,
} from './support/harness';

let emulator: AwsEmulator;

const MEMBER = memberId(1);
const ROLE_MISSING = memberId(2);
const NO_PERMISSION = memberId(3);
const NOT_SEEDED = '999999999999';

const roleArn = (accountId: string, name = MEMBER_ROLE.name) => `arn:aws:iam::${accountId}:role/${name}`;

beforeAll(async () => {
  emulator = await startEmulator([
    seedAccount(ADMIN),
    seedAccount(MEMBER),
    seedAccount(ROLE_MISSING, { memberRole: 'missing' }),
    seedAccount(NO_PERMISSION, { memberRole: 'noPermission' }),
  ]);
  emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: MEMBER, region: REGION, relationshipStatus: 'Invited' });
});

afterAll(() => emulator.close());

async function assume(accountId: string, sessionName = 'reconciler', extra: { ExternalId?: string; DurationSeconds?: number } = {}) {
  return stsAs(emulator, ADMIN).send(
    new AssumeRoleCommand({ RoleArn: roleArn(accountId), RoleSessionName: sessionName, ExternalId: MEMBER_ROLE.externalId, ...extra }),
  );
}

function credentialsOf(answer: Awaited<ReturnType<typeof assume>>): TemporaryCredentials {
  const c = answer.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('AssumeRole returned no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

const accessDenied = (accountId: string, name = MEMBER_ROLE.name) => ({
  name: 'AccessDenied',
  status: 403,
  message: `User: arn:aws:iam::${ADMIN}:root is not authorized to perform: sts:AssumeRole on resource: ${roleArn(accountId, name)}`,
});

describe('AssumeRole', () => {
  it('hands out temporary ASIA credentials for the member role, valid for the requested duration', async () => {
    const before = Date.now();
    const answer = await assume(MEMBER, 'reconciler', { DurationSeconds: 900 });
    expect(answer.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(answer.Credentials?.SecretAccessKey).toHaveLength(40);
    expect(answer.Credentials?.SessionToken).toBeTruthy();
    const expiresIn = (answer.Credentials?.Expiration?.getTime() ?? 0) - before;
    expect(expiresIn).toBeGreaterThan(899_000);
    expect(expiresIn).toBeLessThan(901_000);
    expect(answer.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${MEMBER}:assumed-role/${MEMBER_ROLE.name}/reconciler`);
    expect(answer.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[0-9A-F]+:reconciler$/);
  });

  it('gives credentials that act as the member account, for STS and for Macie', async () => {
    const credentials = credentialsOf(await assume(MEMBER, 'acting'));
    const identity = await stsAs(emulator, MEMBER, { credentials }).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ Account: MEMBER, Arn: `arn:aws:sts::${MEMBER}:assumed-role/${MEMBER_ROLE.name}/acting` });

    emulator.control.clearCalls();
    const member = macieAs(emulator, MEMBER, { credentials });
    const { invitations = [] } = await member.send(new ListInvitationsCommand({}));
    await member.send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId: invitations[0]?.invitationId ?? '' }));

    expect(emulator.control.administratorOf(MEMBER, REGION)).toBe(ADMIN);
    expect(emulator.control.calls()).toEqual([
      expect.objectContaining({ service: 'macie2', operation: 'ListInvitations', accountId: MEMBER, assumedRole: true, statusCode: 200 }),
      expect.objectContaining({ service: 'macie2', operation: 'AcceptInvitation', accountId: MEMBER, assumedRole: true, statusCode: 200 }),
    ]);
  });

  it('denies a wrong ExternalId, a missing ExternalId, a different role name, a missing role and an unknown account', async () => {
    await expectAwsError(assume(MEMBER, 'rs', { ExternalId: 'wrong-id' }), accessDenied(MEMBER));
    await expectAwsError(
      stsAs(emulator, ADMIN).send(new AssumeRoleCommand({ RoleArn: roleArn(MEMBER), RoleSessionName: 'rs' })),
      accessDenied(MEMBER),
    );
    await expectAwsError(
      stsAs(emulator, ADMIN).send(new AssumeRoleCommand({ RoleArn: roleArn(MEMBER, 'OtherRole'), RoleSessionName: 'rs', ExternalId: MEMBER_ROLE.externalId })),
      accessDenied(MEMBER, 'OtherRole'),
    );
    await expectAwsError(assume(ROLE_MISSING), accessDenied(ROLE_MISSING));
    await expectAwsError(assume(NOT_SEEDED), accessDenied(NOT_SEEDED));
  });

  it('lets a role without Macie permissions be assumed, then denies each Macie call naming the action', async () => {
    const credentials = credentialsOf(await assume(NO_PERMISSION, 'limited'));
    const client = macieAs(emulator, NO_PERMISSION, { credentials });
    await expectAwsError(client.send(new ListInvitationsCommand({})), {
      name: 'AccessDeniedException',
      status: 403,
      message: `User: arn:aws:sts::${NO_PERMISSION}:assumed-role/${MEMBER_ROLE.name}/limited is not authorized to perform: macie2:ListInvitations`,
    });
    await expectAwsError(client.send(new GetMemberCommand({ id: MEMBER })), { name: 'AccessDeniedException', status: 403, message: /macie2:GetMember$/ });
    // Long-term keys of the same account are not limited by the role.
    await macieAs(emulator, NO_PERMISSION).send(new ListInvitationsCommand({}));
  });

  it('rejects durations outside the role\'s 900..3600 seconds, short session names and malformed role ARNs', async () => {
    await expectAwsError(assume(MEMBER, 'rs', { DurationSeconds: 7200 }), {
      name: 'ValidationError',
      status: 400,
      message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role (3600 seconds).',
    });
    await expectAwsError(assume(MEMBER, 'x'), { name: 'ValidationError', status: 400, message: /at 'roleSessionName' failed to satisfy constraint/ });
    await expectAwsError(assume(MEMBER, 'rs', { DurationSeconds: 60 }), { name: 'ValidationError', status: 400, message: /greater than or equal to 900/ });
    await expectAwsError(
      stsAs(emulator, ADMIN).send(new AssumeRoleCommand({ RoleArn: 'not-an-arn', RoleSessionName: 'rs', ExternalId: MEMBER_ROLE.externalId })),
      { name: 'ValidationError', status: 400, message: /at 'roleArn' failed to satisfy constraint/ },
    );
  });

  it('rejects temporary keys presented without their session token', async () => {
    const { accessKeyId, secretAccessKey } = credentialsOf(await assume(MEMBER, 'tokenless'));
    await expectAwsError(macieAs(emulator, MEMBER, { credentials: { accessKeyId, secretAccessKey } }).send(new ListInvitationsCommand({})), {
      name: 'UnrecognizedClientException',
      status: 403,
      message: 'The security token included in the request is invalid.',
    });
  });
});

describe('GetCallerIdentity', () => {
  it('names the account root for long-term keys', async () => {
    const identity = await stsAs(emulator, ADMIN).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ Account: ADMIN, Arn: `arn:aws:iam::${ADMIN}:root`, UserId: ADMIN });
  });

  it('answers unknown keys with InvalidClientTokenId in the STS XML error shape', async () => {
    await expectAwsError(
      stsAs(emulator, ADMIN, { credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' } }).send(new GetCallerIdentityCommand({})),
      { name: 'InvalidClientTokenId', status: 403, message: 'The security token included in the request is invalid.' },
    );
  });
});
