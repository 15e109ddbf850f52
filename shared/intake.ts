import type { DeadLetter } from '#shared/domain/dead-letters';
import { requestFromInvalidInput } from '#shared/domain/dead-letters';
import { desiredMemberFromRequest, type MembershipRequest } from '#shared/domain/requests';
import type { DesiredMember } from '#shared/domain/types';
import type { AwsCallError } from '#shared/errors';
import type { DesiredMembershipStore, DesiredWriteResult } from '#shared/store/desired-members';

/**
 * The intake of membership requests, shared by the SQS function, the onboarding function and the
 * CLI: record what is desired, and dead-letter what cannot be taken in.
 */

export interface RequestOrigin {
  /** Who asked: `sqs`, `event:aws.organizations`, `cli:alice`... */
  requestedBy: string;
  /** When they asked (ISO-8601): the newest request for an account wins. */
  requestedAt: string;
  /** Used as the request's id when it carries none, so a redelivery is recognised as the same request. */
  fallbackRequestId?: string;
}

export async function recordMembershipRequest(
  store: DesiredMembershipStore,
  request: MembershipRequest,
  origin: RequestOrigin,
): Promise<{ row: DesiredMember; result: DesiredWriteResult }> {
  const [previous] = await store.getMany([request.accountId]);
  const withId = request.requestId || !origin.fallbackRequestId ? request : { ...request, requestId: origin.fallbackRequestId };
  const row = desiredMemberFromRequest(withId, origin, previous);
  const result = await store.recordDesired(row);
  return { row, result };
}

export function invalidInputLetter(input: unknown, summary: string, at: string): DeadLetter {
  return {
    request: requestFromInvalidInput(input),
    reason: 'invalid-request',
    operation: 'validate',
    errorCode: 'ValidationError',
    errorMessage: summary,
    attempts: 1,
    at,
  };
}

/** A request that was valid but could not be taken in (lookup or table write failed). */
export function intakeFailureLetter(request: Record<string, unknown>, error: AwsCallError, at: string): DeadLetter {
  return {
    request,
    reason: 'intake-failed',
    operation: error.operation,
    errorCode: error.code,
    errorMessage: error.message,
    attempts: error.attempts,
    at,
  };
}
