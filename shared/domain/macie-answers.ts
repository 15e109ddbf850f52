/**
 * What Macie's answers mean. Every error code, `unprocessedAccounts` entry and race the service
 * reacts to is read here and nowhere else: the executor and the adapters ask these functions and
 * act on the answer, so a new reading of an AWS answer is a change to this one file.
 *
 * Codes are those of the Macie API (service model 2020-01-01) as the SDK names its exceptions.
 */
import type { ActionFailure } from '#shared/domain/outcomes';
import type { MembershipActionKind, MembershipType, ObservedStatus } from '#shared/domain/types';

/** The API operation behind each step, for errors and dead letters. */
export const OPERATION_OF: Record<MembershipActionKind, string> = {
  disassociateMember: 'DisassociateMember',
  deleteMember: 'DeleteMember',
  createMember: 'CreateMember',
  invite: 'CreateInvitations',
  accept: 'AcceptInvitation',
  updateMemberSession: 'UpdateMemberSession',
  updateTags: 'TagResource',
};

/**
 * How a step ended, read from Macie's answer: go on with the item's next step, or finish the item
 * with this outcome (`stepCompleted`: the step itself counts as done, e.g. a member another run
 * created). The executor applies it and decides nothing.
 */
export type StepEnd =
  /** `alreadyDone`: the next step, of this kind, was found done already (skipped, counted as done). */
  | { next: 'continue'; alreadyDone?: MembershipActionKind }
  | {
      next: 'finish';
      status: 'done' | 'pending' | 'failed';
      stepCompleted: boolean;
      note?: string;
      observedAfter?: ObservedStatus;
      failure?: ActionFailure;
    };

const CONTINUE: StepEnd = { next: 'continue' };

/** A failed call, as the adapters' error boundary describes it. */
export interface CallFailure {
  operation: string;
  code: string;
  message: string;
  attempts: number;
}

/**
 * A step whose call failed:
 * - another run (a schedule overlapping an SQS batch, a redelivered request) did it first: Macie
 *   says so with a conflict, or with not-found for something already removed; go on;
 * - a conflict on `CreateMember` is settled by a second look (`createConflictNeedsSecondLook`,
 *   `afterCreateConflict`);
 * - anything else is a failure to report and dead-letter. Invitations and acceptance settle their
 *   races where they happen (below), so what reaches here from them is a failure too.
 */
export function afterStepError(kind: MembershipActionKind, failure: CallFailure): StepEnd {
  if (alreadyDone(kind, failure.code)) return CONTINUE;
  return failed(kind, failure);
}

function failed(kind: MembershipActionKind, failure: CallFailure): StepEnd {
  return { next: 'finish', status: 'failed', stepCompleted: false, failure: { action: kind, ...failure } };
}

/**
 * `CreateMember` answers a conflict both when another run created the member since this one looked
 * and when the account cannot be ours (it has another administrator, or members of its own): only
 * the administrator's own view (`GetMember`) tells them apart.
 */
export function createConflictNeedsSecondLook(kind: MembershipActionKind, failure: Pick<CallFailure, 'code'>): boolean {
  return kind === 'createMember' && failure.code === 'ConflictException';
}

/**
 * What a second look after a `CreateMember` conflict found (`undefined`: not listed, or unreadable).
 * The run holds the account's lease, so no other run is working on it now; what it finds was left
 * by a run that stopped part-way (a worker that died, a deadline, a run before a crash):
 * - enrolled already (an Organizations member another run added): done;
 * - on the invitation path, `Created`: not invited yet, so the run goes on and invites it;
 * - on the invitation path, `Invited`: the invitation is out, so what is left is accepting it (inviting
 *   again would replace the pending invitation);
 * - listed otherwise (email checks, resigned, removed...): the next run plans from that state;
 * - not ours: the conflict stands, a failure to dead-letter (silence would leave it pending for ever).
 */
export function afterCreateConflict(failure: CallFailure, secondLook: ObservedStatus | undefined, via: MembershipType): StepEnd {
  if (secondLook === 'Enabled' || secondLook === 'Paused') {
    return { next: 'finish', status: 'done', stepCompleted: true, observedAfter: secondLook, note: 'another run enrolled this account meanwhile' };
  }
  if (via === 'invitation' && secondLook === 'Created') return CONTINUE;
  if (via === 'invitation' && secondLook === 'Invited') return { next: 'continue', alreadyDone: 'invite' };
  if (secondLook !== undefined && secondLook !== 'NotListed') {
    return { next: 'finish', status: 'pending', stepCompleted: true, note: 'an earlier run left this member part-way; the next run continues from its state' };
  }
  return failed('createMember', failure);
}

function alreadyDone(kind: MembershipActionKind, code: string): boolean {
  switch (kind) {
    case 'deleteMember':
    case 'disassociateMember':
      return code === 'ConflictException' || code === 'ResourceNotFoundException';
    case 'updateMemberSession':
    case 'updateTags':
      return code === 'ConflictException';
    case 'createMember':
    case 'invite':
    case 'accept':
      return false;
  }
}

