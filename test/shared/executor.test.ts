import { describe, expect, it } from 'vitest';
import { AwsCallError } from '#shared/errors';
import { executePlan, type ExecutionSettings } from '#shared/executor';
import type { MembershipAction, MembershipPlan, ObservedMember, PlannedMembership } from '#shared/domain/types';
import type { AcceptanceResult, InvitationOptions, MacieAdministrator, MemberAccountAcceptor, UnprocessedAccount } from '#shared/ports';

/**
 * The executor's scheduling (batching, ordering, failure handling, deadlines) against recording
 * ports. The adapters themselves are exercised against the sandbox in the integration tests.
 */

const settings: ExecutionSettings = {
  administratorAccountId: '111111111111',
  invitation: { sendEmail: false, batchSize: 3 },
  concurrency: { administratorCallsPerRegion: 2, memberAccounts: 4 },
};

const createMember: MembershipAction = { kind: 'createMember', email: 'a@example.com', tags: {}, via: 'invitation', leaves: 'Created' };
const invite: MembershipAction = { kind: 'invite', leaves: 'Invited' };
const accept: MembershipAction = { kind: 'accept', leaves: 'Enabled' };
const disassociateMember: MembershipAction = { kind: 'disassociateMember', leaves: 'Removed' };
const deleteMember: MembershipAction = { kind: 'deleteMember', leaves: 'NotListed' };
const onboard: MembershipAction[] = [createMember, invite, accept];

function item(accountId: string, actions: MembershipAction[] = onboard, region = 'us-east-1'): PlannedMembership {
  return { accountId, region, desiredState: 'member', observedStatus: 'NotListed', verdict: 'change', reason: 'test', actions };
}

const plan = (...items: PlannedMembership[]): MembershipPlan => ({ items, unmanaged: [], notPlanned: [], organizationSettings: [] });
const ids = (count: number) => Array.from({ length: count }, (_, index) => `2222222222${String(index).padStart(2, '0')}`);

class RecordingMacie implements MacieAdministrator {
  calls: string[] = [];
  invitationBatches: string[][] = [];
  failures = new Map<string, AwsCallError>();
  unprocessed = new Map<string, UnprocessedAccount>();

  private record(call: string) {
    this.calls.push(call);
    const failure = this.failures.get(call);
    if (failure) throw failure;
  }
  async listMembers() {
    return [];
  }
  current = new Map<string, ObservedMember>();
  async getMember(region: string, accountId: string) {
    this.calls.push(`getMember ${accountId} ${region}`);
    return this.current.get(accountId);
  }
  async createMember(region: string, accountId: string) {
    this.record(`createMember ${accountId} ${region}`);
  }
  async createInvitations(region: string, accountIds: string[], _options: InvitationOptions) {
    this.record(`invite ${accountIds.join(',')} ${region}`);
    this.invitationBatches.push(accountIds);
    return accountIds.flatMap((accountId) => this.unprocessed.get(accountId) ?? []);
  }
  async disassociateMember(region: string, accountId: string) {
    this.record(`disassociateMember ${accountId} ${region}`);
  }
  async deleteMember(region: string, accountId: string) {
    this.record(`deleteMember ${accountId} ${region}`);
  }
  async updateMemberSession(region: string, accountId: string, status: string) {
    this.record(`updateMemberSession ${accountId} ${region} ${status}`);
  }
  async tagMember(_region: string, arn: string) {
    this.record(`tag ${arn}`);
  }
  async untagMember(_region: string, arn: string) {
    this.record(`untag ${arn}`);
  }
  async describeOrganizationConfiguration(region: string) {
    this.record(`describeOrganizationConfiguration ${region}`);
    return { autoEnable: false };
  }
  async updateOrganizationConfiguration(region: string, autoEnable: boolean) {
    this.record(`updateOrganizationConfiguration ${region} ${autoEnable}`);
  }
}

class RecordingAcceptor implements MemberAccountAcceptor {
  accepted: string[] = [];
  notVisible = new Set<string>();
  async acceptInvitationInMemberAccount(accountId: string, region: string): Promise<AcceptanceResult> {
    if (this.notVisible.has(accountId)) return 'invitationNotVisible';
    this.accepted.push(`${accountId} ${region}`);
    return 'accepted';
  }
}

