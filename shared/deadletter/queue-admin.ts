import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { awsClientOptions } from '#shared/aws/client-options';
import { AwsCallError, callAws } from '#shared/errors';

export interface QueuedMessage {
  messageId: string;
  body: string;
  receiptHandle: string;
}

export interface PeekedMessage {
  messageId: string;
  body: string;
  /** When SQS received it (on a dead-letter queue fed by a redrive policy: when it first reached the source queue). */
  sentAt?: string;
}

/**
 * Operator access to the service's queues: how deep they are, what is in them, and moving
 * dead letters back to the request queue once their cause is fixed.
 */
export class QueueAdmin {
  private readonly sqs: SQSClient;

  constructor(options: { region: string; maxAttempts: number }) {
    this.sqs = new SQSClient(awsClientOptions(options));
  }

  /** Messages waiting plus messages in flight. */
  async depth(queueUrl: string): Promise<number> {
    const { Attributes: attributes = {} } = await callAws('GetQueueAttributes', () =>
      this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      ),
    );
    return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  /** The URL of the dead-letter queue that `queueUrl`'s redrive policy names; `undefined` when it has none. */
  async deadLetterQueueUrl(queueUrl: string): Promise<string | undefined> {
    const { Attributes: attributes = {} } = await callAws('GetQueueAttributes', () =>
      this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] })),
    );
    if (!attributes.RedrivePolicy) return undefined;
    const arn = parseQueueArn((JSON.parse(attributes.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn);
    if (!arn) return undefined;
    const { QueueUrl: url } = await callAws('GetQueueUrl', () =>
      this.sqs.send(new GetQueueUrlCommand({ QueueName: arn.name, QueueOwnerAWSAccountId: arn.accountId })),
    );
    return url;
  }

  /**
   * Receives up to `limit` messages, hiding each for `visibilitySeconds` so one call never sees a
   * message twice. Long polling (`waitSeconds`) asks every SQS server, not a sample, so an empty
   * answer means an empty queue.
   */
  async receive(queueUrl: string, limit: number, visibilitySeconds = 30, waitSeconds = 1): Promise<QueuedMessage[]> {
    const messages: QueuedMessage[] = [];
    while (messages.length < limit) {
      const batch = await this.receiveBatch(queueUrl, limit - messages.length, visibilitySeconds, waitSeconds);
      if (batch.length === 0) break;
      messages.push(...batch.map(({ messageId, body, receiptHandle }) => ({ messageId, body, receiptHandle })));
    }
    return messages;
  }

  /** One ReceiveMessage: at most 10 messages, each with its handle and the time SQS took it. */
  private async receiveBatch(
    queueUrl: string,
    max: number,
    visibilitySeconds: number,
    waitSeconds: number,
  ): Promise<Array<QueuedMessage & { sentAt?: string }>> {
    const { Messages: batch = [] } = await callAws('ReceiveMessage', () =>
      this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, max),
          VisibilityTimeout: Math.max(1, visibilitySeconds),
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      ),
    );
    return batch.flatMap((message) => {
      if (!message.MessageId || message.Body === undefined || !message.ReceiptHandle) return [];
      const sent = Number(message.Attributes?.SentTimestamp);
      const sentAt = Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {};
      return [{ messageId: message.MessageId, body: message.Body, receiptHandle: message.ReceiptHandle, ...sentAt }];
    });
  }

  /**
   * Reads up to `limit` messages without removing them. SQS has no peek: each message is received
   * (hidden for `visibilitySeconds`, long enough to page through the queue without meeting it
   * again) and then made visible again at once, so the next reader (or redrive) sees it as before.
   * What another consumer holds in flight is not seen. A receive counts towards a queue's own
   * redrive `maxReceiveCount`: peek dead-letter queues, which have none, not work queues.
   */
  async peek(queueUrl: string, limit: number, visibilitySeconds = 30): Promise<PeekedMessage[]> {
    const seen = new Map<string, PeekedMessage>();
    const handles: string[] = [];
    try {
      while (seen.size < limit) {
        const batch = await this.receiveBatch(queueUrl, limit - seen.size, visibilitySeconds, 1);
        handles.push(...batch.map((message) => message.receiptHandle));
        const fresh = batch.filter((message) => !seen.has(message.messageId));
        for (const { receiptHandle: _handle, ...message } of fresh) seen.set(message.messageId, message);
        if (fresh.length === 0) break;
      }
    } finally {
      await this.release(queueUrl, handles);
    }
    return [...seen.values()];
  }

  /** Makes received messages visible again now. */
  private async release(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    for (let start = 0; start < receiptHandles.length; start += 10) {
      const handles = receiptHandles.slice(start, start + 10);
      await callAws('ChangeMessageVisibilityBatch', () =>
        this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: handles.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle, VisibilityTimeout: 0 })),
          }),
        ),
      );
    }
  }

  /**
   * Moves every message from one queue to another: send first, delete after, so a failure in
   * between leaves a duplicate (requests are idempotent) rather than a loss. `prepare` may rewrite
   * a body on the way, or return `undefined` to leave the message where it is.
   */
  async moveAll(
    fromUrl: string,
    toUrl: string,
    { onMoved, prepare = async (body) => body }: { onMoved?: (moved: number) => void; prepare?: (body: string) => Promise<string | undefined> } = {},
  ): Promise<{ moved: number; left: number }> {
    // Only what is there now: if the cause is still unfixed, replays come back to the dead-letter
    // queue while this runs, and moving them again would loop.
    const limit = await this.depth(fromUrl);
    let moved = 0;
    let left = 0;
    while (moved + left < limit) {
      const received = await this.receive(fromUrl, Math.min(10, limit - moved - left), 60);
      if (received.length === 0) break;
      const batch: Array<QueuedMessage & { replay: string }> = [];
      for (const message of received) {
        const replay = await prepare(message.body);
        if (replay === undefined) left += 1;
        else batch.push({ ...message, replay });
      }
      if (batch.length === 0) continue;
      const sent = await callAws('SendMessageBatch', () =>
        this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: toUrl,
            Entries: batch.map((message, index) => ({ Id: String(index), MessageBody: message.replay })),
          }),
        ),
      );
      if ((sent.Failed ?? []).length > 0) {
        const first = sent.Failed![0]!;
        throw new AwsCallError('SendMessageBatch', first.Code ?? 'SendFailed', first.Message ?? 'message not accepted', 1);
      }
      await callAws('DeleteMessageBatch', () =>
        this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: fromUrl,
            Entries: batch.map((message, index) => ({ Id: String(index), ReceiptHandle: message.receiptHandle })),
          }),
        ),
      );
      moved += batch.length;
      onMoved?.(moved);
    }
    return { moved, left };
  }
}

/** `arn:aws:sqs:us-east-1:111111111111:name` -> its parts; `undefined` for anything else. */
export function parseQueueArn(arn: string | undefined): { region: string; accountId: string; name: string } | undefined {
  const parts = arn?.split(':');
  if (!parts || parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs') return undefined;
  return { region: parts[3]!, accountId: parts[4]!, name: parts[5]! };
}
