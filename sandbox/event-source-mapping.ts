import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { FromEnvironment, ToEnvironment } from '#sandbox/lambda-environment';

/**
 * Plays Lambda's SQS event source mapping locally: polls a queue, invokes a real handler module with
 * genuine `SQSEvent`s and deletes what the function processed, each execution environment in its own
 * Node child process (one invocation at a time, reused while warm, at most `maximumConcurrency`).
 *
 * FIFO: real SQS never hands out a message of a group while an earlier one of that group is in
 * flight, and Lambda keeps at most one batch per group in flight. local-aws-sqs 2.0.2 accepts FIFO
 * queues but does not lock message groups (it returns a2 while a1 is in flight), so this driver
 * enforces it itself: a received message whose group is busy (an invocation holds it, or an earlier
 * message of the group is in flight and expected back) is held here, still invisible on the queue,
 * and invoked in the group's order once the group is free. It is not handed back with
 * ChangeMessageVisibility: local-aws-sqs counts a visibility change as a receive
 * (ApproximateReceiveCount + 1, which its redrive policy also counts), so a message handed back on
 * every poll would reach a dead-letter queue's maxReceiveCount within milliseconds.
 */

export interface EventSourceMappingOptions {
  queueUrl: string;
  /** Environment variables of the function (the sandbox's `environment()` plus the function's own). */
  environment: Record<string, string>;
  /**
   * Absolute path of the handler module, and its export (default 'handler'). A TypeScript module is
   * run with `--import tsx`; a JavaScript one (a function's bundle) by plain Node, as Lambda runs it.
   */
  handler: { module: string; export?: string };
  functionName: string;
  /** Messages per batch, 1..10 (a FIFO source allows at most 10). */
  batchSize: number;
  /** The mapping's MaximumConcurrency: invocations at once, and so environment processes at most. */
  maximumConcurrency: number;
  /** The function's timeout: past it the environment's process is killed and its batch is not deleted. */
  functionTimeoutMs: number;
  /** Long-poll wait of each ReceiveMessage (default 1 s, so that `stop()` is prompt). */
  pollWaitSeconds?: number;
  /**
   * How long an environment may take to load the handler (default 10 s, Lambda's init limit). Lambda
   * gives each environment its own CPU; here they share the machine's, so many starting at once on
   * two cores need longer.
   */
  initTimeoutMs?: number;
  /** Called as each invocation is sent to its environment (a test can `kill` it mid-invocation). */
  onInvocationStart?: (invocation: { environmentId: number; event: SQSEvent }) => void;
}

export interface InvocationRecord {
  environmentId: number;
  messageIds: string[];
  groupIds: string[];
  /** What the response's batchItemFailures listed (all of the batch for anything but 'ok'). */
  failedMessageIds: string[];
  outcome: 'ok' | 'error' | 'timeout' | 'crashed';
  durationMs: number;
  /**
   * The environment process's peak RSS (MiB) so far, as Lambda's "Max Memory Used"; for a timeout
   * or crash, the last peak the process reported.
   */
  peakRssMiB: number;
}

export interface EventSourceMapping {
  /**
   * Resolves once the queue holds no message (visible, in flight or delayed) and no invocation
   * runs; rejects after `maxMs` (default 60 s).
   */
  drain(options?: { maxMs?: number }): Promise<void>;
  invocations(): InvocationRecord[];
  /** Every environment process started so far, with its peak RSS (MiB) and invocation count. */
  environments(): Array<{ environmentId: number; pid: number; peakRssMiB: number; invocations: number; alive: boolean }>;
  /** Kills an environment's process now (SIGKILL): its batch is neither deleted nor answered. */
  kill(environmentId: number): void;
  /** Stops polling, kills every environment and resolves once each process has exited. */
  stop(): Promise<void>;
}

