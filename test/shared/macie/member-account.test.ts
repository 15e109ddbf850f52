import { GetMacieSessionCommand, Macie2Client, UpdateMacieSessionCommand } from '@aws-sdk/client-macie2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '#sandbox/index';
import { AwsCallError } from '#shared/errors';
import { SdkMacieAdministrator } from '#shared/macie/administrator';
import { SdkMemberAccountAcceptor } from '#shared/macie/member-account';
import { executePlan } from '#shared/executor';
import type { PlannedMembership } from '#shared/domain/types';

/** Acceptance inside member accounts, through an assumed role, against the emulator. */

const REGIONS = ['us-east-1', 'eu-west-1'];
const OTHER_ADMINISTRATOR = '333333333333';
let sandbox: Sandbox;
let admin: SdkMacieAdministrator;
let acceptor: SdkMemberAccountAcceptor;
// The emulator's clock runs ahead of the wall clock by `skew`: the acceptor's waits move it on
// instead of sleeping, so an invitation's delay passes exactly when the acceptor says it has.
let skew = 0;
const fakeNow = () => Date.now() + skew;
const fakeClock = {
  now: fakeNow,
  sleep: async (ms: number) => {
    skew += ms;
  },
};

beforeAll(async () => {
  sandbox = await startSandbox({
    regions: REGIONS,
    accounts: [
      { accountId: '222222222201', email: 'a@example.com' },
      { accountId: '222222222202', email: 'b@example.com', macieEnabled: false },
      { accountId: '222222222203', email: 'c@example.com', memberRole: 'missing' },
      { accountId: '222222222204', email: 'd@example.com', memberRole: 'noPermission' },
      { accountId: '222222222205', email: 'e@example.com' },
      { accountId: '222222222220', email: 'suspended@example.com' },
      { accountId: '222222222210', email: 'raced@example.com' },
      { accountId: '222222222211', email: 'poached@example.com' },
      { accountId: OTHER_ADMINISTRATOR, email: 'other-admin@example.com' },
    ],
    clock: fakeNow,
  });
  Object.assign(process.env, sandbox.environment());
  admin = new SdkMacieAdministrator(2);
  acceptor = new SdkMemberAccountAcceptor({
    role: { ...sandbox.memberRole, partition: 'aws' },
    maxAttempts: 2,
    polling: { attempts: 2, intervalMs: 20, firstLookAfterMs: 0 },
  });
});

afterAll(() => sandbox?.close());

/** The member's own Macie client, with its own keys (not the role the acceptor assumes). */
function memberMacie(accountId: string, region: string): Macie2Client {
  return new Macie2Client({ region, endpoint: sandbox.endpoints.macie2, credentials: sandbox.emulator.control.credentialsFor(accountId) });
}

/** The member-side calls in order, with the answer's status, from the emulator's call log. */
function memberSideCalls(accountId: string): string[] {
  return sandbox.emulator.control
    .calls()
    .filter((call) => call.operation === 'AssumeRole' || (call.assumedRole && call.accountId === accountId))
    .map((call) => `${call.operation} ${call.statusCode}`);
}

async function invite(accountId: string, email: string, region: string) {
  await admin.createMember(region, accountId, email, {});
  expect(await admin.createInvitations(region, [accountId], { message: undefined, sendEmail: false })).toEqual([]);
}