describe('executePlan', () => {
  it('creates, invites in batches of the configured size, and accepts every account', async () => {
    const macie = new RecordingMacie();
    const acceptor = new RecordingAcceptor();
    const accounts = ids(7);
    const outcomes = await executePlan(plan(...accounts.map((id) => item(id))), { macie, acceptor }, settings);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(7).fill('done'));
    expect(macie.invitationBatches.map((batch) => batch.length).sort()).toEqual([1, 3, 3]);
    expect(macie.invitationBatches.flat().sort()).toEqual(accounts);
    expect(acceptor.accepted).toHaveLength(7);
  });

  it('starts accepting the first batch before the last member is created', async () => {
    const macie = new RecordingMacie();
    const order: string[] = [];
    const acceptor: MemberAccountAcceptor = {
      async acceptInvitationInMemberAccount(accountId) {
        order.push(`accept ${accountId}`);
        return 'accepted';
      },
    };
    const slowMacie = Object.assign(macie, {
      async createMember(_region: string, accountId: string) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.push(`create ${accountId}`);
      },
    });
    await executePlan(plan(...ids(9).map((id) => item(id))), { macie: slowMacie, acceptor }, settings);
    const firstAccept = order.findIndex((entry) => entry.startsWith('accept'));
    const lastCreate = order.map((entry) => entry.startsWith('create')).lastIndexOf(true);
    expect(firstAccept).toBeLessThan(lastCreate);
  });

  it('batches invitations per region', async () => {
    const macie = new RecordingMacie();
    await executePlan(
      plan(item('222222222201'), item('222222222202', onboard, 'eu-west-1'), item('222222222203', onboard, 'eu-west-1')),
      { macie, acceptor: new RecordingAcceptor() },
      settings,
    );
    expect(macie.calls.filter((call) => call.startsWith('invite')).sort()).toEqual([
      'invite 222222222201 us-east-1',
      'invite 222222222202,222222222203 eu-west-1',
    ]);
  });

  it('fails an account Macie leaves unprocessed, and does not try to accept it', async () => {
    const macie = new RecordingMacie();
    macie.unprocessed.set('222222222202', { accountId: '222222222202', errorCode: 'ClientError', errorMessage: 'belongs to another administrator' });
    const acceptor = new RecordingAcceptor();
    const outcomes = await executePlan(plan(item('222222222201'), item('222222222202')), { macie, acceptor }, settings);

    expect(outcomes[1]).toMatchObject({
      status: 'failed',
      completed: ['createMember'],
      failure: { action: 'invite', operation: 'CreateInvitations', code: 'ClientError', message: 'belongs to another administrator' },
    });
    expect(acceptor.accepted).toEqual(['222222222201 us-east-1']);
  });

  it('sends an invitation Macie left undone with an InternalError once more in the same run, and goes on when it goes through', async () => {
    const macie = new RecordingMacie();
    macie.unprocessed.set('222222222201', { accountId: '222222222201', errorCode: 'InternalError', errorMessage: 'try again' });
    const createInvitations = macie.createInvitations.bind(macie);
    macie.createInvitations = async (region, accountIds, options) => {
      const unprocessed = await createInvitations(region, accountIds, options);
      macie.unprocessed.clear();
      return unprocessed;
    };
    const acceptor = new RecordingAcceptor();
    const outcomes = await executePlan(plan(item('222222222201')), { macie, acceptor }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'done', completed: ['createMember', 'invite', 'accept'] });
    expect(macie.invitationBatches).toEqual([['222222222201'], ['222222222201']]);
  });

  it('fails an invitation whose InternalError persists through the second try, without a third', async () => {
    const macie = new RecordingMacie();
    macie.unprocessed.set('222222222201', { accountId: '222222222201', errorCode: 'InternalError', errorMessage: 'try again' });
    const outcomes = await executePlan(plan(item('222222222201')), { macie, acceptor: new RecordingAcceptor() }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'failed', failure: { action: 'invite', code: 'InternalError' } });
    expect(macie.invitationBatches).toHaveLength(2);
  });

  it('counts an invitation Macie refuses because another run already enrolled the account as done', async () => {
    const macie = new RecordingMacie();
    macie.unprocessed.set('222222222201', { accountId: '222222222201', errorCode: 'ClientError', errorMessage: 'already a member of your account' });
    macie.current.set('222222222201', { accountId: '222222222201', region: 'us-east-1', relationshipStatus: 'Enabled', tags: {} });
    const acceptor = new RecordingAcceptor();
    const outcomes = await executePlan(plan(item('222222222201', [invite, accept])), { macie, acceptor }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'done', observedAfter: 'Enabled', completed: [] });
    expect(acceptor.accepted).toEqual([]);
  });

  it("goes on to accept when another run's invitation is already pending", async () => {
    const macie = new RecordingMacie();
    macie.unprocessed.set('222222222201', { accountId: '222222222201', errorCode: 'ClientError', errorMessage: 'already invited' });
    macie.current.set('222222222201', { accountId: '222222222201', region: 'us-east-1', relationshipStatus: 'Invited', tags: {} });
    const acceptor = new RecordingAcceptor();
    const outcomes = await executePlan(plan(item('222222222201', [invite, accept])), { macie, acceptor }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'done', completed: ['invite', 'accept'] });
  });

  it('stops an account at its first failure and still invites the others', async () => {
    const macie = new RecordingMacie();
    macie.failures.set('createMember 222222222201 us-east-1', new AwsCallError('CreateMember', 'ThrottlingException', 'Rate exceeded', 8));
    const outcomes = await executePlan(plan(item('222222222201'), item('222222222202')), { macie, acceptor: new RecordingAcceptor() }, settings);

    expect(outcomes[0]).toMatchObject({ status: 'failed', completed: [], failure: { action: 'createMember', code: 'ThrottlingException', attempts: 8 } });
    expect(outcomes[1]?.status).toBe('done');
    expect(macie.invitationBatches).toEqual([['222222222202']]);
  });

  it('counts a conflict as already done', async () => {
    const macie = new RecordingMacie();
    macie.failures.set('disassociateMember 222222222201 us-east-1', new AwsCallError('DisassociateMember', 'ConflictException', 'already removed', 1));
    const removal = item('222222222201', [disassociateMember, deleteMember]);
    const outcomes = await executePlan(plan(removal), { macie, acceptor: new RecordingAcceptor() }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'done', completed: ['disassociateMember', 'deleteMember'] });
  });

  it('goes on with a member a run that stopped part-way created: invites it and accepts', async () => {
    const macie = new RecordingMacie();
    macie.failures.set('createMember 222222222201 us-east-1', new AwsCallError('CreateMember', 'ConflictException', 'already a member', 1));
    // The second look finds it created, not invited (a worker died between the two).
    macie.current.set('222222222201', { accountId: '222222222201', region: 'us-east-1', relationshipStatus: 'Created', tags: {} });
    const acceptor = new RecordingAcceptor();
    const outcomes = await executePlan(plan(item('222222222201')), { macie, acceptor }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'done', completed: ['createMember', 'invite', 'accept'] });
    expect(macie.calls).toContain('getMember 222222222201 us-east-1');
    expect(macie.invitationBatches).toEqual([['222222222201']]);
    expect(acceptor.accepted).toEqual(['222222222201 us-east-1']);
  });

  it('accepts, without inviting again, a member whose invitation a run that stopped part-way sent', async () => {
    const macie = new RecordingMacie();
    macie.failures.set('createMember 222222222201 us-east-1', new AwsCallError('CreateMember', 'ConflictException', 'already a member', 1));
    macie.current.set('222222222201', { accountId: '222222222201', region: 'us-east-1', relationshipStatus: 'Invited', tags: {} });
    const acceptor = new RecordingAcceptor();
    // A second account shares the invitation batch: skipping the first one's invite must not hold it back.
    const outcomes = await executePlan(plan(item('222222222201'), item('222222222202')), { macie, acceptor }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'done', completed: ['createMember', 'invite', 'accept'] });
    expect(outcomes[1]).toMatchObject({ status: 'done' });
    expect(macie.invitationBatches).toEqual([['222222222202']]);
    expect(acceptor.accepted.sort()).toEqual(['222222222201 us-east-1', '222222222202 us-east-1']);
  });

  it('fails (and so dead-letters) a CreateMember conflict for an account the administrator does not list: it is not ours', async () => {
    const macie = new RecordingMacie();
    macie.failures.set('createMember 222222222201 us-east-1', new AwsCallError('CreateMember', 'ConflictException', 'another administrator', 1));
    const outcomes = await executePlan(plan(item('222222222201')), { macie, acceptor: new RecordingAcceptor() }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'failed', completed: [], failure: { action: 'createMember', code: 'ConflictException' } });
    expect(macie.invitationBatches).toEqual([]);
  });

  it('counts deleting a member that is already gone as done', async () => {
    const macie = new RecordingMacie();
    macie.failures.set('deleteMember 222222222201 us-east-1', new AwsCallError('DeleteMember', 'ResourceNotFoundException', 'gone', 1));
    const outcomes = await executePlan(plan(item('222222222201', [deleteMember])), { macie, acceptor: new RecordingAcceptor() }, settings);
    expect(outcomes[0]?.status).toBe('done');
  });

  it('leaves an account pending when its invitation is not visible yet', async () => {
    const acceptor = new RecordingAcceptor();
    acceptor.notVisible.add('222222222201');
    const outcomes = await executePlan(plan(item('222222222201')), { macie: new RecordingMacie(), acceptor }, settings);
    expect(outcomes[0]).toMatchObject({ status: 'pending', completed: ['createMember', 'invite'] });
  });

  it('stops starting new work when the budget runs out, and reports it deferred', async () => {
    const macie = new RecordingMacie();
    let allowed = 2;
    const budget = { canStartWork: () => allowed-- > 0 };
    const settingsOneAtATime = { ...settings, concurrency: { administratorCallsPerRegion: 1, memberAccounts: 1 } };
    const outcomes = await executePlan(plan(...ids(4).map((id) => item(id, [deleteMember]))), { macie, acceptor: new RecordingAcceptor() }, settingsOneAtATime, { budget });

    expect(outcomes.filter((outcome) => outcome.status === 'done')).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome.status === 'deferred')).toHaveLength(2);
    expect(macie.calls).toHaveLength(2);
  });

  it('asks admit before an item\'s first step: a refused item makes no call, and its invitation batch goes without it', async () => {
    const macie = new RecordingMacie();
    const acceptor = new RecordingAcceptor();
    const [kept, refused, other] = ids(3) as [string, string, string];
    const outcomes = await executePlan(plan(item(kept), item(refused), item(other)), { macie, acceptor }, settings, {
      admit: async (planned) => (planned.accountId === refused ? { status: 'deferred', note: 'held' } : undefined),
    });

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['done', 'deferred', 'done']);
    expect(outcomes[1]).toMatchObject({ completed: [], note: 'held' });
    expect(macie.calls.filter((call) => call.includes(refused))).toEqual([]);
    expect(macie.invitationBatches).toEqual([[kept, other]]);
  });

  it('starts an admitted item without waiting for the others to be admitted', async () => {
    const macie = new RecordingMacie();
    const [first, last] = ids(2) as [string, string];
    let admitLast!: () => void;
    const lastAdmitted = new Promise<undefined>((resolve) => (admitLast = () => resolve(undefined)));
    const running = executePlan(plan(item(first, [deleteMember]), item(last, [deleteMember])), { macie, acceptor: new RecordingAcceptor() }, settings, {
      admit: (planned) => (planned.accountId === last ? lastAdmitted : Promise.resolve(undefined)),
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(macie.calls).toEqual([`deleteMember ${first} us-east-1`]);
    admitLast();
    await running;
    expect(macie.calls).toEqual([`deleteMember ${first} us-east-1`, `deleteMember ${last} us-east-1`]);
  });

  it('runs pruning actions for unmanaged members', async () => {
    const macie = new RecordingMacie();
    const outcomes = await executePlan(
      {
        items: [],
        unmanaged: [{ ...item('222222222209', [disassociateMember, deleteMember]), desiredState: 'absent', observedStatus: 'Enabled' }],
      },
      { macie, acceptor: new RecordingAcceptor() },
      settings,
    );
    expect(outcomes[0]).toMatchObject({ status: 'done' });
    expect(outcomes[0]?.item.row).toBeUndefined();
    expect(macie.calls).toEqual(['disassociateMember 222222222209 us-east-1', 'deleteMember 222222222209 us-east-1']);
  });

  it('sends each invite step with its own message, in a batch per message', async () => {
    const macie = new RecordingMacie();
    const messages: Array<string | undefined> = [];
    macie.createInvitations = async (_region, accountIds, options) => {
      messages.push(`${accountIds.join(',')}:${options.message}`);
      return [];
    };
    const welcome: MembershipAction[] = [createMember, { kind: 'invite', message: 'Welcome', leaves: 'Invited' }, accept];
    const hello: MembershipAction[] = [createMember, { kind: 'invite', message: 'Hello team', leaves: 'Invited' }, accept];
    await executePlan(plan(item('222222222201', welcome), item('222222222202', hello), item('222222222203', welcome)), { macie, acceptor: new RecordingAcceptor() }, settings);
    expect(messages.sort()).toEqual(['222222222201,222222222203:Welcome', '222222222202:Hello team']);
  });
});

