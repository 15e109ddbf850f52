import { describe, expect, it } from 'vitest';
import { AwsCallError } from '#shared/errors';
import { syncTableWithOrganization } from '#shared/organization-sync';
import type { DesiredMembershipStore, OrganizationDirectory } from '#shared/ports';

/** The sync never stops the scheduled run: an organization it cannot read is reported, and nothing is written. */

describe('syncTableWithOrganization', () => {
  it('reports an organization it cannot read, writes nothing and does not throw', async () => {
    const writes: string[] = [];
    const store = {
      listAll: async () => ({ rows: [], corrupt: [] }),
      recordDesired: async (row: { accountId: string }) => {
        writes.push(row.accountId);
        return 'written' as const;
      },
    } as unknown as DesiredMembershipStore; // Only what the sync calls; the table's own behaviour is tested against the sandbox.
    const organization: OrganizationDirectory = {
      listAccounts: () => Promise.reject(new AwsCallError('ListAccounts', 'TooManyRequestsException', 'Rate exceeded', 8)),
      describeAccount: () => Promise.reject(new Error('not called')),
      describeOrganization: async () => ({ organizationId: 'o-example', managementAccountId: '999999999999' }),
    };

    const report = await syncTableWithOrganization(
      { store, organization, now: () => new Date('2026-11-30T12:00:00Z') },
      { administratorAccountId: '111111111111', scope: { includeAccounts: new Set(), excludeAccounts: new Set() } },
    );

    expect(report).toEqual({
      changes: [],
      unread: { operation: 'ListAccounts', code: 'TooManyRequestsException', message: 'Rate exceeded' },
      recorded: 0,
      superseded: 0,
      failed: [],
    });
    expect(writes).toEqual([]);
  });
});