describe('acceptInvitationInMemberAccount', () => {
  it('accepts in every region with one assumed-role session per account', async () => {
    for (const region of REGIONS) await invite('222222222201', 'a@example.com', region);
    sandbox.clearCalls();
    for (const region of REGIONS) expect(await acceptor.acceptInvitationInMemberAccount('222222222201', region, '111111111111')).toBe('accepted');

    for (const region of REGIONS) expect(sandbox.emulator.control.administratorOf('222222222201', region)).toBe('111111111111');
    // Macie is on already: EnableMacie's conflict says so, with no GetMacieSession before it.
    const perRegion = ['EnableMacie 409', 'ListInvitations 200', 'AcceptInvitation 200'];
    expect(memberSideCalls('222222222201')).toEqual(['AssumeRole 200', ...perRegion, ...perRegion]);
    const calls = sandbox.calls();
    expect(calls.filter((call) => call.operation === 'AssumeRole')).toHaveLength(1);
    expect(calls.filter((call) => call.operation === 'AcceptInvitation').every((call) => call.assumedRole && call.accountId === '222222222201')).toBe(true);
  });

  it('enables Macie first when the member never did', async () => {
    await invite('222222222202', 'b@example.com', 'us-east-1');
    sandbox.clearCalls();
    expect(sandbox.emulator.control.macieEnabled('222222222202', 'us-east-1')).toBe(false);
    expect(await acceptor.acceptInvitationInMemberAccount('222222222202', 'us-east-1', '111111111111')).toBe('accepted');
    expect(sandbox.emulator.control.macieEnabled('222222222202', 'us-east-1')).toBe(true);
    expect(sandbox.emulator.control.members('111111111111', 'us-east-1').find((m) => m.accountId === '222222222202')?.relationshipStatus).toBe('Enabled');
    expect(memberSideCalls('222222222202')).toEqual(['AssumeRole 200', 'EnableMacie 200', 'ListInvitations 200', 'AcceptInvitation 200']);
  });

  it('accepts in an account whose Macie is suspended, leaving the suspension to the administrator', async () => {
    const accountId = '222222222220';
    const own = memberMacie(accountId, 'us-east-1');
    await own.send(new UpdateMacieSessionCommand({ status: 'PAUSED' }));
    await invite(accountId, 'suspended@example.com', 'us-east-1');
    sandbox.clearCalls();

    expect(await acceptor.acceptInvitationInMemberAccount(accountId, 'us-east-1', '111111111111')).toBe('accepted');
    expect(sandbox.emulator.control.administratorOf(accountId, 'us-east-1')).toBe('111111111111');
    // A suspended account keeps its session, so EnableMacie conflicts and changes nothing, as the
    // GetMacieSession look before it did; resuming is UpdateMemberSession's, on the administrator side.
    expect(memberSideCalls(accountId)).toEqual(['AssumeRole 200', 'EnableMacie 409', 'ListInvitations 200', 'AcceptInvitation 200']);
    expect((await own.send(new GetMacieSessionCommand({}))).status).toBe('PAUSED');
  });

  it('reports an invitation the member cannot see yet, without failing', async () => {
    sandbox.emulator.control.setKnobs({ invitationDelayMs: 5_000 });
    await invite('222222222205', 'e@example.com', 'us-east-1');
    sandbox.emulator.control.setKnobs({ invitationDelayMs: 0 });
    expect(await acceptor.acceptInvitationInMemberAccount('222222222205', 'us-east-1', '111111111111')).toBe('invitationNotVisible');
  });

  it('fails with AssumeRole AccessDenied when the member role is missing', async () => {
    await invite('222222222203', 'c@example.com', 'us-east-1');
    const failure = await acceptor.acceptInvitationInMemberAccount('222222222203', 'us-east-1', '111111111111').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AwsCallError);
    expect(failure).toMatchObject({ operation: 'AssumeRole', code: 'AccessDenied' });
  });

  it('fails with AccessDeniedException when the member role lacks Macie permissions', async () => {
    await invite('222222222204', 'd@example.com', 'us-east-1');
    const failure = await acceptor.acceptInvitationInMemberAccount('222222222204', 'us-east-1', '111111111111').catch((error: unknown) => error);
    expect(failure).toMatchObject({ operation: 'EnableMacie', code: 'AccessDeniedException', message: expect.stringMatching(/not authorized/) });
  });
});

describe('acceptance racing another run, as AWS answers it', () => {
  it('counts an invitation another run accepted first as accepted: AWS answers the late one with a ValidationException', async () => {
    const accountId = '222222222210';
    await invite(accountId, 'raced@example.com', 'us-east-1');
    sandbox.emulator.control.raceBefore({
      operation: 'AcceptInvitation',
      subjectAccountId: accountId,
      move: () => sandbox.emulator.control.seedMembership({ administratorAccountId: '111111111111', accountId, region: 'us-east-1', relationshipStatus: 'Enabled' }),
    });
    sandbox.clearCalls();

    expect(await acceptor.acceptInvitationInMemberAccount(accountId, 'us-east-1', '111111111111')).toBe('accepted');
    const answers = sandbox.emulator.control.calls().filter((call) => call.operation === 'AcceptInvitation');
    expect(answers.map((call) => [call.statusCode, call.errorType])).toEqual([[400, 'ValidationException']]);
    expect(sandbox.emulator.control.administratorOf(accountId, 'us-east-1')).toBe('111111111111');
  });

  it('fails an account another administrator took meanwhile, with the ValidationException AWS gave', async () => {
    const accountId = '222222222211';
    await invite(accountId, 'poached@example.com', 'us-east-1');
    sandbox.emulator.control.raceBefore({
      operation: 'AcceptInvitation',
      subjectAccountId: accountId,
      move: () => sandbox.emulator.control.seedMembership({ administratorAccountId: OTHER_ADMINISTRATOR, accountId, region: 'us-east-1', relationshipStatus: 'Enabled' }),
    });

    const failure = await acceptor.acceptInvitationInMemberAccount(accountId, 'us-east-1', '111111111111').catch((error: unknown) => error);
    expect(failure).toMatchObject({ operation: 'AcceptInvitation', code: 'ValidationException' });
  });
});

