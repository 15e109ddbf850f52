import { describe, expect, it } from 'vitest';
import { deadLettersFor, isKnownFailure, observationsToRecord, statusAfter, summarizeRun, type ExecutionOutcome } from '#shared/domain/outcomes';
import { deadLetterBody, requestFromInvalidInput } from '#shared/domain/dead-letters';
import type { DesiredMember, PlannedMembership } from '#shared/domain/types';

const AT = '2026-11-21T10:00:00.000Z';

function row(overrides: Partial<DesiredMember> = {}): DesiredMember {
  return {
    accountId: '222222222201',
    desiredState: 'member',
    email: 'owner@example.com',
    tags: { Team: 'a' },
    autoAccept: true,
    paused: false,
    requestedBy: 'test',
    requestedAt: '2026-11-20T00:00:00.000Z',
    requestId: 'req-1',
    observed: {},
    version: 1,
    ...overrides,
  };
}

function item(overrides: Partial<PlannedMembership> = {}): PlannedMembership {
  return {
    accountId: '222222222201',
    region: 'us-east-1',
    desiredState: 'member',
    observedStatus: 'NotListed',
    verdict: 'change',
    reason: 'not a member yet',
    actions: [
      { kind: 'createMember', email: 'owner@example.com', tags: {}, via: 'invitation', leaves: 'Created' },
      { kind: 'invite', leaves: 'Invited' },
      { kind: 'accept', leaves: 'Enabled' },
    ],
    row: row(),
    ...overrides,
  };
}

function outcome(overrides: Partial<ExecutionOutcome> = {}): ExecutionOutcome {
  return { item: item(), status: 'done', completed: ['createMember', 'invite', 'accept'], ...overrides };
}

/** The outcome of an item planned from this row (`undefined`: an unmanaged member). */
const on = (planned: ExecutionOutcome, desired: DesiredMember | undefined): ExecutionOutcome => ({
  ...planned,
  item: { ...planned.item, row: desired },
});

describe('statusAfter', () => {
  it('follows the last successful action', () => {
    expect(statusAfter(outcome())).toBe('Enabled');
    expect(statusAfter(outcome({ completed: ['createMember'] }))).toBe('Created');
    const removal = item({
      observedStatus: 'Enabled',
      actions: [
        { kind: 'disassociateMember', leaves: 'Removed' },
        { kind: 'deleteMember', leaves: 'NotListed' },
      ],
    });
    expect(statusAfter(outcome({ item: removal, completed: ['disassociateMember', 'deleteMember'] }))).toBe('NotListed');
  });

  it('reads the session status of an updateMemberSession action', () => {
    const pause = item({ observedStatus: 'Enabled', actions: [{ kind: 'updateMemberSession', status: 'PAUSED', leaves: 'Paused' }] });
    expect(statusAfter(outcome({ item: pause, completed: ['updateMemberSession'] }))).toBe('Paused');
  });

  it('keeps the observed status when nothing ran', () => {
    expect(statusAfter(outcome({ item: item({ observedStatus: 'Invited' }), completed: [] }))).toBe('Invited');
  });
});