const ENVIRONMENT_SCRIPT = fileURLToPath(new URL('./lambda-environment.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
// Lambda gives the init phase 10 s of its own; a module that never loads must not hang drain().
const INIT_TIMEOUT_MS = 10_000;

interface EnvironmentRuntime {
  script: string;
  execArgv: string[];
}

let compiledRuntime: Promise<EnvironmentRuntime> | undefined;

/**
 * The runtime side an environment process runs. For a bundled (JavaScript) handler it is compiled
 * once to plain JavaScript: loading the TypeScript loader in every environment costs each cold start
 * about half a second and 80 MiB that Lambda's runtime does not, which would bias both the
 * benchmark's timing and its memory figure.
 */
function environmentRuntime(handlerModule: string): Promise<EnvironmentRuntime> {
  if (!/\.[cm]?js$/.test(handlerModule)) return Promise.resolve({ script: ENVIRONMENT_SCRIPT, execArgv: ['--import', 'tsx'] });
  compiledRuntime ??= (async () => {
    const outfile = join(await mkdtemp(join(tmpdir(), 'macie-lambda-runtime-')), 'lambda-environment.mjs');
    await build({ entryPoints: [ENVIRONMENT_SCRIPT], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
    return { script: outfile, execArgv: [] };
  })();
  return compiledRuntime;
}
/**
 * A held message is invoked only while at least this fraction of its visibility timeout is left;
 * past that it is let go (it becomes visible again and is received anew, ApproximateReceiveCount + 1)
 * rather than invoked with a receipt handle about to expire and processed twice.
 */
const HELD_FRACTION_OF_VISIBILITY = 0.5;
const QUEUE_COUNTS = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

type Outcome =
  | { kind: 'ok'; response: unknown; peakRssMiB: number }
  | { kind: 'error'; peakRssMiB: number }
  | { kind: 'timeout' }
  | { kind: 'crashed' };

interface Received {
  message: Message & { MessageId: string; ReceiptHandle: string };
  group: string | undefined;
  receivedAt: number;
  /** First-seen order: the send order within a group (local-aws-sqs's SequenceNumber is not monotonic). */
  order: number;
}

class Environment {
  readonly child: ChildProcess;
  readonly ready: Promise<boolean>;
  alive = true;
  busy = false;
  invocations = 0;
  peakRssMiB = 0;
  private pending?: { invocationId: number; resolve: (outcome: Outcome) => void };
  private timedOut = false;
  private timer?: NodeJS.Timeout;
  readonly exited: Promise<void>;

  constructor(
    readonly id: number,
    options: EventSourceMappingOptions,
    runtime: EnvironmentRuntime,
  ) {
    this.child = fork(runtime.script, [options.handler.module, options.handler.export ?? 'handler'], {
      cwd: PROJECT_ROOT,
      execArgv: runtime.execArgv,
      env: { ...process.env, ...options.environment },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // The function's logs go to the parent's stderr (not stdout, which may be a machine-read channel).
    this.child.stdout?.pipe(process.stderr, { end: false });
    this.child.stderr?.pipe(process.stderr, { end: false });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    // A send racing the process's death fails with an 'error' event; the 'exit' handler settles the invocation.
    this.child.on('error', () => undefined);
    this.ready = new Promise<boolean>((resolve) => {
      const initTimer = setTimeout(() => this.child.kill('SIGKILL'), options.initTimeoutMs ?? INIT_TIMEOUT_MS);
      this.child.on('message', (message: FromEnvironment) => {
        this.peakRssMiB = Math.max(this.peakRssMiB, message.peakRssMiB);
        if (message.type === 'ready') {
          clearTimeout(initTimer);
          resolve(true);
        } else if (this.pending?.invocationId === message.invocationId) {
          this.settle(message.type === 'result' ? { kind: 'ok', response: message.response, peakRssMiB: message.peakRssMiB } : { kind: 'error', peakRssMiB: message.peakRssMiB });
        }
      });
      this.child.once('exit', () => {
        clearTimeout(initTimer);
        this.alive = false;
        resolve(false);
        this.settle(this.timedOut ? { kind: 'timeout' } : { kind: 'crashed' });
      });
    });
  }

  invoke(invocationId: number, event: SQSEvent, options: EventSourceMappingOptions): Promise<Outcome> {
    this.invocations += 1;
    return new Promise((resolve) => {
      this.pending = { invocationId, resolve };
      void this.ready.then((ready) => {
        if (!ready || !this.alive || this.pending?.invocationId !== invocationId) return;
        this.timer = setTimeout(() => {
          this.timedOut = true;
          this.child.kill('SIGKILL');
        }, options.functionTimeoutMs);
        const message: ToEnvironment = { type: 'invoke', invocationId, event, functionName: options.functionName, functionTimeoutMs: options.functionTimeoutMs };
        this.child.send(message);
      });
    });
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  private settle(outcome: Outcome): void {
    clearTimeout(this.timer);
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve(outcome);
  }
}

export async function startEventSourceMapping(options: EventSourceMappingOptions, sqsClientConfig: SQSClientConfig): Promise<EventSourceMapping> {
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 10) throw new Error('batchSize must be 1..10');
  if (!Number.isInteger(options.maximumConcurrency) || options.maximumConcurrency < 1) throw new Error('maximumConcurrency must be >= 1');
  const sqs = new SQSClient(sqsClientConfig);
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout', 'RedrivePolicy'] }),
  );
  const queueArn = attributes.QueueArn!;
  const awsRegion = queueArn.split(':')[3]!;
  const visibilityTimeoutMs = Number(attributes.VisibilityTimeout ?? 30) * 1000;
  const maxReceiveCount = attributes.RedrivePolicy ? Number((JSON.parse(attributes.RedrivePolicy) as { maxReceiveCount: number }).maxReceiveCount) : Infinity;
  const runtime = await environmentRuntime(options.handler.module);

  const environments: Environment[] = [];
  const records: InvocationRecord[] = [];
  /** Received, not yet invoked: their group was busy. Keyed by MessageId. */
  const held = new Map<string, Received>();
  /** Groups an invocation holds. */
  const busyGroups = new Set<string>();
  /** Per group, messages received but not deleted, still in flight on the queue: the group waits for them to come back. */
  const awaited = new Map<string, Map<string, number>>();
  const firstSeen = new Map<string, number>();
  let seen = 0;
  let running = 0;
  let invocationIds = 0;
  let stopped = false;
  const abort = new AbortController();
  let wake: () => void = () => undefined;
  const inProgress = new Set<Promise<void>>();

  const groupIsFree = (group: string | undefined, now: number): boolean => {
    if (group === undefined) return true;
    if (busyGroups.has(group)) return false;
    const waiting = awaited.get(group);
    if (!waiting) return true;
    // Safety net: a message that never came back (deleted by someone else, expired) must not lock its group forever.
    for (const [messageId, expectedBy] of waiting) if (now > expectedBy) waiting.delete(messageId);
    if (waiting.size === 0) awaited.delete(group);
    return !awaited.has(group);
  };

  const expectBack = (received: Received, now: number) => {
    if (received.group === undefined) return;
    // local-aws-sqs moves it to the dead-letter queue when its visibility timeout ends: it will not come back.
    if (Number(received.message.Attributes?.ApproximateReceiveCount ?? 0) >= maxReceiveCount) return;
    const waiting = awaited.get(received.group) ?? new Map<string, number>();
    waiting.set(received.message.MessageId, now + visibilityTimeoutMs * 2 + 10_000);
    awaited.set(received.group, waiting);
  };

  const onReceived = (message: Message, now: number) => {
    if (!message.MessageId || !message.ReceiptHandle) return;
    const group = message.Attributes?.MessageGroupId;
    if (group !== undefined) {
      const waiting = awaited.get(group);
      waiting?.delete(message.MessageId);
      if (waiting?.size === 0) awaited.delete(group);
    }
    if (!firstSeen.has(message.MessageId)) firstSeen.set(message.MessageId, seen++);
    held.set(message.MessageId, {
      message: message as Received['message'],
      group,
      receivedAt: now,
      order: firstSeen.get(message.MessageId)!,
    });
  };

  const dispatch = () => {
    const now = Date.now();
    for (const [messageId, received] of held) {
      if (now - received.receivedAt > visibilityTimeoutMs * (1 - HELD_FRACTION_OF_VISIBILITY)) {
        held.delete(messageId);
        expectBack(received, now);
      }
    }
    while (!stopped && running < options.maximumConcurrency && held.size > 0) {
      const byGroup = new Map<string | undefined, Received[]>();
      for (const received of held.values()) {
        if (!groupIsFree(received.group, now)) continue;
        // Messages of standard queues have no group: each is a group of its own.
        const key = received.group ?? `\0${received.message.MessageId}`;
        byGroup.set(key, [...(byGroup.get(key) ?? []), received]);
      }
      const batch: Received[] = [];
      for (const messages of byGroup.values()) {
        messages.sort((a, b) => a.order - b.order);
        batch.push(...messages.slice(0, options.batchSize - batch.length));
        if (batch.length === options.batchSize) break;
      }
      if (batch.length === 0) return;
      for (const received of batch) {
        held.delete(received.message.MessageId);
        if (received.group !== undefined) busyGroups.add(received.group);
      }
      const invocation = invoke(batch);
      inProgress.add(invocation);
      void invocation.finally(() => inProgress.delete(invocation));
    }
  };

  const toRecord = (received: Received): SQSRecord => {
    const { message } = received;
    const system = message.Attributes ?? {};
    const messageAttributes: SQSMessageAttributes = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
      messageAttributes[name] = {
        dataType: value.DataType ?? 'String',
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
        stringListValues: [],
        binaryListValues: [],
      };
    }
    return {
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
        SentTimestamp: system.SentTimestamp ?? String(received.receivedAt),
        SenderId: system.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(received.receivedAt),
        ...(system.SequenceNumber !== undefined ? { SequenceNumber: system.SequenceNumber } : {}),
        ...(system.MessageGroupId !== undefined ? { MessageGroupId: system.MessageGroupId } : {}),
        ...(system.MessageDeduplicationId !== undefined ? { MessageDeduplicationId: system.MessageDeduplicationId } : {}),
        ...(system.AWSTraceHeader !== undefined ? { AWSTraceHeader: system.AWSTraceHeader } : {}),
      },
      messageAttributes,
      md5OfBody: message.MD5OfBody ?? '',
      ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion,
    };
  };

  const environmentFor = (): Environment => {
    const warm = environments.find((environment) => environment.alive && !environment.busy);
    if (warm) return warm;
    const fresh = new Environment(environments.length + 1, options, runtime);
    environments.push(fresh);
    return fresh;
  };

  const invoke = async (batch: Received[]) => {
    running += 1;
    const environment = environmentFor();
    environment.busy = true;
    const event: SQSEvent = { Records: batch.map(toRecord) };
    const messageIds = batch.map((received) => received.message.MessageId);
    const startedAt = Date.now();
    options.onInvocationStart?.({ environmentId: environment.id, event });
    const outcome = await environment.invoke(++invocationIds, event, options);
    const durationMs = Date.now() - startedAt;

    let failed = new Set(messageIds);
    if (outcome.kind === 'ok') {
      const listed = failuresListed(outcome.response);
      // Lambda fails the whole batch when the response names an item that is not in it (or is malformed).
      if (listed && listed.every((id) => messageIds.includes(id))) failed = new Set(listed);
    }
    const deleted = new Set<string>();
    const toDelete = batch.filter((received) => !failed.has(received.message.MessageId));
    if (toDelete.length > 0 && !stopped) {
      try {
        const result = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: toDelete.map((received, index) => ({ Id: String(index), ReceiptHandle: received.message.ReceiptHandle })),
          }),
        );
        for (const entry of result.Successful ?? []) deleted.add(toDelete[Number(entry.Id)]!.message.MessageId);
      } catch (error) {
        if (!stopped) console.error(`event source mapping ${options.functionName}: DeleteMessageBatch failed`, error);
      }
    }
    const now = Date.now();
    for (const received of batch) {
      const messageId = received.message.MessageId;
      if (deleted.has(messageId)) firstSeen.delete(messageId);
      // Received anew during the invocation (its visibility timeout ran out): it is held, not awaited.
      else if (!held.has(messageId)) expectBack(received, now);
    }
    for (const received of batch) if (received.group !== undefined) busyGroups.delete(received.group);
    records.push({
      environmentId: environment.id,
      messageIds,
      groupIds: [...new Set(batch.flatMap((received) => (received.group === undefined ? [] : [received.group])))],
      failedMessageIds: messageIds.filter((id) => failed.has(id)),
      outcome: outcome.kind === 'ok' ? 'ok' : outcome.kind,
      durationMs,
      peakRssMiB: 'peakRssMiB' in outcome ? outcome.peakRssMiB : environment.peakRssMiB,
    });
    environment.busy = false;
    running -= 1;
    wake();
    dispatch();
  };

  const poll = async () => {
    while (!stopped) {
      if (running >= options.maximumConcurrency) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      try {
        const { Messages: messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: options.pollWaitSeconds ?? 1,
            // local-aws-sqs 2.0.2 reads only the deprecated AttributeNames; real SQS reads both.
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        const now = Date.now();
        for (const message of messages) onReceived(message, now);
      } catch (error) {
        if (stopped) return;
        console.error(`event source mapping ${options.functionName}: ReceiveMessage failed`, error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      dispatch();
    }
  };
  const polling = poll();

  return {
    async drain({ maxMs = 60_000 } = {}) {
      const deadline = Date.now() + maxMs;
      for (;;) {
        if (running === 0 && held.size === 0) {
          const { Attributes: counts = {} } = await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: [...QUEUE_COUNTS] }),
          );
          // local-aws-sqs's ApproximateNumberOfMessages counts in-flight messages too; all three must be 0 either way.
          const left = QUEUE_COUNTS.reduce((sum, name) => sum + Number(counts[name] ?? 0), 0);
          if (left === 0 && running === 0 && held.size === 0) return;
        }
        if (Date.now() > deadline) throw new Error(`event source mapping ${options.functionName}: queue not drained within ${maxMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    invocations: () => records.map((record) => ({ ...record })),
    environments: () =>
      environments.map((environment) => ({
        environmentId: environment.id,
        pid: environment.child.pid ?? -1,
        peakRssMiB: environment.peakRssMiB,
        invocations: environment.invocations,
        alive: environment.alive,
      })),
    kill(environmentId) {
      environments.find((environment) => environment.id === environmentId)?.kill();
    },
    async stop() {
      stopped = true;
      abort.abort();
      wake();
      for (const environment of environments) environment.kill();
      await Promise.all(environments.map((environment) => environment.exited));
      await Promise.all([polling, ...inProgress]);
      sqs.destroy();
    },
  };
}

/** The item identifiers of a partial batch response, or undefined when the response is not a valid one. */
function failuresListed(response: unknown): string[] | undefined {
  if (response === null || response === undefined) return [];
  if (typeof response !== 'object') return undefined;
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return [];
  if (!Array.isArray(failures)) return undefined;
  const ids = failures.map((failure: unknown) => (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier);
  return ids.every((id): id is string => typeof id === 'string' && id.length > 0) ? ids : undefined;
}
