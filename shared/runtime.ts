import type { ServiceConfig } from '#shared/config';
import { DEFAULT_UNIT_LIMITS } from '#shared/domain/work-units';
import { SqsDeadLetterPublisher } from '#shared/deadletter/publisher';
import type { DeadLetterPublisher, DesiredMembershipStore, FleetRunLog, MacieAdministrator, MemberAccountAcceptor, OrganizationDirectory, WorkQueue } from '#shared/ports';
import { SdkMacieAdministrator } from '#shared/macie/administrator';
import { SdkMemberAccountAcceptor } from '#shared/macie/member-account';
import { createOrganizationDirectory } from '#shared/organizations/accounts';
import type { OrganizationSyncSettings } from '#shared/organization-sync';
import { Reconciler, type ReconcilerPorts, type ReconcilerSettings } from '#shared/reconciler';
import { DynamoDesiredMembershipStore } from '#shared/store/desired-members';
import { DynamoFleetRunLog } from '#shared/store/fleet-runs';
import type { FleetPlannerSettings } from '#shared/fleet-planner';
import type { WorkerSettings } from '#shared/work-unit-runner';
import { SqsWorkQueue } from '#shared/workqueue/sqs-work-queue';

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
  /** The latest fleet run's record (`status` reads it; the fan-out writes it). */
  runs: FleetRunLog;
  /** The fan-out's work queue; absent when the scheduled run works in one invocation. */
  workQueue: WorkQueue | undefined;
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
  const runs = new DynamoFleetRunLog(config.desiredMembersTable, clientSettings);
  const workQueue = config.fanOut.workQueueUrl ? new SqsWorkQueue(config.fanOut.workQueueUrl, clientSettings) : undefined;
  return { config, store, deadLetters, macie, acceptor, organization, reconciler, runs, workQueue };
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

/** The fan-out planner's part of the configuration. */
export function fleetPlannerSettings(config: Readonly<ServiceConfig>): FleetPlannerSettings {
  const { leaseMs: _leaseMs, ...settings } = reconcilerSettings(config);
  return { ...settings, unitLimits: { ...DEFAULT_UNIT_LIMITS, maxItems: config.fanOut.unitSize } };
}

/** The worker's part of the configuration. */
export function workerSettings(config: Readonly<ServiceConfig>): WorkerSettings {
  const { administratorAccountId, invitation, concurrency, leaseMs, deadLetterQuietPeriodMs } = reconcilerSettings(config);
  return { administratorAccountId, invitation, concurrency, leaseMs, deadLetterQuietPeriodMs };
}
