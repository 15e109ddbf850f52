import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { ScheduledEvent, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import type { RunSummary } from '#shared/domain/outcomes';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, startServiceSandbox } from '../support/service-sandbox';
import { startFaultProxy, viaProxy, type BatchEntry, type FaultProxy, type FaultRule, type ProxiedRequest } from '../support/fault-proxy';
import { oneInvocation } from '../support/one-invocation';

/**
 * The table and the queues fail, not Macie: a loopback proxy in front of the sandbox's DynamoDB and
 * SQS answers chosen calls with AWS's own errors while the real `reconcile` and `requests` handlers
 * run with the real SDK clients. The promise under test: nothing is lost. Every desired account ×
 * region ends Enabled in Macie, or has a dead letter naming it on the dead-letter queue, or its
 * request message is still on the request queue (reported in `batchItemFailures`), so SQS delivers
 * it again. The request queue is polled the way Lambda's event source does it: a message the
 * handler does not report is deleted, a reported one is made visible again.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const [HOME_REGION] = REGIONS as [string, string];
/**
 * The SDK's attempts per call (production's default is 8); a rule that must outlast the SDK's
 * retries of one call fires this many times. Two keep the throttled scenario short: see below.
 */
const MAX_ATTEMPTS = 2;
/**
 * Throttled answers the share rule of (b) gives at most. Every client of the service paces itself
 * once throttled (`shared/aws/granted-rate-limiter.ts`): a fresh client throttled before any success
 * has nothing to measure and starts again from 0.5 calls/s, growing fourfold a second; each throttle
 * costs the scenario a second or so, so a few show them absorbed.
 */
const THROTTLED_SHARE_LIMIT = 3;

interface Account {
  accountId: string;
  email: string;
}

/** A scenario's accounts: healthy ones, ones whose member role is missing (acceptance fails: a letter every run), one whose email bounced in us-east-1. */
interface Cast {
  healthy: Account[];
  broken: Account[];
  bouncing: Account[];
}

const castOf = (prefix: string, sizes: { healthy: number; broken?: number; bouncing?: number }): Cast => ({
  healthy: seedAccounts(sizes.healthy, 1, prefix),
  broken: seedAccounts(sizes.broken ?? 0, 101, prefix),
  bouncing: seedAccounts(sizes.bouncing ?? 0, 201, prefix),
});
const everyone = (cast: Cast): Account[] => [...cast.healthy, ...cast.broken, ...cast.bouncing];

const casts = {
  a: castOf('3010000', { healthy: 5, broken: 2, bouncing: 1 }),
  b: castOf('3020000', { healthy: 3, broken: 1 }),
  cScheduled: castOf('3030000', { healthy: 3, broken: 1 }),
  cRequested: castOf('3031000', { healthy: 3, broken: 1 }),
  dEntryScheduled: castOf('3040000', { healthy: 1, broken: 2, bouncing: 1 }),
  dEntryRequested: castOf('3041000', { healthy: 1, broken: 2 }),
  dCallScheduled: castOf('3050000', { healthy: 1, broken: 2, bouncing: 1 }),
  dCallRequested: castOf('3051000', { healthy: 1, broken: 2 }),
};
const allCasts = Object.values(casts);
const brokenIds = new Set(allCasts.flatMap((cast) => cast.broken.map((account) => account.accountId)));

let sandbox: Sandbox;
let dynamoProxy: FaultProxy;
let sqsProxy: FaultProxy;
let handlers: {
  reconcile: typeof import('#functions/reconcile/handler').handler;
  requests: typeof import('#functions/requests/handler').handler;
};
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
let schedule: ScheduledEvent;
let logInfo: MockInstance<(typeof import('#shared/powertools'))['logger']['info']>;
/** Straight to the sandbox's dynalite and SQS, past the proxy: the test's own reads and the request queue's traffic. */
let directDynamo: DynamoDBClient;
let directSqs: SQSClient;
let deadLetterQueueName: string;

