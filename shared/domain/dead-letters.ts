import { ENROLL_REQUEST_FIELDS, REMOVE_REQUEST_FIELDS } from '#shared/domain/desired-row';
import { classifyOnboardingEvent } from '#shared/domain/events';
import type { DeadLetterDetails, RequestContext } from '#shared/domain/requests';
import { maskEmailsIn } from '#shared/domain/rules';
import type { DesiredMember } from '#shared/domain/types';

/**
 * A dead-letter message: a request body that replays the work (so SQS's own DLQ redrive can move
 * it back to the request queue once the cause is fixed) plus why it failed.
 */
export interface DeadLetter {
  /** The enroll/remove request to replay; for an invalid request, as much of the original input as can be kept. */
  request: Record<string, unknown>;
  /** A short machine-readable reason, e.g. `unprocessed-account`, `action-failed`, `invalid-request`. */
  reason: string;
  /** The operation that failed, e.g. `CreateInvitations`, or `validate`. */
  operation: string;
  errorCode: string;
  errorMessage: string;
  region?: string;
  attempts: number;
  at: string;
}

// Keep dead-letter messages well inside SQS's 256 KiB limit even when the input was enormous.
const MAX_RAW_INPUT_CHARS = 16 * 1024;

// An AWS error text is short; a sender-controlled one (an Organizations failureReason) need not be.
const MAX_ERROR_MESSAGE_CHARS = 2048;

/**
 * The message body of a dead letter: the request, then why it failed. The error text is the one
 * place a letter's reader did not write, so its emails are masked here (the request keeps its own
 * email: a replay needs it). Characters SQS refuses to carry (U+FFFE, U+FFFF; JSON already escapes
 * control characters and lone surrogates) are written as JSON escapes, which parse back unchanged,
 * so no letter is undeliverable for what it quotes.
 */
export function deadLetterBody(letter: DeadLetter): string {
  const { request, ...why } = letter;
  // Masked before it is cut: a cut through an address would leave its local part unmasked.
  const errorMessage = maskEmailsIn(why.errorMessage).slice(0, MAX_ERROR_MESSAGE_CHARS);
  return escapeForSqs(serializeJson({ ...request, ...why, errorMessage }) ?? '{}');
}

/** SQS carries #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF; JSON.stringify leaves only U+FFFE and U+FFFF outside that. */
function escapeForSqs(json: string): string {
  return json.replace(/[\uFFFE\uFFFF]/g, (character) => `\\u${character.charCodeAt(0).toString(16)}`);
}

/**
 * The request that replays a desired row. It names the row's own regions, not just the region
 * that failed: an enroll replaces the row's regions, so narrowing it would remove the account
 * everywhere else. The failed region travels in the dead letter's `region` field instead.
 */
export function replayRequestFor(row: DesiredMember): Record<string, unknown> {
  const removing = row.desiredState === 'absent';
  const request: Record<string, unknown> = { action: removing ? 'remove' : 'enroll', accountId: row.accountId };
  for (const field of removing ? REMOVE_REQUEST_FIELDS : ENROLL_REQUEST_FIELDS) request[field] = row[field];
  // A row whose email was never known holds "", which no request may carry.
  request.email = row.email || undefined;
  return request;
}

/**
 * What an invalid input keeps in its dead letter: the original object when it was one (so an
 * operator can correct a field and redrive it), otherwise the raw text, truncated.
 */
export function requestFromInvalidInput(input: unknown): Record<string, unknown> {
  if (typeof input === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      return truncatedRaw(input);
    }
    return requestFromInvalidInput(parsed);
  }
  const serialized = serializeJson(input) ?? String(input);
  if (typeof input === 'object' && input !== null && !Array.isArray(input) && serialized.length <= MAX_RAW_INPUT_CHARS) {
    return { ...(input as Record<string, unknown>) };
  }
  return truncatedRaw(serialized);
}

