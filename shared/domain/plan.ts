/**
 * The planner: desired table × what Macie lists -> the steps that make Macie match the table.
 * This is the whole decision logic of the service (docs/architecture.md, Reconciliation rules), pure and
 * synchronous. Its steps are complete (the invitation message on the invite, the status each step
 * leaves), so the executor only schedules them.
 */
import type {
  DesiredMember,
  MembershipType,
  DesiredState,
  MemberStatus,
  MembershipAction,
  MembershipActionKind,
  MembershipPlan,
  NotPlanned,
  ObservedMember,
  ObservedStatus,
  PlannedMembership,
  PlannedOrganizationSetting,
  PlanVerdict,
  Tags,
  Unobserved,
} from '#shared/domain/types';
import { PLAN_VERDICTS, UNRECOGNIZED_STATUS, zeroCounts } from '#shared/domain/types';
import { maskEmail } from '#shared/domain/rules';
import type { MembershipMode, OrganizationView } from '#shared/domain/organization';
import { enrollmentWay, membershipTypeOf } from '#shared/domain/organization';

export interface PlanningPolicy {
  administratorAccountId: string;
  managedRegions: string[];
  pruneUnmanaged: boolean;
  /** The configured invitation message; a row's own message wins. */
  invitationMessage?: string;
  /** When set, plan only these accounts (targeted reconcile for onboarding/SQS): no unmanaged report, observed members of other accounts ignored. */
  onlyAccounts?: ReadonlySet<string>;
  /** Each account's way (`auto`, the default), or one way forced for all (docs/organizations.md). */
  membershipMode?: MembershipMode;
  /** What the run read of the organization; without it every account is enrolled by invitation. */
  organization?: OrganizationView;
  /** Macie's `autoEnable` wanted in every administered region; left as it is when undefined. */
  autoEnable?: boolean;
}

/**
 * The `lastAction` the executor records in `DesiredMember.observed[region]` when it sends an item to
 * the dead-letter queue. The planner reads it back so that a bouncing email is dead-lettered once,
 * not on every scheduled run.
 */
export const DEAD_LETTER_ACTION = 'deadLetter';

/** The statuses whose removal needs `DisassociateMember` before `DeleteMember`: the account is (or is about to be) associated. */
const ASSOCIATED_STATUSES: ReadonlySet<MemberStatus> = new Set(['Invited', 'Enabled', 'Paused']);

/** Every step, built with the status it leaves behind when it succeeds. */
const step = {
  disassociate: (): MembershipAction => ({ kind: 'disassociateMember', leaves: 'Removed' }),
  delete: (): MembershipAction => ({ kind: 'deleteMember', leaves: 'NotListed' }),
  create: (email: string, tags: Tags, via: MembershipType): MembershipAction => ({
    kind: 'createMember',
    email,
    tags: { ...tags },
    via,
    leaves: via === 'organization' ? 'Enabled' : 'Created',
  }),
  invite: (message: string | undefined): MembershipAction =>
    message === undefined ? { kind: 'invite', leaves: 'Invited' } : { kind: 'invite', message, leaves: 'Invited' },
  accept: (): MembershipAction => ({ kind: 'accept', leaves: 'Enabled' }),
  session: (status: 'ENABLED' | 'PAUSED'): MembershipAction => ({
    kind: 'updateMemberSession',
    status,
    leaves: status === 'PAUSED' ? 'Paused' : 'Enabled',
  }),
  tags: (arn: string, changes: ReturnType<typeof tagChanges>, leaves: ObservedStatus): MembershipAction => ({
    kind: 'updateTags',
    arn,
    ...changes,
    leaves,
  }),
};

type Verdict = Pick<PlannedMembership, 'verdict' | 'reason' | 'actions'>;

const verdict = (kind: PlanVerdict, reason: string, actions: MembershipAction[] = []): Verdict => ({
  verdict: kind,
  reason,
  actions,
});

function observedKey(region: string, accountId: string): string {
  return `${region}/${accountId}`;
}

/** The actions that take a listed member away (the "desired: absent" column). */
function removalActions(status: MemberStatus): MembershipAction[] {
  return ASSOCIATED_STATUSES.has(status) ? [step.disassociate(), step.delete()] : [step.delete()];
}

