/**
 * The table from the organization: which rows the optional sync adds and removes so that the
 * desired table holds the organization's active accounts (docs/organizations.md). Pure.
 *
 * The sync only ever adds a row where the table has none (or one the organization itself took out),
 * and only removes rows the organization brought in: an operator's removal of an account, or an
 * outsider an operator enrolled, is never undone by it.
 */
import { isActiveAccount, leavesWithOrganization, removedWithOrganization } from '#shared/domain/organization';
import type { DesiredMember } from '#shared/domain/types';

export interface SyncScope {
  /** Only these accounts, when not empty. */
  includeAccounts: ReadonlySet<string>;
  excludeAccounts: ReadonlySet<string>;
}

export interface SyncAccount {
  accountId: string;
  email: string;
  status: string | undefined;
}

export type TableSyncChange =
  | { kind: 'enroll'; accountId: string; email: string; reason: string }
  | { kind: 'remove'; accountId: string; reason: string };

export interface TableSyncInput {
  rows: readonly DesiredMember[];
  /** Accounts whose row is corrupt: neither added nor removed. */
  corruptAccounts: readonly string[];
  /** Every account the organization lists. */
  accounts: readonly SyncAccount[];
  scope: SyncScope;
  administratorAccountId: string;
  /** The management account: skipped unless `includeAccounts` names it. */
  managementAccountId: string | undefined;
}

/** The changes, in account order. */
export function planTableSync(input: TableSyncInput): TableSyncChange[] {
  const { scope, administratorAccountId, managementAccountId } = input;
  const rows = new Map(input.rows.map((row) => [row.accountId, row]));
  const corrupt = new Set(input.corruptAccounts);
  const inScope = (accountId: string): boolean => {
    if (accountId === administratorAccountId || scope.excludeAccounts.has(accountId)) return false;
    if (scope.includeAccounts.size > 0) return scope.includeAccounts.has(accountId);
    return accountId !== managementAccountId;
  };
  const active = input.accounts.filter((account) => isActiveAccount(account.status));

  const changes: TableSyncChange[] = [];
  for (const account of active) {
    const row = rows.get(account.accountId);
    // A row the organization itself took out (the account left, or was out of scope) is added back.
    if (!inScope(account.accountId) || (row && !removedWithOrganization(row)) || corrupt.has(account.accountId)) continue;
    const reason = row ? 'an active account of the organization again, after the organization took its row out' : 'an active account of the organization that the table does not hold';
    changes.push({ kind: 'enroll', accountId: account.accountId, email: account.email, reason });
  }
  // An organization that lists no active account at all is a failed read, not an empty organization
  // (the caller itself is in it): removing every row on it would take the whole fleet out of Macie.
  if (active.length > 0) {
    const listed = new Map(input.accounts.map((account) => [account.accountId, account]));
    const wanted = new Set(active.map((account) => account.accountId).filter(inScope));
    for (const row of rows.values()) {
      if (wanted.has(row.accountId) || !leavesWithOrganization(row)) continue;
      const account = listed.get(row.accountId);
      const why = !account
        ? 'no longer in the organization'
        : !isActiveAccount(account.status)
          ? `${account.status ?? 'not active'} in the organization`
          : 'outside the sync scope';
      changes.push({ kind: 'remove', accountId: row.accountId, reason: `brought in by the organization, and now ${why}` });
    }
  }
  return changes.sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
}
