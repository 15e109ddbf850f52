import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { takeInOnboardingEvent, type OnboardingResult } from '#shared/intake';
import { getLambdaRuntime, lambdaIntakePorts, lambdaIntakeSettings } from '#shared/lambda/runtime';
import { logger, metrics } from '#shared/powertools';

/**
 * New accounts (Organizations, Control Tower) and the project's own enrollment/removal events:
 * the account recorded as desired, then reconciled at once. An event that cannot be taken in is
 * dead-lettered; only a failed reconcile throws, so Lambda retries the event.
 */
export async function onboardHandler(event: EventBridgeEvent<string, unknown>, context: Context): Promise<OnboardingResult> {
  return takeInOnboardingEvent(event, { ...lambdaIntakePorts(), organization: () => getLambdaRuntime().organization }, lambdaIntakeSettings(context));
}

export const handler = middy(onboardHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
