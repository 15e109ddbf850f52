import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventSourceMapping, type EventSourceMapping, type EventSourceMappingOptions } from '#sandbox/event-source-mapping';
import { startSandbox, type Sandbox } from '#sandbox/index';
import type { FixtureLogLine, WorkOrder } from '../support/fixture-sqs-worker';
import { listMembersStatus } from '../support/service-sandbox';
import { bundleFunction } from '../../scripts/build.ts';

const FIXTURE = fileURLToPath(new URL('../support/fixture-sqs-worker', import.meta.url));
// Generous: a busy 2-core machine starts each environment (node + tsx) in seconds, and no test measures speed.
const DRAIN = { maxMs: 60_000 };

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.close();
});

interface Harness {
  esm: EventSourceMapping;
  send(orders: Array<[group: string, order: WorkOrder]>): Promise<void>;
  log(): FixtureLogLine[];
  /** Stops the mapping and proves that no environment process is left. */
  close(): Promise<void>;
}

let queues = 0;
async function harness(
  options: { visibilityTimeoutSeconds: number; standardQueue?: boolean; queueAttributes?: Record<string, string> } & Partial<EventSourceMappingOptions>,
  onStart?: (esm: EventSourceMapping, invocation: { environmentId: number; event: SQSEvent }) => void,
): Promise<Harness> {
  const directory = mkdtempSync(join(tmpdir(), 'esm-test-'));
  const logFile = join(directory, 'log.jsonl');
  writeFileSync(logFile, '');
  mkdirSync(join(directory, 'barriers'));
  const clientConfig = {
    region: sandbox.homeRegion,
    endpoint: sandbox.endpoints.sqs,
    credentials: { accessKeyId: sandbox.administrator.accessKeyId, secretAccessKey: sandbox.administrator.secretAccessKey },
  };
  const sqs = new SQSClient(clientConfig);
  const { visibilityTimeoutSeconds, standardQueue = false, queueAttributes = {}, ...mappingOptions } = options;
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: standardQueue ? `worker-${++queues}` : `worker-${++queues}.fifo`,
      Attributes: { ...(standardQueue ? {} : { FifoQueue: 'true' }), VisibilityTimeout: String(visibilityTimeoutSeconds), ...queueAttributes },
    }),
  );
  let esm: EventSourceMapping | undefined = undefined;
  esm = await startEventSourceMapping(
    {
      queueUrl: queueUrl!,
      environment: { ...sandbox.environment(), FIXTURE_LOG: logFile, FIXTURE_BARRIERS: join(directory, 'barriers') },
      handler: { module: FIXTURE },
      functionName: 'worker',
      batchSize: 10,
      maximumConcurrency: 2,
      functionTimeoutMs: 30_000,
      onInvocationStart: (invocation) => onStart?.(esm!, invocation),
      ...mappingOptions,
    },
    clientConfig,
  );
  const log = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as FixtureLogLine);
  return {
    esm,
    async send(orders) {
      for (let index = 0; index < orders.length; index += 10) {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: orders.slice(index, index + 10).map(([group, order]) => ({
              Id: order.id,
              MessageBody: JSON.stringify(order),
              ...(standardQueue ? {} : { MessageGroupId: group, MessageDeduplicationId: order.id }),
            })),
          }),
        );
        expect(result.Failed ?? []).toEqual([]);
      }
    },
    log,
    async close() {
      await esm!.stop();
      sqs.destroy();
      const pids = new Set([...esm!.environments().map((environment) => environment.pid), ...log().map((line) => line.pid)]);
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
      expect(esm!.environments().every((environment) => !environment.alive)).toBe(true);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** What the worker saw of one message, delivery by delivery. */
function deliveries(log: FixtureLogLine[], id: string) {
  return log.flatMap((line) =>
    line.records.filter((record) => record.id === id).map((record) => ({ phase: line.phase, pid: line.pid, receiveCount: record.receiveCount, failed: line.failed?.includes(id) })),
  );
}

describe('startEventSourceMapping', () => {
  it('deletes what a batch processed and redelivers a reported batch item failure after the visibility timeout, with ApproximateReceiveCount 2', async () => {
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 2 });
    try {
      // A warm environment first, so that no cold start eats into the 2 s visibility timeout below.
      await send([['warm', { id: 'warm' }]]);
      await esm.drain(DRAIN);

      await send([
        ['g1', { id: 'ok1' }],
        ['g2', { id: 'fail1', failReceives: 1 }],
        ['g3', { id: 'ok2' }],
      ]);
      await esm.drain(DRAIN);

      const seen = log();
      expect(deliveries(seen, 'ok1').filter((delivery) => delivery.phase === 'end')).toEqual([expect.objectContaining({ receiveCount: 1, failed: false })]);
      expect(deliveries(seen, 'ok2').filter((delivery) => delivery.phase === 'end')).toEqual([expect.objectContaining({ receiveCount: 1, failed: false })]);
      expect(deliveries(seen, 'fail1').filter((delivery) => delivery.phase === 'end')).toEqual([
        expect.objectContaining({ receiveCount: 1, failed: true }),
        expect.objectContaining({ receiveCount: 2, failed: false }),
      ]);

      const failedOnce = esm.invocations().filter((invocation) => invocation.failedMessageIds.length > 0);
      expect(failedOnce).toHaveLength(1);
      expect(failedOnce[0]).toMatchObject({ outcome: 'ok', failedMessageIds: [expect.any(String)] });
      expect(failedOnce[0]!.messageIds.length).toBeGreaterThan(failedOnce[0]!.failedMessageIds.length);
      for (const invocation of esm.invocations()) expect(invocation.peakRssMiB).toBeGreaterThan(0);
      expect(esm.environments().length).toBeLessThanOrEqual(2);
    } finally {
      await close();
    }
  });

  it('builds a genuine SQSEvent: system attributes, message group, queue ARN and region', async () => {
    let event: SQSEvent | undefined;
    const { esm, send, close } = await harness({ visibilityTimeoutSeconds: 30 }, (_esm, invocation) => (event ??= invocation.event));
    try {
      await send([['g', { id: 'shape' }]]);
      await esm.drain(DRAIN);
      expect(event?.Records).toEqual([
        expect.objectContaining({
          messageId: expect.any(String),
          receiptHandle: expect.any(String),
          body: JSON.stringify({ id: 'shape' }),
          md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
          eventSource: 'aws:sqs',
          eventSourceARN: expect.stringMatching(/^arn:aws:sqs:us-east-1:111111111111:worker-\d+\.fifo$/),
          awsRegion: 'us-east-1',
          attributes: expect.objectContaining({
            ApproximateReceiveCount: '1',
            SentTimestamp: expect.stringMatching(/^\d+$/),
            MessageGroupId: 'g',
            MessageDeduplicationId: 'shape',
          }),
        }),
      ]);
    } finally {
      await close();
    }
  });

  it('deletes nothing of a batch whose invocation threw: every message of it comes back', async () => {
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 2 });
    try {
      await send([['warm', { id: 'warm' }]]);
      await esm.drain(DRAIN);

      await send([
        ['g', { id: 't1', throwReceives: 1 }],
        ['g', { id: 't2' }],
      ]);
      await esm.drain(DRAIN);

      const threw = esm.invocations().filter((invocation) => invocation.outcome === 'error');
      expect(threw).toHaveLength(1);
      expect(threw[0]!.messageIds).toHaveLength(2);
      expect(threw[0]!.failedMessageIds).toEqual(threw[0]!.messageIds);
      const seen = log();
      // t2 was fine, but the batch threw, so it is delivered again (and only then deleted).
      expect(deliveries(seen, 't2').filter((delivery) => delivery.phase === 'start').map((delivery) => delivery.receiveCount)).toEqual([1, 2]);
      expect(deliveries(seen, 't1').filter((delivery) => delivery.phase === 'end')).toEqual([expect.objectContaining({ receiveCount: 2, failed: false })]);
    } finally {
      await close();
    }
  });

  it('redelivers the batch of an environment that exited or was killed mid-invocation, to a new environment', async () => {
    // One message a batch: each crash is an invocation of its own.
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 2, batchSize: 1 }, (esm, { environmentId, event }) => {
      const record = event.Records[0]!;
      if ((JSON.parse(record.body) as WorkOrder).id === 'killed' && record.attributes.ApproximateReceiveCount === '1') esm.kill(environmentId);
    });
    try {
      await send([
        ['g1', { id: 'exits', exitReceives: 1 }],
        ['g2', { id: 'killed', sleepMs: 60_000, sleepReceives: 1 }],
      ]);
      await esm.drain(DRAIN);

      const seen = log();
      for (const id of ['exits', 'killed']) {
        // At least once: a new environment's cold start may outlast the 2 s visibility timeout, and
        // then SQS hands the message out again while it runs, as it would on Lambda.
        const done = deliveries(seen, id).filter((delivery) => delivery.phase === 'end');
        expect(done.length).toBeGreaterThanOrEqual(1);
        expect(done.every((delivery) => delivery.failed === false && delivery.receiveCount >= 2)).toBe(true);
      }
      const crashes = esm.invocations().filter((invocation) => invocation.outcome === 'crashed');
      expect(crashes).toHaveLength(2);
      const crashedEnvironments = new Set(crashes.map((invocation) => invocation.environmentId));
      const recovered = esm.invocations().filter((invocation) => invocation.outcome === 'ok');
      for (const invocation of recovered) expect(crashedEnvironments.has(invocation.environmentId)).toBe(false);
      expect(esm.environments().filter((environment) => crashedEnvironments.has(environment.environmentId)).every((environment) => !environment.alive)).toBe(true);
    } finally {
      await close();
    }
  });

  it('kills an environment past the function timeout and redelivers its batch', async () => {
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 2, functionTimeoutMs: 1_500 });
    try {
      await send([['g', { id: 'slow', sleepMs: 60_000, sleepReceives: 1 }]]);
      await esm.drain(DRAIN);
      // At least once after the timeout (see above: a cold start may outlast the visibility timeout).
      const [timedOut, ...recovered] = esm.invocations();
      expect(timedOut!.outcome).toBe('timeout');
      expect(recovered.length).toBeGreaterThanOrEqual(1);
      for (const invocation of recovered) {
        expect(invocation.outcome).toBe('ok');
        expect(invocation.environmentId).not.toBe(timedOut!.environmentId);
      }
      const done = deliveries(log(), 'slow').filter((delivery) => delivery.phase === 'end');
      expect(done.length).toBeGreaterThanOrEqual(1);
      expect(done.every((delivery) => delivery.failed === false && delivery.receiveCount >= 2)).toBe(true);
    } finally {
      await close();
    }
  });

  it('keeps at most one batch in flight per message group, in order, while groups run side by side up to maximumConcurrency', async () => {
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 30, batchSize: 1, maximumConcurrency: 3 });
    try {
      // Without group locking (local-aws-sqs has none) a2 and a3 would run beside a1, which waits at the
      // barrier for b1 and c1: only a driver that holds a2 and a3 back lets the barrier fill.
      const barrier = { name: 'first-of-each', parties: 3 };
      const orders: Array<[string, WorkOrder]> = [];
      for (const group of ['a', 'b', 'c', 'd']) {
        for (const n of [1, 2, 3]) orders.push([group, { id: `${group}${n}`, sleepMs: 20, ...(n === 1 && group !== 'd' ? { barrier } : {}) }]);
      }
      await send(orders);
      await esm.drain(DRAIN);

      const seen = log();
      const intervals = seen
        .filter((line) => line.phase === 'start')
        .map((start) => {
          const end = seen.find((line) => line.phase === 'end' && line.pid === start.pid && line.at >= start.at && line.records[0]!.messageId === start.records[0]!.messageId);
          return { id: start.records[0]!.id, group: start.records[0]!.group!, start: start.at, end: end?.at ?? Infinity, done: end !== undefined };
        });
      for (const group of ['a', 'b', 'c', 'd']) {
        const ofGroup = intervals.filter((interval) => interval.group === group);
        expect(ofGroup.filter((interval) => interval.done).map((interval) => interval.id)).toEqual([`${group}1`, `${group}2`, `${group}3`]);
        for (const one of ofGroup) {
          for (const other of ofGroup) if (one !== other) expect(one.start < other.end && other.start < one.end, `${one.id} overlaps ${other.id}`).toBe(false);
        }
      }
      // Sweep: ends before starts at the same millisecond (an environment reused back to back is not two at once).
      const events = intervals.flatMap((interval) => [
        { at: interval.start, delta: 1 },
        { at: interval.end, delta: -1 },
      ]);
      events.sort((x, y) => x.at - y.at || x.delta - y.delta);
      let now = 0;
      let peak = 0;
      for (const event of events) peak = Math.max(peak, (now += event.delta));
      expect(peak).toBe(3);
      expect(new Set(seen.map((line) => line.pid)).size).toBeLessThanOrEqual(3);
      expect(esm.environments().length).toBeLessThanOrEqual(3);
      expect(esm.invocations().every((invocation) => invocation.groupIds.length === 1 && invocation.outcome === 'ok')).toBe(true);
    } finally {
      await close();
    }
  });

  it("lets a held message go when its group stays busy past half its visibility timeout, and still invokes the group in order", async () => {
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 4, batchSize: 1 });
    try {
      await send([['warm', { id: 'warm' }]]);
      await esm.drain(DRAIN);
      // a1 runs longer than half of a2's and a3's visibility timeout (but within its own): held that
      // long, they are let go and received again, and the group waits for them rather than skipping ahead.
      await send([
        ['a', { id: 'a1', sleepMs: 2_500 }],
        ['a', { id: 'a2' }],
        ['a', { id: 'a3' }],
      ]);
      await esm.drain(DRAIN);
      const ends = log().filter((line) => line.phase === 'end' && line.records[0]!.group === 'a');
      // Only the order of first completions: a1 may be handed out twice if it outlasts its own visibility timeout.
      expect([...new Set(ends.map((line) => line.records[0]!.id))]).toEqual(['a1', 'a2', 'a3']);
      expect(ends.find((line) => line.records[0]!.id === 'a2')!.records[0]!.receiveCount).toBeGreaterThanOrEqual(2);
    } finally {
      await close();
    }
  });

  it('leaves a message past the redrive policy to the dead-letter queue, and drain() still ends', async () => {
    const setup = new SQSClient({ region: sandbox.homeRegion, endpoint: sandbox.endpoints.sqs, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const { QueueUrl: deadLetterUrl } = await setup.send(new CreateQueueCommand({ QueueName: 'worker-dead-letters.fifo', Attributes: { FifoQueue: 'true' } }));
    const { Attributes: deadLetterAttributes } = await setup.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }));
    const redrive = JSON.stringify({ deadLetterTargetArn: deadLetterAttributes!.QueueArn, maxReceiveCount: 2 });
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 1, queueAttributes: { RedrivePolicy: redrive } });
    try {
      await send([['warm', { id: 'warm' }]]);
      await esm.drain(DRAIN);
      await send([
        ['a', { id: 'poison', failReceives: 99 }],
        ['a', { id: 'after' }],
      ]);
      await esm.drain(DRAIN);
      expect(deliveries(log(), 'poison').filter((delivery) => delivery.phase === 'end').map((delivery) => delivery.receiveCount)).toEqual([1, 2]);
      expect(deliveries(log(), 'after').filter((delivery) => delivery.phase === 'end')).toHaveLength(1);
      const moved = await setup.send(new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10 }));
      // The warm-up message may be there too: a cold start can outlast a 1 s visibility timeout twice.
      expect(moved.Messages?.map((message) => (JSON.parse(message.Body!) as WorkOrder).id).filter((id) => id !== 'warm')).toEqual(['poison']);
    } finally {
      await close();
      setup.destroy();
    }
  });

  it('consumes a standard queue too, mixing messages in a batch', async () => {
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 2, standardQueue: true });
    try {
      await send([['-', { id: 'warm' }]]);
      await esm.drain(DRAIN);
      await send([
        ['-', { id: 's1' }],
        ['-', { id: 's2', failReceives: 1 }],
        ['-', { id: 's3' }],
      ]);
      await esm.drain(DRAIN);
      const ends = log().filter((line) => line.phase === 'end');
      // Not 'warm': a cold start can outlast its 2 s visibility timeout, and then it runs twice.
      expect(ends.flatMap((line) => line.records.map((record) => record.id).filter((id) => id !== 'warm')).sort()).toEqual(['s1', 's2', 's2', 's3']);
      expect(esm.invocations().every((invocation) => invocation.groupIds.length === 0)).toBe(true);
    } finally {
      await close();
    }
  });

  it('stop() kills a busy environment and leaves no child process', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const { esm, send, log, close } = await harness({ visibilityTimeoutSeconds: 30 }, () => started());
    await send([['g', { id: 'forever', sleepMs: 600_000 }]]);
    await running;
    while (!log().some((line) => line.phase === 'start')) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(esm.environments().filter((environment) => environment.alive)).toHaveLength(1);
    await close();
    expect(esm.invocations()).toEqual([expect.objectContaining({ outcome: 'crashed' })]);
  });
});

