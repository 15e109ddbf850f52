import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_ACTION,
  describeAction,
  hasDrift,
  planMemberships,
  plannedWork,
  summarizePlan,
  tagChanges,
  type PlanningPolicy,
} from '#shared/domain/plan';
import type {
  DesiredMember,
  MembershipActionKind,
  ObservedMember,
  PlanVerdict,
  RelationshipStatus,
  Unobserved,
} from '#shared/domain/types';
import { UNRECOGNIZED_STATUS } from '#shared/domain/types';

const ADMIN = '111111111111';
const ACCOUNT = '222222222201';
const EMAIL = 'owner-01@example.com';
const ARN = `arn:aws:macie2:us-east-1:${ADMIN}:member/${ACCOUNT}`;

const policy = (overrides: Partial<PlanningPolicy> = {}): PlanningPolicy => ({
  administratorAccountId: ADMIN,
  managedRegions: ['us-east-1'],
  pruneUnmanaged: false,
  ...overrides,
});

const row = (overrides: Partial<DesiredMember> = {}): DesiredMember => ({
  accountId: ACCOUNT,
  desiredState: 'member',
  email: EMAIL,
  tags: { Owner: 'platform' },
  autoAccept: true,
  paused: false,
  requestedBy: 'test',
  requestedAt: '2025-06-02T00:00:00Z',
  observed: {},
  version: 1,
  ...overrides,
});

const seen = (relationshipStatus: ObservedMember['relationshipStatus'], overrides: Partial<ObservedMember> = {}): ObservedMember => ({
  accountId: ACCOUNT,
  region: 'us-east-1',
  email: EMAIL,
  relationshipStatus,
  administratorAccountId: ADMIN,
  arn: ARN,
  tags: { Owner: 'platform' },
  ...overrides,
});

const kinds = (actions: readonly { kind: MembershipActionKind }[]) => actions.map((action) => action.kind);

function planOne(desired: DesiredMember, observed: ObservedMember[], overrides: Partial<PlanningPolicy> = {}) {
  const plan = planMemberships([desired], observed, policy(overrides));
  expect(plan.items).toHaveLength(1);
  return plan.items[0]!;
}

