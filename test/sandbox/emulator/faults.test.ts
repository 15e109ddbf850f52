import {
  AcceptInvitationCommand,
  CreateInvitationsCommand,
  CreateMemberCommand,
  GetMacieSessionCommand,
  GetMemberCommand,
  ListInvitationsCommand,
} from '@aws-sdk/client-macie2';
import { DescribeAccountCommand } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEmulator, DEFAULT_KNOBS } from '#sandbox/emulator/index';
import {
  ADMIN,
  MEMBER_ROLE,
  OTHER_REGION,
  REGION,
  SECOND_ADMIN,
  expectAwsError,
  macieAs,
  memberId,
  organizationsAs,
  seedAccount,
  sleep,
  startEmulator,
  stsAs,
} from './support/harness';

let emulator: AwsEmulator;

beforeAll(async () => {
  emulator = await startEmulator([seedAccount(ADMIN), seedAccount(SECOND_ADMIN), ...Array.from({ length: 40 }, (_, i) => seedAccount(memberId(i + 1)))]);
});

afterEach(() => {
  emulator.control.resetKnobs();
  emulator.control.clearCalls();
});
afterAll(() => emulator.close());

async function timed(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

async function create(accountId: string, client = macieAs(emulator, ADMIN)): Promise<void> {
  await client.send(new CreateMemberCommand({ account: { accountId, email: `aws+${accountId}@example.com` } }));
}

describe('latency', () => {
  it('adds latencyMs before answering every call', async () => {
    const client = macieAs(emulator, ADMIN);
    await client.send(new GetMacieSessionCommand({}));
    const baseline = await timed(() => client.send(new GetMacieSessionCommand({})));
    emulator.control.setKnobs({ latencyMs: 150 });
    const slowed = await timed(() => client.send(new GetMacieSessionCommand({})));
    const slowedError = await timed(() => client.send(new GetMemberCommand({ id: memberId(40) })).catch(() => undefined));
    expect(slowed).toBeGreaterThanOrEqual(145);
    expect(slowed - baseline).toBeGreaterThanOrEqual(120);
    expect(slowedError).toBeGreaterThanOrEqual(145);
  });
});

describe('throttling', () => {
  it('answers ThrottlingException once the caller\'s bucket in the region is empty, without touching others', async () => {
    emulator.control.setKnobs({ throttle: { ratePerSecond: 1, burst: 3 } });
    const client = macieAs(emulator, ADMIN);
    for (let i = 0; i < 3; i += 1) await client.send(new GetMacieSessionCommand({}));
    await expectAwsError(client.send(new GetMacieSessionCommand({})), { name: 'ThrottlingException', status: 429, message: 'Rate exceeded' });

    await macieAs(emulator, SECOND_ADMIN).send(new GetMacieSessionCommand({}));
    await macieAs(emulator, ADMIN, { region: OTHER_REGION }).send(new GetMacieSessionCommand({}));
    expect(emulator.control.calls().map((c) => c.statusCode)).toEqual([200, 200, 200, 429, 200, 200]);
  });

  it('throttles a seeded share of calls whatever their pace, with throttledCallRate', async () => {
    emulator.control.setKnobs({ throttledCallRate: 0.5, randomSeed: 7 });
    const client = macieAs(emulator, ADMIN, { maxAttempts: 1 });
    const answers: string[] = [];
    for (let call = 0; call < 40; call++) {
      answers.push(await client.send(new GetMacieSessionCommand({})).then(() => 'ok', (error: { name: string }) => error.name));
    }
    const throttled = answers.filter((name) => name === 'ThrottlingException').length;
    expect(throttled).toBeGreaterThan(5);
    expect(throttled).toBeLessThan(35);
    expect(answers.filter((name) => name !== 'ThrottlingException' && name !== 'ok')).toEqual([]);
  });

  it('refills the bucket over time', async () => {
    emulator.control.setKnobs({ throttle: { ratePerSecond: 20, burst: 1 } });
    const client = macieAs(emulator, ADMIN);
    await client.send(new GetMacieSessionCommand({}));
    await expectAwsError(client.send(new GetMacieSessionCommand({})), { name: 'ThrottlingException', status: 429 });
    await sleep(80);
    await client.send(new GetMacieSessionCommand({}));
  });

  it('draws Macie, STS and Organizations calls of one account and region from separate buckets, each answering in its own shape', async () => {
    emulator.control.setKnobs({ throttle: { ratePerSecond: 0.001, burst: 1 } });
    const macie = macieAs(emulator, ADMIN);
    const sts = stsAs(emulator, ADMIN);
    const organizations = organizationsAs(emulator, ADMIN);

    await macie.send(new GetMacieSessionCommand({}));
    await sts.send(new GetCallerIdentityCommand({}));
    await organizations.send(new DescribeAccountCommand({ AccountId: ADMIN }));
    await expectAwsError(macie.send(new GetMacieSessionCommand({})), { name: 'ThrottlingException', status: 429, message: 'Rate exceeded' });
    await expectAwsError(sts.send(new GetCallerIdentityCommand({})), { name: 'Throttling', status: 400, message: 'Rate exceeded' });
    await expectAwsError(organizations.send(new DescribeAccountCommand({ AccountId: ADMIN })), {
      name: 'TooManyRequestsException',
      status: 400,
      message: 'Rate exceeded',
    });
    expect(emulator.control.calls().map((c) => [c.service, c.accountId, c.region, c.statusCode])).toEqual([
      ['macie2', ADMIN, REGION, 200],
      ['sts', ADMIN, REGION, 200],
      ['organizations', ADMIN, REGION, 200],
      ['macie2', ADMIN, REGION, 429],
      ['sts', ADMIN, REGION, 400],
      ['organizations', ADMIN, REGION, 400],
    ]);
  });

  it('never spends the caller\'s Macie tokens on AssumeRole, nor its STS tokens on Macie', async () => {
    emulator.control.setKnobs({ throttle: { ratePerSecond: 0.001, burst: 2 } });
    const assume = () =>
      stsAs(emulator, ADMIN).send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${memberId(20)}:role/${MEMBER_ROLE.name}`, RoleSessionName: 'rs', ExternalId: MEMBER_ROLE.externalId }),
      );
    const macie = macieAs(emulator, ADMIN);
    await assume();
    await assume();
    await expectAwsError(assume(), { name: 'Throttling', status: 400 });
    // The STS bucket is empty; the Macie bucket of the same account and region is still full.
    await macie.send(new GetMacieSessionCommand({}));
    await macie.send(new GetMacieSessionCommand({}));
    await expectAwsError(macie.send(new GetMacieSessionCommand({})), { name: 'ThrottlingException', status: 429 });
  });

  it('applies throttleByService overrides to their service only, null meaning not throttled', async () => {
    emulator.control.setKnobs({
      throttle: { ratePerSecond: 0.001, burst: 2 },
      throttleByService: { sts: { ratePerSecond: 0.001, burst: 1 }, organizations: null },
    });
    const sts = stsAs(emulator, ADMIN);
    const macie = macieAs(emulator, ADMIN);
    const organizations = organizationsAs(emulator, ADMIN);

    await sts.send(new GetCallerIdentityCommand({}));
    await expectAwsError(sts.send(new GetCallerIdentityCommand({})), { name: 'Throttling', status: 400 });
    for (let call = 0; call < 5; call++) await organizations.send(new DescribeAccountCommand({ AccountId: ADMIN }));
    await macie.send(new GetMacieSessionCommand({}));
    await macie.send(new GetMacieSessionCommand({}));
    await expectAwsError(macie.send(new GetMacieSessionCommand({})), { name: 'ThrottlingException', status: 429 });
    expect(emulator.control.knobs().throttleByService).toEqual({ sts: { ratePerSecond: 0.001, burst: 1 }, organizations: null });
  });

  it('lets the SDK\'s own retries ride out throttling', async () => {
    emulator.control.setKnobs({ throttle: { ratePerSecond: 50, burst: 1 } });
    const client = macieAs(emulator, ADMIN, { maxAttempts: 5 });
    await client.send(new GetMacieSessionCommand({}));
    const answer = await client.send(new GetMacieSessionCommand({}));
    expect(answer.$metadata.attempts).toBeGreaterThan(1);
  });
});

describe('server errors', () => {
  it('answers every call with InternalServerException at rate 1', async () => {
    emulator.control.setKnobs({ serverErrorRate: 1 });
    await expectAwsError(macieAs(emulator, ADMIN).send(new GetMacieSessionCommand({})), {
      name: 'InternalServerException',
      status: 500,
      message: 'An internal error occurred. Try again later.',
    });
    await expectAwsError(organizationsAs(emulator, ADMIN).send(new DescribeAccountCommand({ AccountId: ADMIN })), { name: 'ServiceException', status: 500 });
  });

  it('fails about the given share of calls, the same ones again for the same seed', async () => {
    const client = macieAs(emulator, ADMIN);
    const run = async () => {
      emulator.control.setKnobs({ serverErrorRate: 0.5, randomSeed: 7 });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i += 1) {
        outcomes.push(await client.send(new GetMacieSessionCommand({})).then(() => true, () => false));
      }
      return outcomes;
    };
    const first = await run();
    const second = await run();
    const failures = first.filter((ok) => !ok).length;
    expect(failures).toBeGreaterThanOrEqual(10);
    expect(failures).toBeLessThanOrEqual(30);
    expect(second).toEqual(first);
  });
});

describe('CreateInvitations unprocessed InternalError', () => {
  it('leaves every account unprocessed with InternalError at rate 1, state unchanged', async () => {
    const accountIds = [memberId(1), memberId(2)];
    for (const accountId of accountIds) await create(accountId);
    emulator.control.setKnobs({ unprocessedInternalErrorRate: 1 });
    const result = await macieAs(emulator, ADMIN).send(new CreateInvitationsCommand({ accountIds }));
    expect(result.unprocessedAccounts).toEqual(
      accountIds.map((accountId) => ({ accountId, errorCode: 'InternalError', errorMessage: expect.stringMatching(/internal error/) })),
    );
    expect(emulator.control.members(ADMIN, REGION).filter((m) => accountIds.includes(m.accountId)).map((m) => m.relationshipStatus)).toEqual([
      'Created',
      'Created',
    ]);
  });

  it('leaves some accounts unprocessed at a partial rate and invites the others', async () => {
    const accountIds = Array.from({ length: 20 }, (_, i) => memberId(i + 10));
    for (const accountId of accountIds) await create(accountId);
    emulator.control.setKnobs({ unprocessedInternalErrorRate: 0.5, randomSeed: 3 });
    const result = await macieAs(emulator, ADMIN).send(new CreateInvitationsCommand({ accountIds }));
    const unprocessed = new Set(result.unprocessedAccounts?.map((u) => u.accountId));
    expect(unprocessed.size).toBeGreaterThan(0);
    expect(unprocessed.size).toBeLessThan(accountIds.length);
    for (const member of emulator.control.members(ADMIN, REGION).filter((m) => accountIds.includes(m.accountId))) {
      expect(member.relationshipStatus).toBe(unprocessed.has(member.accountId) ? 'Created' : 'Invited');
    }
  });
});

describe('invitation timing', () => {
  // On the emulator's own clock, moved on by the test: the windows below hold however busy the machine is.
  let now = Date.parse('2026-11-30T00:00:00.000Z');
  let timed: AwsEmulator;
  beforeAll(async () => {
    timed = await startEmulator([seedAccount(ADMIN), seedAccount(memberId(3)), seedAccount(memberId(4))], {}, () => now);
  });
  afterAll(() => timed?.close());

  it('keeps the invitation from the member for invitationDelayMs after it was sent', async () => {
    const accountId = memberId(3);
    await create(accountId, macieAs(timed, ADMIN));
    timed.control.setKnobs({ invitationDelayMs: 150 });
    await macieAs(timed, ADMIN).send(new CreateInvitationsCommand({ accountIds: [accountId] }));
    const member = macieAs(timed, accountId);

    now += 149;
    expect(timed.control.members(ADMIN, REGION).find((m) => m.accountId === accountId)?.relationshipStatus).toBe('Invited');
    expect((await member.send(new ListInvitationsCommand({}))).invitations).toEqual([]);
    await expectAwsError(member.send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId: 'any' })), {
      name: 'ValidationException',
      status: 400,
    });

    now += 1;
    const { invitations = [] } = await member.send(new ListInvitationsCommand({}));
    expect(invitations).toHaveLength(1);
    await member.send(new AcceptInvitationCommand({ administratorAccountId: ADMIN, invitationId: invitations[0]?.invitationId ?? '' }));
  });

  it('turns EmailVerificationInProgress into Invited at the emailVerificationMs moment', async () => {
    const accountId = memberId(4);
    await create(accountId, macieAs(timed, ADMIN));
    timed.control.setKnobs({ emailVerificationMs: 120, invitationDelayMs: 0 });
    await macieAs(timed, ADMIN).send(new CreateInvitationsCommand({ accountIds: [accountId] }));
    const statusNow = () => timed.control.members(ADMIN, REGION).find((m) => m.accountId === accountId)?.relationshipStatus;

    expect(statusNow()).toBe('EmailVerificationInProgress');
    now += 119;
    expect(statusNow()).toBe('EmailVerificationInProgress');
    now += 1;
    expect(statusNow()).toBe('Invited');
  });
});

describe('knob timing', () => {
  it('uses the knobs in force when the invitation was sent, not later ones', async () => {
    const accountId = memberId(5);
    await create(accountId);
    emulator.control.setKnobs({ emailVerificationMs: 60_000 });
    await macieAs(emulator, ADMIN).send(new CreateInvitationsCommand({ accountIds: [accountId] }));
    emulator.control.setKnobs({ emailVerificationMs: 0 });
    expect(emulator.control.members(ADMIN, REGION).find((m) => m.accountId === accountId)?.relationshipStatus).toBe('EmailVerificationInProgress');
  });
});

describe('failing calls', () => {
  it('fails one operation about one account, in each service\'s error shape, until the knob is cleared', async () => {
    const unlucky = memberId(35);
    const lucky = memberId(36);
    for (const accountId of [unlucky, lucky]) await create(accountId);
    emulator.control.setKnobs({
      failingCalls: [
        { operation: 'GetMember', subjectAccountId: unlucky, errorType: 'InternalServerException', statusCode: 500 },
        { operation: 'AssumeRole', subjectAccountId: unlucky, errorType: 'AccessDenied', statusCode: 403, message: 'role is broken' },
        { operation: 'DescribeAccount', subjectAccountId: unlucky, errorType: 'AccountNotFoundException', statusCode: 400 },
      ],
    });
    const admin = macieAs(emulator, ADMIN);

    await expectAwsError(admin.send(new GetMemberCommand({ id: unlucky })), {
      name: 'InternalServerException',
      status: 500,
      message: "InternalServerException injected by the emulator's failingCalls knob",
    });
    expect((await admin.send(new GetMemberCommand({ id: lucky }))).relationshipStatus).toBe('Created');
    await expectAwsError(
      stsAs(emulator, ADMIN).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${unlucky}:role/any`, RoleSessionName: 'rs' })),
      { name: 'AccessDenied', status: 403, message: 'role is broken' },
    );
    await expectAwsError(organizationsAs(emulator, ADMIN).send(new DescribeAccountCommand({ AccountId: unlucky })), {
      name: 'AccountNotFoundException',
      status: 400,
    });
    await organizationsAs(emulator, ADMIN).send(new DescribeAccountCommand({ AccountId: lucky }));

    emulator.control.setKnobs({ failingCalls: [] });
    expect((await admin.send(new GetMemberCommand({ id: unlucky }))).relationshipStatus).toBe('Created');
  });

  it('matches calls made by the subject account and calls naming it among accountIds', async () => {
    const unlucky = memberId(37);
    await create(unlucky);
    emulator.control.setKnobs({
      failingCalls: [
        { operation: 'ListInvitations', subjectAccountId: unlucky, errorType: 'ThrottlingException', statusCode: 429 },
        { operation: 'CreateInvitations', subjectAccountId: unlucky, errorType: 'ConflictException', statusCode: 409 },
      ],
    });
    await expectAwsError(macieAs(emulator, unlucky).send(new ListInvitationsCommand({})), { name: 'ThrottlingException', status: 429 });
    await macieAs(emulator, memberId(38)).send(new ListInvitationsCommand({}));
    await expectAwsError(macieAs(emulator, ADMIN).send(new CreateInvitationsCommand({ accountIds: [memberId(1), unlucky] })), {
      name: 'ConflictException',
      status: 409,
    });
    expect(emulator.control.calls().slice(-3).map((c) => c.errorType)).toEqual(['ThrottlingException', undefined, 'ConflictException']);
  });

  it('rejects failing calls without an operation, an error type or an error status', () => {
    expect(() => emulator.control.setKnobs({ failingCalls: [{ operation: '', errorType: 'X', statusCode: 500 }] })).toThrow(
      'knob failingCalls[0].operation is required',
    );
    expect(() => emulator.control.setKnobs({ failingCalls: [{ operation: 'GetMember', errorType: 'X', statusCode: 200 }] })).toThrow(
      /statusCode must be an HTTP error status/,
    );
  });
});