function truncatedRaw(raw: string): Record<string, unknown> {
  if (raw.length <= MAX_RAW_INPUT_CHARS) return { rawInput: raw };
  return { rawInput: raw.slice(0, MAX_RAW_INPUT_CHARS), rawInputTruncatedFrom: raw.length };
}

/**
 * What a message of the dead-letter queue replays as, on the request queue:
 * - `as-is`: a dead letter is a request body already;
 * - `request`: Lambda's on-failure record of an onboarding event (the destination writes it to the
 *   same queue) replays as the request its event asked for;
 * - `needs-email`: an enrollment whose email was never known (an event's lookup failed, a row had
 *   none): the organization knows it, and the replay must carry it;
 * - `not-replayable`: Lambda's record of an event that asks for nothing.
 */
export type Replay =
  | { kind: 'as-is' }
  | { kind: 'request'; request: Record<string, unknown> }
  | { kind: 'needs-email'; accountId: string; request: Record<string, unknown> }
  | { kind: 'not-replayable'; reason: string };

export function replayOf(body: string, context: RequestContext & { eventSource: string }): Replay {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return { kind: 'as-is' };
  }
  const event = eventOfLambdaFailureRecord(message);
  if (event !== undefined) {
    const intent = classifyOnboardingEvent(event, context);
    if (intent.kind === 'ignore') return { kind: 'not-replayable', reason: `Lambda's failure record of an event that asks for nothing: ${intent.reason}` };
    if (intent.kind === 'invalid') return { kind: 'not-replayable', reason: `Lambda's failure record of an invalid event: ${intent.summary}` };
    // Whether a departure removes the row depends on the row: only the event itself can be replayed.
    if (intent.kind === 'leave') {
      return { kind: 'not-replayable', reason: `Lambda's failure record of ${intent.accountId} leaving the organization: the scheduled run reconciles the account as its row says` };
    }
    const request: Record<string, unknown> = intent.request ? { ...intent.request } : { action: intent.kind, accountId: intent.accountId };
    if (intent.kind === 'enroll' && !intent.request && intent.email) request.email = intent.email;
    return withEmail(request);
  }
  return isObject(message) ? withEmail(message, { kind: 'as-is' }) : { kind: 'as-is' };
}

function withEmail(request: Record<string, unknown>, otherwise: Replay = { kind: 'request', request }): Replay {
  const needsEmail = request.action === 'enroll' && typeof request.accountId === 'string' && (request.email === undefined || request.email === '');
  return needsEmail ? { kind: 'needs-email', accountId: request.accountId as string, request } : otherwise;
}

/** Lambda's on-failure destination record (`requestContext.condition`, `requestPayload`): the event it failed with. */
function eventOfLambdaFailureRecord(message: unknown): unknown {
  if (!isObject(message) || !isObject(message.requestContext) || !('condition' in message.requestContext)) return undefined;
  return message.requestPayload;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface OpenContainer {
  value: object;
  /** An object's own enumerable keys; an array's items are read by index. */
  keys: readonly string[] | undefined;
  next: number;
  written: number;
}

/**
 * JSON.stringify's text for data, without recursion. JSON.stringify recurses once per level and
 * overflows the stack at a few thousand levels, and JSON.parse does not: a 20,000-deep object
 * parses fine from a 120 KB SQS body or EventBridge detail, and must still become a dead letter.
 * A cycle (which parsed JSON cannot hold) is written as `null` rather than throwing.
 */
function serializeJson(root: unknown): string | undefined {
  const parts: string[] = [];
  const open: OpenContainer[] = [];
  const onPath = new Set<object>();
  const write = (data: unknown): void => {
    if (typeof data === 'object' && data !== null && !onPath.has(data)) {
      onPath.add(data);
      const isArray = Array.isArray(data);
      parts.push(isArray ? '[' : '{');
      open.push({ value: data, keys: isArray ? undefined : Object.keys(data), next: 0, written: 0 });
    } else {
      parts.push(primitiveJson(data) ?? 'null');
    }
  };

  const rootData = toJsonData(root);
  if (!isWritten(rootData)) return undefined;
  write(rootData);
  while (open.length > 0) {
    const container = open.at(-1)!;
    const { keys } = container;
    if (keys === undefined) {
      const items = container.value as unknown[];
      if (container.next < items.length) {
        if (container.next > 0) parts.push(',');
        // What an object would leave out is null in an array, as JSON.stringify writes it.
        write(toJsonData(items[container.next++]));
        continue;
      }
    } else if (container.next < keys.length) {
      const key = keys[container.next++]!;
      const data = toJsonData((container.value as Record<string, unknown>)[key]);
      if (isWritten(data)) {
        parts.push(`${container.written++ > 0 ? ',' : ''}${JSON.stringify(key)}:`);
        write(data);
      }
      continue;
    }
    parts.push(keys === undefined ? ']' : '}');
    onPath.delete(container.value);
    open.pop();
  }
  return parts.join('');
}

/** What JSON.stringify writes for a value: its `toJSON()` when it has one (a Date). */
function toJsonData(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON: () => unknown }).toJSON();
  }
  return value;
}

