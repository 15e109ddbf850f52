/**
 * The administrator–member relationship as a state machine.
 *
 * A record stores a *stage* (what the last API call made of it) plus timestamps; the Macie
 * `relationshipStatus` is derived on every read from the stage, the clock and the member account's
 * condition. So email verification "finishes" and invitations "arrive" without timers, and suspending an
 * account or disabling a region shows at once for every administrator without touching their records.
 *
 *   Created --invite--> Invited [EmailVerificationInProgress -> Invited | EmailVerificationFailed]
 *   Invited --accept--> Enabled <--UpdateMemberSession--> Paused
 *   Invited --decline / delete invitation--> Resigned
 *   Enabled|Paused --member disassociates--> Resigned
 *   Enabled|Paused|Invited --administrator disassociates--> Removed
 *   Resigned | EmailVerificationFailed | Invited --invite again--> Invited
 *   (AccountSuspended / RegionDisabled overlay any stage)
 *
 *   Organizations members (via `organization`): CreateMember --> Enabled <--> Paused; administrator
 *   disassociates, or the account leaves the organization --> Removed; CreateMember again --> Enabled.
 */
import type { MembershipVia, RelationshipStatus } from '#sandbox/emulator/types';

export type MembershipStage = 'Created' | 'Invited' | 'Enabled' | 'Paused' | 'Removed' | 'Resigned';

export interface Invitation {
  readonly invitationId: string;
  readonly sentAt: number;
  /** `EmailVerificationInProgress` until this moment. */
  readonly verifiedAt: number;
  /** The member cannot see the invitation before this moment (nor before `verifiedAt`). */
  readonly visibleAt: number;
  /** Verification ends in `EmailVerificationFailed` instead of `Invited`. */
  readonly bounced: boolean;
  /** What the member did with it: declined invitations stay listed until deleted, as the Macie docs describe. */
  memberAction: 'none' | 'declined' | 'deleted';
}

export interface MemberRecord {
  readonly administratorAccountId: string;
  readonly accountId: string;
  readonly region: string;
  readonly arn: string;
  /**
   * `organization`: created by the delegated administrator for an account of its organization; Enabled at once,
   * never invited, listed with no email. Fixed for the record's life: re-creating makes a new record.
   */
  readonly via: MembershipVia;
  email: string;
  tags: Record<string, string>;
  stage: MembershipStage;
  invitation?: Invitation;
  /** Last change of stage. */
  updatedAt: number;
}

/** The member account's own condition, which Macie reports in place of the relationship's. */
export interface MemberAccountCondition {
  suspended: boolean;
  regionDisabled: boolean;
}

export const NO_CONDITION: MemberAccountCondition = { suspended: false, regionDisabled: false };

export function memberArn(region: string, administratorAccountId: string, accountId: string): string {
  return `arn:aws:macie2:${region}:${administratorAccountId}:member/${accountId}`;
}

export function relationshipStatus(record: MemberRecord, condition: MemberAccountCondition, now: number): RelationshipStatus {
  if (condition.suspended) return 'AccountSuspended';
  if (condition.regionDisabled) return 'RegionDisabled';
  if (record.stage !== 'Invited') return record.stage;
  const invitation = record.invitation;
  if (!invitation || now < invitation.verifiedAt) return 'EmailVerificationInProgress';
  return invitation.bounced ? 'EmailVerificationFailed' : 'Invited';
}

/** When the status the caller sees last changed, including the lazily derived end of email verification. */
export function statusUpdatedAt(record: MemberRecord, now: number): number {
  const verifiedAt = record.invitation?.verifiedAt;
  if (record.stage === 'Invited' && verifiedAt !== undefined && verifiedAt <= now) return Math.max(record.updatedAt, verifiedAt);
  return record.updatedAt;
}

/** Enabled or Paused: the account currently belongs to this administrator. */
export function isAssociated(record: MemberRecord): boolean {
  return record.stage === 'Enabled' || record.stage === 'Paused';
}

/** Verified, not bounced, not yet answered: the member may accept or decline it. */
export function hasPendingInvitation(record: MemberRecord, now: number): boolean {
  const invitation = record.invitation;
  return (
    record.stage === 'Invited' &&
    invitation !== undefined &&
    !invitation.bounced &&
    now >= invitation.verifiedAt &&
    invitation.memberAction === 'none'
  );
}

/** Whether the member's ListInvitations shows this record's invitation. */
export function invitationVisibleToMember(record: MemberRecord, now: number): boolean {
  const invitation = record.invitation;
  if (!invitation || invitation.bounced || invitation.memberAction === 'deleted') return false;
  return now >= invitation.visibleAt && now >= invitation.verifiedAt;
}

export interface InvitationTiming {
  invitationId: string;
  now: number;
  emailVerificationMs: number;
  invitationDelayMs: number;
  bounced: boolean;
}

/** CreateInvitations: a new invitation replaces any earlier one from this administrator. */
export function invite(record: MemberRecord, timing: InvitationTiming): void {
  record.stage = 'Invited';
  record.invitation = {
    invitationId: timing.invitationId,
    sentAt: timing.now,
    verifiedAt: timing.now + timing.emailVerificationMs,
    visibleAt: timing.now + timing.invitationDelayMs,
    bounced: timing.bounced,
    memberAction: 'none',
  };
  record.updatedAt = timing.now;
}

export function moveTo(record: MemberRecord, stage: MembershipStage, now: number): void {
  if (record.stage === stage) return;
  record.stage = stage;
  record.updatedAt = now;
}

/** The member turned the invitation down (DeclineInvitations, or DeleteInvitations before answering). */
export function decline(record: MemberRecord, action: 'declined' | 'deleted', now: number): void {
  if (record.invitation) record.invitation.memberAction = action;
  if (record.stage === 'Invited') moveTo(record, 'Resigned', now);
}
