/**
 * The intake of membership requests, shared by the SQS function, the onboarding function and the
 * CLI: record what is desired, dead-letter what cannot be taken in, and reconcile what was recorded.
 * Everything outside (table, queues, reconciler, organization, clock, logs and metrics) comes in as
 * a parameter, so the functions only wire it and tests can run it against the sandbox.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DeadLetter } from '#shared/domain/dead-letters';
import { requestFromInvalidInput } from '#shared/domain/dead-letters';
import { classifyOnboardingEvent } from '#shared/domain/events';
import { leavesWithOrganization } from '#shared/domain/organization';
import type { RunSummary } from '#shared/domain/outcomes';
import { desiredMemberFromRequest, orderingTime, parseMembershipRequestBody, type MembershipRequest, type RequestIssue } from '#shared/domain/requests';
import { describeValue, isRequestId, MAX_QUOTED_CHARS } from '#shared/domain/rules';
import type { DesiredMember } from '#shared/domain/types';
import { AwsCallError, CorruptRowError, toAwsCallError } from '#shared/errors';
import type { WorkBudget } from '#shared/executor';
import type { DeadLetterPublisher, DesiredMembershipStore, DesiredWriteResult, OrganizationDirectory } from '#shared/ports';
import { accountsToRetry, type Reconciler } from '#shared/reconciler';

/** Where the intake says what it did: the functions' Powertools logger and metrics, or a test's recorder. */
export interface IntakeReporter {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
  /** Adds one to a count metric. */
  count(metric: string): void;
}

export interface IntakePorts {
  store: DesiredMembershipStore;
  deadLetters: DeadLetterPublisher;
  reconciler: Pick<Reconciler, 'reconcile'>;
  reporter: IntakeReporter;
  now: () => Date;
}

export interface OnboardingPorts extends IntakePorts {
  /** Called only for an event that carries no email (Organizations, Control Tower), so other events build no client. */
  organization: () => OrganizationDirectory;
}

export interface IntakeSettings {
  administratorAccountId: string;
  managedRegions: readonly string[];
  /** The `source` of the project's own membership events. */
  eventSource: string;
  /** Stops the reconcile from starting new work close to the function's deadline. */
  budget?: WorkBudget;
}

/**
 * Enroll/remove requests from an account-vending pipeline (one SQS batch), in two steps. First every
 * request is validated and recorded: an invalid one is dead-lettered and counts as handled; one that
 * cannot be recorded is reported in `batchItemFailures` so SQS delivers it again. Then one reconcile
 * runs over every recorded account together, on the rows just recorded, so invitations go out in
 * batches and the administrator's concurrency limit holds for the whole batch; a request whose
 * account could not be reconciled (unreadable, or left for the deadline) is reported too. The rest of
 * the batch is unaffected.
 */
export async function takeInRequestBatch(event: SQSEvent, ports: IntakePorts, settings: IntakeSettings): Promise<SQSBatchResponse> {
  const { store, deadLetters, reconciler, reporter, now } = ports;
  const requestContext = { administratorAccountId: settings.administratorAccountId, managedRegions: settings.managedRegions };
  const recordedAccounts = new Map<string, string>();
  // The newest row recorded per account, handed to the reconcile so that it does not read it again.
  const recordedRows = new Map<string, DesiredMember>();
  // Two requests for one account are recorded one after the other, in batch order: each merges
  // with the row the one before it wrote (fields a request leaves out keep the row's values).
  const inFlightByAccount = new Map<string, Promise<unknown>>();

  const takeIn = async (record: SQSRecord): Promise<void> => {
    const parsed = parseMembershipRequestBody(record.body, requestContext);
    if (!parsed.ok) {
      reporter.warn('Invalid request dead-lettered', { messageId: record.messageId, ...issuesForLog(parsed.issues) });
      reporter.count('RequestsInvalid');
      // Unsent, the letter stays with its message: SQS delivers it again.
      await sendOrThrow(deadLetters, invalidInputLetter(record.body, parsed.summary, now().toISOString()));
      return;
    }
    const { accountId } = parsed.request;
    const previous = inFlightByAccount.get(accountId) ?? Promise.resolve();
    // SQS stamps when it took the message; a replayed dead letter is as old as its letter (so a
    // correction made since still wins), but never newer than its replay.
    const requestedAt = orderingTime(parsed.deadLetteredAt, Number(record.attributes.SentTimestamp) || now().getTime());
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
    reportRecorded(reporter, { messageId: record.messageId, request, requestedAt, row, result });
  };

  const intake = await processPartialResponse(event, takeIn, new BatchProcessor(EventType.SQS));
  if (recordedAccounts.size === 0) return intake;

  const accountIds = [...new Set(recordedAccounts.values())];
  let retry: ReadonlySet<string>;
  try {
    const report = await reconciler.reconcile({ trigger: 'requests', accountIds, rows: [...recordedRows.values()], budget: settings.budget });
    retry = accountsToRetry(report);
  } catch (error) {
    reporter.error('Reconciling the batch failed; its requests are recorded and will be delivered again', { error: toAwsCallError('Reconcile', error).code });
    retry = new Set(accountIds);
  }
  const notReconciled = [...recordedAccounts].filter(([, accountId]) => retry.has(accountId)).map(([messageId]) => ({ itemIdentifier: messageId }));
  if (notReconciled.length > 0) reporter.warn('Requests not reconciled yet; SQS delivers them again', { accounts: [...retry] });
  return { batchItemFailures: [...intake.batchItemFailures, ...notReconciled] };
}

