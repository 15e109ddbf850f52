import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { RunSummary } from '#shared/domain/outcomes';
import { deadlineBudget, getLambdaRuntime } from '#shared/lambda/runtime';
import { logger, metrics } from '#shared/powertools';

/** Scheduled drift correction: every desired account in every managed region. */
export async function reconcileHandler(_event: ScheduledEvent, context: Context): Promise<RunSummary> {
  const { reconciler, config } = getLambdaRuntime();
  const { summary } = await reconciler.reconcile({
    trigger: 'schedule',
    budget: deadlineBudget(context, config.deadlineSafetyMs),
  });
  return summary;
}

export const handler = middy(reconcileHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
