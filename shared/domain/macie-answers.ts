/**
 * What Macie's answers mean. Every error code, `unprocessedAccounts` entry and race the service
 * reacts to is read here and nowhere else: the executor and the adapters ask these functions and
 * act on the answer, so a new reading of an AWS answer is a change to this one file.
 *
 * Codes are those of the Macie API (service model 2020-01-01) as the SDK names its exceptions.
 */
import type { MembershipActionKind, ObservedStatus } from '#shared/domain/types';

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
 * What a failed step means:
 * - `alreadyDone`: another run (a schedule overlapping an SQS batch, a redelivered request) did it
 *   first; Macie says so with a conflict, or with not-found for something already removed;
 * - `createdByAnotherRun`: a conflict on `CreateMember`: another run created the member since this
 *   one looked, and inviting too would re-invite while that run's invitation is pending, so the
 *   member is left to that run and the next one continues from its state;
 * - `failed`: a failure to report and dead-letter.
 */
export type StepErrorMeaning = 'alreadyDone' | 'createdByAnotherRun' | 'failed';

export function meaningOfStepError(kind: MembershipActionKind, code: string): StepErrorMeaning {
  switch (kind) {
    case 'createMember':
      return code === 'ConflictException' ? 'createdByAnotherRun' : 'failed';
    case 'deleteMember':
    case 'disassociateMember':
      return code === 'ConflictException' || code === 'ResourceNotFoundException' ? 'alreadyDone' : 'failed';
    case 'updateMemberSession':
    case 'updateTags':
      return code === 'ConflictException' ? 'alreadyDone' : 'failed';
    case 'invite':
    case 'accept':
      // Their races are settled where they happen (see below): what reaches here is a failure.
      return 'failed';
  }
}

/**
 * What `CreateInvitations` said about one account: nothing (invited), or an `unprocessedAccounts`
 * entry. A `ClientError` may only mean that a run overlapping this one invited or even enrolled the
 * account since this run looked, so it is worth a second look before it counts as a failure; an
 * `InternalError` (or any other code) is a failure.
 */
export function meaningOfInvitationAnswer(unprocessed: { errorCode: string } | undefined): 'invited' | 'lookAgain' | 'failed' {
  if (!unprocessed) return 'invited';
  return unprocessed.errorCode === 'ClientError' ? 'lookAgain' : 'failed';
}

/** The second look after a `ClientError`: the member's status now (`undefined`: not listed or unreadable). */
export function meaningOfInvitationRecheck(now: ObservedStatus | undefined): 'enrolledMeanwhile' | 'invitedMeanwhile' | 'failed' {
  if (now === 'Enabled' || now === 'Paused') return 'enrolledMeanwhile';
  if (now === 'Invited') return 'invitedMeanwhile';
  return 'failed';
}

/** Which failures are `unprocessedAccounts` entries of `CreateInvitations` (their own dead-letter reason). */
export function isUnprocessedAccountFailure(failure: { operation: string; code: string }): boolean {
  return failure.operation === OPERATION_OF.invite && (failure.code === 'ClientError' || failure.code === 'InternalError');
}

/** `GetMember` answers not-found for an account it does not list. */
export function isNotAMember(code: string): boolean {
  return code === 'ResourceNotFoundException';
}

/** "Macie is not enabled" is an access-denied answer whose message says so. */
export function isMacieNotEnabled(error: { code: string; message: string }): boolean {
  return error.code === 'AccessDeniedException' && /not enabled/i.test(error.message);
}

/** `EnableMacie` answers a conflict when Macie is enabled already. */
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