/**
 * How the observed tags must change to equal the desired ones (desired tags are authoritative).
 * Keys under the reserved `aws:` prefix are never removed: no caller can, and AWS owns them.
 */
export function tagChanges(desired: Tags, observed: Tags): { tagsToSet: Tags; tagKeysToRemove: string[] } {
  const tagsToSet: Tags = {};
  for (const [key, value] of Object.entries(desired)) {
    if (!Object.hasOwn(observed, key) || observed[key] !== value) tagsToSet[key] = value;
  }
  const tagKeysToRemove = Object.keys(observed)
    .filter((key) => !Object.hasOwn(desired, key) && !key.toLowerCase().startsWith('aws:'))
    .sort();
  return { tagsToSet, tagKeysToRemove };
}

/** What the row wants in one region: `member` only where an enrolled row names the region (or names none). */
export function desiredStateIn(row: Pick<DesiredMember, 'desiredState' | 'regions'>, region: string): DesiredState {
  return row.desiredState === 'member' && (row.regions === undefined || row.regions.includes(region)) ? 'member' : 'absent';
}

function sameEmail(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Whether a region's plan depends on what the organization says (in `auto` mode). Only an account
 * still to be enrolled takes a way, Organizations or invitation; an Enabled or Paused member is
 * corrected the same whichever way it came, and a removal or an unmanaged member needs no view. A
 * fleet in sync is then planned without listing the organization at all.
 */
export function regionNeedsOrganization(rows: readonly DesiredMember[], members: readonly ObservedMember[], region: string, administratorAccountId: string): boolean {
  const enrolled = new Set(
    members.filter((member) => member.region === region && (member.relationshipStatus === 'Enabled' || member.relationshipStatus === 'Paused')).map((member) => member.accountId),
  );
  return rows.some((row) => row.accountId !== administratorAccountId && desiredStateIn(row, region) === 'member' && !enrolled.has(row.accountId));
}

/** What one planning call knows beyond the row and the member. */
interface PlanningContext {
  region: string;
  /** The configured invitation message, for rows without their own. */
  invitationMessage: string | undefined;
}

/** What an Organizations enrollment knows beyond that: the email Organizations holds for the account. */
interface OrganizationContext extends PlanningContext {
  organizationEmail: string;
}

/** invite (with the row's message, or the configured one), then accept when the reconciler accepts on the member's behalf. */
function inviteSteps(row: DesiredMember, context: PlanningContext): MembershipAction[] {
  const invite = step.invite(row.invitationMessage ?? context.invitationMessage);
  return row.autoAccept ? [invite, step.accept()] : [invite];
}

function acceptNote(row: DesiredMember): string {
  return row.autoAccept
    ? 'accept it from the member account'
    : 'the member account must then accept the invitation itself (autoAccept is off)';
}

/** createMember + invite (+ accept), or a dead letter when the row has no email to create it with. */
function createSteps(row: DesiredMember, context: PlanningContext, before: MembershipAction[], why: string): Verdict {
  if (row.email.trim() === '') {
    return verdict('deadLetter', `${why}, but the desired row has no email to create the member with: record the account's email`);
  }
  return verdict('change', `${why}: ${before.length > 0 ? 'delete it, ' : ''}create the member, invite it, ${acceptNote(row)}`, [
    ...before,
    step.create(row.email, row.tags, 'invitation'),
    ...inviteSteps(row, context),
  ]);
}

/** Session and tag corrections for an enrolled (Enabled or Paused) member. */
function enrolledSteps(row: DesiredMember, member: ObservedMember): Verdict {
  const actions: MembershipAction[] = [];
  const reasons: string[] = [];
  let leaves: ObservedStatus = member.relationshipStatus;
  if (member.relationshipStatus === 'Enabled' && row.paused) {
    actions.push(step.session('PAUSED'));
    leaves = 'Paused';
    reasons.push('the desired row says paused: pause the Macie session');
  } else if (member.relationshipStatus === 'Paused' && !row.paused) {
    actions.push(step.session('ENABLED'));
    leaves = 'Enabled';
    reasons.push('the member is paused but should run: resume the Macie session');
  }

  const changes = tagChanges(row.tags, member.tags);
  const tagsDrift = Object.keys(changes.tagsToSet).length > 0 || changes.tagKeysToRemove.length > 0;
  let untaggable = false;
  if (tagsDrift && member.arn) {
    actions.push(step.tags(member.arn, changes, leaves));
    reasons.push('the member tags drifted from the desired tags: update them');
  } else if (tagsDrift) {
    untaggable = true;
    reasons.push('the member tags drifted, but Macie reported no member ARN to tag');
  }

  if (actions.length > 0) return verdict('change', `${member.relationshipStatus} member: ${reasons.join('; ')}`, actions);
  if (untaggable) return verdict('skipped', `${member.relationshipStatus} member: ${reasons.join('; ')}`);
  const state = member.relationshipStatus === 'Paused' ? 'paused as desired' : 'enabled';
  return verdict('inSync', `member is ${state} and its tags match`);
}

/**
 * An account the delegated administrator enrolls through Organizations (docs/architecture.md, Reconciliation
 * rules): `CreateMember` alone makes it `Enabled`. What is left of an invitation membership that
 * never completed (created, email checks, resigned, removed) is deleted and the account re-added
 * through Organizations; a pending invitation is still accepted, which enrolls it just as well.
 */
function planOrganizationMember(row: DesiredMember, context: OrganizationContext, member: ObservedMember | undefined): Verdict {
  // CreateMember requires an email even here; Organizations knows it when the row does not.
  const email = row.email.trim() === '' ? context.organizationEmail : row.email;
  const create = (before: MembershipAction[], why: string): Verdict =>
    verdict('change', `${why}: ${before.length > 0 ? 'delete it, ' : ''}add it through Organizations (no invitation)`, [
      ...before,
      step.create(email, row.tags, 'organization'),
    ]);
  if (!member) return create([], 'not a Macie member yet');
  switch (member.relationshipStatus) {
    case 'Created':
    case 'EmailVerificationInProgress':
    case 'EmailVerificationFailed':
      return create([step.delete()], `an invitation membership that never started (${member.relationshipStatus}), and the account is in the organization`);
    case 'Removed':
      return create([step.delete()], 'the association was removed');
    case 'Resigned':
      return create([step.delete()], 'the member account resigned, and the account is in the organization');
    default:
      return planMember(row, context, member);
  }
}

/** Macie reported a status this version does not know: acting on a guess could undo what AWS just did. */
function unrecognized(member: ObservedMember): Verdict {
  return verdict(
    'skipped',
    `Macie reports the status ${JSON.stringify(member.reportedStatus ?? UNRECOGNIZED_STATUS)}, which this version does not know: nothing is planned for it`,
  );
}

function planMember(row: DesiredMember, context: PlanningContext, member: ObservedMember | undefined): Verdict {
  const { region } = context;
  if (!member) return createSteps(row, context, [], 'not a Macie member yet');
  switch (member.relationshipStatus) {
    case 'Created':
      return verdict('change', `associated but never invited: invite it, ${acceptNote(row)}`, inviteSteps(row, context));
    case 'EmailVerificationInProgress':
      return verdict('pending', 'Macie is still verifying the email address: wait for it');
    case 'EmailVerificationFailed': {
      if (member.email !== undefined && !sameEmail(member.email, row.email)) {
        return createSteps(
          row,
          context,
          [step.delete()],
          `Macie could not verify ${maskEmail(member.email)} and the desired email is now ${maskEmail(row.email)}`,
        );
      }
      const previous = row.observed[region];
      if (previous?.lastAction === DEAD_LETTER_ACTION && previous.relationshipStatus === 'EmailVerificationFailed') {
        // Requested again since the dead letter (the mailbox was fixed, say): one more try.
        if (row.requestedAt > previous.at) {
          return createSteps(row, context, [step.delete()], `requested again after Macie could not verify ${maskEmail(row.email)}`);
        }
        // Already reported: dead-lettering on every run would flood the queue with the same message.
        return verdict(
          'pending',
          `blocked: email verification failed for ${maskEmail(row.email)} and was already dead-lettered; waiting for an operator to fix the email or request the account again`,
        );
      }
      return verdict(
        'deadLetter',
        `fix the email: Macie could not verify ${maskEmail(row.email)}; correct the account's email, or fix the mailbox and request the account again, and the member will be re-created`,
      );
    }
    case 'Invited':
      return row.autoAccept
        ? // Never re-invite while an invitation is pending: it would only send another email.
          verdict('change', 'invitation pending: accept it from the member account', [step.accept()])
        : verdict('pending', 'invitation sent: waiting for the member account to accept it (autoAccept is off)');
    case 'Enabled':
    case 'Paused':
      return enrolledSteps(row, member);
    case 'Removed':
      return createSteps(row, context, [step.delete()], 'the association was removed');
    case 'Resigned':
      return verdict('change', `the member account resigned: re-invite it, ${acceptNote(row)}`, inviteSteps(row, context));
    case 'RegionDisabled':
      return verdict('skipped', `the region ${region} is disabled for this account: Macie cannot act on it here`);
    case 'AccountSuspended':
      return verdict('skipped', 'the account is suspended: Macie cannot act on it');
    case UNRECOGNIZED_STATUS:
      return unrecognized(member);
  }
}

function planAbsent(row: DesiredMember, region: string, member: ObservedMember | undefined): Verdict {
  if (!member) return verdict('inSync', 'not a member, as desired');
  if (member.relationshipStatus === UNRECOGNIZED_STATUS) return unrecognized(member);
  const why =
    row.desiredState === 'absent'
      ? 'the desired row says absent'
      : `${region} is not among the account's desired regions`;
  const actions = removalActions(member.relationshipStatus);
  const steps = actions.length === 2 ? 'disassociate and delete the member' : 'delete the member';
  return verdict('change', `${why} but Macie lists it as ${member.relationshipStatus}: ${steps}`, actions);
}

/** What the planner is told it cannot see. */
export interface Unseen {
  /** Accounts, or whole regions, whose Macie membership could not be read. */
  unobserved?: readonly Unobserved[];
  /** Accounts whose table row is corrupt (the caller reports the row's problems). */
  corruptAccounts?: readonly string[];
}

/**
 * Plans every desired account in every managed region (docs/architecture.md, Reconciliation rules), plus members
 * Macie lists that the table does not know (unmanaged). What could not be observed is planned for
 * nobody: "not listed" would otherwise read as "create it", and a failed ListMembers would re-create
 * a whole region; `notPlanned` says what was left out and why. Nothing is planned for an account
 * whose row is corrupt either. Output order is deterministic:
 * account id, then the order of `managedRegions`. Observed members outside the managed regions are
 * ignored; a row's regions that are no longer managed are ignored too.
 */
export function planMemberships(
  desired: readonly DesiredMember[],
  observed: readonly ObservedMember[],
  policy: PlanningPolicy,
  { unobserved = [], corruptAccounts = [] }: Unseen = {},
): MembershipPlan {
  const regions = [...new Set(policy.managedRegions)];
  const regionOrder = new Map(regions.map((region, index) => [region, index]));
  const { onlyAccounts, administratorAccountId } = policy;
  const unseen = new Set(unobserved.map(({ region, accountId }) => observedKey(region, accountId ?? '*')));
  const isObserved = (region: string, accountId: string) =>
    !unseen.has(observedKey(region, '*')) && !unseen.has(observedKey(region, accountId));
  // A member whose row cannot be read is neither desired nor unmanaged: it would otherwise read as
  // unmanaged, and be pruned.
  const unreadable = new Set(corruptAccounts);

  const observedByKey = new Map<string, ObservedMember>();
  for (const member of observed) {
    if (!regionOrder.has(member.region)) continue;
    if (onlyAccounts && !onlyAccounts.has(member.accountId)) continue;
    if (unreadable.has(member.accountId)) continue;
    observedByKey.set(observedKey(member.region, member.accountId), member);
  }

  // One row per account: the table is keyed by account, so a duplicate can only be a caller's
  // mistake; the last one wins, as a Map would have it.
  const rows = new Map<string, DesiredMember>();
  for (const row of desired) {
    if (onlyAccounts && !onlyAccounts.has(row.accountId)) continue;
    rows.set(row.accountId, row);
  }
  const accountIds = [...rows.keys()].sort();

  const mode = policy.membershipMode ?? 'auto';
  const items: PlannedMembership[] = [];
  for (const accountId of accountIds) {
    const row = rows.get(accountId) as DesiredMember;
    for (const region of regions) {
      if (!isObserved(region, accountId)) continue;
      const member = observedByKey.get(observedKey(region, accountId));
      const desiredState = desiredStateIn(row, region);
      const context: PlanningContext = { region, invitationMessage: policy.invitationMessage };
      const way = enrollmentWay(accountId, region, mode, policy.organization);
      let outcome: Verdict;
      if (accountId === administratorAccountId) {
        outcome = verdict('skipped', `${accountId} is the Macie administrator account itself: it is never planned as a member`);
      } else if (desiredState === 'absent') {
        outcome = planAbsent(row, region, member);
      } else if (way.way === 'none') {
        outcome = verdict('skipped', `${way.reason}: nothing is planned for it`);
      } else if (way.way === 'organization') {
        const organizationEmail = policy.organization?.activeAccounts.get(accountId) ?? '';
        outcome = planOrganizationMember(row, { ...context, organizationEmail }, member);
      } else {
        outcome = planMember(row, context, member);
      }
      const observedStatus: ObservedStatus = member?.relationshipStatus ?? 'NotListed';
      const membershipType = member ? membershipTypeOf(member) : desiredState === 'member' && way.way !== 'none' ? way.way : undefined;
      items.push({ accountId, region, desiredState, observedStatus, ...outcome, row, ...(membershipType ? { membershipType } : {}) });
    }
  }

  const unmanaged: PlannedMembership[] = [];
  if (!onlyAccounts) {
    for (const member of observedByKey.values()) {
      if (rows.has(member.accountId) || member.accountId === administratorAccountId) continue;
      if (!isObserved(member.region, member.accountId)) continue;
      unmanaged.push(planUnmanaged(member, policy.pruneUnmanaged));
    }
    unmanaged.sort(
      (a, b) =>
        compareStrings(a.accountId, b.accountId) ||
        (regionOrder.get(a.region) ?? 0) - (regionOrder.get(b.region) ?? 0),
    );
  }

  const unreadableRows = [...unreadable].sort().map((accountId) => ({
    accountId,
    reason: `the desired row of ${accountId} is corrupt: nothing is planned for the account until the row is fixed`,
  }));
  return {
    items,
    unmanaged,
    notPlanned: [...unobserved.map(notPlannedFor), ...unreadableRows],
    // A targeted run (one event, one batch) leaves region-wide settings to the scheduled run.
    organizationSettings: onlyAccounts ? [] : planOrganizationSettings(regions, policy),
  };
}

/**
 * `autoEnable` in each region where the administrator is the delegated one, when it is configured:
 * Macie then adds the accounts that join the organization by itself, and the next run finds them enrolled.
 */
export function planOrganizationSettings(regions: readonly string[], policy: Pick<PlanningPolicy, 'organization' | 'autoEnable'>): PlannedOrganizationSetting[] {
  const { organization, autoEnable } = policy;
  if (autoEnable === undefined || !organization) return [];
  return regions.flatMap((region) => {
    const observed = organization.administeredRegions.get(region);
    if (!observed) return [];
    const inSync = observed.autoEnable === autoEnable;
    const wanted = autoEnable ? 'on' : 'off';
    return [
      {
        region,
        observed: { autoEnable: observed.autoEnable },
        desired: { autoEnable },
        verdict: inSync ? ('inSync' as const) : ('change' as const),
        reason: inSync ? `autoEnable is ${wanted}, as configured` : `autoEnable is ${observed.autoEnable ? 'on' : 'off'} but configured ${wanted}: update the organization configuration`,
      },
    ];
  });
}

/** An unmanaged member: removed when pruning is on, otherwise only reported. */
function planUnmanaged(member: ObservedMember, prune: boolean): PlannedMembership {
  const base = {
    accountId: member.accountId,
    region: member.region,
    desiredState: 'absent' as const,
    observedStatus: member.relationshipStatus,
    membershipType: membershipTypeOf(member),
  };
  if (member.relationshipStatus === UNRECOGNIZED_STATUS) return { ...base, ...unrecognized(member) };
  if (!prune) return { ...base, ...verdict('skipped', 'unmanaged member: reported, never touched (pruning is off)') };
  return { ...base, ...verdict('change', 'unmanaged member, pruning is on', removalActions(member.relationshipStatus)) };
}

function notPlannedFor({ region, accountId, operation, code }: Unobserved): NotPlanned {
  const scope = accountId ? `${accountId} in ${region}` : `every account in ${region}`;
  return {
    region,
    ...(accountId ? { accountId } : {}),
    reason: `${operation} answered ${code}: the membership of ${scope} is unknown, so nothing is planned for it`,
  };
}

/** An item the run acts on: it has steps to run. */
export function hasWork(item: PlannedMembership): boolean {
  return item.actions.length > 0;
}

/** What a run executes: every planned item, plus the unmanaged members it prunes. */
export function plannedWork(plan: Pick<MembershipPlan, 'items' | 'unmanaged'>): PlannedMembership[] {
  return [...plan.items, ...plan.unmanaged.filter(hasWork)];
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One line of operator text for an action. Emails are masked. */
export function describeAction(action: MembershipAction): string {
  switch (action.kind) {
    case 'disassociateMember':
      return 'disassociate the member account from the administrator';
    case 'deleteMember':
      return 'delete the member association';
    case 'createMember': {
      const tagCount = Object.keys(action.tags).length;
      const tags = `${tagCount} tag${tagCount === 1 ? '' : 's'}`;
      return action.via === 'organization'
        ? `add the member through Organizations (enabled at once) with ${tags}`
        : `create the member with email ${maskEmail(action.email)} and ${tags}`;
    }
    case 'invite':
      return 'send a Macie membership invitation';
    case 'accept':
      return 'accept the invitation from inside the member account';
    case 'updateMemberSession':
      return action.status === 'PAUSED' ? "pause the member's Macie session" : "resume the member's Macie session";
    case 'updateTags': {
      const parts: string[] = [];
      const setKeys = Object.keys(action.tagsToSet);
      if (setKeys.length > 0) parts.push(`set ${setKeys.join(', ')}`);
      if (action.tagKeysToRemove.length > 0) parts.push(`remove ${action.tagKeysToRemove.join(', ')}`);
      return `update member tags: ${parts.join('; ') || 'no change'}`;
    }
  }
}

/** True when the plan would change anything or needs a human: any action, any dead letter, any pruning. */
export function hasDrift(plan: MembershipPlan): boolean {
  return (
    plan.items.some((item) => hasWork(item) || item.verdict === 'deadLetter') ||
    plan.unmanaged.some(hasWork) ||
    plan.organizationSettings.some((setting) => setting.verdict === 'change')
  );
}

/** Every step kind, in the order they run for one account and region. */
export const MEMBERSHIP_ACTION_KINDS: readonly MembershipActionKind[] = [
  'disassociateMember',
  'deleteMember',
  'createMember',
  'invite',
  'accept',
  'updateMemberSession',
  'updateTags',
];

export interface PlanSummary {
  items: number;
  byVerdict: Record<PlanVerdict, number>;
  actionsByKind: Record<MembershipActionKind, number>;
  unmanaged: number;
  /** Unmanaged members with pruning actions. */
  pruning: number;
}

/** Counts for a report or a metric: verdicts, actions by kind (pruning included), unmanaged. */
export function summarizePlan(plan: MembershipPlan): PlanSummary {
  const byVerdict = zeroCounts(PLAN_VERDICTS);
  const actionsByKind = zeroCounts(MEMBERSHIP_ACTION_KINDS);
  for (const item of plan.items) {
    byVerdict[item.verdict] += 1;
    for (const action of item.actions) actionsByKind[action.kind] += 1;
  }
  let pruning = 0;
  for (const member of plan.unmanaged) {
    if (hasWork(member)) pruning += 1;
    for (const action of member.actions) actionsByKind[action.kind] += 1;
  }
  return { items: plan.items.length, byVerdict, actionsByKind, unmanaged: plan.unmanaged.length, pruning };
}
