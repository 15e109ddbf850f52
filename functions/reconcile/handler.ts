import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { RunSummary } from '#shared/domain/outcomes';
import type { FleetPlanSummary } from '#shared/fleet-planner';
import { deadlineBudget, getLambdaRuntime, reportFleetPlanWithPowertools, reportSyncWithPowertools } from '#shared/lambda/runtime';
import { logger, metrics } from '#shared/powertools';
import { runScheduledReconcile } from '#shared/scheduled-run';

/** Scheduled drift correction (`shared/scheduled-run.ts`): fanned out over the work queue when there is one, else here. */
export async function reconcileHandler(_event: ScheduledEvent, context: Context): Promise<RunSummary | FleetPlanSummary> {
  const runtime = getLambdaRuntime();
  return runScheduledReconcile(runtime, deadlineBudget(context, runtime.config.deadlineSafetyMs), {
    sync: reportSyncWithPowertools,
    fleetPlan: reportFleetPlanWithPowertools,
  });
}

export const handler = middy(reconcileHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
