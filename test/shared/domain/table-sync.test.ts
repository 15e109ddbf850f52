import { describe, expect, it } from 'vitest';
import { ORGANIZATION_SYNC_ORIGIN } from '#shared/domain/organization';
import { planTableSync, type SyncAccount, type TableSyncInput } from '#shared/domain/table-sync';
import type { DesiredMember } from '#shared/domain/types';

const ADMIN = '111111111111';
const MANAGEMENT = '999999999999';

const account = (accountId: string, status = 'ACTIVE'): SyncAccount => ({ accountId, email: `${accountId}@example.com`, status });
const row = (accountId: string, overrides: Partial<DesiredMember> = {}): DesiredMember => ({
  accountId,
  desiredState: 'member',
  email: `${accountId}@example.com`,
  tags: {},
  autoAccept: true,
  paused: false,
  requestedBy: ORGANIZATION_SYNC_ORIGIN,
  requestedAt: '2026-11-01T00:00:00.000Z',
  observed: {},
  version: 1,
  ...overrides,
});

const input = (overrides: Partial<TableSyncInput> = {}): TableSyncInput => ({
  rows: [],
  corruptAccounts: [],
  accounts: [account(ADMIN), account(MANAGEMENT), account('222222222201'), account('222222222202')],
  scope: { includeAccounts: new Set(), excludeAccounts: new Set() },
  administratorAccountId: ADMIN,
  managementAccountId: MANAGEMENT,
  ...overrides,
});

const summary = (changes: ReturnType<typeof planTableSync>) => changes.map((change) => `${change.kind} ${change.accountId}`);

describe('planTableSync', () => {
  it('adds every active account the table lacks, with its email, skipping the administrator and the management account', () => {
    const changes = planTableSync(input());
    expect(summary(changes)).toEqual(['enroll 222222222201', 'enroll 222222222202']);
    expect(changes[0]).toMatchObject({ email: '222222222201@example.com' });
  });

  it('adds the management account only when the include list names it', () => {
    const changes = planTableSync(input({ scope: { includeAccounts: new Set([MANAGEMENT, '222222222201']), excludeAccounts: new Set() } }));
    expect(summary(changes)).toEqual(['enroll 222222222201', `enroll ${MANAGEMENT}`]);
  });

  it('never re-adds an account that has a row, whatever the row says (an operator removed it), nor one whose row is corrupt', () => {
    const removedByOperator = row('222222222201', { desiredState: 'absent', requestedBy: 'cli:alice' });
    expect(summary(planTableSync(input({ rows: [removedByOperator], corruptAccounts: ['222222222202'] })))).toEqual([]);
  });

  it('removes the rows the organization brought in once their account is gone, suspended or out of scope', () => {
    const rows = [row('222222222201'), row('222222222203'), row('222222222204', { requestedBy: 'event:aws.organizations' }), row('222222222202')];
    const accounts = [account(ADMIN), account('222222222201'), account('222222222202'), account('222222222204', 'SUSPENDED')];
    const changes = planTableSync(input({ rows, accounts, scope: { includeAccounts: new Set(), excludeAccounts: new Set(['222222222202']) } }));
    expect(changes.map(({ kind, accountId, reason }) => [kind, accountId, reason])).toEqual([
      ['remove', '222222222202', expect.stringContaining('outside the sync scope')],
      ['remove', '222222222203', expect.stringContaining('no longer in the organization')],
      ['remove', '222222222204', expect.stringContaining('SUSPENDED in the organization')],
    ]);
  });

  it("leaves an operator's rows alone: an outsider it enrolled stays", () => {
    const outsider = row('333333333301', { requestedBy: 'sqs' });
    expect(summary(planTableSync(input({ rows: [outsider] })))).toEqual(['enroll 222222222201', 'enroll 222222222202']);
  });

  it('removes nothing when the organization lists no active account: a failed read must not empty the table', () => {
    expect(summary(planTableSync(input({ rows: [row('222222222201')], accounts: [] })))).toEqual([]);
  });
});
