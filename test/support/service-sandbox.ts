import { readFile } from 'node:fs/promises';
import { Macie2Client, paginateListMembers } from '@aws-sdk/client-macie2';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { startSandbox, type Sandbox, type SandboxOptions } from '#sandbox/index';
import { QueueAdmin } from '#shared/deadletter/queue-admin';

/**
 * Integration tests run the real handlers and the real AWS SDK clients against the local sandbox.
 * A test file starts one sandbox and points this process's environment at it before the first
 * handler call (the service reads its configuration once).
 */
export async function startServiceSandbox(options: SandboxOptions = {}, environment: Record<string, string> = {}): Promise<Sandbox> {
  const sandbox = await startSandbox(options);
  Object.assign(process.env, sandbox.environment(), {
    ACCEPT_POLL_ATTEMPTS: '2',
    ACCEPT_POLL_INTERVAL_MS: '50',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...environment,
  });
  return sandbox;
}

export function seedAccounts(count: number, first = 1, prefix = '2222222'): Array<{ accountId: string; email: string }> {
  return Array.from({ length: count }, (_, index) => {
    const n = String(first + index).padStart(12 - prefix.length, '0');
    return { accountId: `${prefix}${n}`, email: `owner-${prefix}${n}@example.com` };
  });
}

/** Every member of the administrator in a region, through the real Macie client (all statuses). */
export async function listMembersStatus(sandbox: Sandbox, region: string): Promise<Map<string, string>> {
  const client = new Macie2Client({
    region,
    endpoint: sandbox.endpoints.macie2,
    credentials: { accessKeyId: sandbox.administrator.accessKeyId, secretAccessKey: sandbox.administrator.secretAccessKey },
  });
  const statuses = new Map<string, string>();
  for await (const page of paginateListMembers({ client }, { onlyAssociated: 'false' })) {
    for (const member of page.members ?? []) statuses.set(member.accountId!, member.relationshipStatus!);
  }
  client.destroy();
  return statuses;
}

/** Receives (and hides) every message on a queue, parsed. */
export async function drainQueue(sandbox: Sandbox, queueUrl: string): Promise<Array<Record<string, unknown>>> {
  const queues = new QueueAdmin({ region: sandbox.homeRegion, maxAttempts: 3 });
  // The sandbox's SQS is one server: a short poll sees every message.
  const messages = await queues.receive(queueUrl, 10_000, 300, 0);
  return messages.map((message) => JSON.parse(message.body) as Record<string, unknown>);
}

export async function loadEvent<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(new URL(`../../events/${name}`, import.meta.url), 'utf8')) as T;
}

let messageCounter = 0;

/** An SQS event as Lambda delivers it, from raw message bodies. */
export function sqsEvent(bodies: string[], queueArn = 'arn:aws:sqs:us-east-1:111111111111:macie-membership-requests'): SQSEvent {
  const records: SQSRecord[] = bodies.map((body) => {
    messageCounter += 1;
    return {
      messageId: `00000000-0000-4000-8000-${String(messageCounter).padStart(12, '0')}`,
      receiptHandle: `handle-${messageCounter}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now() + messageCounter),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    };
  });
  return { Records: records };
}

export async function sendToQueue(sandbox: Sandbox, queueUrl: string, body: string): Promise<void> {
  const sqs = new SQSClient({ region: sandbox.homeRegion, endpoint: sandbox.endpoints.sqs, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  sqs.destroy();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
