import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseMembershipRequestBody, type MembershipRequest } from '#shared/domain/requests';
import type { DesiredMember } from '#shared/domain/types';
import { toAwsCallError } from '#shared/errors';
import { invalidInputLetter, recordMembershipRequest } from '#shared/intake';
import { deadlineBudget, getLambdaRuntime } from '#shared/lambda/runtime';
import { accountsToRetry } from '#shared/reconciler';
import { logger, metrics } from '#shared/powertools';

const processor = new BatchProcessor(EventType.SQS);

/**
 * Enroll/remove requests from an account-vending pipeline, in two steps. First every request is
 * validated and recorded: an invalid one is dead-lettered and counts as handled; one that cannot be
 * recorded is reported in `batchItemFailures` so SQS delivers it again. Then one reconcile runs
 * over every recorded account together, so invitations go out in batches and the administrator's
 * concurrency limit holds for the whole batch; a request whose account could not be reconciled
 * (unreadable, or left for the deadline) is reported too. The rest of the batch is unaffected.
 */
export async function requestsHandler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { config, store, deadLetters, reconciler } = getLambdaRuntime();
  const requestContext = { administratorAccountId: config.administratorAccountId, managedRegions: config.managedRegions };
  const recordedAccounts = new Map<string, string>();
  // The newest row recorded per account, handed to the reconcile so that it does not read it again.
  const recordedRows = new Map<string, DesiredMember>();
  // Two requests for one account are recorded one after the other, in batch order: each merges
  // with the row the one before it wrote (fields a request leaves out keep the row's values).
  const inFlightByAccount = new Map<string, Promise<unknown>>();

  const takeIn = async (record: SQSRecord): Promise<void> => {
    const parsed = parseMembershipRequestBody(record.body, requestContext);
    if (!parsed.ok) {
      logger.warn('Invalid request dead-lettered', { messageId: record.messageId, issues: parsed.issues });
      metrics.addMetric('RequestsInvalid', MetricUnit.Count, 1);
      await deadLetters.publish([invalidInputLetter(record.body, parsed.summary, new Date().toISOString())]);
      return;
    }
    const { accountId } = parsed.request;
    const previous = inFlightByAccount.get(accountId) ?? Promise.resolve();
    // A replayed dead letter is as old as the letter, so a correction made since it still wins.
    const requestedAt = parsed.deadLetteredAt ?? new Date(Number(record.attributes.SentTimestamp) || Date.now()).toISOString();
    const recording = previous.catch(() => undefined).then(() => recordRequest(record, parsed.request, requestedAt));
    inFlightByAccount.set(accountId, recording);
    await recording;
    recordedAccounts.set(record.messageId, accountId);
  };

  const recordRequest = async (record: SQSRecord, request: MembershipRequest, requestedAt: string): Promise<void> => {
    const { row, result } = await recordMembershipRequest(store, request, {
      requestedBy: 'sqs',
      requestedAt,
      fallbackRequestId: record.messageId,
    });
    recordedRows.set(request.accountId, row);
    metrics.addMetric(result === 'written' ? 'RequestsRecorded' : 'RequestsSuperseded', MetricUnit.Count, 1);
    logger.info('Membership request recorded', { messageId: record.messageId, accountId: request.accountId, action: request.action, write: result });
  };

  const intake = await processPartialResponse(event, takeIn, processor, { context });
  if (recordedAccounts.size === 0) return intake;

  const accountIds = [...new Set(recordedAccounts.values())];
  let retry: ReadonlySet<string>;
  try {
    const report = await reconciler.reconcile({
      trigger: 'requests',
      accountIds,
      rows: [...recordedRows.values()],
      budget: deadlineBudget(context, config.deadlineSafetyMs),
    });
    retry = accountsToRetry(report);
  } catch (error) {
    logger.error('Reconciling the batch failed; its requests are recorded and will be delivered again', { error: toAwsCallError('Reconcile', error).code });
    retry = new Set(accountIds);
  }
  const notReconciled = [...recordedAccounts].filter(([, accountId]) => retry.has(accountId)).map(([messageId]) => ({ itemIdentifier: messageId }));
  if (notReconciled.length > 0) logger.warn('Requests not reconciled yet; SQS delivers them again', { accounts: [...retry] });
  return { batchItemFailures: [...intake.batchItemFailures, ...notReconciled] };
}

export const handler = middy(requestsHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
