import { describe, expect, it } from 'vitest';
import { describeAction, hasDrift, planMemberships, type PlanningPolicy } from '#shared/domain/plan';
import { enrollmentWay, membershipTypeOf, type OrganizationView } from '#shared/domain/organization';
import type { DesiredMember, MembershipActionKind, ObservedMember, RelationshipStatus } from '#shared/domain/types';

/** Organizations membership in the planner (README, Reconciliation rules: Organizations members). */

const ADMIN = '111111111111';
const INSIDE = '222222222201';
const OUTSIDE = '333333333301';
const EMAIL = 'owner-01@example.com';

const organization = (overrides: Partial<OrganizationView> = {}): OrganizationView => ({
  administeredRegions: new Map([
    ['us-east-1', { autoEnable: false }],
    ['eu-west-1', { autoEnable: true }],
  ]),
  activeAccounts: new Map([[INSIDE, 'inside@example.com']]),
  ...overrides,
});

const policy = (overrides: Partial<PlanningPolicy> = {}): PlanningPolicy => ({
  administratorAccountId: ADMIN,
  managedRegions: ['us-east-1'],
  pruneUnmanaged: false,
  organization: organization(),
  ...overrides,
});

const row = (accountId: string, overrides: Partial<DesiredMember> = {}): DesiredMember => ({
  accountId,
  desiredState: 'member',
  email: EMAIL,
  tags: {},
  autoAccept: true,
  paused: false,
  requestedBy: 'test',
  requestedAt: '2026-11-01T00:00:00Z',
  observed: {},
  version: 1,
  ...overrides,
});

// An Organizations member as ListMembers shows it: no email, never invited.
const orgMember = (accountId: string, relationshipStatus: RelationshipStatus, region = 'us-east-1'): ObservedMember => ({
  accountId,
  region,
  relationshipStatus,
  administratorAccountId: ADMIN,
  arn: `arn:aws:macie2:${region}:${ADMIN}:member/${accountId}`,
  tags: {},
});

const invitedMember = (accountId: string, relationshipStatus: RelationshipStatus): ObservedMember => ({
  ...orgMember(accountId, relationshipStatus),
  email: EMAIL,
  ...(relationshipStatus === 'Created' ? {} : { invitedAt: '2026-10-01T00:00:00.000Z' }),
});

const kinds = (actions: readonly { kind: MembershipActionKind }[]) => actions.map((action) => action.kind);

function planOne(desired: DesiredMember, observed: ObservedMember[], overrides: Partial<PlanningPolicy> = {}) {
  const plan = planMemberships([desired], observed, policy(overrides));
  expect(plan.items).toHaveLength(1);
  return plan.items[0]!;
}

describe('enrollmentWay', () => {
  it('enrolls an active account of the organization through Organizations where the administrator is delegated', () => {
    expect(enrollmentWay(INSIDE, 'us-east-1', 'auto', organization())).toEqual({ way: 'organization' });
  });

  it('invites an account outside the organization, and any account where the administrator is not delegated', () => {
    expect(enrollmentWay(OUTSIDE, 'us-east-1', 'auto', organization())).toEqual({ way: 'invitation' });
    expect(enrollmentWay(INSIDE, 'ap-south-1', 'auto', organization())).toEqual({ way: 'invitation' });
    expect(enrollmentWay(INSIDE, 'us-east-1', 'auto', undefined)).toEqual({ way: 'invitation' });
  });

  it('forces one way when the mode says so, and names why an account cannot have Organizations membership', () => {
    expect(enrollmentWay(INSIDE, 'us-east-1', 'invitation', organization())).toEqual({ way: 'invitation' });
    const outside = enrollmentWay(OUTSIDE, 'us-east-1', 'organization', organization());
    expect(outside).toEqual({ way: 'none', reason: expect.stringContaining(`${OUTSIDE} is not an active account`) });
    const notDelegated = enrollmentWay(INSIDE, 'ap-south-1', 'organization', organization());
    expect(notDelegated).toEqual({ way: 'none', reason: expect.stringContaining('not the organization\'s delegated Macie administrator in ap-south-1') });
  });
});

describe('membershipTypeOf', () => {
  it('reads a member without an email, or one never invited past creation, as an Organizations member', () => {
    expect(membershipTypeOf({ relationshipStatus: 'Enabled' })).toBe('organization');
    expect(membershipTypeOf({ relationshipStatus: 'Enabled', email: 'a@example.com' })).toBe('organization');
    expect(membershipTypeOf({ relationshipStatus: 'Removed', email: '' })).toBe('organization');
  });

  it('reads an invited member, or one still before its invitation, as an invitation member', () => {
    expect(membershipTypeOf({ relationshipStatus: 'Enabled', email: 'a@example.com', invitedAt: '2026-01-01T00:00:00Z' })).toBe('invitation');
    expect(membershipTypeOf({ relationshipStatus: 'Created', email: 'a@example.com' })).toBe('invitation');
    expect(membershipTypeOf({ relationshipStatus: 'EmailVerificationFailed', email: 'a@example.com' })).toBe('invitation');
    // A suspended account whose invitation never went out: nothing says it came through Organizations.
    expect(membershipTypeOf({ relationshipStatus: 'AccountSuspended', email: 'a@example.com' })).toBe('invitation');
  });
});

