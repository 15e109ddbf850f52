import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseMembershipRequestBody, type MembershipRequest, type RequestParseResult } from '#shared/domain/requests';
import { invalidInputLetter, recordMembershipRequest } from '#shared/intake';
import { deadlineBudget, getLambdaRuntime } from '#shared/lambda/runtime';
import { logger, metrics } from '#shared/powertools';

const processor = new BatchProcessor(EventType.SQS);

export class AccountNotReconciledError extends Error {
  override readonly name = 'AccountNotReconciledError';
}

/**
 * Enroll/remove requests from an account-vending pipeline. An invalid request is dead-lettered
 * and counts as handled; a request whose processing throws is reported in `batchItemFailures`
 * so SQS delivers it again, and the rest of the batch is unaffected.
 */
export async function requestsHandler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { config, store, deadLetters, reconciler } = getLambdaRuntime();
  const requestContext = { administratorAccountId: config.administratorAccountId, managedRegions: config.managedRegions };
  // The batch's records run at once, but two requests for one account run one after the other, in
  // batch order: each merges with the row the one before it wrote (fields a request leaves out keep
  // the row's values), and the second reconcile finds the first one's work done instead of racing it.
  const inFlightByAccount = new Map<string, Promise<unknown>>();

  const processRecord = async (record: SQSRecord): Promise<void> => {
    const parsed = parseMembershipRequestBody(record.body, requestContext);
    if (!parsed.ok) return deadLetterInvalid(record, parsed);
    const { accountId } = parsed.request;
    const previous = inFlightByAccount.get(accountId) ?? Promise.resolve();
    const processing = previous.catch(() => undefined).then(() => processRequest(record, parsed.request));
    inFlightByAccount.set(accountId, processing);
    await processing;
  };

  const deadLetterInvalid = async (record: SQSRecord, parsed: Extract<RequestParseResult, { ok: false }>): Promise<void> => {
    logger.warn('Invalid request dead-lettered', { messageId: record.messageId, issues: parsed.issues });
    metrics.addMetric('RequestsInvalid', MetricUnit.Count, 1);
    await deadLetters.publish([invalidInputLetter(record.body, parsed.summary, new Date().toISOString())]);
  };

  const processRequest = async (record: SQSRecord, request: MembershipRequest): Promise<void> => {
    const { result } = await recordMembershipRequest(store, request, {
      requestedBy: 'sqs',
      requestedAt: new Date(Number(record.attributes.SentTimestamp) || Date.now()).toISOString(),
      fallbackRequestId: record.messageId,
    });
    metrics.addMetric(result === 'written' ? 'RequestsRecorded' : 'RequestsSuperseded', MetricUnit.Count, 1);
    logger.info('Membership request recorded', { messageId: record.messageId, accountId: request.accountId, action: request.action, write: result });
    const report = await reconciler.reconcile({
      trigger: 'requests',
      accountIds: [request.accountId],
      budget: deadlineBudget(context, config.deadlineSafetyMs),
    });
    const unobserved = report.unobserved.find((entry) => entry.accountId === request.accountId || entry.accountId === undefined);
    if (unobserved) {
      throw new AccountNotReconciledError(
        `Could not read the membership of ${request.accountId} in ${unobserved.region}: ${unobserved.code}`,
      );
    }
  };

  return processPartialResponse(event, processRecord, processor, { context });
}

export const handler = middy(requestsHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
