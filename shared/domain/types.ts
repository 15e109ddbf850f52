/**
 * The domain's vocabulary. Pure: nothing here imports an AWS SDK, middy or Powertools.
 */

export type AccountId = string;
export type Region = string;

/**
 * Macie's `RelationshipStatus` enum (service model 2020-01-01), in the order operators read it:
 * enrolled first, then on the way in, then on the way out, then what Macie will not act on.
 */
export const RELATIONSHIP_STATUSES = [
  'Enabled',
  'Paused',
  'Invited',
  'Created',
  'EmailVerificationInProgress',
  'EmailVerificationFailed',
  'Removed',
  'Resigned',
  'RegionDisabled',
  'AccountSuspended',
] as const;
export type RelationshipStatus = (typeof RELATIONSHIP_STATUSES)[number];

/**
 * A status Macie reported that this version does not know (AWS may add one). It is kept, never
 * read as "not listed": the planner plans nothing for it and says so.
 */
export const UNRECOGNIZED_STATUS = 'Unrecognized';

/** A member's status as the administrator lists it. */
export type MemberStatus = RelationshipStatus | typeof UNRECOGNIZED_STATUS;

/** What the administrator observes for an account in a region, in the order operators read it. */
export const OBSERVED_STATUSES = [...RELATIONSHIP_STATUSES, UNRECOGNIZED_STATUS, 'NotListed'] as const;
export type ObservedStatus = (typeof OBSERVED_STATUSES)[number];

export type DesiredState = 'member' | 'absent';

export const MEMBERSHIP_TYPES = ['organization', 'invitation'] as const;
/** How an account is, or will be, a member: through Organizations, or by invitation. */
export type MembershipType = (typeof MEMBERSHIP_TYPES)[number];

export type Tags = Record<string, string>;

/** One observation recorded back into the table after a run, per region. */
export interface ObservedRegionState {
  relationshipStatus: ObservedStatus;
  /** The last action the reconciler took (or tried) in this region, e.g. `invite`. */
  lastAction?: string;
  /** The last error, `Code: message`; absent when the last action succeeded. */
  lastError?: string;
  /**
   * The failure episode (`Operation/Code`) this region's last dead letter was sent for, and when:
   * a failure that goes on is dead-lettered once per quiet period, not on every run.
   */
  letterSent?: { episode: string; at: string };
  /** ISO-8601 time of this observation. */
  at: string;
}

/** A row of the desired-membership table: what an operator or pipeline wants for one account. */
export interface DesiredMember {
  accountId: AccountId;
  desiredState: DesiredState;
  email: string;
  /** Regions this account should be a member in; `undefined` means every managed region. */
  regions?: Region[];
  tags: Tags;
  /** Accept the invitation from inside the member account (through the member role). */
  autoAccept: boolean;
  /** Keep the member `Paused` instead of `Enabled`. */
  paused: boolean;
  requestedBy: string;
  requestedAt: string;
  requestId?: string;
  /** Custom text for this account's invitation (1-80 letters, digits, spaces); the configured message when absent. */
  invitationMessage?: string;
  observed: Record<Region, ObservedRegionState>;
  /** Optimistic-lock counter: every write is conditional on the version read. */
  version: number;
}

/** A member as the administrator's `ListMembers` reports it in one region. */
export interface ObservedMember {
  accountId: AccountId;
  region: Region;
  email?: string;
  relationshipStatus: MemberStatus;
  /** Macie's own word when it is one this version does not know (`relationshipStatus` is then `Unrecognized`). */
  reportedStatus?: string;
  administratorAccountId?: AccountId;
  arn?: string;
  tags: Tags;
  invitedAt?: string;
  updatedAt?: string;
}

/** An account (or, without `accountId`, a whole region) whose Macie membership could not be read. */
export interface Unobserved {
  region: Region;
  accountId?: AccountId;
  operation: string;
  code: string;
  message: string;
}

/**
 * Every kind of step the executor knows how to carry out, in the order they run for one account and
 * region. Each step is complete: it carries everything its call needs, and `leaves` says the status
 * the member has once it succeeded, so nothing downstream has to know what a step means.
 */
export type MembershipAction =
  | { kind: 'disassociateMember'; leaves: ObservedStatus }
  | { kind: 'deleteMember'; leaves: ObservedStatus }
  /** `via: 'organization'`: the delegated administrator adds an account of its organization, `Enabled` at once. */
  | { kind: 'createMember'; email: string; tags: Tags; via: MembershipType; leaves: ObservedStatus }
  | { kind: 'invite'; message?: string; leaves: ObservedStatus }
  | { kind: 'accept'; leaves: ObservedStatus }
  | { kind: 'updateMemberSession'; status: 'ENABLED' | 'PAUSED'; leaves: ObservedStatus }
  | { kind: 'updateTags'; arn: string; tagsToSet: Tags; tagKeysToRemove: string[]; leaves: ObservedStatus };

export type MembershipActionKind = MembershipAction['kind'];

/**
 * The planner's verdict for one account in one region:
 * - `inSync`: nothing to do;
 * - `change`: `actions` bring it closer to the desired state;
 * - `pending`: waiting on something outside our control (email verification, the member accepting by hand);
 * - `skipped`: Macie will not let us act (region disabled, account suspended), or reported a status
 *   this version does not know; reported only;
 * - `deadLetter`: a human must fix something (e.g. a bouncing email); goes to the dead-letter queue.
 */
export const PLAN_VERDICTS = ['inSync', 'change', 'pending', 'skipped', 'deadLetter'] as const;
export type PlanVerdict = (typeof PLAN_VERDICTS)[number];

export interface PlannedMembership {
  accountId: AccountId;
  region: Region;
  desiredState: DesiredState;
  observedStatus: ObservedStatus;
  verdict: PlanVerdict;
  /** Why, in an operator's words. */
  reason: string;
  actions: MembershipAction[];
  /** The desired row this item was planned from; absent for an unmanaged member (Macie lists it, the table does not). */
  row?: DesiredMember;
  /** How the account is a member (as Macie lists it), or will be (as planned); absent when it is neither. */
  membershipType?: MembershipType;
}

/**
 * Macie's organization configuration in one region where the administrator is the delegated one:
 * `autoEnable` as observed and as configured, and the update that makes them equal.
 */
export interface PlannedOrganizationSetting {
  region: Region;
  observed: { autoEnable: boolean };
  desired: { autoEnable: boolean };
  verdict: 'inSync' | 'change';
  reason: string;
}

/** What the planner left out (a membership it could not see, a row it could not read), and why. */
export interface NotPlanned {
  /** Absent for a corrupt row: nothing is planned for it in any region. */
  region?: Region;
  /** Absent when the whole region could not be read. */
  accountId?: AccountId;
  reason: string;
}

export interface MembershipPlan {
  /** One item per desired account and managed region. */
  items: PlannedMembership[];
  /**
   * Members Macie lists that the table does not mention: ordinary items without a row, whose
   * actions remove them when pruning is on and are empty (reported only) when it is off.
   */
  unmanaged: PlannedMembership[];
  notPlanned: NotPlanned[];
  /** One per administered region when `autoEnable` is configured; empty otherwise. */
  organizationSettings: PlannedOrganizationSetting[];
}

/** A count for every member of a closed set of names, starting at zero. */
export function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