describe('member-role sessions', () => {
  it('spreads AssumeRole calls over the regional STS endpoints of the regions being worked on', async () => {
    const accounts = ['222222222206', '222222222207', '222222222208', '222222222209'];
    sandbox.emulator.control.seedAccounts(accounts.map((accountId) => ({ accountId, email: `${accountId}@example.com` })));
    const spread = new SdkMemberAccountAcceptor({ role: { ...sandbox.memberRole, partition: 'aws' }, maxAttempts: 2, polling: { attempts: 1, intervalMs: 0, firstLookAfterMs: 0 } });
    for (const accountId of accounts) await invite(accountId, `${accountId}@example.com`, 'us-east-1');
    await invite(accounts[0]!, `${accounts[0]}@example.com`, 'eu-west-1');
    sandbox.clearCalls();

    // eu-west-1 is worked on too, so the later sessions alternate between the two endpoints.
    expect(await spread.acceptInvitationInMemberAccount(accounts[0]!, 'eu-west-1', '111111111111')).toBe('accepted');
    for (const accountId of accounts) expect(await spread.acceptInvitationInMemberAccount(accountId, 'us-east-1', '111111111111')).toBe('accepted');

    const assumed = sandbox.emulator.control.calls().filter((call) => call.operation === 'AssumeRole');
    expect(assumed).toHaveLength(accounts.length);
    expect(assumed.filter((call) => call.region === 'eu-west-1')).toHaveLength(2);
    expect(assumed.filter((call) => call.region === 'us-east-1')).toHaveLength(2);
  });

  it('assumes the role once for a prepared acceptance', async () => {
    await invite('222222222205', 'e@example.com', 'eu-west-1');
    const prepared = new SdkMemberAccountAcceptor({ role: { ...sandbox.memberRole, partition: 'aws' }, maxAttempts: 2, polling: { attempts: 1, intervalMs: 0, firstLookAfterMs: 0 } });
    sandbox.clearCalls();
    prepared.prepareAcceptance('222222222205', 'eu-west-1');
    expect(await prepared.acceptInvitationInMemberAccount('222222222205', 'eu-west-1', '111111111111')).toBe('accepted');
    expect(sandbox.calls().filter((call) => call.operation === 'AssumeRole')).toHaveLength(1);
  });

});