describe('observationsToRecord', () => {
  it('records the status, last action and time after actions ran', () => {
    const writes = observationsToRecord([on(outcome(), row())], AT);
    expect(writes.get('222222222201')).toEqual({ 'us-east-1': { relationshipStatus: 'Enabled', lastAction: 'accept', at: AT } });
  });

  it('records the failed action and its error', () => {
    const failed = outcome({
      status: 'failed',
      completed: ['createMember'],
      failure: { action: 'invite', operation: 'CreateInvitations', code: 'ClientError', message: 'not associated', attempts: 1 },
    });
    expect(observationsToRecord([on(failed, row())], AT).get('222222222201')?.['us-east-1']).toEqual({
      relationshipStatus: 'Created',
      lastAction: 'invite',
      lastError: 'ClientError: not associated',
      letterSent: { episode: 'CreateInvitations/ClientError', at: AT },
      at: AT,
    });
  });

  it('writes nothing for an in-sync member whose record already says so', () => {
    const inSync = outcome({ item: item({ observedStatus: 'Enabled', verdict: 'inSync', actions: [] }), status: 'noop', completed: [] });
    const current = row({ observed: { 'us-east-1': { relationshipStatus: 'Enabled', lastAction: 'accept', at: '2026-11-01T00:00:00Z' } } });
    expect(observationsToRecord([on(inSync, current)], AT).size).toBe(0);
  });

  it('records a status that changed without any action of ours, keeping the last action', () => {
    const resigned = outcome({ item: item({ observedStatus: 'Invited', verdict: 'pending', actions: [] }), status: 'noop', completed: [] });
    const current = row({ observed: { 'us-east-1': { relationshipStatus: 'Created', lastAction: 'invite', at: '2026-11-01T00:00:00Z' } } });
    expect(observationsToRecord([on(resigned, current)], AT).get('222222222201')).toEqual({
      'us-east-1': { relationshipStatus: 'Invited', lastAction: 'invite', at: AT },
    });
  });

  it('leaves a deferred item untouched so the next run sees it as this one did', () => {
    const deferred = outcome({ status: 'deferred', completed: [] });
    expect(observationsToRecord([on(deferred, row())], AT).size).toBe(0);
  });

  it('marks a planner dead letter once', () => {
    const bouncing = outcome({
      item: item({ observedStatus: 'EmailVerificationFailed', verdict: 'deadLetter', reason: 'fix the email', actions: [] }),
      status: 'noop',
      completed: [],
    });
    const first = observationsToRecord([on(bouncing, row())], AT).get('222222222201')?.['us-east-1'];
    expect(first).toEqual({ relationshipStatus: 'EmailVerificationFailed', lastAction: 'deadLetter', lastError: 'fix the email', at: AT });
    const again = observationsToRecord([on(bouncing, row({ observed: { 'us-east-1': first! } }))], AT);
    expect(again.size).toBe(0);
  });

  it('does not mark a planner dead letter as sent when publishing failed, so the next run sends it', () => {
    const bouncing = outcome({
      item: item({ observedStatus: 'EmailVerificationFailed', verdict: 'deadLetter', reason: 'fix the email', actions: [] }),
      status: 'noop',
      completed: [],
    });
    const [letter] = deadLettersFor([on(bouncing, row())], AT);
    expect(observationsToRecord([on(bouncing, row())], AT, { unsent: [letter!] }).size).toBe(0);
    expect(observationsToRecord([on(bouncing, row())], AT, { unsent: [{ ...letter!, region: 'eu-west-1' }] }).size).toBe(1);
  });

  it('never records unmanaged members (they have no row)', () => {
    expect(observationsToRecord([on(outcome(), undefined)], AT).size).toBe(0);
  });
});

describe('deadLettersFor', () => {
  it('turns an unprocessed account into a replayable enroll request that keeps every desired region', () => {
    const failed = outcome({
      status: 'failed',
      completed: ['createMember'],
      failure: { action: 'invite', operation: 'CreateInvitations', code: 'InternalError', message: 'try again', attempts: 1 },
    });
    const [letter] = deadLettersFor([on(failed, row())], AT);
    expect(letter).toMatchObject({
      reason: 'unprocessed-account',
      operation: 'CreateInvitations',
      errorCode: 'InternalError',
      region: 'us-east-1',
      attempts: 1,
      at: AT,
    });
    expect(JSON.parse(deadLetterBody(letter!))).toMatchObject({
      action: 'enroll',
      accountId: '222222222201',
      email: 'owner@example.com',
      tags: { Team: 'a' },
      requestId: 'req-1',
      reason: 'unprocessed-account',
      region: 'us-east-1',
    });
    expect(JSON.parse(deadLetterBody(letter!))).not.toHaveProperty('regions');
  });

  it('dead-letters a failed removal as a remove request', () => {
    const failed = outcome({
      item: item({ desiredState: 'absent', observedStatus: 'Enabled', actions: [{ kind: 'disassociateMember', leaves: 'Removed' }, { kind: 'deleteMember', leaves: 'NotListed' }] }),
      status: 'failed',
      completed: [],
      failure: { action: 'disassociateMember', operation: 'DisassociateMember', code: 'ThrottlingException', message: 'Rate exceeded', attempts: 8 },
    });
    const [letter] = deadLettersFor([on(failed, row({ desiredState: 'absent' }))], AT);
    expect(letter?.request).toMatchObject({ action: 'remove', accountId: '222222222201' });
    expect(letter).toMatchObject({ reason: 'action-failed', attempts: 8, errorCode: 'ThrottlingException' });
  });

  it('dead-letters planner verdicts that need an operator', () => {
    const bouncing = outcome({
      item: item({ observedStatus: 'EmailVerificationFailed', verdict: 'deadLetter', reason: 'fix the email', actions: [] }),
      status: 'noop',
      completed: [],
    });
    expect(deadLettersFor([on(bouncing, row())], AT)).toEqual([
      expect.objectContaining({ reason: 'needs-operator', operation: 'plan', errorCode: 'EmailVerificationFailed', errorMessage: 'fix the email' }),
    ]);
  });

  it('sends nothing for successes', () => {
    expect(deadLettersFor([on(outcome(), row())], AT)).toEqual([]);
  });
});

