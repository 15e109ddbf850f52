import type { ServiceConfig } from '#shared/config';
import { SqsDeadLetterPublisher } from '#shared/deadletter/publisher';
import type { DeadLetterPublisher, DesiredMembershipStore, MacieAdministrator, MemberAccountAcceptor, OrganizationDirectory } from '#shared/ports';
import { SdkMacieAdministrator } from '#shared/macie/administrator';
import { SdkMemberAccountAcceptor } from '#shared/macie/member-account';
import { createOrganizationDirectory } from '#shared/organizations/accounts';
import type { OrganizationSyncSettings } from '#shared/organization-sync';
import { Reconciler, type ReconcilerPorts, type ReconcilerSettings } from '#shared/reconciler';
import { DynamoDesiredMembershipStore } from '#shared/store/desired-members';

/** What every function and the CLI need, wired once from the configuration. */
export interface ServiceRuntime {
  config: Readonly<ServiceConfig>;
  store: DesiredMembershipStore;
  deadLetters: DeadLetterPublisher;
  macie: MacieAdministrator;
  acceptor: MemberAccountAcceptor;
  /** The organization: which accounts Macie can add through Organizations, and new accounts' emails. */
  organization: OrganizationDirectory;
  reconciler: Reconciler;
}

export function createRuntime(config: Readonly<ServiceConfig>, report?: ReconcilerPorts['report']): ServiceRuntime {
  const clientSettings = { region: config.homeRegion, maxAttempts: config.maxAttempts };
  const store = new DynamoDesiredMembershipStore(config.desiredMembersTable, clientSettings);
  const deadLetters = new SqsDeadLetterPublisher(config.deadLetterQueueUrl, clientSettings);
  const macie = new SdkMacieAdministrator(config.maxAttempts);
  const acceptor = new SdkMemberAccountAcceptor({
    role: { ...config.memberRole, partition: config.partition },
    maxAttempts: config.maxAttempts,
    polling: config.acceptPolling,
  });
  const organization = createOrganizationDirectory(config);
  const reconciler = new Reconciler({ store, deadLetters, macie, acceptor, organization, report }, reconcilerSettings(config));
  return { config, store, deadLetters, macie, acceptor, organization, reconciler };
}

/** The table sync's part of the configuration. */
export function organizationSyncSettings(config: Readonly<ServiceConfig>): OrganizationSyncSettings {
  return {
    administratorAccountId: config.administratorAccountId,
    scope: { includeAccounts: new Set(config.organizationSync.includeAccounts), excludeAccounts: new Set(config.organizationSync.excludeAccounts) },
  };
}

/** The reconciler's part of the configuration. */
export function reconcilerSettings(config: Readonly<ServiceConfig>): ReconcilerSettings {
  return {
    administratorAccountId: config.administratorAccountId,
    managedRegions: config.managedRegions,
    pruneUnmanaged: config.pruneUnmanaged,
    leaseMs: config.leaseSeconds * 1000,
    deadLetterQuietPeriodMs: config.deadLetterQuietHours * 3_600_000,
    invitation: config.invitation,
    concurrency: config.concurrency,
    membershipMode: config.membershipMode,
    autoEnable: config.organizationAutoEnable,
  };
}