describe('the first look for an invitation', () => {
  const DELAY_MS = 60_000;
  const acceptorWith = (polling: { attempts: number; intervalMs: number; firstLookAfterMs: number }) =>
    new SdkMemberAccountAcceptor({ role: { ...sandbox.memberRole, partition: 'aws' }, maxAttempts: 2, polling, clock: fakeClock });
  const listInvitations = (accountId: string) => memberSideCalls(accountId).filter((call) => call.startsWith('ListInvitations'));

  beforeAll(() => {
    sandbox.emulator.control.seedAccounts(['222222222230', '222222222231', '222222222232', '222222222233'].map((accountId) => ({ accountId, email: `${accountId}@example.com` })));
  });

  afterEach(() => sandbox.emulator.control.setKnobs({ invitationDelayMs: 0 }));

  it('waits until the invitation can be visible, holding no slot meanwhile, and finds it on the first look', async () => {
    sandbox.emulator.control.setKnobs({ invitationDelayMs: DELAY_MS });
    await invite('222222222230', '222222222230@example.com', 'us-east-1');
    const invitedAt = fakeNow();
    const timed = acceptorWith({ attempts: 2, intervalMs: 20, firstLookAfterMs: DELAY_MS });
    const events: string[] = [];
    const sleep = fakeClock.sleep;
    fakeClock.sleep = async (ms) => {
      events.push('wait');
      await sleep(ms);
    };
    sandbox.clearCalls();
    try {
      const schedule = async <T>(calls: () => Promise<T>) => {
        events.push('slot');
        try {
          return await calls();
        } finally {
          events.push('free');
        }
      };
      expect(await timed.acceptInvitationInMemberAccount('222222222230', 'us-east-1', '111111111111', { invitedAt, schedule })).toBe('accepted');
    } finally {
      fakeClock.sleep = sleep;
    }

    // Looking at once, the old way, would have missed twice and left the account for the next run.
    expect(memberSideCalls('222222222230')).toEqual(['AssumeRole 200', 'EnableMacie 409', 'ListInvitations 200', 'AcceptInvitation 200']);
    // Macie is enabled before the wait; the wait holds no member-side slot.
    expect(events).toEqual(['slot', 'free', 'wait', 'slot', 'free']);
  });

  it('learns how long invitations take from one it missed, and finds the next on the first look', async () => {
    sandbox.emulator.control.setKnobs({ invitationDelayMs: DELAY_MS });
    const learning = acceptorWith({ attempts: 2, intervalMs: 100_000, firstLookAfterMs: 0 });
    await invite('222222222231', '222222222231@example.com', 'us-east-1');
    const firstInvitedAt = fakeNow();
    sandbox.clearCalls();
    expect(await learning.acceptInvitationInMemberAccount('222222222231', 'us-east-1', '111111111111', { invitedAt: firstInvitedAt })).toBe('accepted');
    // The look at once misses; the one a poll interval later finds it.
    expect(listInvitations('222222222231')).toHaveLength(2);
    expect(learning.expectedInvitationVisibilityMs).toBe(100_000);

    await invite('222222222232', '222222222232@example.com', 'us-east-1');
    const invitedAt = fakeNow();
    sandbox.clearCalls();
    expect(await learning.acceptInvitationInMemberAccount('222222222232', 'us-east-1', '111111111111', { invitedAt })).toBe('accepted');
    expect(listInvitations('222222222232')).toEqual(['ListInvitations 200']);
  });

  it('through the executor: every account-region it invites is found on the first look', async () => {
    const accounts = ['222222222240', '222222222241', '222222222242', '222222222243'];
    sandbox.emulator.control.seedAccounts(accounts.map((accountId) => ({ accountId, email: `${accountId}@example.com` })));
    sandbox.emulator.control.setKnobs({ invitationDelayMs: DELAY_MS });
    const items: PlannedMembership[] = accounts.flatMap((accountId) =>
      REGIONS.map((region) => ({
        accountId,
        region,
        desiredState: 'member' as const,
        observedStatus: 'NotListed' as const,
        verdict: 'change' as const,
        reason: 'test',
        actions: [
          { kind: 'createMember' as const, email: `${accountId}@example.com`, tags: {}, via: 'invitation' as const, leaves: 'Created' as const },
          { kind: 'invite' as const, leaves: 'Invited' as const },
          { kind: 'accept' as const, leaves: 'Enabled' as const },
        ],
      })),
    );
    const settings = {
      administratorAccountId: '111111111111',
      invitation: { sendEmail: false, batchSize: 3 },
      concurrency: { administratorCallsPerRegion: 2, memberAccounts: 2 },
    };
    sandbox.clearCalls();
    const outcomes = await executePlan(
      { items, unmanaged: [] },
      { macie: admin, acceptor: acceptorWith({ attempts: 2, intervalMs: 20, firstLookAfterMs: DELAY_MS }) },
      settings,
      { now: fakeNow },
    );

    expect(outcomes.map((outcome) => outcome.status)).toEqual(items.map(() => 'done'));
    const calls = sandbox.emulator.control.calls();
    expect(calls.filter((call) => call.operation === 'CreateInvitations')).toHaveLength(4);
    // One look per invited account-region: none came before its invitation could be visible.
    expect(calls.filter((call) => call.operation === 'ListInvitations')).toHaveLength(items.length);
  });

  it('looks at once for an account this run did not invite', async () => {
    await invite('222222222233', '222222222233@example.com', 'us-east-1');
    const patient = acceptorWith({ attempts: 1, intervalMs: 0, firstLookAfterMs: DELAY_MS });
    const before = skew;
    sandbox.clearCalls();
    expect(await patient.acceptInvitationInMemberAccount('222222222233', 'us-east-1', '111111111111')).toBe('accepted');
    expect(skew).toBe(before);
    expect(listInvitations('222222222233')).toEqual(['ListInvitations 200']);
  });
});