beforeAll(async () => {
  sandbox = await startServiceSandbox(
    {
      regions: REGIONS,
      accounts: allCasts.flatMap((cast) => everyone(cast).map((account) => ({ ...account, memberRole: brokenIds.has(account.accountId) ? ('missing' as const) : ('present' as const) }))),
      knobs: { latencyMs: 1 },
    },
    { AWS_MAX_ATTEMPTS: String(MAX_ATTEMPTS), ACCEPT_POLL_ATTEMPTS: '2', ACCEPT_POLL_INTERVAL_MS: '20' },
  );
  dynamoProxy = await startFaultProxy(sandbox.endpoints.dynamodb, { protocol: 'dynamodb', seed: 20250611 });
  sqsProxy = await startFaultProxy(sandbox.endpoints.sqs, { protocol: 'sqs', seed: 20250611 });
  // An SQS client given no endpoint of its own sends each call to its queue URL's host, whatever
  // AWS_ENDPOINT_URL_SQS says, so the queue URLs the service uses name the proxy too.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url,
    AWS_ENDPOINT_URL_SQS: sqsProxy.url,
    DEAD_LETTER_QUEUE_URL: viaProxy(sqsProxy, sandbox.deadLetterQueueUrl),
    REQUEST_QUEUE_URL: viaProxy(sqsProxy, sandbox.requestQueueUrl),
  });
  deadLetterQueueName = new URL(sandbox.deadLetterQueueUrl).pathname.split('/').pop()!;
  handlers = {
    reconcile: (await import('#functions/reconcile/handler')).handler,
    requests: (await import('#functions/requests/handler')).handler,
  };
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  schedule = await loadEvent<ScheduledEvent>('schedule.json');
  // Every run is reported here, also the runs that throw after reporting. (Imported after the
  // environment is set, so the logger is built silent.)
  logInfo = vi.spyOn((await import('#shared/powertools')).logger, 'info');
  const credentials = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };
  directDynamo = new DynamoDBClient({ region: HOME_REGION, endpoint: sandbox.endpoints.dynamodb, credentials });
  directSqs = new SQSClient({ region: HOME_REGION, endpoint: sandbox.endpoints.sqs, credentials });
});

afterAll(async () => {
  logInfo?.mockRestore();
  directDynamo?.destroy();
  directSqs?.destroy();
  await dynamoProxy?.close();
  await sqsProxy?.close();
  await sandbox?.close();
});

// Each scenario starts from an empty table and empty queues; Macie keeps its members (unmanaged from then on).
afterEach(async () => {
  dynamoProxy.clearRules();
  sqsProxy.clearRules();
  const { Items: items = [] } = await directDynamo.send(new ScanCommand({ TableName: sandbox.tableName, ProjectionExpression: 'accountId' }));
  for (const item of items) await directDynamo.send(new DeleteItemCommand({ TableName: sandbox.tableName, Key: { accountId: item.accountId! } }));
  await deadLetters();
  const leftover = await receiveRequests(100);
  for (let start = 0; start < leftover.length; start += 10) {
    const batch = leftover.slice(start, start + 10);
    await directSqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: sandbox.requestQueueUrl, Entries: batch.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })) }),
    );
  }
});

// ---- the functions, as Lambda runs them ------------------------------------------------------

/** The run summaries the functions reported since `mark` (`reported().length` before the runs). */
function reported(mark = 0): RunSummary[] {
  return logInfo.mock.calls
    .map((call) => call as unknown as [unknown, { summary?: RunSummary } | undefined])
    .filter(([message]) => message === 'Reconciliation run finished')
    .map(([, attributes]) => attributes!.summary!)
    .slice(mark);
}

/** One scheduled invocation: its summary, or the error it threw (Lambda would report the invocation failed). */
async function scheduledRun(): Promise<{ summary?: RunSummary; error?: string }> {
  try {
    return { summary: await oneInvocation(handlers.reconcile(schedule, lambdaContext('reconcile'))) };
  } catch (error) {
    return { error: codeOf(error) };
  }
}

/** An error's AWS code where it has one (the service's `AwsCallError`), else its name. */
function codeOf(error: unknown): string {
  const { code, name } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; name?: unknown };
  return typeof code === 'string' ? code : typeof name === 'string' ? name : String(error);
}