describe('startEventSourceMapping with the real requests function', () => {
  const source = fileURLToPath(new URL('../../functions/requests/handler.ts', import.meta.url));
  const bundled = async () => {
    const directory = mkdtempSync(join(tmpdir(), 'esm-bundle-'));
    return { module: (await bundleFunction('requests', directory)).file, cleanup: () => rmSync(directory, { recursive: true, force: true }) };
  };

  it.each([
    { shape: 'its TypeScript source, with the TypeScript loader', handler: async () => ({ module: source, cleanup: () => undefined }), loader: true },
    { shape: 'its bundle, by plain Node as Lambda runs it', handler: bundled, loader: false },
  ])('invokes the requests function from $shape: an enroll request on the request queue is applied to Macie', async ({ handler, loader }) => {
    const { module, cleanup } = await handler();
    const own = await startSandbox({ regions: ['us-east-1'], accounts: [{ accountId: '222222222301', email: 'vended-1@example.com' }] });
    const clientConfig = {
      region: own.homeRegion,
      endpoint: own.endpoints.sqs,
      credentials: { accessKeyId: own.administrator.accessKeyId, secretAccessKey: own.administrator.secretAccessKey },
    };
    const esm = await startEventSourceMapping(
      {
        queueUrl: own.requestQueueUrl,
        environment: { ...own.environment(), ACCEPT_POLL_ATTEMPTS: '2', ACCEPT_POLL_INTERVAL_MS: '50', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
        handler: { module },
        functionName: 'requests',
        batchSize: 10,
        maximumConcurrency: 2,
        functionTimeoutMs: 60_000,
      },
      clientConfig,
    );
    const sqs = new SQSClient(clientConfig);
    try {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: own.requestQueueUrl,
          Entries: [{ Id: 'enroll', MessageBody: JSON.stringify({ action: 'enroll', accountId: '222222222301', email: 'vended-1@example.com' }) }],
        }),
      );
      await esm.drain(DRAIN);
      expect(esm.invocations()).toEqual([expect.objectContaining({ outcome: 'ok', failedMessageIds: [] })]);
      expect((await listMembersStatus(own, 'us-east-1')).get('222222222301')).toBe('Enabled');
      // The warm environment's command line: the TypeScript loader is there only for a TypeScript module.
      const [environment] = esm.environments();
      const commandLine = readFileSync(`/proc/${environment!.pid}/cmdline`, 'utf8').split('\0');
      expect(commandLine.includes('tsx')).toBe(loader);
    } finally {
      await esm.stop();
      sqs.destroy();
      await own.close();
      cleanup();
    }
  });
});
