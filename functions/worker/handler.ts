import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deadlineBudget, getLambdaRuntime, lambdaWorkerPorts, workerReporter } from '#shared/lambda/runtime';
import { logger, metrics } from '#shared/powertools';
import { workerSettings } from '#shared/runtime';
import { takeInWorkUnits } from '#shared/worker-batch';

/**
 * The fan-out's worker: runs the work units the scheduled run queued, one region's units one after
 * another (the queue's message group). A unit stopped by the deadline re-queues its remainder at once.
 */
export async function workerHandler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { config } = getLambdaRuntime();
  return takeInWorkUnits(event, lambdaWorkerPorts(), workerSettings(config), deadlineBudget(context, config.deadlineSafetyMs), workerReporter);
}

export const handler = middy(workerHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
