import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import {
  InvalidMessageContents,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { startSandbox, type Sandbox } from '#sandbox/index';
import { startFaultProxy, viaProxy, type FaultProxy } from './fault-proxy';

/** The proxy's error shapes must be read by the real SDK as the errors they stand for: same `name`, same class. */

const CREDENTIALS = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };

let sandbox: Sandbox;
let dynamoProxy: FaultProxy;
let sqsProxy: FaultProxy;
let dynamo: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  sandbox = await startSandbox();
  dynamoProxy = await startFaultProxy(sandbox.endpoints.dynamodb, { protocol: 'dynamodb', seed: 7 });
  sqsProxy = await startFaultProxy(sandbox.endpoints.sqs, { protocol: 'sqs' });
  // One attempt: each error reaches the test as the SDK parsed it, not retried.
  dynamo = new DynamoDBClient({ region: sandbox.homeRegion, endpoint: dynamoProxy.url, credentials: CREDENTIALS, maxAttempts: 1 });
  sqs = new SQSClient({ region: sandbox.homeRegion, endpoint: sqsProxy.url, credentials: CREDENTIALS, maxAttempts: 1 });
});

afterAll(async () => {
  dynamo?.destroy();
  sqs?.destroy();
  await dynamoProxy?.close();
  await sqsProxy?.close();
  await sandbox?.close();
});

const getItem = () => dynamo.send(new GetItemCommand({ TableName: sandbox.tableName, Key: { accountId: { S: '222222222201' } } }));

async function rejection(call: () => Promise<unknown>): Promise<Error & { $fault?: string }> {
  try {
    await call();
  } catch (error) {
    return error as Error & { $fault?: string };
  }
  throw new Error('the call succeeded');
}

describe('fault proxy: DynamoDB', () => {
  it('passes calls through unchanged when no rule fires', async () => {
    await dynamo.send(new PutItemCommand({ TableName: sandbox.tableName, Item: { accountId: { S: '222222222201' }, email: { S: 'a@example.com' } } }));
    expect((await getItem()).Item?.email).toEqual({ S: 'a@example.com' });
    expect(dynamoProxy.calls().map(({ operation, fault, status }) => ({ operation, fault, status }))).toEqual([
      { operation: 'PutItem', fault: undefined, status: 200 },
      { operation: 'GetItem', fault: undefined, status: 200 },
    ]);
  });

  it('answers in DynamoDB JSON 1.0 error shapes the SDK reads as the modeled exceptions', async () => {
    const cases = [
      { error: 'ProvisionedThroughputExceededException', status: 400, type: ProvisionedThroughputExceededException, fault: 'client' },
      { error: 'ThrottlingException', status: 400, type: ThrottlingException, fault: 'client' },
      { error: 'InternalServerError', status: 500, type: InternalServerError, fault: 'server' },
    ] as const;
    for (const { error, status, type, fault } of cases) {
      const rule = dynamoProxy.addRule({ name: error, operations: ['GetItem'], times: 1, answer: { error, status, message: `injected ${error}` } });
      const thrown = await rejection(getItem);
      expect(thrown).toBeInstanceOf(type);
      expect(thrown).toMatchObject({ name: error, message: `injected ${error}`, $fault: fault });
      expect(rule.fired()).toBe(1);
    }
    // Each rule fired its one time; the next call goes through.
    expect((await getItem()).Item).toBeDefined();
    dynamoProxy.clearRules();
  });

  it('fires only on its operations and body predicate, at most `times` times', async () => {
    const rule = dynamoProxy.addRule({
      name: 'observations',
      operations: ['GetItem'],
      when: ({ body }) => JSON.stringify(body.Key).includes('222222222201'),
      times: 2,
      answer: { error: 'ProvisionedThroughputExceededException' },
    });
    const other = () => dynamo.send(new GetItemCommand({ TableName: sandbox.tableName, Key: { accountId: { S: '222222222202' } } }));
    await expect(other()).resolves.toBeDefined();
    await expect(getItem()).rejects.toThrow(ProvisionedThroughputExceededException);
    await expect(getItem()).rejects.toThrow(ProvisionedThroughputExceededException);
    await expect(getItem()).resolves.toBeDefined();
    expect(rule.fired()).toBe(2);
    rule.remove();
  });

  it('fails a share of calls drawn from its seeded PRNG: the same seed, the same calls', async () => {
    const pattern = async (proxy: FaultProxy, client: DynamoDBClient) => {
      proxy.addRule({ name: 'throttle', probability: 0.3, answer: { error: 'ThrottlingException' } });
      const outcomes: string[] = [];
      for (let call = 0; call < 40; call++) {
        const result = await client
          .send(new GetItemCommand({ TableName: sandbox.tableName, Key: { accountId: { S: '222222222201' } } }))
          .then(() => '.', () => 'x');
        outcomes.push(result);
      }
      proxy.clearRules();
      return outcomes.join('');
    };
    const twin = await startFaultProxy(sandbox.endpoints.dynamodb, { protocol: 'dynamodb', seed: 7 });
    const twinClient = new DynamoDBClient({ region: sandbox.homeRegion, endpoint: twin.url, credentials: CREDENTIALS, maxAttempts: 1 });
    const fresh = await startFaultProxy(sandbox.endpoints.dynamodb, { protocol: 'dynamodb', seed: 7 });
    const freshClient = new DynamoDBClient({ region: sandbox.homeRegion, endpoint: fresh.url, credentials: CREDENTIALS, maxAttempts: 1 });
    const first = await pattern(twin, twinClient);
    const second = await pattern(fresh, freshClient);
    expect(first).toBe(second);
    const failures = [...first].filter((outcome) => outcome === 'x').length;
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(40);
    twinClient.destroy();
    freshClient.destroy();
    await twin.close();
    await fresh.close();
  });
});