describe('planMemberships: desired member (docs/architecture.md, Reconciliation rules: desired member)', () => {
  const cells: [string, RelationshipStatus | 'NotListed', Partial<ObservedMember>, PlanVerdict, MembershipActionKind[]][] = [
    ['creates, invites and accepts an account Macie does not list', 'NotListed', {}, 'change', ['createMember', 'invite', 'accept']],
    ['invites and accepts a Created member', 'Created', {}, 'change', ['invite', 'accept']],
    ['waits while Macie verifies the email', 'EmailVerificationInProgress', {}, 'pending', []],
    [
      're-creates a member whose failed email differs from the desired one',
      'EmailVerificationFailed',
      { email: 'typo@exmaple.com' },
      'change',
      ['deleteMember', 'createMember', 'invite', 'accept'],
    ],
    ['dead-letters a failed email that is still the desired one', 'EmailVerificationFailed', {}, 'deadLetter', []],
    ['accepts a pending invitation without re-inviting', 'Invited', {}, 'change', ['accept']],
    ['leaves an Enabled member with matching tags alone', 'Enabled', {}, 'inSync', []],
    ['resumes a Paused member that should run', 'Paused', {}, 'change', ['updateMemberSession']],
    ['deletes and re-creates a Removed member', 'Removed', {}, 'change', ['deleteMember', 'createMember', 'invite', 'accept']],
    ['re-invites a Resigned member', 'Resigned', {}, 'change', ['invite', 'accept']],
    ['skips a member whose region is disabled', 'RegionDisabled', {}, 'skipped', []],
    ['skips a suspended account', 'AccountSuspended', {}, 'skipped', []],
  ];

  it.each(cells)('%s (%s)', (_name, status, observedOverrides, verdict, actionKinds) => {
    const observed = status === 'NotListed' ? [] : [seen(status, observedOverrides)];
    const item = planOne(row(), observed);
    expect(item).toMatchObject({ accountId: ACCOUNT, region: 'us-east-1', desiredState: 'member', observedStatus: status, verdict });
    expect(kinds(item.actions)).toEqual(actionKinds);
    expect(item.reason.length).toBeGreaterThan(10);
  });

  it('creates the member with the desired email and tags', () => {
    const item = planOne(row({ tags: { Owner: 'payments', Env: 'prod' } }), []);
    expect(item.actions[0]).toEqual({ kind: 'createMember', email: EMAIL, tags: { Owner: 'payments', Env: 'prod' }, via: 'invitation', leaves: 'Created' });
  });

  it('re-creates a failed-email member with the new desired email', () => {
    const item = planOne(row({ email: 'fixed@example.com' }), [seen('EmailVerificationFailed', { email: 'typo@exmaple.com' })]);
    expect(item.actions[1]).toEqual({ kind: 'createMember', email: 'fixed@example.com', tags: { Owner: 'platform' }, via: 'invitation', leaves: 'Created' });
    expect(item.reason).not.toContain('fixed@example.com');
    expect(item.reason).toContain('f***@example.com');
  });

  it('treats an email differing only in case as the same email and dead-letters it', () => {
    const item = planOne(row(), [seen('EmailVerificationFailed', { email: EMAIL.toUpperCase() })]);
    expect(item.verdict).toBe('deadLetter');
    expect(item.reason).toMatch(/fix the email/);
    expect(item.reason).not.toContain(EMAIL);
  });

  it('does not dead-letter a failed email twice: reports it pending (blocked) once it was dead-lettered', () => {
    const desired = row({
      observed: {
        'us-east-1': { relationshipStatus: 'EmailVerificationFailed', lastAction: DEAD_LETTER_ACTION, at: '2025-06-03T10:00:00Z' },
      },
    });
    const item = planOne(desired, [seen('EmailVerificationFailed')]);
    expect(item.verdict).toBe('pending');
    expect(item.actions).toEqual([]);
    expect(item.reason).toMatch(/^blocked:/);
    expect(item.reason).toMatch(/already dead-lettered/);
  });

  it('re-creates a failed-email member once the account is requested again after its dead letter', () => {
    const desired = row({
      observed: {
        'us-east-1': { relationshipStatus: 'EmailVerificationFailed', lastAction: DEAD_LETTER_ACTION, at: '2025-06-01T10:00:00Z' },
      },
    });
    const item = planOne(desired, [seen('EmailVerificationFailed')]);
    expect(item.verdict).toBe('change');
    expect(item.actions.map((action) => action.kind)).toEqual(['deleteMember', 'createMember', 'invite', 'accept']);
    expect(item.reason).toMatch(/requested again/);
  });

  it('dead-letters again when the earlier dead letter was for another status', () => {
    const desired = row({
      observed: { 'us-east-1': { relationshipStatus: 'Removed', lastAction: DEAD_LETTER_ACTION, at: '2025-06-01T10:00:00Z' } },
    });
    expect(planOne(desired, [seen('EmailVerificationFailed')]).verdict).toBe('deadLetter');
  });

  it('dead-letters again when the earlier dead letter was in another region', () => {
    const desired = row({
      observed: {
        'eu-west-1': { relationshipStatus: 'EmailVerificationFailed', lastAction: DEAD_LETTER_ACTION, at: '2025-06-01T10:00:00Z' },
      },
    });
    expect(planOne(desired, [seen('EmailVerificationFailed')]).verdict).toBe('deadLetter');
  });

  it('dead-letters instead of creating a member when the row has no email', () => {
    const item = planOne(row({ email: '' }), []);
    expect(item.verdict).toBe('deadLetter');
    expect(item.actions).toEqual([]);
    expect(item.reason).toMatch(/no email/);
  });

  describe('without autoAccept', () => {
    it('stops a new member at the invitation', () => {
      expect(kinds(planOne(row({ autoAccept: false }), []).actions)).toEqual(['createMember', 'invite']);
    });

    it('invites a Created member without accepting', () => {
      expect(kinds(planOne(row({ autoAccept: false }), [seen('Created')]).actions)).toEqual(['invite']);
    });

    it('re-invites a Resigned member without accepting', () => {
      expect(kinds(planOne(row({ autoAccept: false }), [seen('Resigned')]).actions)).toEqual(['invite']);
    });

    it('re-creates a Removed member up to the invitation', () => {
      expect(kinds(planOne(row({ autoAccept: false }), [seen('Removed')]).actions)).toEqual(['deleteMember', 'createMember', 'invite']);
    });

    it('waits for the member to accept a pending invitation itself', () => {
      const item = planOne(row({ autoAccept: false }), [seen('Invited')]);
      expect(item.verdict).toBe('pending');
      expect(item.actions).toEqual([]);
      expect(item.reason).toMatch(/autoAccept/);
    });
  });

  describe('paused rows', () => {
    it('pauses an Enabled member the row says is paused', () => {
      const item = planOne(row({ paused: true }), [seen('Enabled')]);
      expect(item.verdict).toBe('change');
      expect(item.actions).toEqual([{ kind: 'updateMemberSession', status: 'PAUSED', leaves: 'Paused' }]);
    });

    it('leaves a Paused member paused when the row says paused', () => {
      const item = planOne(row({ paused: true }), [seen('Paused')]);
      expect(item.verdict).toBe('inSync');
      expect(item.actions).toEqual([]);
    });

    it('resumes a Paused member with ENABLED', () => {
      expect(planOne(row(), [seen('Paused')]).actions).toEqual([{ kind: 'updateMemberSession', status: 'ENABLED', leaves: 'Enabled' }]);
    });
  });

  describe('tag drift', () => {
    it('sets missing and differing tags and removes extra ones on an Enabled member', () => {
      const desired = row({ tags: { Owner: 'payments', Env: 'prod', Team: 'core' } });
      const item = planOne(desired, [seen('Enabled', { tags: { Owner: 'platform', Team: 'core', Legacy: 'yes' } })]);
      expect(item.verdict).toBe('change');
      expect(item.actions).toEqual([
        { kind: 'updateTags', arn: ARN, tagsToSet: { Owner: 'payments', Env: 'prod' }, tagKeysToRemove: ['Legacy'], leaves: 'Enabled' },
      ]);
    });

    it('removes every tag when the row has none', () => {
      const item = planOne(row({ tags: {} }), [seen('Enabled', { tags: { Owner: 'platform' } })]);
      expect(item.actions).toEqual([{ kind: 'updateTags', arn: ARN, tagsToSet: {}, tagKeysToRemove: ['Owner'], leaves: 'Enabled' }]);
    });

    it('never removes AWS-reserved aws: tags', () => {
      const item = planOne(row(), [seen('Enabled', { tags: { Owner: 'platform', 'aws:cloudformation:stack-name': 's' } })]);
      expect(item.verdict).toBe('inSync');
    });

    it('pauses first, then fixes tags, when both drift', () => {
      const item = planOne(row({ paused: true, tags: { Owner: 'x' } }), [seen('Enabled')]);
      expect(kinds(item.actions)).toEqual(['updateMemberSession', 'updateTags']);
    });

    it('fixes tags on a Paused member that stays paused', () => {
      const item = planOne(row({ paused: true, tags: { Owner: 'x' } }), [seen('Paused')]);
      expect(kinds(item.actions)).toEqual(['updateTags']);
    });

    it('reports drift it cannot fix when Macie gives no ARN', () => {
      const item = planOne(row({ tags: { Owner: 'x' } }), [seen('Enabled', { arn: undefined })]);
      expect(item.verdict).toBe('skipped');
      expect(item.actions).toEqual([]);
      expect(item.reason).toMatch(/no member ARN/);
    });
  });
});

