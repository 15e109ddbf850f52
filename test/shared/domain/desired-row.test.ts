import { describe, expect, it } from 'vitest';
import { replayRequestFor } from '#shared/domain/dead-letters';
import { DESIRED_FIELDS, DESIRED_ROW_DEFAULTS, ENROLL_REQUEST_FIELDS, readDesiredRow } from '#shared/domain/desired-row';
import { desiredMemberFromRequest } from '#shared/domain/requests';

const stored = {
  accountId: '222222222201',
  desiredState: 'member',
  email: 'owner@example.com',
  regions: ['us-east-1'],
  tags: { Team: 'a' },
  autoAccept: false,
  paused: true,
  invitationMessage: 'Welcome',
  requestedBy: 'sqs',
  requestedAt: '2026-11-21T10:00:00.000Z',
  requestId: 'r1',
  observed: { 'us-east-1': { relationshipStatus: 'Invited', lastAction: 'invite', at: 't' } },
  version: 3,
};

describe('readDesiredRow', () => {
  it('reads a stored row as it is', () => {
    expect(readDesiredRow(stored)).toEqual({ ok: true, row: stored });
  });

  it('gives an attribute a hand-written row leaves out its documented default', () => {
    const reading = readDesiredRow({ accountId: '222222222201', desiredState: 'absent' });
    expect(reading).toEqual({ ok: true, row: { accountId: '222222222201', desiredState: 'absent', ...DESIRED_ROW_DEFAULTS } });
  });

  it('reads "" as no request id, as the store writes it', () => {
    const reading = readDesiredRow({ ...stored, requestId: '' });
    expect(reading.ok && 'requestId' in reading.row).toBe(false);
  });

  it('reads back every status the reconciler records, Unrecognized included', () => {
    for (const relationshipStatus of ['Unrecognized', 'NotListed', 'AccountSuspended']) {
      const reading = readDesiredRow({ ...stored, observed: { 'us-east-1': { relationshipStatus, at: 't' } } });
      expect(reading.ok, relationshipStatus).toBe(true);
    }
  });

  it('reads tags written before a request rule tightened (AWS tag characters) rather than turning the row corrupt', () => {
    const reading = readDesiredRow({ ...stored, tags: { CostCenter: 'R&D #42', constructor: 'x' } });
    expect(reading.ok && reading.row.tags).toEqual({ CostCenter: 'R&D #42', constructor: 'x' });
  });

  it('reports observations that are not a map of region to observation', () => {
    const reading = readDesiredRow({ ...stored, observed: ['us-east-1'] });
    expect(reading.ok ? [] : reading.corrupt.problems).toEqual([
      { field: 'observed', rule: 'type', message: 'observed must be a map of region to observation, got an array of 1 item' },
    ]);
  });

  it('reports a desiredState typo instead of reading it as a member', () => {
    expect(readDesiredRow({ ...stored, desiredState: 'absnet' })).toEqual({
      ok: false,
      corrupt: {
        accountId: '222222222201',
        problems: [{ field: 'desiredState', rule: 'oneOf', message: 'desiredState must be "member" or "absent", got "absnet"' }],
      },
    });
  });

  it('reports every wrong value, field and rule, with emails masked', () => {
    const reading = readDesiredRow({
      ...stored,
      accountId: '2222',
      desiredState: undefined,
      email: 42,
      autoAccept: 'yes',
      regions: [],
      tags: { Team: 7 },
      observed: { 'us-east-1': { relationshipStatus: 'Enabeld', at: 't' } },
      version: 'one',
      requestedBy: 'cli:owner@example.com',
      requestId: ['owner@example.com'],
    });
    expect(reading.ok).toBe(false);
    if (reading.ok) return;
    expect(reading.corrupt.accountId).toBe('2222');
    expect(reading.corrupt.problems.map(({ field, rule }) => `${field} ${rule}`)).toEqual([
      'accountId pattern',
      'desiredState required',
      'email type',
      'regions nonEmpty',
      'tags.Team type',
      'autoAccept type',
      'requestId type',
      'observed["us-east-1"].relationshipStatus oneOf',
      'version type',
    ]);
    expect(reading.corrupt.problems.find((problem) => problem.field === 'autoAccept')?.message).toBe('autoAccept must be true or false, got "yes"');
    expect(JSON.stringify(reading.corrupt)).not.toContain('owner@example.com');
  });
});

describe('fields derived from the row schema', () => {
  it('lists what a desired write owns: everything but the key, the observations and the version', () => {
    expect([...DESIRED_FIELDS].sort()).toEqual(Object.keys(stored).filter((key) => !['accountId', 'observed', 'version'].includes(key)).sort());
  });

  it('gives a new row from a request the same defaults a stored row gets', () => {
    const row = desiredMemberFromRequest({ action: 'enroll', accountId: '222222222201', email: 'owner@example.com' }, { requestedBy: 'sqs', requestedAt: 't' });
    expect(row).toMatchObject({ tags: DESIRED_ROW_DEFAULTS.tags, autoAccept: true, paused: false, observed: {}, version: 0 });
  });

  it('replays an enrolled row as an enroll naming every field a request names, and a removed row as a remove', () => {
    const row = readDesiredRow(stored);
    if (!row.ok) throw new Error('unreadable');
    const enroll = replayRequestFor(row.row);
    expect(Object.keys(enroll).sort()).toEqual(['accountId', 'action', ...ENROLL_REQUEST_FIELDS].sort());
    expect(enroll).toMatchObject({ action: 'enroll', regions: ['us-east-1'], tags: { Team: 'a' }, autoAccept: false, paused: true });
    expect(replayRequestFor({ ...row.row, desiredState: 'absent', email: '' })).toEqual({ action: 'remove', accountId: '222222222201', requestId: 'r1' });
  });
});