describe('executePlan, member side', () => {
  it('holds a member-side slot only while calls run, not while an acceptance waits to poll again', async () => {
    const events: string[] = [];
    const acceptor: MemberAccountAcceptor = {
      async acceptInvitationInMemberAccount(accountId, _region, _administrator, options) {
        const schedule = options?.schedule ?? ((calls) => calls());
        // The first account's invitation is late: it polls, waits, and polls again.
        const polls = accountId === '222222222200' ? 2 : 1;
        for (let poll = 1; poll <= polls; poll++) {
          if (poll > 1) await new Promise((resolve) => setTimeout(resolve, 30));
          await schedule(async () => events.push(`poll ${accountId} #${poll}`));
        }
        return 'accepted';
      },
    };
    const oneMemberSlot = { ...settings, concurrency: { ...settings.concurrency, memberAccounts: 1 } };
        const outcomes = await executePlan(plan(...ids(3).map((id) => item(id, [accept]))), { macie: new RecordingMacie(), acceptor }, oneMemberSlot);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['done', 'done', 'done']);
    // With the one slot held through the wait, the others would come after the second poll.
    expect(events).toEqual(['poll 222222222200 #1', 'poll 222222222201 #1', 'poll 222222222202 #1', 'poll 222222222200 #2']);
  });

  it("prepares the member's session when the administrator starts on an account it will accept for", async () => {
    const order: string[] = [];
    const macie = new RecordingMacie();
    macie.createMember = async (_region, accountId) => {
      order.push(`create ${accountId}`);
    };
    const acceptor: MemberAccountAcceptor = {
      prepareAcceptance: (accountId) => order.push(`prepare ${accountId}`),
      async acceptInvitationInMemberAccount(accountId) {
        order.push(`accept ${accountId}`);
        return 'accepted';
      },
    };
    await executePlan(plan(item('222222222201'), item('222222222202', [deleteMember])), { macie, acceptor }, settings);

    expect(order).toEqual(['prepare 222222222201', 'create 222222222201', 'accept 222222222201']);
  });

  it('tells each acceptance when its invitation was answered, and nothing for an account invited before the run', async () => {
    let clock = 0;
    const macie = new RecordingMacie();
    const createInvitations = macie.createInvitations.bind(macie);
    // Each batch is answered 100 ms after the one before; the second try of an InternalError later still.
    macie.unprocessed.set('222222222204', { accountId: '222222222204', errorCode: 'InternalError', errorMessage: 'try again' });
    macie.createInvitations = async (region, accountIds, options) => {
      const unprocessed = await createInvitations(region, accountIds, options);
      macie.unprocessed.clear();
      // Answers come one at a time, each with its own time.
      await new Promise((resolve) => setTimeout(resolve, 0));
      clock += 100;
      return unprocessed;
    };
    const invitedAt = new Map<string, number | undefined>();
    const acceptor: MemberAccountAcceptor = {
      async acceptInvitationInMemberAccount(accountId, _region, _administrator, options) {
        invitedAt.set(accountId, options?.invitedAt);
        return 'accepted';
      },
    };
    const onboarded = ids(5).slice(1).map((id) => item(id));
    await executePlan(plan(item('222222222200', [accept]), ...onboarded), { macie, acceptor }, settings, { now: () => clock });

    expect(macie.invitationBatches).toEqual([['222222222201', '222222222202', '222222222203'], ['222222222204'], ['222222222204']]);
    expect(Object.fromEntries(invitedAt)).toEqual({
      '222222222200': undefined,
      '222222222201': 100,
      '222222222202': 100,
      '222222222203': 100,
      '222222222204': 300,
    });
  });
});
