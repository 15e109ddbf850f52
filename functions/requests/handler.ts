import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { takeInRequestBatch } from '#shared/intake';
import { lambdaIntakePorts, lambdaIntakeSettings } from '#shared/lambda/runtime';
import { logger, metrics } from '#shared/powertools';

/**
 * Enroll/remove requests from an account-vending pipeline: each request recorded (or dead-lettered
 * when invalid), then the recorded accounts reconciled together. A request that could not be
 * recorded or reconciled is reported in `batchItemFailures`, so SQS delivers it again.
 */
export async function requestsHandler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return takeInRequestBatch(event, lambdaIntakePorts(), lambdaIntakeSettings(context));
}

export const handler = middy(requestsHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