/** Whether JSON writes a value at all: undefined, functions, symbols and bigints are left out of an object. */
function isWritten(data: unknown): boolean {
  return (typeof data === 'object' && data !== null) || primitiveJson(data) !== undefined;
}

function primitiveJson(data: unknown): string | undefined {
  if (data === null) return 'null';
  if (typeof data === 'string') return JSON.stringify(data);
  if (typeof data === 'number') return Number.isFinite(data) ? String(data) : 'null';
  if (typeof data === 'boolean') return String(data);
  return undefined;
}

/**
 * What an operator needs to know of one message on a dead-letter queue, read from its body:
 * - `letter`: a dead letter this service wrote (a request plus why it failed);
 * - `lambda-failure`: Lambda's failure record of an onboarding event (reason `lambda-failure`,
 *   the account taken from the event when it names one);
 * - `unreadable`: anything else (not JSON, not an object); shown as it is.
 */
export interface DeadLetterSummary extends Partial<DeadLetterDetails> {
  kind: 'letter' | 'lambda-failure' | 'unreadable';
  accountId?: string;
  action?: string;
  email?: string;
  reason: string;
}

export function summarizeDeadLetter(body: string, context: RequestContext & { eventSource: string }): DeadLetterSummary {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return { kind: 'unreadable', reason: 'unreadable' };
  }
  if (!isObject(message)) return { kind: 'unreadable', reason: 'unreadable' };
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const event = eventOfLambdaFailureRecord(message);
  if (event !== undefined) {
    const intent = classifyOnboardingEvent(event, context);
    const response = isObject(message.responsePayload) ? message.responsePayload : {};
    const requestContext = message.requestContext as Record<string, unknown>;
    return {
      kind: 'lambda-failure',
      accountId: intent.kind === 'enroll' || intent.kind === 'remove' ? intent.accountId : undefined,
      action: intent.kind === 'enroll' || intent.kind === 'remove' ? intent.kind : undefined,
      reason: 'lambda-failure',
      operation: text(requestContext.condition),
      errorCode: text(response.errorType),
      errorMessage: text(response.errorMessage) && maskEmailsIn(text(response.errorMessage)!),
      attempts: typeof requestContext.approximateInvokeCount === 'number' ? requestContext.approximateInvokeCount : undefined,
      at: text(message.timestamp),
    };
  }
  return {
    kind: 'letter',
    accountId: text(message.accountId),
    action: text(message.action),
    email: text(message.email),
    reason: text(message.reason) ?? 'unknown',
    operation: text(message.operation),
    errorCode: text(message.errorCode),
    errorMessage: text(message.errorMessage),
    region: text(message.region),
    attempts: typeof message.attempts === 'number' ? message.attempts : undefined,
    at: text(message.at),
  };
}