describe('planMemberships: desired absent (docs/architecture.md, Reconciliation rules: desired absent)', () => {
  const cells: [RelationshipStatus | 'NotListed', PlanVerdict, MembershipActionKind[]][] = [
    ['NotListed', 'inSync', []],
    ['Created', 'change', ['deleteMember']],
    ['EmailVerificationInProgress', 'change', ['deleteMember']],
    ['EmailVerificationFailed', 'change', ['deleteMember']],
    ['Invited', 'change', ['disassociateMember', 'deleteMember']],
    ['Enabled', 'change', ['disassociateMember', 'deleteMember']],
    ['Paused', 'change', ['disassociateMember', 'deleteMember']],
    ['Removed', 'change', ['deleteMember']],
    ['Resigned', 'change', ['deleteMember']],
    ['RegionDisabled', 'change', ['deleteMember']],
    ['AccountSuspended', 'change', ['deleteMember']],
  ];

  it.each(cells)('removes an account Macie lists as %s when the row says absent', (status, verdict, actionKinds) => {
    const observed = status === 'NotListed' ? [] : [seen(status)];
    const item = planOne(row({ desiredState: 'absent' }), observed);
    expect(item).toMatchObject({ desiredState: 'absent', observedStatus: status, verdict });
    expect(kinds(item.actions)).toEqual(actionKinds);
  });

  it('treats regions outside the row as absent and removes the member there', () => {
    const observed = [seen('Enabled'), seen('Enabled', { region: 'eu-west-1' }), seen('Created', { region: 'ap-southeast-2' })];
    const plan = planMemberships([row({ regions: ['us-east-1'] })], observed, policy({ managedRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'] }));
    expect(plan.items.map((item) => [item.region, item.desiredState, item.verdict, kinds(item.actions)])).toEqual([
      ['us-east-1', 'member', 'inSync', []],
      ['eu-west-1', 'absent', 'change', ['disassociateMember', 'deleteMember']],
      ['ap-southeast-2', 'absent', 'change', ['deleteMember']],
    ]);
    expect(plan.items[1]!.reason).toMatch(/not among the account's desired regions/);
  });

  it('plans nothing in an unlisted region outside the row', () => {
    const plan = planMemberships([row({ regions: ['eu-west-1'] })], [], policy({ managedRegions: ['us-east-1', 'eu-west-1'] }));
    expect(plan.items.map((item) => [item.region, item.desiredState, kinds(item.actions)])).toEqual([
      ['us-east-1', 'absent', []],
      ['eu-west-1', 'member', ['createMember', 'invite', 'accept']],
    ]);
  });
});

describe('planMemberships: the administrator, unmanaged members, scoping and order', () => {
  it("never plans the administrator's own account as a member", () => {
    const plan = planMemberships([row({ accountId: ADMIN })], [], policy({ managedRegions: ['us-east-1', 'eu-west-1'] }));
    expect(plan.items).toHaveLength(2);
    for (const item of plan.items) {
      expect(item.verdict).toBe('skipped');
      expect(item.actions).toEqual([]);
      expect(item.reason).toMatch(/administrator account itself/);
    }
  });

  it('reports members without a row as unmanaged and leaves them alone', () => {
    const stranger = seen('Enabled', { accountId: '222222222299' });
    const plan = planMemberships([row()], [seen('Enabled'), stranger], policy());
    expect(plan.unmanaged.map(({ accountId, region, observedStatus, actions }) => ({ accountId, region, relationshipStatus: observedStatus, actions }))).toEqual([
      { accountId: '222222222299', region: 'us-east-1', relationshipStatus: 'Enabled', actions: [] },
    ]);
    expect(hasDrift(plan)).toBe(false);
  });

  it('prunes unmanaged members with the absent-column actions when pruning is on', () => {
    const observed = [seen('Enabled', { accountId: '222222222298' }), seen('Created', { accountId: '222222222299' })];
    const plan = planMemberships([], observed, policy({ pruneUnmanaged: true }));
    expect(plan.unmanaged.map((member) => [member.accountId, kinds(member.actions)])).toEqual([
      ['222222222298', ['disassociateMember', 'deleteMember']],
      ['222222222299', ['deleteMember']],
    ]);
    expect(hasDrift(plan)).toBe(true);
  });

  it("never reports the administrator's own account as unmanaged", () => {
    const plan = planMemberships([], [seen('Enabled', { accountId: ADMIN })], policy({ pruneUnmanaged: true }));
    expect(plan.unmanaged).toEqual([]);
  });

  it('ignores observed members in regions that are not managed', () => {
    const plan = planMemberships([], [seen('Enabled', { accountId: '222222222299', region: 'sa-east-1' })], policy());
    expect(plan.unmanaged).toEqual([]);
  });

  it('plans only the named accounts and reports no unmanaged members when scoped with onlyAccounts', () => {
    const desired = [row(), row({ accountId: '222222222202' })];
    const observed = [seen('Created'), seen('Created', { accountId: '222222222202' }), seen('Enabled', { accountId: '222222222299' })];
    const plan = planMemberships(desired, observed, policy({ pruneUnmanaged: true, onlyAccounts: new Set(['222222222202']) }));
    expect(plan.items.map((item) => [item.accountId, item.observedStatus])).toEqual([['222222222202', 'Created']]);
    expect(plan.unmanaged).toEqual([]);
  });

  it('orders items by account, then by the managed regions, whatever the input order', () => {
    const regions = ['eu-west-1', 'us-east-1', 'ap-southeast-2'];
    const desired = [row({ accountId: '222222222203' }), row({ accountId: '222222222201' }), row({ accountId: '222222222202' })];
    const observed = [
      seen('Enabled', { accountId: '222222222209', region: 'us-east-1' }),
      seen('Enabled', { accountId: '222222222208', region: 'ap-southeast-2' }),
      seen('Enabled', { accountId: '222222222208', region: 'eu-west-1' }),
    ];
    const plan = planMemberships(desired, observed, policy({ managedRegions: regions }));
    expect(plan.items.map((item) => `${item.accountId}/${item.region}`)).toEqual([
      '222222222201/eu-west-1',
      '222222222201/us-east-1',
      '222222222201/ap-southeast-2',
      '222222222202/eu-west-1',
      '222222222202/us-east-1',
      '222222222202/ap-southeast-2',
      '222222222203/eu-west-1',
      '222222222203/us-east-1',
      '222222222203/ap-southeast-2',
    ]);
    expect(plan.unmanaged.map((member) => `${member.accountId}/${member.region}`)).toEqual([
      '222222222208/eu-west-1',
      '222222222208/ap-southeast-2',
      '222222222209/us-east-1',
    ]);
    const again = planMemberships([...desired].reverse(), [...observed].reverse(), policy({ managedRegions: regions }));
    expect(again).toEqual(plan);
  });

  it('plans 1,000 accounts in 3 regions, matching each observation to its own account and region', () => {
    const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
    const ids = Array.from({ length: 1000 }, (_, index) => `2222222${String(index).padStart(5, '0')}`);
    const desired = ids.map((accountId) => row({ accountId }));
    // Every account is Enabled in us-east-1 only; the other regions are not listed.
    const observed = ids.map((accountId) => seen('Enabled', { accountId }));
    const plan = planMemberships(desired, observed, policy({ managedRegions: regions }));
    expect(plan.items).toHaveLength(3000);
    const summary = summarizePlan(plan);
    expect(summary.byVerdict).toMatchObject({ inSync: 1000, change: 2000 });
    expect(summary.actionsByKind).toMatchObject({ createMember: 2000, invite: 2000, accept: 2000, deleteMember: 0 });
  });
});

describe('plan helpers', () => {
  it('describes each action in one line, masking the email', () => {
    expect(describeAction({ kind: 'createMember', email: EMAIL, tags: { Owner: 'x' }, via: 'invitation', leaves: 'Created' })).toBe(
      'create the member with email o***@example.com and 1 tag',
    );
    expect(describeAction({ kind: 'updateTags', arn: ARN, tagsToSet: { Owner: 'x', Env: 'y' }, tagKeysToRemove: ['Old'], leaves: 'Enabled' })).toBe(
      'update member tags: set Owner, Env; remove Old',
    );
    expect(describeAction({ kind: 'updateMemberSession', status: 'PAUSED', leaves: 'Paused' })).toMatch(/pause/);
    for (const kind of ['disassociateMember', 'deleteMember', 'invite', 'accept'] as const) {
      expect(describeAction({ kind, leaves: 'NotListed' })).not.toBe('');
    }
  });

  it('sees drift in actions and dead letters, not in pending or skipped items', () => {
    expect(hasDrift(planMemberships([row()], [seen('Enabled')], policy()))).toBe(false);
    expect(hasDrift(planMemberships([row()], [seen('EmailVerificationInProgress')], policy()))).toBe(false);
    expect(hasDrift(planMemberships([row()], [seen('AccountSuspended')], policy()))).toBe(false);
    expect(hasDrift(planMemberships([row()], [seen('EmailVerificationFailed')], policy()))).toBe(true);
    expect(hasDrift(planMemberships([row()], [seen('Created')], policy()))).toBe(true);
  });

  it('computes tag changes with desired tags authoritative', () => {
    expect(tagChanges({ A: '1', B: '2' }, { A: '1', B: '3', C: '4' })).toEqual({ tagsToSet: { B: '2' }, tagKeysToRemove: ['C'] });
    expect(tagChanges({ A: '' }, {})).toEqual({ tagsToSet: { A: '' }, tagKeysToRemove: [] });
  });
});

describe('planMemberships: complete steps', () => {
  it('says on every step the status it leaves behind', () => {
    const onboarding = planOne(row(), []);
    expect(onboarding.actions.map((action) => [action.kind, action.leaves])).toEqual([
      ['createMember', 'Created'],
      ['invite', 'Invited'],
      ['accept', 'Enabled'],
    ]);
    const removal = planOne(row({ desiredState: 'absent' }), [seen('Paused')]);
    expect(removal.actions.map((action) => [action.kind, action.leaves])).toEqual([
      ['disassociateMember', 'Removed'],
      ['deleteMember', 'NotListed'],
    ]);
  });

  it('leaves tags fixed after a pause on the Paused status the pause left', () => {
    const item = planOne(row({ paused: true, tags: { Owner: 'x' } }), [seen('Enabled')]);
    expect(item.actions.map((action) => action.leaves)).toEqual(['Paused', 'Paused']);
  });

  it("puts the row's own invitation message on the invite step, else the configured one, else none", () => {
    const own = planOne(row({ invitationMessage: 'Welcome to security' }), [seen('Created')], { invitationMessage: 'Configured' });
    expect(own.actions[0]).toEqual({ kind: 'invite', message: 'Welcome to security', leaves: 'Invited' });
    const configured = planOne(row(), [seen('Resigned')], { invitationMessage: 'Configured' });
    expect(configured.actions[0]).toEqual({ kind: 'invite', message: 'Configured', leaves: 'Invited' });
    expect(planOne(row(), [seen('Created')]).actions[0]).toEqual({ kind: 'invite', leaves: 'Invited' });
  });

  it('carries the desired row on each item, and none on an unmanaged member', () => {
    const desired = row();
    const plan = planMemberships([desired], [seen('Enabled', { accountId: '222222222299' })], policy());
    expect(plan.items[0]?.row).toBe(desired);
    expect(plan.unmanaged[0]?.row).toBeUndefined();
  });

  it('makes pruned unmanaged members ordinary work, and reported-only ones none', () => {
    const observed = [seen('Enabled', { accountId: '222222222298' })];
    const reported = planMemberships([row()], observed, policy());
    expect(plannedWork(reported).map((item) => item.accountId)).toEqual([ACCOUNT]);
    expect(reported.unmanaged[0]).toMatchObject({ verdict: 'skipped', desiredState: 'absent', actions: [] });
    const pruned = planMemberships([row()], observed, policy({ pruneUnmanaged: true }));
    expect(plannedWork(pruned).map((item) => [item.accountId, item.verdict])).toEqual([
      [ACCOUNT, 'change'],
      ['222222222298', 'change'],
    ]);
  });
});

describe('planMemberships: what could not be observed', () => {
  const unreadable = (region: string, accountId?: string): Unobserved => ({
    region,
    ...(accountId ? { accountId } : {}),
    operation: accountId ? 'GetMember' : 'ListMembers',
    code: 'ThrottlingException',
    message: 'Rate exceeded',
  });

  it('plans nothing in a region whose members could not be listed, and says why', () => {
    const plan = planMemberships([row()], [], policy({ managedRegions: ['us-east-1', 'eu-west-1'], pruneUnmanaged: true }), {
      unobserved: [unreadable('eu-west-1')],
    });
    expect(plan.items.map((item) => item.region)).toEqual(['us-east-1']);
    expect(plan.notPlanned).toEqual([
      { region: 'eu-west-1', reason: 'ListMembers answered ThrottlingException: the membership of every account in eu-west-1 is unknown, so nothing is planned for it' },
    ]);
  });

  it('plans nothing for one unreadable account, and still plans the others', () => {
    const desired = [row(), row({ accountId: '222222222202' })];
    const plan = planMemberships(desired, [], policy(), { unobserved: [unreadable('us-east-1', ACCOUNT)] });
    expect(plan.items.map((item) => item.accountId)).toEqual(['222222222202']);
    expect(plan.notPlanned[0]).toMatchObject({ region: 'us-east-1', accountId: ACCOUNT });
  });

  it('never prunes an unmanaged member in a region it could not read', () => {
    const plan = planMemberships([], [seen('Enabled', { accountId: '222222222299' })], policy({ pruneUnmanaged: true }), { unobserved: [unreadable('us-east-1')] });
    expect(plan.unmanaged).toEqual([]);
  });

  it('plans nothing for an account whose row is corrupt, and never takes its member for unmanaged', () => {
    const plan = planMemberships([row()], [seen('Enabled', { accountId: '222222222298' })], policy({ pruneUnmanaged: true }), {
      corruptAccounts: ['222222222298'],
    });
    expect(plan.items.map((item) => item.accountId)).toEqual([ACCOUNT]);
    expect(plan.unmanaged).toEqual([]);
    expect(plan.notPlanned).toEqual([
      { accountId: '222222222298', reason: 'the desired row of 222222222298 is corrupt: nothing is planned for the account until the row is fixed' },
    ]);
  });
});

describe('planMemberships: a status this version does not know', () => {
  const unknown = (overrides: Partial<ObservedMember> = {}) => seen(UNRECOGNIZED_STATUS, { reportedStatus: 'Quarantined', ...overrides });

  it('skips a desired member with an unrecognized status and names the status, rather than re-creating it', () => {
    const item = planOne(row(), [unknown()]);
    expect(item).toMatchObject({ verdict: 'skipped', observedStatus: 'Unrecognized', actions: [] });
    expect(item.reason).toContain('"Quarantined"');
  });

  it('does not remove an account with an unrecognized status', () => {
    expect(planOne(row({ desiredState: 'absent' }), [unknown()])).toMatchObject({ verdict: 'skipped', actions: [] });
  });

  it('reports an unmanaged member with an unrecognized status without pruning it', () => {
    const plan = planMemberships([], [unknown({ accountId: '222222222299' })], policy({ pruneUnmanaged: true }));
    expect(plan.unmanaged).toMatchObject([{ accountId: '222222222299', verdict: 'skipped', actions: [] }]);
    expect(hasDrift(plan)).toBe(false);
  });
});
