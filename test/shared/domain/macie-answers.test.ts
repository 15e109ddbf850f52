import { describe, expect, it } from 'vitest';
import {
  acceptanceMayHaveRaced,
  isMacieAlreadyEnabled,
  isMacieNotEnabled,
  isNotAMember,
  isUnprocessedAccountFailure,
  meaningOfInvitationAnswer,
  meaningOfInvitationRecheck,
  meaningOfStepError,
  settleAcceptanceRace,
} from '#shared/domain/macie-answers';

const ADMIN = '111111111111';

describe('meaningOfStepError', () => {
  it('reads a conflict on CreateMember as a member another run created, to be left to that run', () => {
    expect(meaningOfStepError('createMember', 'ConflictException')).toBe('createdByAnotherRun');
  });

  it('reads a conflict or not-found on a removal as already done', () => {
    for (const kind of ['deleteMember', 'disassociateMember'] as const) {
      expect(meaningOfStepError(kind, 'ConflictException')).toBe('alreadyDone');
      expect(meaningOfStepError(kind, 'ResourceNotFoundException')).toBe('alreadyDone');
    }
  });

  it('reads a conflict on a session or tag update as already done, but not-found as a failure', () => {
    expect(meaningOfStepError('updateMemberSession', 'ConflictException')).toBe('alreadyDone');
    expect(meaningOfStepError('updateTags', 'ConflictException')).toBe('alreadyDone');
    expect(meaningOfStepError('updateTags', 'ResourceNotFoundException')).toBe('failed');
  });

  it('never reads an invitation or acceptance error as done: their races are settled where they happen', () => {
    expect(meaningOfStepError('invite', 'ConflictException')).toBe('failed');
    expect(meaningOfStepError('accept', 'ConflictException')).toBe('failed');
  });

  it('reads throttling, access denied and quota answers as failures', () => {
    for (const code of ['ThrottlingException', 'AccessDeniedException', 'ServiceQuotaExceededException', 'ValidationException']) {
      expect(meaningOfStepError('createMember', code)).toBe('failed');
    }
  });
});

describe('invitation answers', () => {
  it('looks again after a ClientError, fails an InternalError, and counts no entry as invited', () => {
    expect(meaningOfInvitationAnswer(undefined)).toBe('invited');
    expect(meaningOfInvitationAnswer({ errorCode: 'ClientError' })).toBe('lookAgain');
    expect(meaningOfInvitationAnswer({ errorCode: 'InternalError' })).toBe('failed');
  });

  it('reads the second look: enrolled or invited by another run, else a failure', () => {
    expect(meaningOfInvitationRecheck('Enabled')).toBe('enrolledMeanwhile');
    expect(meaningOfInvitationRecheck('Paused')).toBe('enrolledMeanwhile');
    expect(meaningOfInvitationRecheck('Invited')).toBe('invitedMeanwhile');
    expect(meaningOfInvitationRecheck('Created')).toBe('failed');
    expect(meaningOfInvitationRecheck(undefined)).toBe('failed');
  });

  it('tells unprocessed-account failures from other failures', () => {
    expect(isUnprocessedAccountFailure({ operation: 'CreateInvitations', code: 'ClientError' })).toBe(true);
    expect(isUnprocessedAccountFailure({ operation: 'CreateInvitations', code: 'InternalError' })).toBe(true);
    expect(isUnprocessedAccountFailure({ operation: 'CreateInvitations', code: 'ThrottlingException' })).toBe(false);
    expect(isUnprocessedAccountFailure({ operation: 'CreateMember', code: 'ClientError' })).toBe(false);
  });
});

describe('member-side answers', () => {
  it('knows "Macie is not enabled" by its code and message, and an enabled Macie by a conflict', () => {
    expect(isMacieNotEnabled({ code: 'AccessDeniedException', message: 'Macie is not enabled for this account' })).toBe(true);
    expect(isMacieNotEnabled({ code: 'AccessDeniedException', message: 'User is not authorized' })).toBe(false);
    expect(isMacieAlreadyEnabled('ConflictException')).toBe(true);
    expect(isNotAMember('ResourceNotFoundException')).toBe(true);
  });

  it("suspects a race behind AWS's stale-invitation ValidationException, a conflict or a vanished invitation", () => {
    const stale =
      'The request is rejected because the current account has no pending invitation from the given master account ID or is already an associated member of another master account.';
    expect(acceptanceMayHaveRaced({ code: 'ValidationException', message: stale })).toBe(true);
    expect(acceptanceMayHaveRaced({ code: 'ValidationException', message: stale.replaceAll('master', 'administrator') })).toBe(true);
    expect(acceptanceMayHaveRaced({ code: 'ConflictException', message: 'x' })).toBe(true);
    expect(acceptanceMayHaveRaced({ code: 'ResourceNotFoundException', message: 'x' })).toBe(true);
  });

  it('does not take a validation failure of the request itself, or throttling, for a race', () => {
    expect(acceptanceMayHaveRaced({ code: 'ValidationException', message: 'administratorAccountId is required' })).toBe(false);
    expect(acceptanceMayHaveRaced({ code: 'ThrottlingException', message: 'Rate exceeded' })).toBe(false);
  });
});

describe('settleAcceptanceRace', () => {
  it('counts an account enrolled with us (Enabled or Paused) as accepted', () => {
    expect(settleAcceptanceRace({ accountId: ADMIN, relationshipStatus: 'Enabled' }, ADMIN, 'inv-1')).toEqual({ kind: 'enrolled' });
    expect(settleAcceptanceRace({ accountId: ADMIN, relationshipStatus: 'Paused' }, ADMIN, 'inv-1')).toEqual({ kind: 'enrolled' });
  });

  it('accepts the newer invitation another run sent', () => {
    expect(settleAcceptanceRace({ accountId: ADMIN, relationshipStatus: 'Invited', invitationId: 'inv-2' }, ADMIN, 'inv-1')).toEqual({
      kind: 'acceptNewer',
      invitationId: 'inv-2',
    });
  });

  it('looks again when the same invitation is still pending, or nothing is known yet', () => {
    expect(settleAcceptanceRace({ accountId: ADMIN, relationshipStatus: 'Invited', invitationId: 'inv-1' }, ADMIN, 'inv-1')).toEqual({ kind: 'lookAgain' });
    expect(settleAcceptanceRace(undefined, ADMIN, 'inv-1')).toEqual({ kind: 'lookAgain' });
  });

  it('fails an account that belongs to another administrator', () => {
    expect(settleAcceptanceRace({ accountId: '999999999999', relationshipStatus: 'Enabled' }, ADMIN, 'inv-1')).toEqual({ kind: 'anotherAdministrator' });
  });
});
