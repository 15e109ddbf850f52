/**
 * The optional table sync: before the scheduled run, the desired table is brought in line with the
 * organization's active accounts (docs/organizations.md). What to change is the domain's
 * (`planTableSync`); this reads the organization and the table, and records the changes as requests
 * would be, so a newer request for an account always wins over the sync.
 */
import pLimit from 'p-limit';
import { ORGANIZATION_SYNC_ORIGIN } from '#shared/domain/organization';
import type { MembershipRequest } from '#shared/domain/requests';
import { planTableSync, type SyncScope, type TableSyncChange } from '#shared/domain/table-sync';
import { toAwsCallError } from '#shared/errors';
import { recordMembershipRequest } from '#shared/intake';
import type { DesiredMembershipStore, OrganizationAccount, OrganizationDirectory } from '#shared/ports';

export interface OrganizationSyncPorts {
  store: DesiredMembershipStore;
  organization: OrganizationDirectory;
  now: () => Date;
}

export interface OrganizationSyncSettings {
  administratorAccountId: string;
  scope: SyncScope;
}

export interface OrganizationSyncReport {
  changes: TableSyncChange[];
  /** Why nothing was synced, when the organization or the table could not be read: the run goes on without the sync. */
  unread?: { operation: string; code: string; message: string };
  recorded: number;
  /** Changes a newer request for the account superseded. */
  superseded: number;
  failed: Array<{ accountId: string; code: string; message: string }>;
  /** The organization's accounts as the sync listed them: the run that follows plans from them rather than list them again. */
  accounts?: readonly OrganizationAccount[];
}

/** What the sync would change, changing nothing (`plan` shows it), and the accounts it read. */
export async function planOrganizationSync(
  ports: Omit<OrganizationSyncPorts, 'now'>,
  settings: OrganizationSyncSettings,
): Promise<{ changes: TableSyncChange[]; accounts: readonly OrganizationAccount[] }> {
  const [{ rows, corrupt }, accounts, organization] = await Promise.all([
    ports.store.listAll(),
    ports.organization.listAccounts(),
    ports.organization.describeOrganization(),
  ]);
  const changes = planTableSync({
    rows,
    corruptAccounts: corrupt.map((row) => row.accountId),
    accounts,
    scope: settings.scope,
    administratorAccountId: settings.administratorAccountId,
    managementAccountId: organization.managementAccountId || undefined,
  });
  return { changes, accounts };
}

// Each change is one conditional single-item write; this bounds a first sync of a large organization.
const WRITE_CONCURRENCY = 16;

/**
 * Records the sync's changes; one that fails is reported and tried again by the next sync. Never
 * throws: a sync that cannot read the organization says so, and the scheduled run reconciles the
 * table as it stands.
 */
export async function syncTableWithOrganization(ports: OrganizationSyncPorts, settings: OrganizationSyncSettings): Promise<OrganizationSyncReport> {
  let changes: TableSyncChange[];
  let accounts: readonly OrganizationAccount[];
  try {
    ({ changes, accounts } = await planOrganizationSync(ports, settings));
  } catch (error) {
    const { operation, code, message } = toAwsCallError('ListAccounts', error);
    return { changes: [], unread: { operation, code, message }, recorded: 0, superseded: 0, failed: [] };
  }
  const requestedAt = ports.now().toISOString();
  const report: OrganizationSyncReport = { changes, recorded: 0, superseded: 0, failed: [], accounts };
  const limit = pLimit(WRITE_CONCURRENCY);
  await Promise.all(
    changes.map((change) =>
      limit(async () => {
        const request: MembershipRequest =
          change.kind === 'enroll' ? { action: 'enroll', accountId: change.accountId, email: change.email } : { action: 'remove', accountId: change.accountId };
        try {
          const { result } = await recordMembershipRequest(ports.store, request, { requestedBy: ORGANIZATION_SYNC_ORIGIN, requestedAt });
          report[result === 'written' ? 'recorded' : 'superseded'] += 1;
        } catch (error) {
          const { code, message } = toAwsCallError('UpdateItem', error);
          report.failed.push({ accountId: change.accountId, code, message });
        }
      }),
    ),
  );
  return report;
}
