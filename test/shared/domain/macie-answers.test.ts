import { describe, expect, it } from 'vitest';
import {
  acceptanceMayHaveRaced,
  isMacieAlreadyEnabled,
  isNotAMember,
  afterAcceptance,
  afterInvitation,
  afterStepError,
  invitationNeedsSecondLook,
  isUnprocessedAccountFailure,
  settleAcceptanceRace, afterCreateConflict, createConflictNeedsSecondLook } from '#shared/domain/macie-answers';

const ADMIN = '111111111111';

const failure = (code: string, operation = 'CreateMember') => ({ operation, code, message: `${code} said so`, attempts: 3 });

describe('a CreateMember conflict', () => {
  it('asks for a second look, and only for CreateMember', () => {
    expect(createConflictNeedsSecondLook('createMember', failure('ConflictException'))).toBe(true);
    expect(createConflictNeedsSecondLook('createMember', failure('ValidationException'))).toBe(false);
    expect(createConflictNeedsSecondLook('deleteMember', failure('ConflictException'))).toBe(false);
  });

  it('goes on with what a run that stopped part-way left: invites a Created member, accepts an Invited one', () => {
    expect(afterCreateConflict(failure('ConflictException'), 'Created', 'invitation')).toEqual({ next: 'continue' });
    expect(afterCreateConflict(failure('ConflictException'), 'Invited', 'invitation')).toEqual({ next: 'continue', alreadyDone: 'invite' });
  });

  it('leaves any other state to the next run: pending, the step counted as done', () => {
    for (const [look, via] of [['Created', 'organization'], ['EmailVerificationInProgress', 'invitation'], ['Resigned', 'invitation']] as const) {
      expect(afterCreateConflict(failure('ConflictException'), look, via)).toEqual({
        next: 'finish',
        status: 'pending',
        stepCompleted: true,
        note: 'an earlier run left this member part-way; the next run continues from its state',
      });
    }
  });

  it('is done when another run already enrolled the account (an Organizations member is Enabled at once)', () => {
    expect(afterCreateConflict(failure('ConflictException'), 'Enabled', 'organization')).toMatchObject({ status: 'done', observedAfter: 'Enabled' });
  });

  it("is a failure when the account is not ours (another administrator's): silence would leave it pending for ever", () => {
    for (const look of [undefined, 'NotListed'] as const) {
      expect(afterCreateConflict(failure('ConflictException'), look, 'invitation')).toEqual({
        next: 'finish',
        status: 'failed',
        stepCompleted: false,
        failure: { action: 'createMember', operation: 'CreateMember', code: 'ConflictException', message: 'ConflictException said so', attempts: 3 },
      });
    }
  });
});

describe('afterStepError', () => {

  it('goes on past a removal another run already made (conflict or not-found)', () => {
    for (const kind of ['deleteMember', 'disassociateMember'] as const) {
      expect(afterStepError(kind, failure('ConflictException'))).toEqual({ next: 'continue' });
      expect(afterStepError(kind, failure('ResourceNotFoundException'))).toEqual({ next: 'continue' });
    }
  });

  it('goes on past a conflict on a session or tag update, but fails on not-found', () => {
    expect(afterStepError('updateMemberSession', failure('ConflictException'))).toEqual({ next: 'continue' });
    expect(afterStepError('updateTags', failure('ConflictException'))).toEqual({ next: 'continue' });
    expect(afterStepError('updateTags', failure('ResourceNotFoundException', 'TagResource'))).toMatchObject({ next: 'finish', status: 'failed' });
  });

  it('never reads an invitation or acceptance error as done: their races are settled where they happen', () => {
    expect(afterStepError('invite', failure('ConflictException', 'CreateInvitations'))).toMatchObject({ status: 'failed' });
    expect(afterStepError('accept', failure('ConflictException', 'AcceptInvitation'))).toMatchObject({ status: 'failed' });
  });

  it('fails throttling, access denied, quota and validation answers with the whole failure', () => {
    for (const code of ['ThrottlingException', 'AccessDeniedException', 'ServiceQuotaExceededException', 'ValidationException']) {
      expect(afterStepError('createMember', failure(code))).toEqual({
        next: 'finish',
        status: 'failed',
        stepCompleted: false,
        failure: { action: 'createMember', operation: 'CreateMember', code, message: `${code} said so`, attempts: 3 },
      });
    }
  });
});

describe('invitation answers', () => {
  const clientError = { errorCode: 'ClientError', errorMessage: 'already a member' };

  it('goes on when the account was invited, and takes a second look only after a ClientError', () => {
    expect(afterInvitation(undefined)).toEqual({ next: 'continue' });
    expect(invitationNeedsSecondLook(clientError)).toBe(true);
    expect(invitationNeedsSecondLook({ errorCode: 'InternalError' })).toBe(false);
    expect(invitationNeedsSecondLook(undefined)).toBe(false);
  });

  it('reads the second look: enrolled by another run (done), invited by another run (go on), else a failure', () => {
    expect(afterInvitation(clientError, 'Enabled')).toEqual({
      next: 'finish',
      status: 'done',
      stepCompleted: false,
      observedAfter: 'Enabled',
      note: 'another run enrolled this account meanwhile',
    });
    expect(afterInvitation(clientError, 'Paused')).toMatchObject({ status: 'done', observedAfter: 'Paused' });
    expect(afterInvitation(clientError, 'Invited')).toEqual({ next: 'continue' });
    for (const secondLook of ['Created', undefined] as const) {
      expect(afterInvitation(clientError, secondLook)).toMatchObject({
        status: 'failed',
        failure: { action: 'invite', operation: 'CreateInvitations', code: 'ClientError', message: 'already a member', attempts: 1 },
      });
    }
  });

  it('fails an InternalError at once, whatever a look would find', () => {
    expect(afterInvitation({ errorCode: 'InternalError', errorMessage: 'try again' }, 'Enabled')).toMatchObject({ status: 'failed', failure: { code: 'InternalError' } });
  });

  it('leaves an acceptance whose invitation is not visible yet pending', () => {
    expect(afterAcceptance('accepted')).toEqual({ next: 'continue' });
    expect(afterAcceptance('invitationNotVisible')).toMatchObject({ next: 'finish', status: 'pending', stepCompleted: false });
  });

  it('tells unprocessed-account failures from other failures', () => {
    expect(isUnprocessedAccountFailure({ operation: 'CreateInvitations', code: 'ClientError' })).toBe(true);
    expect(isUnprocessedAccountFailure({ operation: 'CreateInvitations', code: 'InternalError' })).toBe(true);
    expect(isUnprocessedAccountFailure({ operation: 'CreateInvitations', code: 'ThrottlingException' })).toBe(false);
    expect(isUnprocessedAccountFailure({ operation: 'CreateMember', code: 'ClientError' })).toBe(false);
  });
});

describe('member-side answers', () => {
  it('knows an enabled (or suspended) Macie by EnableMacie\'s conflict, and nothing else as enabled', () => {
    expect(isMacieAlreadyEnabled('ConflictException')).toBe(true);
    expect(isMacieAlreadyEnabled('AccessDeniedException')).toBe(false);
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