describe('planning an account of the organization', () => {
  it('adds a new account with CreateMember alone, Enabled at once, with no invitation and no acceptance', () => {
    const item = planOne(row(INSIDE), []);
    expect(item.verdict).toBe('change');
    expect(item.membershipType).toBe('organization');
    expect(item.actions).toEqual([{ kind: 'createMember', email: EMAIL, tags: {}, via: 'organization', leaves: 'Enabled' }]);
    expect(describeAction(item.actions[0]!)).toBe('add the member through Organizations (enabled at once) with 0 tags');
  });

  it("takes the email Organizations holds when the row has none (CreateMember requires one)", () => {
    const item = planOne(row(INSIDE, { email: '' }), []);
    expect(item.actions).toMatchObject([{ kind: 'createMember', email: 'inside@example.com', via: 'organization' }]);
  });

  it.each<[string, RelationshipStatus, MembershipActionKind[]]>([
    ['re-creates a Removed member', 'Removed', ['deleteMember', 'createMember']],
    ['resumes a Paused member', 'Paused', ['updateMemberSession']],
    ['replaces a Resigned invitation membership', 'Resigned', ['deleteMember', 'createMember']],
    ['replaces an invitation membership that never started', 'Created', ['deleteMember', 'createMember']],
    ['replaces a failed email verification', 'EmailVerificationFailed', ['deleteMember', 'createMember']],
  ])('%s', (_name, status, expected) => {
    const item = planOne(row(INSIDE), [orgMember(INSIDE, status)]);
    expect(item.verdict).toBe('change');
    expect(kinds(item.actions)).toEqual(expected);
    const create = item.actions.find((action) => action.kind === 'createMember');
    if (create) expect(create).toMatchObject({ via: 'organization', leaves: 'Enabled' });
  });

  it('leaves an Enabled member alone, whatever its type, and keeps a pending invitation on its way', () => {
    expect(planOne(row(INSIDE), [orgMember(INSIDE, 'Enabled')])).toMatchObject({ verdict: 'inSync', membershipType: 'organization' });
    expect(planOne(row(INSIDE), [invitedMember(INSIDE, 'Enabled')])).toMatchObject({ verdict: 'inSync', membershipType: 'invitation' });
    expect(kinds(planOne(row(INSIDE), [invitedMember(INSIDE, 'Invited')]).actions)).toEqual(['accept']);
  });

  it('removes an Organizations member the row no longer wants: disassociate first, then delete', () => {
    const item = planOne(row(INSIDE, { desiredState: 'absent' }), [orgMember(INSIDE, 'Enabled')]);
    expect(kinds(item.actions)).toEqual(['disassociateMember', 'deleteMember']);
  });

  it('falls back to the invitation rules for an account that left the organization', () => {
    const left = policy({ organization: organization({ activeAccounts: new Map() }) });
    const item = planMemberships([row(INSIDE)], [orgMember(INSIDE, 'Removed')], left).items[0]!;
    expect(kinds(item.actions)).toEqual(['deleteMember', 'createMember', 'invite', 'accept']);
    expect(item.actions[1]).toMatchObject({ via: 'invitation', leaves: 'Created' });
  });

  it('invites an outsider under the same administrator', () => {
    const plan = planMemberships([row(INSIDE), row(OUTSIDE)], [], policy());
    expect(plan.items.map((item) => [item.accountId, item.membershipType, kinds(item.actions)])).toEqual([
      [INSIDE, 'organization', ['createMember']],
      [OUTSIDE, 'invitation', ['createMember', 'invite', 'accept']],
    ]);
  });

  it('plans nothing for an outsider when the mode forces Organizations membership, and says why', () => {
    const item = planOne(row(OUTSIDE), [], { membershipMode: 'organization' });
    expect(item).toMatchObject({ verdict: 'skipped', actions: [] });
    expect(item.reason).toContain('membership mode is "organization"');
    expect(item.membershipType).toBeUndefined();
  });

  it('invites an account of the organization when the mode forces invitations', () => {
    const item = planOne(row(INSIDE), [], { membershipMode: 'invitation' });
    expect(kinds(item.actions)).toEqual(['createMember', 'invite', 'accept']);
  });
});

describe('autoEnable', () => {
  const regions = ['us-east-1', 'eu-west-1', 'ap-south-1'];

  it('plans an update in each administered region where it differs from the setting, and none elsewhere', () => {
    const plan = planMemberships([], [], policy({ managedRegions: regions, autoEnable: true }));
    expect(plan.organizationSettings.map(({ region, verdict }) => [region, verdict])).toEqual([
      ['us-east-1', 'change'],
      ['eu-west-1', 'inSync'],
    ]);
    expect(plan.organizationSettings[0]).toMatchObject({ observed: { autoEnable: false }, desired: { autoEnable: true } });
    expect(hasDrift(plan)).toBe(true);
  });

  it('is left as it is when not configured', () => {
    const plan = planMemberships([], [], policy({ managedRegions: regions }));
    expect(plan.organizationSettings).toEqual([]);
    expect(hasDrift(plan)).toBe(false);
  });
});