export type OnboardingResult =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'invalid'; summary: string }
  /** An account left the organization, and the table keeps it: it is reconciled as it stands (by invitation now). */
  | { outcome: 'kept'; accountId: string; summary: RunSummary }
  | { outcome: 'dead-lettered'; accountId: string; errorCode: string }
  | { outcome: 'reconciled'; accountId: string; summary: RunSummary };

const ONBOARDING_METRICS: Record<OnboardingResult['outcome'], string> = {
  ignored: 'OnboardingEventsIgnored',
  invalid: 'OnboardingEventsInvalid',
  kept: 'OnboardingEventsKept',
  'dead-lettered': 'OnboardingEventsDeadLettered',
  reconciled: 'OnboardingEventsReconciled',
};

/**
 * New accounts (Organizations, Control Tower) and the project's own enrollment/removal events:
 * record the account as desired, then reconcile it at once, on the row just recorded.
 */
export async function takeInOnboardingEvent(
  event: EventBridgeEvent<string, unknown>,
  ports: OnboardingPorts,
  settings: IntakeSettings,
): Promise<OnboardingResult> {
  const result = await onboard(event, ports, settings);
  ports.reporter.count(ONBOARDING_METRICS[result.outcome]);
  return result;
}

async function onboard(event: EventBridgeEvent<string, unknown>, ports: OnboardingPorts, settings: IntakeSettings): Promise<OnboardingResult> {
  const { store, deadLetters, reconciler, reporter } = ports;
  const at = ports.now().toISOString();
  const intent = classifyOnboardingEvent(event, settings);

  if (intent.kind === 'ignore') {
    // Anything can be sent to a function, even `null`: only a membership event is read further.
    reporter.info('Event ignored', { reason: intent.reason, source: envelopeFieldForLog(event?.source), detailType: envelopeFieldForLog(event?.['detail-type']) });
    return { outcome: 'ignored', reason: intent.reason };
  }
  if (intent.kind === 'invalid') {
    reporter.warn('Invalid membership event dead-lettered', { ...issuesForLog(intent.issues), eventId: envelopeFieldForLog(event.id) });
    // Unsent, the letter stays with the event: Lambda invokes again.
    await sendOrThrow(deadLetters, invalidInputLetter(event.detail, intent.summary, at));
    return { outcome: 'invalid', summary: intent.summary };
  }

  // Intake (email lookup, table write) failing is dead-lettered with the request. Reconciling is
  // left outside: once the row is recorded, a failed reconcile throws, Lambda retries the event,
  // and the schedule converges the account in any case.
  let recorded: { row: DesiredMember; result: DesiredWriteResult };
  // What is known of the request so far: a letter for a failed write keeps a looked-up email.
  // A departure is decided by the account's row. Reading it may fail: the event then fails, and
  // Lambda retries it and finally sends it to its failure destination (the dead-letter queue).
  if (intent.kind === 'leave') {
    const departure = await departureFromOrganization(store, intent.accountId);
    if (departure.kind === 'notInTable') {
      reporter.info('Event ignored', { reason: departure.reason, accountId: intent.accountId });
      return { outcome: 'ignored', reason: departure.reason };
    }
    if (departure.kind === 'kept') {
      reporter.info('Account left the organization; its row stays and it is invited from now on', { accountId: intent.accountId });
      const { summary } = await reconciler.reconcile({ trigger: 'onboarding', accountIds: [intent.accountId], rows: [departure.row], budget: settings.budget });
      return { outcome: 'kept', accountId: intent.accountId, summary };
    }
  }
  let request: MembershipRequest | undefined = intent.kind === 'leave' ? undefined : intent.request;
  const requestedAt = orderingTime(event.time, ports.now().getTime());
  try {
    // Organizations and Control Tower events carry no email; the organization knows it.
    request ??=
      intent.kind === 'enroll'
        ? { action: 'enroll', accountId: intent.accountId, email: intent.email ?? (await ports.organization().describeAccount(intent.accountId)).email }
        : { action: 'remove', accountId: intent.accountId };
    recorded = await recordMembershipRequest(store, request, { requestedBy: `event:${intent.source}`, requestedAt, fallbackRequestId: event.id });
    reportRecorded(reporter, { eventId: envelopeFieldForLog(event.id), request, requestedAt, ...recorded });
  } catch (error) {
    const failure = toAwsCallError('Onboard', error);
    reporter.error('Onboarding failed; dead-lettered', { accountId: intent.accountId, operation: failure.operation, errorCode: failure.code, errorMessage: failure.message });
    await sendOrThrow(deadLetters, intakeFailureLetter({ ...(request ?? { action: intent.kind, accountId: intent.accountId }) }, failure, at));
    return { outcome: 'dead-lettered', accountId: intent.accountId, errorCode: failure.code };
  }

  const { row } = recorded;
  const { summary } = await reconciler.reconcile({ trigger: 'onboarding', accountIds: [row.accountId], rows: [row], budget: settings.budget });
  return { outcome: 'reconciled', accountId: row.accountId, summary };
}

