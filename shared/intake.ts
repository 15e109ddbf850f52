import type { DeadLetter } from '#shared/domain/dead-letters';
import { requestFromInvalidInput } from '#shared/domain/dead-letters';
import { desiredMemberFromRequest, type MembershipRequest } from '#shared/domain/requests';
import type { DesiredMember } from '#shared/domain/types';
import { CorruptRowError, type AwsCallError } from '#shared/errors';
import type { DesiredMembershipStore, DesiredWriteResult } from '#shared/ports';

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
  const requestedAt = canonicalRequestTime(origin.requestedAt);
  const withId = request.requestId || !origin.fallbackRequestId ? request : { ...request, requestId: origin.fallbackRequestId };
  for (let attempt = 1; ; attempt++) {
    const {
      rows: [previous],
      corrupt: [corrupt],
    } = await store.getMany([request.accountId]);
    if (corrupt) throw new CorruptRowError(corrupt);
    // A redelivered or older request: the conditional write would refuse it anyway, but a refused
    // write still costs write capacity, and SQS redelivers often.
    if (previous && holdsSameOrNewer(previous, requestedAt, withId.requestId)) return { row: previous, result: 'superseded' };
    // Fields the request leaves out keep the previous row's values, so the write must land on the
    // very row it was merged with: two requests for one account (one SQS batch, an SQS request and
    // an Organizations event) would otherwise lose the fields the older one set.
    const row = desiredMemberFromRequest(withId, { ...origin, requestedAt }, previous);
    if ((await store.recordDesired(row, previous?.version ?? 0)) === 'written') {
      // The write was conditional on the version merged with, so the stored row is exactly this one, one version on.
      return { row: { ...row, version: row.version + 1 }, result: 'written' };
    }
    if (attempt === MAX_MERGE_ATTEMPTS) {
      throw new Error(`the desired row of ${request.accountId} changed during each of ${attempt} attempts to record the request`);
    }
  }
}

// Each retry follows a write that landed in between; a handful covers any realistic contention.
const MAX_MERGE_ATTEMPTS = 8;

/**
 * Requests are ordered by comparing `requestedAt` strings (in the table's condition too), so every
 * origin must write one format: EventBridge times have no milliseconds (`2025-06-02T11:00:00Z`),
 * SQS and CLI times do (`...T11:00:00.500Z`), and compared as text `00Z` sorts after `00.500Z`.
 */
export function canonicalRequestTime(requestedAt: string): string {
  // An event's `time` reaches here unchecked, so a non-string is possible at run time.
  const time = typeof requestedAt === 'string' ? Date.parse(requestedAt) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new RangeError(`requestedAt must be an ISO-8601 time, got ${JSON.stringify(String(requestedAt).slice(0, 40))}`);
  }
  return new Date(time).toISOString();
}

/** The store's write condition, read from the row already loaded: it holds a newer request, or this one. */
function holdsSameOrNewer(previous: DesiredMember, requestedAt: string, requestId: string | undefined): boolean {
  if (previous.requestedAt > requestedAt) return true;
  return previous.requestedAt === requestedAt && previous.requestId !== undefined && previous.requestId === (requestId ?? '');
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