describe('knobs', () => {
  it('applies memberQuota per administrator and region', async () => {
    emulator.control.setKnobs({ memberQuota: 1 });
    const second = macieAs(emulator, SECOND_ADMIN);
    await create(memberId(30), second);
    await expectAwsError(second.send(new CreateMemberCommand({ account: { accountId: memberId(31), email: 'q@example.com' } })), {
      name: 'ServiceQuotaExceededException',
      status: 402,
    });
    await create(memberId(31), macieAs(emulator, SECOND_ADMIN, { region: OTHER_REGION }));
  });

  it('reports the knobs in force and restores the defaults on reset', () => {
    emulator.control.setKnobs({
      latencyMs: 5,
      throttle: { ratePerSecond: 2, burst: 4 },
      throttleByService: { organizations: { ratePerSecond: 1, burst: 1 } },
      bouncingEmails: ['x@example.com'],
    });
    expect(emulator.control.knobs()).toMatchObject({
      latencyMs: 5,
      throttle: { ratePerSecond: 2, burst: 4 },
      throttleByService: { organizations: { ratePerSecond: 1, burst: 1 } },
      bouncingEmails: ['x@example.com'],
    });
    emulator.control.resetKnobs();
    expect(emulator.control.knobs()).toEqual(DEFAULT_KNOBS);
    expect(DEFAULT_KNOBS.memberQuota).toBe(1000);
  });

  it('rejects nonsense knob values instead of ignoring them', () => {
    expect(() => emulator.control.setKnobs({ serverErrorRate: 2 })).toThrow('knob serverErrorRate must be between 0 and 1, got 2');
    expect(() => emulator.control.setKnobs({ latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => emulator.control.setKnobs({ throttle: { ratePerSecond: 0, burst: 1 } })).toThrow(/ratePerSecond/);
    expect(() => emulator.control.setKnobs({ throttleByService: { sts: { ratePerSecond: 1, burst: 0 } } })).toThrow(
      'knob throttleByService.sts.burst must be an integer >= 1, got 0',
    );
    expect(() => emulator.control.setKnobs({ throttleByService: { dynamodb: null } as never })).toThrow(/throttleByService\.dynamodb: unknown service/);
    expect(() => emulator.control.setKnobs({ throttleByService: [] as never })).toThrow(/throttleByService must be an object/);
    expect(() => emulator.control.setKnobs({ latencyMz: 1 } as never)).toThrow('unknown knob latencyMz');
  });
});