/**
 * What an account's departure from the organization asks of the table: nothing when the table does
 * not know the account; removal when the organization brought the row in; otherwise the row stays.
 */
async function departureFromOrganization(
  store: DesiredMembershipStore,
  accountId: string,
): Promise<{ kind: 'notInTable'; reason: string } | { kind: 'kept'; row: DesiredMember } | { kind: 'remove' }> {
  const {
    rows: [row],
    corrupt: [corrupt],
  } = await store.getMany([accountId]);
  if (corrupt) throw new CorruptRowError(corrupt);
  if (!row) return { kind: 'notInTable', reason: `${accountId} left the organization, and the desired table does not know it: nothing to do` };
  return leavesWithOrganization(row) ? { kind: 'remove' } : { kind: 'kept', row };
}

// A 256 KiB body can break 40,000 rules, and a log line naming each would be 6 MB.
const LOGGED_ISSUES = 20;

function issuesForLog(issues: readonly RequestIssue[]): { issues: RequestIssue[]; issueCount: number } {
  return { issues: issues.slice(0, LOGGED_ISSUES), issueCount: issues.length };
}

/**
 * An event's envelope field as a log attribute. The sender chose it, so it can be anything, and the
 * logger writes attributes with JSON.stringify, which overflows the stack on a 20,000-deep object:
 * only a short string is logged as it is, anything else as its description.
 */
function envelopeFieldForLog(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' && value.length <= MAX_QUOTED_CHARS ? value : describeValue(value);
}

export interface RequestOrigin {
  /** Who asked: `sqs`, `event:aws.organizations`, `cli:alice`... */
  requestedBy: string;
  /** When they asked (ISO-8601): the newest request for an account wins. */
  requestedAt: string;
  /** Used as the request's id when it carries none, so a redelivery is recognised as the same request. */
  fallbackRequestId?: string;
}

/**
 * Records a request, merged with the account's current row. Returns the row the table now holds:
 * the one written, or the stored one when it already holds this request or a newer one. A corrupt
 * row is not merged with (CorruptRowError): the fields the request leaves out would be guesses.
 */
export async function recordMembershipRequest(
  store: DesiredMembershipStore,
  request: MembershipRequest,
  origin: RequestOrigin,
): Promise<{ row: DesiredMember; result: DesiredWriteResult }> {
  const requestedAt = canonicalRequestTime(origin.requestedAt);
  // An event's `id` reaches here unchecked (a direct invocation can send a number, an object or a
  // kilobyte): as the row's requestId it would make the row corrupt, or every replay of it invalid.
  const fallbackRequestId = isRequestId(origin.fallbackRequestId) ? origin.fallbackRequestId : undefined;
  const withId = request.requestId || !fallbackRequestId ? request : { ...request, requestId: fallbackRequestId };
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

/**
 * Sends one letter, or throws so that what it stands for is kept where it came from (the SQS
 * message, the EventBridge invocation) and tried again.
 */
async function sendOrThrow(deadLetters: DeadLetterPublisher, letter: DeadLetter): Promise<void> {
  const [unsent] = await deadLetters.publish([letter]);
  if (unsent) throw new AwsCallError('SendMessageBatch', unsent.code, `the dead letter could not be sent: ${unsent.message}`, 1);
}

/** A written request is counted; one a newer request supersedes is counted and said, never dropped in silence. */
function reportRecorded(
  reporter: IntakeReporter,
  entry: { messageId?: string; eventId?: string; request: MembershipRequest; requestedAt: string; row: DesiredMember; result: DesiredWriteResult },
): void {
  const { request, requestedAt, row, result } = entry;
  const source = entry.messageId !== undefined ? { messageId: entry.messageId } : { eventId: entry.eventId };
  if (result === 'written') {
    reporter.count('RequestsRecorded');
    reporter.info('Membership request recorded', { ...source, accountId: request.accountId, action: request.action, write: result });
    return;
  }
  reporter.count('RequestsSuperseded');
  reporter.warn('Membership request superseded: the table holds this request already, or a newer one', {
    ...source,
    accountId: request.accountId,
    action: request.action,
    requestedAt,
    tableRequestedAt: row.requestedAt,
    write: result,
  });
}

function invalidInputLetter(input: unknown, summary: string, at: string): DeadLetter {
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
function intakeFailureLetter(request: Record<string, unknown>, error: AwsCallError, at: string): DeadLetter {
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
