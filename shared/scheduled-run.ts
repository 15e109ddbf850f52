import type { RunSummary } from '#shared/domain/outcomes';
import type { WorkBudget } from '#shared/executor';
import { planFleetRun, type FleetPlanSummary } from '#shared/fleet-planner';
import { syncTableWithOrganization, type OrganizationSyncReport } from '#shared/organization-sync';
import { fleetPlannerSettings, organizationSyncSettings, type ServiceRuntime } from '#shared/runtime';

export interface ScheduledRunReporters {
  sync: (report: OrganizationSyncReport) => void;
  /** The fan-out's plan; a run in one invocation reports through the reconciler's own port. */
  fleetPlan: (summary: FleetPlanSummary) => void;
}

/**
 * The scheduled run: the table synced from the organization (when on), then every desired account
 * in every managed region, fanned out over the work queue when there is one, else in this
 * invocation (stopping before its deadline).
 */
export async function runScheduledReconcile(runtime: ServiceRuntime, budget: WorkBudget, report: ScheduledRunReporters): Promise<RunSummary | FleetPlanSummary> {
  const { reconciler, config, store, organization, workQueue } = runtime;
  const sync = config.organizationSync.enabled
    ? await syncTableWithOrganization({ store, organization, now: () => new Date() }, organizationSyncSettings(config))
    : undefined;
  if (sync) report.sync(sync);
  if (workQueue) {
    const summary = await planFleetRun({ ...runtime, workQueue }, fleetPlannerSettings(config), { trigger: 'schedule', organizationAccounts: sync?.accounts });
    report.fleetPlan(summary);
    return summary;
  }
  const { summary } = await reconciler.reconcile({ trigger: 'schedule', organizationAccounts: sync?.accounts, budget });
  return summary;
}
