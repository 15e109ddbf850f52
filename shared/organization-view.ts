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
 * The organization read so far, page by page: the regions are all known (they are asked first),
 * the active accounts only up to this page. `added` are the accounts this page found active.
 */
export interface OrganizationReadProgress {
  view: OrganizationView;
  unobserved: readonly Unobserved[];
  added: readonly string[];
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
  /** Told after each page of a full listing (not for known accounts or named ones). */
  onProgress?: (progress: OrganizationReadProgress) => void,
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
  const view = { administeredRegions, activeAccounts };
  // An administrator that is delegated nowhere has no use for the organization's accounts.
  if (administeredRegions.size > 0) {
    const onActive = onProgress && ((added: readonly string[]) => onProgress({ view, unobserved, added }));
    const unread =
      accountIds === undefined
        ? await readOrganization(ports.organization, activeAccounts, knownAccounts, onActive)
        : await readAccounts(ports.organization, accountIds, activeAccounts, settings.concurrency.administratorCallsPerRegion);
    for (const { accountId, failure } of unread) {
      for (const region of administeredRegions.keys()) unobserved.push(unobservedFrom(region, accountId, failure));
    }
  }
  return { view, unobserved };
}

/** Every active account; a failure that is not "no organization here" leaves every administered region unread. */
async function readOrganization(
  directory: OrganizationDirectory,
  active: Map<string, string>,
  known: readonly OrganizationAccount[] | undefined,
  onActive: ((added: readonly string[]) => void) | undefined,
): Promise<Unread[]> {
  const keepActive = (accounts: readonly OrganizationAccount[]) => {
    const added = accounts.filter((account) => isActiveAccount(account.status)).map((account) => account.accountId);
    for (const account of accounts) if (isActiveAccount(account.status)) active.set(account.accountId, account.email);
    return added;
  };
  try {
    if (known) {
      keepActive(known);
      return [];
    }
    const onPage = onActive && ((page: readonly OrganizationAccount[]) => onActive(keepActive(page)));
    keepActive(await directory.listAccounts(onPage));
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
