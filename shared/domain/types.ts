/**
 * The domain's vocabulary. Pure types: nothing here imports an AWS SDK, middy or Powertools.
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

/** What the administrator observes for an account in a region: a Macie status, or not listed at all. */
export type ObservedStatus = RelationshipStatus | 'NotListed';

export type DesiredState = 'member' | 'absent';

export type Tags = Record<string, string>;

/** One observation recorded back into the table after a run, per region. */
export interface ObservedRegionState {
  relationshipStatus: ObservedStatus;
  /** The last action the reconciler took (or tried) in this region, e.g. `invite`. */
  lastAction?: string;
  /** The last error, `Code: message`; absent when the last action succeeded. */
  lastError?: string;
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
  relationshipStatus: RelationshipStatus;
  administratorAccountId?: AccountId;
  arn?: string;
  tags: Tags;
  invitedAt?: string;
  updatedAt?: string;
}

/** Every kind of step the executor knows how to carry out, in the order they run for one account and region. */
export type MembershipAction =
  | { kind: 'disassociateMember' }
  | { kind: 'deleteMember' }
  | { kind: 'createMember'; email: string; tags: Tags }
  | { kind: 'invite' }
  | { kind: 'accept' }
  | { kind: 'updateMemberSession'; status: 'ENABLED' | 'PAUSED' }
  | { kind: 'updateTags'; arn: string; tagsToSet: Tags; tagKeysToRemove: string[] };

export type MembershipActionKind = MembershipAction['kind'];

/**
 * The planner's verdict for one account in one region:
 * - `inSync`: nothing to do;
 * - `change`: `actions` bring it closer to the desired state;
 * - `pending`: waiting on something outside our control (email verification, the member accepting by hand);
 * - `skipped`: Macie will not let us act (region disabled, account suspended); reported only;
 * - `deadLetter`: a human must fix something (e.g. a bouncing email); goes to the dead-letter queue.
 */
export type PlanVerdict = 'inSync' | 'change' | 'pending' | 'skipped' | 'deadLetter';

export interface PlannedMembership {
  accountId: AccountId;
  region: Region;
  desiredState: DesiredState;
  observedStatus: ObservedStatus;
  verdict: PlanVerdict;
  /** Why, in an operator's words. */
  reason: string;
  actions: MembershipAction[];
}

/** A member Macie lists that the table does not mention. */
export interface UnmanagedMember {
  accountId: AccountId;
  region: Region;
  relationshipStatus: RelationshipStatus;
  /** Actions when pruning is on (disassociate + delete), otherwise empty. */
  actions: MembershipAction[];
}

export interface MembershipPlan {
  items: PlannedMembership[];
  unmanaged: UnmanagedMember[];
}
