import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { RunSummary } from '#shared/domain/outcomes';
import { planFleetRun, type FleetPlanSummary } from '#shared/fleet-planner';
import { deadlineBudget, getLambdaRuntime, reportFleetPlanWithPowertools, reportSyncWithPowertools } from '#shared/lambda/runtime';
import { syncTableWithOrganization } from '#shared/organization-sync';
import { logger, metrics } from '#shared/powertools';
import { fleetPlannerSettings, organizationSyncSettings } from '#shared/runtime';

/**
 * Scheduled drift correction: the table synced from the organization (when on), then every desired
 * account in every managed region: fanned out over the work queue when there is one, else here.
 */
export async function reconcileHandler(_event: ScheduledEvent, context: Context): Promise<RunSummary | FleetPlanSummary> {
  const runtime = getLambdaRuntime();
  const { reconciler, config, store, organization, workQueue } = runtime;
  const sync = config.organizationSync.enabled
    ? await syncTableWithOrganization({ store, organization, now: () => new Date() }, organizationSyncSettings(config))
    : undefined;
  if (sync) reportSyncWithPowertools(sync);
  if (workQueue) {
    const summary = await planFleetRun({ ...runtime, workQueue }, fleetPlannerSettings(config), { trigger: 'schedule', organizationAccounts: sync?.accounts });
    reportFleetPlanWithPowertools(summary);
    return summary;
  }
  const { summary } = await reconciler.reconcile({
    trigger: 'schedule',
    organizationAccounts: sync?.accounts,
    budget: deadlineBudget(context, config.deadlineSafetyMs),
  });
  return summary;
}

export const handler = middy(reconcileHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
