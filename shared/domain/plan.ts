/**
 * The planner: desired table × what Macie lists -> the actions that make Macie match the table.
 * This is the whole decision logic of the service (DESIGN.md §3), pure and synchronous.
 */
import type {
  DesiredMember,
  DesiredState,
  MembershipAction,
  MembershipActionKind,
  MembershipPlan,
  ObservedMember,
  ObservedStatus,
  PlannedMembership,
  PlanVerdict,
  RelationshipStatus,
  Tags,
  UnmanagedMember,
} from '#shared/domain/types';
import { maskEmail } from '#shared/domain/rules';

export interface PlanningPolicy {
  administratorAccountId: string;
  managedRegions: string[];
  pruneUnmanaged: boolean;
  /** When set, plan only these accounts (targeted reconcile for onboarding/SQS): no unmanaged report, observed members of other accounts ignored. */
  onlyAccounts?: ReadonlySet<string>;
}

/**
 * The `lastAction` the executor records in `DesiredMember.observed[region]` when it sends an item to
 * the dead-letter queue. The planner reads it back so that a bouncing email is dead-lettered once,
 * not on every scheduled run.
 */
export const DEAD_LETTER_ACTION = 'deadLetter';

/** The statuses whose removal needs `DisassociateMember` before `DeleteMember`: the account is (or is about to be) associated. */
const ASSOCIATED_STATUSES: ReadonlySet<RelationshipStatus> = new Set(['Invited', 'Enabled', 'Paused']);

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
export function removalActions(status: RelationshipStatus): MembershipAction[] {
  return ASSOCIATED_STATUSES.has(status)
    ? [{ kind: 'disassociateMember' }, { kind: 'deleteMember' }]
    : [{ kind: 'deleteMember' }];
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

/** invite, then accept when the reconciler accepts on the member's behalf. */
function inviteSteps(row: DesiredMember): MembershipAction[] {
  return row.autoAccept ? [{ kind: 'invite' }, { kind: 'accept' }] : [{ kind: 'invite' }];
}

function acceptNote(row: DesiredMember): string {
  return row.autoAccept
    ? 'accept it from the member account'
    : 'the member account must then accept the invitation itself (autoAccept is off)';
}

/** createMember + invite (+ accept), or a dead letter when the row has no email to create it with. */
function createSteps(row: DesiredMember, before: MembershipAction[], why: string): Verdict {
  if (row.email.trim() === '') {
    return verdict('deadLetter', `${why}, but the desired row has no email to create the member with: record the account's email`);
  }
  return verdict('change', `${why}: ${before.length > 0 ? 'delete it, ' : ''}create the member, invite it, ${acceptNote(row)}`, [
    ...before,
    { kind: 'createMember', email: row.email, tags: { ...row.tags } },
    ...inviteSteps(row),
  ]);
}

/** Session and tag corrections for an enrolled (Enabled or Paused) member. */
function enrolledSteps(row: DesiredMember, member: ObservedMember): Verdict {
  const actions: MembershipAction[] = [];
  const reasons: string[] = [];
  if (member.relationshipStatus === 'Enabled' && row.paused) {
    actions.push({ kind: 'updateMemberSession', status: 'PAUSED' });
    reasons.push('the desired row says paused: pause the Macie session');
  } else if (member.relationshipStatus === 'Paused' && !row.paused) {
    actions.push({ kind: 'updateMemberSession', status: 'ENABLED' });
    reasons.push('the member is paused but should run: resume the Macie session');
  }

  const { tagsToSet, tagKeysToRemove } = tagChanges(row.tags, member.tags);
  const tagsDrift = Object.keys(tagsToSet).length > 0 || tagKeysToRemove.length > 0;
  let untaggable = false;
  if (tagsDrift && member.arn) {
    actions.push({ kind: 'updateTags', arn: member.arn, tagsToSet, tagKeysToRemove });
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

function planMember(row: DesiredMember, region: string, member: ObservedMember | undefined): Verdict {
  if (!member) return createSteps(row, [], 'not a Macie member yet');
  switch (member.relationshipStatus) {
    case 'Created':
      return verdict('change', `associated but never invited: invite it, ${acceptNote(row)}`, inviteSteps(row));
    case 'EmailVerificationInProgress':
      return verdict('pending', 'Macie is still verifying the email address: wait for it');
    case 'EmailVerificationFailed': {
      if (member.email !== undefined && !sameEmail(member.email, row.email)) {
        return createSteps(
          row,
          [{ kind: 'deleteMember' }],
          `Macie could not verify ${maskEmail(member.email)} and the desired email is now ${maskEmail(row.email)}`,
        );
      }
      const previous = row.observed[region];
      if (previous?.lastAction === DEAD_LETTER_ACTION && previous.relationshipStatus === 'EmailVerificationFailed') {
        // Requested again since the dead letter (the mailbox was fixed, say): one more try.
        if (row.requestedAt > previous.at) {
          return createSteps(row, [{ kind: 'deleteMember' }], `requested again after Macie could not verify ${maskEmail(row.email)}`);
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
          verdict('change', 'invitation pending: accept it from the member account', [{ kind: 'accept' }])
        : verdict('pending', 'invitation sent: waiting for the member account to accept it (autoAccept is off)');
    case 'Enabled':
    case 'Paused':
      return enrolledSteps(row, member);
    case 'Removed':
      return createSteps(row, [{ kind: 'deleteMember' }], 'the association was removed');
    case 'Resigned':
      return verdict('change', `the member account resigned: re-invite it, ${acceptNote(row)}`, inviteSteps(row));
    case 'RegionDisabled':
      return verdict('skipped', `the region ${region} is disabled for this account: Macie cannot act on it here`);
    case 'AccountSuspended':
      return verdict('skipped', 'the account is suspended: Macie cannot act on it');
  }
}

function planAbsent(row: DesiredMember, region: string, member: ObservedMember | undefined): Verdict {
  if (!member) return verdict('inSync', 'not a member, as desired');
  const why =
    row.desiredState === 'absent'
      ? 'the desired row says absent'
      : `${region} is not among the account's desired regions`;
  const actions = removalActions(member.relationshipStatus);
  const steps = actions.length === 2 ? 'disassociate and delete the member' : 'delete the member';
  return verdict('change', `${why} but Macie lists it as ${member.relationshipStatus}: ${steps}`, actions);
}

/**
 * Plans every desired account in every managed region (DESIGN.md §3), plus members Macie lists that
 * the table does not know (unmanaged). Output order is deterministic: account id, then the order of
 * `managedRegions`. Observed members outside the managed regions are ignored; a row's regions that
 * are no longer managed are ignored too.
 */
export function planMemberships(
  desired: readonly DesiredMember[],
  observed: readonly ObservedMember[],
  policy: PlanningPolicy,
): MembershipPlan {
  const regions = [...new Set(policy.managedRegions)];
  const regionOrder = new Map(regions.map((region, index) => [region, index]));
  const { onlyAccounts, administratorAccountId } = policy;

  const observedByKey = new Map<string, ObservedMember>();
  for (const member of observed) {
    if (!regionOrder.has(member.region)) continue;
    if (onlyAccounts && !onlyAccounts.has(member.accountId)) continue;
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

  const items: PlannedMembership[] = [];
  for (const accountId of accountIds) {
    const row = rows.get(accountId) as DesiredMember;
    for (const region of regions) {
      const member = observedByKey.get(observedKey(region, accountId));
      const desiredState = desiredStateIn(row, region);
      const observedStatus: ObservedStatus = member?.relationshipStatus ?? 'NotListed';
      const outcome =
        accountId === administratorAccountId
          ? verdict('skipped', `${accountId} is the Macie administrator account itself: it is never planned as a member`)
          : desiredState === 'member'
            ? planMember(row, region, member)
            : planAbsent(row, region, member);
      items.push({ accountId, region, desiredState, observedStatus, ...outcome });
    }
  }

  const unmanaged: UnmanagedMember[] = [];
  if (!onlyAccounts) {
    for (const member of observedByKey.values()) {
      if (rows.has(member.accountId) || member.accountId === administratorAccountId) continue;
      unmanaged.push({
        accountId: member.accountId,
        region: member.region,
        relationshipStatus: member.relationshipStatus,
        actions: policy.pruneUnmanaged ? removalActions(member.relationshipStatus) : [],
      });
    }
    unmanaged.sort(
      (a, b) =>
        compareStrings(a.accountId, b.accountId) ||
        (regionOrder.get(a.region) ?? 0) - (regionOrder.get(b.region) ?? 0),
    );
  }

  return { items, unmanaged };
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
      return `create the member with email ${maskEmail(action.email)} and ${tagCount} tag${tagCount === 1 ? '' : 's'}`;
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
    plan.items.some((item) => item.actions.length > 0 || item.verdict === 'deadLetter') ||
    plan.unmanaged.some((member) => member.actions.length > 0)
  );
}

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
  const byVerdict: Record<PlanVerdict, number> = { inSync: 0, change: 0, pending: 0, skipped: 0, deadLetter: 0 };
  const actionsByKind: Record<MembershipActionKind, number> = {
    disassociateMember: 0,
    deleteMember: 0,
    createMember: 0,
    invite: 0,
    accept: 0,
    updateMemberSession: 0,
    updateTags: 0,
  };
  for (const item of plan.items) {
    byVerdict[item.verdict] += 1;
    for (const action of item.actions) actionsByKind[action.kind] += 1;
  }
  let pruning = 0;
  for (const member of plan.unmanaged) {
    if (member.actions.length > 0) pruning += 1;
    for (const action of member.actions) actionsByKind[action.kind] += 1;
  }
  return { items: plan.items.length, byVerdict, actionsByKind, unmanaged: plan.unmanaged.length, pruning };
}