describe('fault proxy: SQS', () => {
  const send = (bodies: string[]) =>
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: viaProxy(sqsProxy, sandbox.deadLetterQueueUrl),
        Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
  const receiveAll = async (): Promise<string[]> => {
    const bodies: string[] = [];
    for (let round = 0; round < 10; round++) {
      const { Messages: messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: viaProxy(sqsProxy, sandbox.deadLetterQueueUrl), MaxNumberOfMessages: 10, VisibilityTimeout: 300 }),
      );
      if (messages.length === 0) break;
      bodies.push(...messages.map((message) => message.Body ?? ''));
    }
    return bodies;
  };

  it('answers in SQS JSON error shapes (with the query-compatible code header) the SDK reads as the modeled exceptions', async () => {
    const cases = [
      { error: 'InvalidMessageContents', status: 400, type: InvalidMessageContents, fault: 'client' },
      // SQS's query code for this one is AWS.SimpleQueueService.NonExistentQueue; the SDK maps it back.
      { error: 'QueueDoesNotExist', status: 400, type: QueueDoesNotExist, fault: 'client' },
      // Not modeled: the SDK's base exception, named after the code.
      { error: 'ServiceUnavailable', status: 503, type: SQSServiceException, fault: 'server' },
    ] as const;
    for (const { error, status, type, fault } of cases) {
      sqsProxy.addRule({ name: error, operations: ['SendMessageBatch'], times: 1, answer: { error, status } });
      const thrown = await rejection(() => send(['{"n":1}']));
      expect(thrown).toBeInstanceOf(type);
      expect(thrown).toMatchObject({ name: error, $fault: fault });
    }
    sqsProxy.clearRules();
    expect(await receiveAll()).toEqual([]);
  });

  it('refuses chosen entries of a batch in `Failed` and delivers the others, whose answer is the real one', async () => {
    sqsProxy.addRule({
      name: 'refuse',
      operations: ['SendMessageBatch'],
      answer: { failEntries: (entry) => entry.MessageBody === '{"n":2}', code: 'InvalidMessageContents', senderFault: true },
    });
    // The SDK checks the MD5 digest of every delivered body, so the Successful entries must be SQS's own.
    const output = await send(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(output.Successful?.map((entry) => entry.Id).sort()).toEqual(['0', '2']);
    expect(output.Failed).toEqual([{ Id: '1', SenderFault: true, Code: 'InvalidMessageContents', Message: 'InvalidMessageContents injected by the fault proxy' }]);
    // A batch of refused entries only never reaches the queue.
    expect((await send(['{"n":2}'])).Failed?.map((entry) => entry.Id)).toEqual(['0']);
    sqsProxy.clearRules();
    expect((await receiveAll()).sort()).toEqual(['{"n":1}', '{"n":3}']);
    expect(sqsProxy.calls().filter((call) => call.fault === 'refuse').map((call) => call.failedEntries)).toEqual([1, 1]);
  });
});