/** An enroll request for each account, and any other bodies, on the request queue. */
async function sendRequests(accounts: readonly Account[], otherBodies: readonly string[] = []): Promise<void> {
  const bodies = [...accounts.map((account) => JSON.stringify({ action: 'enroll', ...account })), ...otherBodies];
  for (let start = 0; start < bodies.length; start += 10) {
    await directSqs.send(
      new SendMessageBatchCommand({
        QueueUrl: sandbox.requestQueueUrl,
        Entries: bodies.slice(start, start + 10).map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
  }
}

async function receiveRequests(limit: number): Promise<SQSRecord[]> {
  const records: SQSRecord[] = [];
  while (records.length < limit) {
    const { Messages: messages = [] } = await directSqs.send(
      new ReceiveMessageCommand({ QueueUrl: sandbox.requestQueueUrl, MaxNumberOfMessages: Math.min(10, limit - records.length), VisibilityTimeout: 300, AttributeNames: ['All'] }),
    );
    if (messages.length === 0) break;
    for (const message of messages) {
      const attributes: Partial<Record<string, string>> = message.Attributes ?? {};
      records.push({
        messageId: message.MessageId!,
        receiptHandle: message.ReceiptHandle!,
        body: message.Body ?? '',
        attributes: {
          ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
          SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
          SenderId: attributes.SenderId ?? 'AIDAEXAMPLE',
          ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${HOME_REGION}:${sandbox.administrator.accountId}:macie-membership-requests`,
        awsRegion: HOME_REGION,
      });
    }
  }
  return records;
}

interface Delivery {
  received: number;
  /** The accounts whose request messages stay on the request queue. */
  retried: Set<string>;
  /** The invocation threw: Lambda puts every message of the batch back. */
  error?: string;
}

/**
 * One batch from the request queue through the `requests` function, as Lambda's SQS event source
 * runs it: the messages the function does not report are deleted; the reported ones (all of them
 * when it throws) become visible again at once, as they would when their visibility timeout ends.
 */
async function deliverRequests(): Promise<Delivery> {
  const records = await receiveRequests(10);
  if (records.length === 0) return { received: 0, retried: new Set() };
  let response: SQSBatchResponse;
  let error: string | undefined;
  try {
    response = await handlers.requests({ Records: records }, lambdaContext('requests'));
  } catch (thrown) {
    error = codeOf(thrown);
    response = { batchItemFailures: records.map((record) => ({ itemIdentifier: record.messageId })) };
  }
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  const done = records.filter((record) => !failed.has(record.messageId));
  const again = records.filter((record) => failed.has(record.messageId));
  const entries = (list: SQSRecord[]) => list.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle }));
  if (done.length > 0) await directSqs.send(new DeleteMessageBatchCommand({ QueueUrl: sandbox.requestQueueUrl, Entries: entries(done) }));
  if (again.length > 0) {
    await directSqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: sandbox.requestQueueUrl,
        Entries: entries(again).map((entry) => ({ ...entry, VisibilityTimeout: 0 })),
      }),
    );
  }
  const retried = new Set(again.map((record) => String((JSON.parse(record.body) as { accountId: unknown }).accountId)));
  return { received: records.length, retried, ...(error ? { error } : {}) };
}

async function requestQueueDepth(): Promise<number> {
  const { Attributes: attributes = {} } = await directSqs.send(
    new GetQueueAttributesCommand({ QueueUrl: sandbox.requestQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

// ---- what the world holds ---------------------------------------------------------------------

interface Letter {
  accountId?: unknown;
  region?: unknown;
  reason?: unknown;
  operation?: unknown;
  errorCode?: unknown;
}

/** The letters now on the dead-letter queue (received and hidden, so each is seen once). */
async function deadLetters(): Promise<Letter[]> {
  return (await drainQueue(sandbox, viaProxy(sqsProxy, sandbox.deadLetterQueueUrl))) as Letter[];
}

async function macieStatuses(): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for (const region of REGIONS) {
    for (const [accountId, status] of await listMembersStatus(sandbox, region)) statuses.set(`${accountId} ${region}`, status);
  }
  return statuses;
}

async function recordDesired(accounts: readonly Account[]): Promise<void> {
  const requestedAt = new Date(Date.now() - 60_000).toISOString();
  for (const account of accounts) {
    await runtime.store.recordDesired({ ...account, desiredState: 'member', tags: {}, autoAccept: true, paused: false, requestedBy: 'test', requestedAt });
  }
}

function seedBouncing(accounts: readonly Account[]): void {
  for (const account of accounts) {
    sandbox.emulator.control.seedMembership({
      administratorAccountId: sandbox.administrator.accountId,
      accountId: account.accountId,
      region: HOME_REGION,
      relationshipStatus: 'EmailVerificationFailed',
    });
  }
}

interface Tally {
  enabled: number;
  deadLettered: number;
  retriedBySqs: number;
  lost: string[];
}

/** Each account × region, first match wins: Enabled in Macie, a letter naming it, its request still on the queue; else lost. */
function tally(accounts: readonly Account[], statuses: ReadonlyMap<string, string>, letters: readonly Letter[], retried: ReadonlySet<string>): Tally {
  const result: Tally = { enabled: 0, deadLettered: 0, retriedBySqs: 0, lost: [] };
  for (const { accountId } of accounts) {
    for (const region of REGIONS) {
      if (statuses.get(`${accountId} ${region}`) === 'Enabled') result.enabled += 1;
      else if (letters.some((letter) => letter.accountId === accountId && (letter.region === undefined || letter.region === region))) result.deadLettered += 1;
      else if (retried.has(accountId)) result.retriedBySqs += 1;
      else result.lost.push(`${accountId} ${region} (${statuses.get(`${accountId} ${region}`) ?? 'not a member'})`);
    }
  }
  return result;
}

const figures = ({ enabled, deadLettered, retriedBySqs, lost }: Tally) => `enabled=${enabled} deadLettered=${deadLettered} retriedBySqs=${retriedBySqs} lost=${lost.length}`;

const isDeadLetterQueue = ({ body }: ProxiedRequest) => typeof body.QueueUrl === 'string' && body.QueueUrl.endsWith(`/${deadLetterQueueName}`);

function entriesOf({ body }: ProxiedRequest): BatchEntry[] {
  return Array.isArray(body.Entries) ? (body.Entries as BatchEntry[]) : [];
}

function letterIn(entry: BatchEntry): Letter {
  try {
    return JSON.parse(entry.MessageBody ?? '') as Letter;
  } catch {
    return {};
  }
}

async function observedInTable(accountId: string, region: string) {
  const { rows } = await runtime.store.getMany([accountId]);
  return rows[0]?.observed[region];
}

// ---- the scenarios ------------------------------------------------------------------------------

describe('reliability: storage faults', () => {
  it('(a) dead-letter queue down: the letters wait (requests redelivered, items unmarked) and go out once it recovers, even mid-run', async () => {
    const cast = casts.a;
    const accounts = everyone(cast);
    seedBouncing(cast.bouncing);
    const mark = reported().length;
    let runs = 0;
    const down = sqsProxy.addRule({ name: 'dead-letter queue down', operations: ['SendMessageBatch'], when: isDeadLetterQueue, answer: { error: 'ServiceUnavailable', status: 503 } });

    // Requests while the queue is down: the accounts whose letters could not be sent stay on the
    // request queue, and so does an invalid request, whose letter is all there is of it.
    const invalidAccountId = '30100000000X';
    await sendRequests(accounts, [JSON.stringify({ action: 'enroll', accountId: invalidAccountId, email: 'invalid@example.com' })]);
    const whileDown = await deliverRequests();
    runs += 1;
    expect(whileDown.error).toBeUndefined();
    const failing = new Set([...cast.broken, ...cast.bouncing].map((account) => account.accountId));
    expect(whileDown.retried).toEqual(new Set([...failing, invalidAccountId]));
    failing.add(invalidAccountId);
    expect(await requestQueueDepth()).toBe(failing.size);
    const unsentLetters = cast.broken.length * REGIONS.length + cast.bouncing.length;
    expect(reported(mark).at(-1)).toMatchObject({ trigger: 'requests', deadLettered: 0, deadLettersUnsent: unsentLetters });
    const duringFault = tally(accounts, await macieStatuses(), await deadLetters(), whileDown.retried);
    expect(duringFault.lost).toEqual([]);
    expect(duringFault.deadLettered).toBe(0);

    // A scheduled run while it is still down reports the same letters unsent and leaves the bounced email unmarked.
    const scheduledWhileDown = await scheduledRun();
    runs += 1;
    expect(scheduledWhileDown.summary).toMatchObject({ deadLettered: 0, deadLettersUnsent: unsentLetters });
    expect((await observedInTable(cast.bouncing[0]!.accountId, HOME_REGION))?.lastAction).not.toBe('deadLetter');
    expect(await deadLetters()).toEqual([]);

    // It recovers during the next run: the first batch fails through all of the SDK's attempts, the letters then go one by one.
    down.remove();
    const recovering = sqsProxy.addRule({ name: 'recovering', operations: ['SendMessageBatch'], when: isDeadLetterQueue, times: MAX_ATTEMPTS, answer: { error: 'ServiceUnavailable', status: 503 } });
    const recovered = await scheduledRun();
    runs += 1;
    expect(recovering.fired()).toBe(MAX_ATTEMPTS);
    expect(recovered.summary).toMatchObject({ deadLettered: unsentLetters, deadLettersUnsent: 0 });
    expect((await observedInTable(cast.bouncing[0]!.accountId, HOME_REGION))?.lastAction).toBe('deadLetter');
    const letters = await deadLetters();
    expect(letters).toHaveLength(unsentLetters);

    // SQS delivers the kept requests again: their letters go out and nothing stays on the queue.
    const redelivered = await deliverRequests();
    runs += 1;
    expect(redelivered).toMatchObject({ received: failing.size, retried: new Set() });
    expect(await requestQueueDepth()).toBe(0);
    letters.push(...(await deadLetters()));
    // The bounced email was dead-lettered once; the broken roles once per run that tried them.
    expect(letters.filter((letter) => letter.reason === 'needs-operator')).toHaveLength(cast.bouncing.length);
    expect(letters.filter((letter) => letter.reason === 'invalid-request')).toEqual([expect.objectContaining({ accountId: invalidAccountId })]);

    const final = tally(accounts, await macieStatuses(), letters, redelivered.retried);
    expect(final.lost).toEqual([]);
    expect(final).toMatchObject({ enabled: cast.healthy.length * REGIONS.length + cast.bouncing.length, retriedBySqs: 0 });
    console.log(
      `[reliability] storage-faults (a) dead-letter queue down: accounts=${accounts.length} regions=${REGIONS.length} runs=${runs} ${figures(final)} ` +
        `| while down: ${figures(duringFault)} invalidRequestKept=1 unsentReported=${reported(mark)
          .slice(0, 2)
          .map((summary) => summary.deadLettersUnsent)
          .join('+')} | recovered mid-run: refusedAttempts=${recovering.fired()} sent=${recovered.summary?.deadLettered}`,
    );
  });

  it('(c) observations cannot be recorded after Macie changed: the run reports, then fails; requests stay on the queue; nothing is done twice', async () => {
    const scheduledCast = casts.cScheduled;
    const requestedCast = casts.cRequested;
    const accounts = [...everyone(scheduledCast), ...everyone(requestedCast)];
    await recordDesired(everyone(scheduledCast));
    sandbox.emulator.control.clearCalls();
    const mark = reported().length;
    let runs = 0;
    const unwritable = dynamoProxy.addRule({
      name: 'observations unwritable',
      operations: ['UpdateItem'],
      when: ({ body }) => typeof body.UpdateExpression === 'string' && body.UpdateExpression.includes('observed.'),
      answer: { error: 'InternalServerError', status: 500, message: 'Internal server error' },
    });
    const changedPerCast = (cast: Cast) => ({ done: cast.healthy.length * REGIONS.length, failed: cast.broken.length * REGIONS.length });

    // A scheduled run enrolls its accounts in Macie, sends its letters, reports, then fails on the table.
    const scheduled = await scheduledRun();
    runs += 1;
    expect(scheduled.error).toBe('InternalServerError');
    expect(reported(mark)).toEqual([
      expect.objectContaining({ trigger: 'schedule', byOutcome: expect.objectContaining(changedPerCast(scheduledCast)), deadLettered: scheduledCast.broken.length * REGIONS.length }),
    ]);
    const { rows: unrecorded } = await runtime.store.getMany(everyone(scheduledCast).map((account) => account.accountId));
    expect(unrecorded.map((row) => row.observed)).toEqual(everyone(scheduledCast).map(() => ({})));

    // A batch of requests: recorded, enrolled in Macie, not observed in the table: every message stays on the queue.
    await sendRequests(everyone(requestedCast));
    const delivery = await deliverRequests();
    runs += 1;
    expect(delivery.retried).toEqual(new Set(everyone(requestedCast).map((account) => account.accountId)));
    expect(reported(mark)[1]).toMatchObject({ trigger: 'requests', byOutcome: changedPerCast(requestedCast) });
    const letters = await deadLetters();
    const duringFault = tally(accounts, await macieStatuses(), letters, delivery.retried);
    expect(duringFault.lost).toEqual([]);
    expect(unwritable.fired()).toBeGreaterThan(0);

    // The table takes writes again: the redelivered requests and the next run find Macie done and only record it.
    unwritable.remove();
    const redelivered = await deliverRequests();
    runs += 1;
    expect(redelivered).toMatchObject({ received: everyone(requestedCast).length, retried: new Set() });
    const settled = await scheduledRun();
    runs += 1;
    expect(settled.error).toBeUndefined();
    expect(settled.summary).toMatchObject({ byOutcome: { done: 0 } });
    letters.push(...(await deadLetters()));
    const statuses = await macieStatuses();
    const final = tally(accounts, statuses, letters, new Set());
    expect(final.lost).toEqual([]);
    const { rows } = await runtime.store.getMany(accounts.map((account) => account.accountId));
    for (const row of rows) {
      for (const region of REGIONS) expect(row.observed[region]?.relationshipStatus, `${row.accountId} ${region}`).toBe(statuses.get(`${row.accountId} ${region}`));
    }
    // Each member was created, invited and accepted exactly once although the first runs left no record.
    const successes = (operation: string) => sandbox.emulator.control.calls().filter((call) => call.operation === operation && call.statusCode === 200).length;
    expect(successes('CreateMember')).toBe(accounts.length * REGIONS.length);
    const healthy = scheduledCast.healthy.length + requestedCast.healthy.length;
    expect(successes('AcceptInvitation')).toBe(healthy * REGIONS.length);
    console.log(
      `[reliability] storage-faults (c) observations unwritable after Macie changed: accounts=${accounts.length} regions=${REGIONS.length} runs=${runs} ${figures(final)} ` +
        `| while unwritable: ${figures(duringFault)} scheduledRun=${scheduled.error} requestMessagesKept=${delivery.retried.size}/${everyone(requestedCast).length} ` +
        `refusedWrites=${unwritable.fired()} | createdOnce=${successes('CreateMember')} acceptedOnce=${successes('AcceptInvitation')}`,
    );
  });

  const refusals: Array<{
    shape: string;
    scheduledCast: Cast;
    requestedCast: Cast;
    refuse: (refused: (letter: Letter) => boolean) => FaultRule;
    /** SendMessageBatch calls refused per publish: the batch only, or the batch and then the letter sent alone. */
    refusedCallsPerRun: number;
  }> = [
    {
      shape: 'a Failed entry with SenderFault',
      scheduledCast: casts.dEntryScheduled,
      requestedCast: casts.dEntryRequested,
      refusedCallsPerRun: 1,
      refuse: (refused) => ({
        name: 'letter refused (entry)',
        operations: ['SendMessageBatch'],
        when: isDeadLetterQueue,
        answer: { failEntries: (entry) => refused(letterIn(entry)), code: 'InvalidMessageContents', senderFault: true },
      }),
    },
    {
      shape: 'a call-level 400 InvalidMessageContents',
      scheduledCast: casts.dCallScheduled,
      requestedCast: casts.dCallRequested,
      refusedCallsPerRun: 2,
      refuse: (refused) => ({
        name: 'letter refused (call)',
        operations: ['SendMessageBatch'],
        when: (request) => isDeadLetterQueue(request) && entriesOf(request).some((entry) => refused(letterIn(entry))),
        answer: { error: 'InvalidMessageContents', message: 'Invalid binary character was found in the message body.' },
      }),
    },
  ];

  it.each(refusals)('(d) a letter refused as $shape: the others go out; it is reported unsent and kept until SQS takes it', async ({ shape, scheduledCast, requestedCast, refuse, refusedCallsPerRun }) => {
    const accounts = [...everyone(scheduledCast), ...everyone(requestedCast)];
    const bouncing = scheduledCast.bouncing[0]!;
    seedBouncing(scheduledCast.bouncing);
    await recordDesired(everyone(scheduledCast));
    const mark = reported().length;
    let runs = 0;
    const letters: Letter[] = [];
    const brokenLetters = scheduledCast.broken.length * REGIONS.length;

    // Scheduled runs: the bounced email's letter is refused; the broken roles' letters go out (once:
    // on the second run their failures are a known episode); its item stays unmarked, so each run
    // writes it again.
    let refusal = sqsProxy.addRule(refuse((letter) => letter.accountId === bouncing.accountId && letter.region === HOME_REGION));
    for (let run = 1; run <= 2; run++) {
      const { summary } = await scheduledRun();
      runs += 1;
      const brokenSent = run === 1 ? brokenLetters : 0;
      expect(summary).toMatchObject({ deadLettered: brokenSent, deadLettersUnsent: 1, failuresKnown: brokenLetters - brokenSent });
      const sent = await deadLetters();
      letters.push(...sent);
      expect(sent).toHaveLength(brokenSent);
      expect(sent.filter((letter) => letter.accountId === bouncing.accountId)).toEqual([]);
      expect((await observedInTable(bouncing.accountId, HOME_REGION))?.lastAction).not.toBe('deadLetter');
    }
    const refusedScheduled = refusal.fired();
    // The second run's only letter is the refused one, so its batch is refused once, alone.
    expect(refusedScheduled).toBe(refusedCallsPerRun + 1);
    refusal.remove();
    // SQS takes it again: the next run sends it and marks its item; the one after does not send it again.
    const { summary: taken } = await scheduledRun();
    const { summary: after } = await scheduledRun();
    runs += 2;
    expect(taken).toMatchObject({ deadLettered: 1, deadLettersUnsent: 0 });
    expect(after).toMatchObject({ deadLettered: 0, deadLettersUnsent: 0 });
    expect((await observedInTable(bouncing.accountId, HOME_REGION))?.lastAction).toBe('deadLetter');
    letters.push(...(await deadLetters()));
    expect(letters.filter((letter) => letter.accountId === bouncing.accountId)).toEqual([expect.objectContaining({ reason: 'needs-operator', region: HOME_REGION })]);

    // Requests: one broken account's us-east-1 letter is refused; its request alone stays on the queue.
    const refusedAccount = requestedCast.broken[0]!;
    refusal = sqsProxy.addRule(refuse((letter) => letter.accountId === refusedAccount.accountId && letter.region === HOME_REGION));
    await sendRequests(everyone(requestedCast));
    const delivery = await deliverRequests();
    runs += 1;
    expect(delivery.retried).toEqual(new Set([refusedAccount.accountId]));
    expect(await requestQueueDepth()).toBe(1);
    expect(reported(mark).at(-1)).toMatchObject({ trigger: 'requests', deadLettered: requestedCast.broken.length * REGIONS.length - 1, deadLettersUnsent: 1 });
    const sentWhileRefused = await deadLetters();
    letters.push(...sentWhileRefused);
    expect(sentWhileRefused.filter((letter) => letter.accountId === refusedAccount.accountId)).toEqual([expect.objectContaining({ region: REGIONS[1] })]);
    const duringFault = tally(everyone(requestedCast), await macieStatuses(), sentWhileRefused, delivery.retried);
    expect(duringFault.lost).toEqual([]);
    expect(duringFault.retriedBySqs).toBe(1);
    const refusedRequested = refusal.fired();
    expect(refusedRequested).toBe(refusedCallsPerRun);
    refusal.remove();

    const redelivered = await deliverRequests();
    runs += 1;
    expect(redelivered).toMatchObject({ received: 1, retried: new Set() });
    expect(await requestQueueDepth()).toBe(0);
    const resent = await deadLetters();
    letters.push(...resent);
    expect(resent.filter((letter) => letter.accountId === refusedAccount.accountId && letter.region === HOME_REGION)).toHaveLength(1);

    const final = tally(accounts, await macieStatuses(), letters, new Set());
    expect(final.lost).toEqual([]);
    expect(final.retriedBySqs).toBe(0);
    console.log(
      `[reliability] storage-faults (d) a letter refused as ${shape}: accounts=${accounts.length} regions=${REGIONS.length} runs=${runs} ${figures(final)} ` +
        `| scheduled: unsentReported=1+1 refusedCalls=${refusedScheduled} othersSent=${brokenLetters}+0 (known episode), sent on run 3, not again on run 4 ` +
        `| requests while refused: ${figures(duringFault)} refusedCalls=${refusedRequested}`,
    );
  });

  // Last: its throttles leave the service's DynamoDB client sending slowly for a few seconds (see
  // THROTTLED_SHARE_LIMIT), which would slow whatever scenario came next.
  it('(b) table throttled: throttles the SDK absorbs change nothing; a request whose row stays throttled waits on the queue; a run whose scan does fails whole', async () => {
    const cast = casts.b;
    const accounts = everyone(cast);
    const hot = cast.healthy[0]!;
    const mark = reported().length;
    let runs = 0;
    dynamoProxy.clearCalls();
    const mentions = (accountId: string) => ({ body }: ProxiedRequest) => JSON.stringify(body).includes(`"${accountId}"`);
    // A hot key: the calls about one account's row are throttled through all of the SDK's attempts at one call.
    const hotKey = dynamoProxy.addRule({
      name: 'hot key',
      when: mentions(hot.accountId),
      times: MAX_ATTEMPTS,
      answer: { error: 'ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' },
    });
    // The scheduled run's read of the table, likewise.
    const scan = dynamoProxy.addRule({
      name: 'scan',
      operations: ['Scan'],
      times: MAX_ATTEMPTS,
      answer: { error: 'ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' },
    });
    // And a share of every other call, drawn from the proxy's seeded PRNG.
    const share = dynamoProxy.addRule({
      name: 'share',
      probability: 0.25,
      times: THROTTLED_SHARE_LIMIT,
      answer: { error: 'ThrottlingException', message: 'Throughput exceeds the current capacity of your table or index.' },
    });

    await sendRequests(accounts);
    const throttled = await deliverRequests();
    runs += 1;
    expect(throttled.retried.has(hot.accountId)).toBe(true);
    expect(await requestQueueDepth()).toBe(throttled.retried.size);
    const failedRun = await scheduledRun();
    runs += 1;
    // A run that cannot read the table fails before it changes anything, and reports nothing.
    expect(failedRun.error).toBe('ProvisionedThroughputExceededException');
    expect(reported(mark).map((summary) => summary.trigger)).not.toContain('schedule');
    expect(hotKey.fired()).toBe(MAX_ATTEMPTS);
    expect(scan.fired()).toBe(MAX_ATTEMPTS);
    const letters = await deadLetters();
    const duringFault = tally(accounts, await macieStatuses(), letters, throttled.retried);
    expect(duringFault.lost).toEqual([]);
    const throttledAnswers = dynamoProxy.calls().filter((call) => call.fault !== undefined).length;
    const dynamoCalls = dynamoProxy.calls().length;
    const shareFired = share.fired();

    // The throttling ends: SQS delivers what it kept, and the next scheduled run finds nothing left to do but the broken roles.
    dynamoProxy.clearRules();
    for (let round = 1; round <= 4 && (await requestQueueDepth()) > 0; round++) {
      await deliverRequests();
      runs += 1;
    }
    expect(await requestQueueDepth()).toBe(0);
    const settled = await scheduledRun();
    runs += 1;
    expect(settled.error).toBeUndefined();
    expect(settled.summary).toMatchObject({ byOutcome: { done: 0, failed: cast.broken.length * REGIONS.length }, deadLettersUnsent: 0 });
    letters.push(...(await deadLetters()));
    const statuses = await macieStatuses();
    const final = tally(accounts, statuses, letters, new Set());
    expect(final.lost).toEqual([]);
    expect(final).toMatchObject({ enabled: cast.healthy.length * REGIONS.length, deadLettered: cast.broken.length * REGIONS.length, retriedBySqs: 0 });
    // Every request is in the table, and the table's observations are Macie's statuses.
    const { rows } = await runtime.store.getMany(accounts.map((account) => account.accountId));
    expect(rows).toHaveLength(accounts.length);
    for (const row of rows) {
      for (const region of REGIONS) expect(row.observed[region]?.relationshipStatus, `${row.accountId} ${region}`).toBe(statuses.get(`${row.accountId} ${region}`));
    }
    console.log(
      `[reliability] storage-faults (b) table throttled: accounts=${accounts.length} regions=${REGIONS.length} runs=${runs} ${figures(final)} ` +
        `| while throttled (1 delivery, 1 scheduled run): ${figures(duringFault)} throttledAnswers=${throttledAnswers}/${dynamoCalls} ` +
        `(hot key ${hotKey.fired()}, scan ${scan.fired()}, share ${shareFired}) requestMessagesKept=${throttled.retried.size} scheduledRun=${failedRun.error} runsReported=${reported(mark).length}`,
    );
  });
});
