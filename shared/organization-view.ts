/**
 * What a run reads of the organization: where the administrator is the delegated Macie
 * administrator, and which accounts are active in the organization. The domain says what the
 * answers mean (`#shared/domain/organization`); this reads them.
 */
import pLimit from 'p-limit';
import type { OrganizationConfiguration, OrganizationView } from '#shared/domain/organization';
import { isActiveAccount, isNotOrganizationAdministrator, isOrganizationUnavailable, isOutsideOrganization } from '#shared/domain/organization';
import type { Unobserved } from '#shared/domain/types';
import { type AwsCallError, toAwsCallError } from '#shared/errors';
import type { MacieAdministrator, OrganizationAccount, OrganizationDirectory } from '#shared/ports';

export interface OrganizationReadPorts {
  macie: Pick<MacieAdministrator, 'describeOrganizationConfiguration'>;
  organization: OrganizationDirectory;
}

export interface OrganizationReadSettings {
  managedRegions: readonly string[];
  concurrency: { administratorCallsPerRegion: number };
}

type Unread = { accountId?: string; failure: AwsCallError };

function unobservedFrom(region: string, accountId: string | undefined, { operation, code, message }: AwsCallError): Unobserved {
  return { region, ...(accountId ? { accountId } : {}), operation, code, message };
}

/**
 * Asks Macie per region (it answers access-denied where the administrator is not the delegated
 * one), then, where it is, reads the active accounts: the whole list for a full run, the named
 * accounts for a targeted one. An answer that is not a plain "no" leaves what it covers
 * unobserved: planning an account of the organization as an outsider would invite it.
 */
export async function observeOrganization(
  ports: OrganizationReadPorts,
  settings: OrganizationReadSettings,
  accountIds: readonly string[] | undefined,
  /** The organization's accounts, when the caller listed them moments ago (the table sync): not listed again. */
  knownAccounts?: readonly OrganizationAccount[],
): Promise<{ view: OrganizationView; unobserved: Unobserved[] }> {
  const unobserved: Unobserved[] = [];
  const administeredRegions = new Map<string, OrganizationConfiguration>();
  await Promise.all(
    settings.managedRegions.map(async (region) => {
      try {
        administeredRegions.set(region, await ports.macie.describeOrganizationConfiguration(region));
      } catch (error) {
        const failure = toAwsCallError('DescribeOrganizationConfiguration', error);
        if (!isNotOrganizationAdministrator(failure.code)) unobserved.push(unobservedFrom(region, undefined, failure));
      }
    }),
  );
  const activeAccounts = new Map<string, string>();
  // An administrator that is delegated nowhere has no use for the organization's accounts.
  if (administeredRegions.size > 0) {
    const unread =
      accountIds === undefined
        ? await readOrganization(ports.organization, activeAccounts, knownAccounts)
        : await readAccounts(ports.organization, accountIds, activeAccounts, settings.concurrency.administratorCallsPerRegion);
    for (const { accountId, failure } of unread) {
      for (const region of administeredRegions.keys()) unobserved.push(unobservedFrom(region, accountId, failure));
    }
  }
  return { view: { administeredRegions, activeAccounts }, unobserved };
}

/** Every active account; a failure that is not "no organization here" leaves every administered region unread. */
async function readOrganization(directory: OrganizationDirectory, active: Map<string, string>, known: readonly OrganizationAccount[] | undefined): Promise<Unread[]> {
  try {
    for (const account of known ?? (await directory.listAccounts())) if (isActiveAccount(account.status)) active.set(account.accountId, account.email);
    return [];
  } catch (error) {
    const failure = toAwsCallError('ListAccounts', error);
    return isOrganizationUnavailable(failure.code) ? [] : [{ failure }];
  }
}

/** The named accounts; one outside the organization is simply not active, one unreadable is unobserved. */
async function readAccounts(directory: OrganizationDirectory, accountIds: readonly string[], active: Map<string, string>, concurrency: number): Promise<Unread[]> {
  const limit = pLimit(concurrency);
  const unread: Unread[] = [];
  await Promise.all(
    [...new Set(accountIds)].map((accountId) =>
      limit(async () => {
        try {
          const account = await directory.describeAccount(accountId);
          if (isActiveAccount(account.status)) active.set(accountId, account.email);
        } catch (error) {
          const failure = toAwsCallError('DescribeAccount', error);
          if (!isOutsideOrganization(failure.code) && !isOrganizationUnavailable(failure.code)) unread.push({ accountId, failure });
        }
      }),
    ),
  );
  return unread;
}
