import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { classifyOnboardingEvent } from '#shared/domain/events';
import type { RunSummary } from '#shared/domain/outcomes';
import type { MembershipRequest } from '#shared/domain/requests';
import type { DesiredMember } from '#shared/domain/types';
import type { DesiredWriteResult } from '#shared/ports';
import { maskEmailsIn } from '#shared/domain/rules';
import { toAwsCallError } from '#shared/errors';
import { intakeFailureLetter, invalidInputLetter, recordMembershipRequest } from '#shared/intake';
import { getLambdaOrganizationDirectory } from '#shared/lambda/organizations';
import { deadlineBudget, getLambdaRuntime } from '#shared/lambda/runtime';
import { logger, metrics } from '#shared/powertools';

export type OnboardingResult =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'invalid'; summary: string }
  | { outcome: 'dead-lettered'; accountId: string; errorCode: string }
  | { outcome: 'reconciled'; accountId: string; summary: RunSummary };

const OUTCOME_METRICS: Record<OnboardingResult['outcome'], string> = {
  ignored: 'OnboardingEventsIgnored',
  invalid: 'OnboardingEventsInvalid',
  'dead-lettered': 'OnboardingEventsDeadLettered',
  reconciled: 'OnboardingEventsReconciled',
};

/**
 * New accounts (Organizations, Control Tower) and the project's own enrollment/removal events:
 * record the account as desired, then reconcile it at once.
 */
export async function onboardHandler(event: EventBridgeEvent<string, unknown>, context: Context): Promise<OnboardingResult> {
  const result = await onboard(event, context);
  metrics.addMetric(OUTCOME_METRICS[result.outcome], MetricUnit.Count, 1);
  return result;
}

async function onboard(event: EventBridgeEvent<string, unknown>, context: Context): Promise<OnboardingResult> {
  const { config, store, reconciler, deadLetters } = getLambdaRuntime();
  const at = new Date().toISOString();
  const intent = classifyOnboardingEvent(event, {
    administratorAccountId: config.administratorAccountId,
    managedRegions: config.managedRegions,
    eventSource: config.eventSource,
  });

  if (intent.kind === 'ignore') {
    // Anything can be sent to a function, even `null`: only a membership event is read further.
    logger.info('Event ignored', { reason: intent.reason, source: event?.source, detailType: event?.['detail-type'] });
    return { outcome: 'ignored', reason: intent.reason };
  }
  if (intent.kind === 'invalid') {
    logger.warn('Invalid membership event dead-lettered', { issues: intent.issues, eventId: event.id });
    await deadLetters.publish([invalidInputLetter(event.detail, intent.summary, at)]);
    return { outcome: 'invalid', summary: intent.summary };
  }

  // Intake (email lookup, table write) failing is dead-lettered with the request. Reconciling is
  // left outside: once the row is recorded, a failed reconcile throws, Lambda retries the event,
  // and the schedule converges the account in any case.
  let row: DesiredMember;
  try {
    // Organizations and Control Tower events carry no email; the organization knows it.
    const request: MembershipRequest =
      intent.request ??
      (intent.kind === 'enroll'
        ? {
            action: 'enroll',
            accountId: intent.accountId,
            email: intent.email ?? (await getLambdaOrganizationDirectory().describeAccount(intent.accountId)).email,
          }
        : { action: 'remove', accountId: intent.accountId });
    let result: DesiredWriteResult;
    ({ row, result } = await recordMembershipRequest(store, request, {
      requestedBy: `event:${intent.source}`,
      requestedAt: event.time || at,
      fallbackRequestId: event.id,
    }));
    logger.info('Membership request recorded', { accountId: intent.accountId, action: intent.kind, write: result });
  } catch (error) {
    const failure = toAwsCallError('Onboard', error);
    logger.error('Onboarding failed; dead-lettered', {
      accountId: intent.accountId,
      operation: failure.operation,
      errorCode: failure.code,
      errorMessage: maskEmailsIn(failure.message),
    });
    const original = intent.request ?? { action: intent.kind, accountId: intent.accountId };
    await deadLetters.publish([intakeFailureLetter({ ...original }, failure, at)]);
    return { outcome: 'dead-lettered', accountId: intent.accountId, errorCode: failure.code };
  }

  const { summary } = await reconciler.reconcile({
    trigger: 'onboarding',
    accountIds: [row.accountId],
    rows: [row],
    budget: deadlineBudget(context, config.deadlineSafetyMs),
  });
  return { outcome: 'reconciled', accountId: row.accountId, summary };
}

export const handler = middy(onboardHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