/**
 * An `unprocessedAccounts` entry with a `ClientError` may only mean that a run overlapping this one
 * invited or even enrolled the account since this run looked: worth a second look (`GetMember`)
 * before it counts as a failure. An `InternalError` (or any other code) is a failure at once.
 */
export function invitationNeedsSecondLook(unprocessed: { errorCode: string } | undefined): boolean {
  return unprocessed?.errorCode === 'ClientError';
}

/**
 * An `InternalError` entry is Macie's own transient failure: the invitation is sent once more in
 * the same run (after a pause) before it counts, so a failure that heals leaves no letter behind.
 */
export function invitationWorthRetrying(unprocessed: { errorCode: string } | undefined): boolean {
  return unprocessed?.errorCode === 'InternalError';
}

/**
 * What `CreateInvitations` said about one account (nothing: invited), and what a second look
 * found (`undefined`: not listed, unreadable, or not looked): enrolled by another run meanwhile
 * (done), invited by another run (go on and accept), or a failure.
 */
export function afterInvitation(unprocessed: { errorCode: string; errorMessage: string } | undefined, secondLook?: ObservedStatus): StepEnd {
  if (!unprocessed) return CONTINUE;
  if (invitationNeedsSecondLook(unprocessed)) {
    if (secondLook === 'Enabled' || secondLook === 'Paused') {
      return { next: 'finish', status: 'done', stepCompleted: false, observedAfter: secondLook, note: 'another run enrolled this account meanwhile' };
    }
    if (secondLook === 'Invited') return CONTINUE;
  }
  return {
    next: 'finish',
    status: 'failed',
    stepCompleted: false,
    failure: { action: 'invite', operation: OPERATION_OF.invite, code: unprocessed.errorCode, message: unprocessed.errorMessage, attempts: 1 },
  };
}

/** An invitation the member cannot see yet is not a failure: the next run accepts it. */
export function afterAcceptance(result: 'accepted' | 'invitationNotVisible'): StepEnd {
  return result === 'accepted'
    ? CONTINUE
    : { next: 'finish', status: 'pending', stepCompleted: false, note: 'the invitation is not visible to the member yet; the next run accepts it' };
}

/** Which failures are `unprocessedAccounts` entries of `CreateInvitations` (their own dead-letter reason). */
export function isUnprocessedAccountFailure(failure: { operation: string; code: string }): boolean {
  return failure.operation === OPERATION_OF.invite && (failure.code === 'ClientError' || failure.code === 'InternalError');
}

/** `GetMember` answers not-found for an account it does not list. */
export function isNotAMember(code: string): boolean {
  return code === 'ResourceNotFoundException';
}

/**
 * `EnableMacie` answers a conflict when the account already has a Macie session in the region,
 * enabled or suspended (`PAUSED`: AWS keeps a suspended account's session, and resuming it is
 * `UpdateMacieSession`'s, not `EnableMacie`'s). Either way the acceptance goes on.
 */
export function isMacieAlreadyEnabled(code: string): boolean {
  return code === 'ConflictException';
}

/**
 * Overlapping runs race on `AcceptInvitation`: another one may have accepted meanwhile (the
 * invitation is gone), or re-invited (a new invitation replaced this one). AWS answers such a late
 * acceptance with a 400 `ValidationException` ("...has no pending invitation from the given master
 * account ID or is already an associated member of another master account", quoted in
 * terraform-provider-aws issue 40587); a conflict or not-found are read the same way in case AWS,
 * or an older reading of it, answers so. Any other validation failure is the request's own fault.
 * The member's own view of its administrator settles the race (`settleAcceptanceRace`).
 */
export function acceptanceMayHaveRaced(error: { code: string; message: string }): boolean {
  if (error.code === 'ConflictException' || error.code === 'ResourceNotFoundException') return true;
  return error.code === 'ValidationException' && /no pending invitation|already an associated member/i.test(error.message);
}

/** The member account's own view of its administrator (`GetAdministratorAccount`). */
export interface AdministratorAsSeenByMember {
  accountId?: string;
  relationshipStatus?: string;
  invitationId?: string;
}

/**
 * - `enrolled`: ours and enrolled: done;
 * - `acceptNewer`: ours, with a newer visible invitation: accept that one;
 * - `lookAgain`: ours otherwise: the next look decides;
 * - `anotherAdministrator`: the account belongs to another administrator: a failure.
 */
export type AcceptanceRaceVerdict =
  | { kind: 'enrolled' }
  | { kind: 'acceptNewer'; invitationId: string }
  | { kind: 'lookAgain' }
  | { kind: 'anotherAdministrator' };

export function settleAcceptanceRace(
  seen: AdministratorAsSeenByMember | undefined,
  administratorAccountId: string,
  triedInvitationId: string,
): AcceptanceRaceVerdict {
  if (seen?.accountId !== undefined && seen.accountId !== administratorAccountId) return { kind: 'anotherAdministrator' };
  if (seen?.relationshipStatus === 'Enabled' || seen?.relationshipStatus === 'Paused') return { kind: 'enrolled' };
  if (seen?.relationshipStatus === 'Invited' && seen.invitationId && seen.invitationId !== triedInvitationId) {
    return { kind: 'acceptNewer', invitationId: seen.invitationId };
  }
  return { kind: 'lookAgain' };
}