describe('requestFromInvalidInput', () => {
  it('keeps an object so an operator can correct it', () => {
    expect(requestFromInvalidInput('{"action":"enroll","accountId":"123"}')).toEqual({ action: 'enroll', accountId: '123' });
  });

  it('keeps non-JSON text as raw input', () => {
    expect(requestFromInvalidInput('not json')).toEqual({ rawInput: 'not json' });
  });

  it('truncates enormous input', () => {
    const huge = 'x'.repeat(300_000);
    const kept = requestFromInvalidInput(huge);
    expect(String(kept.rawInput).length).toBe(16 * 1024);
    expect(kept.rawInputTruncatedFrom).toBe(300_000);
  });
});

describe('summarizeRun', () => {
  it('counts verdicts, outcomes and actions', () => {
    const failed = outcome({
      item: item({ region: 'eu-west-1' }),
      status: 'failed',
      completed: ['createMember'],
      failure: { action: 'invite', operation: 'CreateInvitations', code: 'ClientError', message: 'x', attempts: 1 },
    });
    const summary = summarizeRun({ trigger: 'schedule', outcomes: [outcome(), failed], unmanaged: 2, unobserved: [], corruptRows: [], deadLettered: 1, durationMs: 5 });
    expect(summary).toMatchObject({
      accounts: 1,
      regions: 2,
      planned: 2,
      unmanaged: 2,
      deadLettered: 1,
      byOutcome: { done: 1, failed: 1 },
      byVerdict: { change: 2 },
      byAction: { createMember: { attempted: 2, succeeded: 2, failed: 0 }, invite: { attempted: 2, succeeded: 1, failed: 1 } },
    });
    expect(summary.failures).toEqual([{ accountId: '222222222201', region: 'eu-west-1', action: 'invite', code: 'ClientError', message: 'x' }]);
  });
});

describe('failure episodes', () => {
  const HOUR = 3_600_000;
  const episodes = { quietPeriodMs: 24 * HOUR };
  const roleMissing = { action: 'accept' as const, operation: 'AssumeRole', code: 'AccessDenied', message: 'not authorized', attempts: 1 };
  const failedWith = (letterSent?: { episode: string; at: string }, failure = roleMissing) =>
    outcome({
      item: item({ row: row({ observed: letterSent ? { 'us-east-1': { relationshipStatus: 'Invited', lastAction: 'accept', letterSent, at: letterSent.at } } : {} }) }),
      status: 'failed',
      completed: ['createMember', 'invite'],
      failure,
    });

  it('dead-letters a failure once per episode within the quiet period, and again after it', () => {
    const first = failedWith();
    expect(deadLettersFor([first], AT, episodes)).toHaveLength(1);
    const recorded = observationsToRecord([first], AT, { episodes }).get('222222222201')?.['us-east-1'];
    expect(recorded?.letterSent).toEqual({ episode: 'AssumeRole/AccessDenied', at: AT });

    const anHourLater = new Date(Date.parse(AT) + HOUR).toISOString();
    const again = failedWith(recorded!.letterSent);
    expect(isKnownFailure(again, anHourLater, episodes)).toBe(true);
    expect(deadLettersFor([again], anHourLater, episodes)).toEqual([]);
    // The episode's letter mark stays as it was, so the quiet period counts from the letter.
    expect(observationsToRecord([again], anHourLater, { episodes }).get('222222222201')?.['us-east-1']?.letterSent).toEqual(recorded!.letterSent);

    const aDayLater = new Date(Date.parse(AT) + 24 * HOUR).toISOString();
    expect(deadLettersFor([again], aDayLater, episodes)).toHaveLength(1);
  });

  it('dead-letters a new cause at once, whatever the quiet period', () => {
    const other = failedWith({ episode: 'AssumeRole/AccessDenied', at: AT }, { ...roleMissing, operation: 'AcceptInvitation', code: 'ValidationException' });
    expect(isKnownFailure(other, AT, episodes)).toBe(false);
    expect(deadLettersFor([other], AT, episodes)).toHaveLength(1);
  });

  it('marks no letter for a failure whose letter the queue would not take, so the next run writes it', () => {
    const first = failedWith();
    const [letter] = deadLettersFor([first], AT, episodes);
    expect(observationsToRecord([first], AT, { unsent: [letter!], episodes }).get('222222222201')?.['us-east-1']).not.toHaveProperty('letterSent');
  });

  it('counts new and known failures apart in the run summary', () => {
    const summary = summarizeRun({
      trigger: 'schedule',
      outcomes: [failedWith(), failedWith()],
      unmanaged: 0,
      unobserved: [],
      corruptRows: [],
      deadLettered: 1,
      knownFailures: 1,
      durationMs: 1,
    });
    expect(summary).toMatchObject({ failuresNew: 1, failuresKnown: 1 });
  });
});
