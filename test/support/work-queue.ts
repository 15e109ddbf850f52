import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { sqsEvent } from './service-sandbox';

type Worker = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

/**
 * Plays the event source mapping by hand, in this process: receive one unit, invoke the real
 * worker handler, delete it unless it was reported as failed. (The sandbox's driver, a process per
 * invocation, is `sandbox/event-source-mapping.ts`.)
 */
export class HandDrivenWorkQueue {
  private readonly sqs: SQSClient;

  constructor(private readonly sandbox: Sandbox) {
    this.sqs = new SQSClient({ region: sandbox.homeRegion, endpoint: sandbox.endpoints.sqs, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  }

  /** One poll of the work queue, as an SQS event, with the receipt handles to delete. */
  async receive(): Promise<{ event: SQSEvent; handles: Map<string, string> } | undefined> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.sandbox.workQueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return undefined;
    const event = sqsEvent(Messages.map((message) => message.Body!), 'arn:aws:sqs:us-east-1:111111111111:macie-membership-work.fifo');
    const handles = new Map<string, string>();
    event.Records.forEach((record, index) => handles.set(record.messageId, Messages[index]!.ReceiptHandle!));
    return { event, handles };
  }

  async delete(handles: Iterable<string>): Promise<void> {
    const entries = [...handles].map((handle, index) => ({ Id: String(index), ReceiptHandle: handle }));
    if (entries.length > 0) await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.sandbox.workQueueUrl, Entries: entries }));
  }

  /** Invokes the worker until the queue is empty; returns the invocations and the messages reported as failed. */
  async workUntilEmpty(worker: Worker): Promise<{ invocations: number; failed: number }> {
    let invocations = 0;
    let failedCount = 0;
    for (let batch = await this.receive(); batch; batch = await this.receive()) {
      invocations += 1;
      const response = await worker(batch.event, lambdaContext('worker'));
      const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      failedCount += failed.size;
      await this.delete([...batch.handles].filter(([messageId]) => !failed.has(messageId)).map(([, handle]) => handle));
    }
    return { invocations, failed: failedCount };
  }

  close(): void {
    this.sqs.destroy();
  }
}
