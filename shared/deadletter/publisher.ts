import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { backoffBeforeRound } from '#shared/aws/backoff';
import { awsClientOptions } from '#shared/aws/client-options';
import { AwsCallError, callAws } from '#shared/errors';
import type { DeadLetter } from '#shared/domain/dead-letters';
import { deadLetterBody } from '#shared/domain/dead-letters';
import type { DeadLetterPublisher } from '#shared/ports';

// SQS limits: 10 entries and 256 KiB per SendMessageBatch call.
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 250 * 1024;
const MAX_ROUNDS = 5;

export class SqsDeadLetterPublisher implements DeadLetterPublisher {
  private readonly sqs: SQSClient;

  constructor(
    private readonly queueUrl: string,
    options: { region: string; maxAttempts: number },
  ) {
    this.sqs = new SQSClient(awsClientOptions(options));
  }

  async publish(letters: readonly DeadLetter[]): Promise<void> {
    for (const batch of toBatches(letters.map(deadLetterBody))) await this.send(batch);
  }

  private async send(bodies: string[]): Promise<void> {
    let pending = bodies.map((body, index) => ({ Id: String(index), MessageBody: body }));
    // SendMessageBatch succeeds as a call even when single entries fail; resend just those.
    for (let round = 1; pending.length > 0; round++) {
      if (round > 1) await backoffBeforeRound(round - 1);
      const output = await callAws('SendMessageBatch', () =>
        this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending })),
      );
      const failed = new Set((output.Failed ?? []).map((entry) => entry.Id));
      const senderFault = output.Failed?.find((entry) => entry.SenderFault);
      if (senderFault || (failed.size > 0 && round === MAX_ROUNDS)) {
        throw new AwsCallError(
          'SendMessageBatch',
          senderFault?.Code ?? 'DeadLetterNotDelivered',
          `${failed.size} dead-letter message(s) were not accepted: ${senderFault?.Message ?? 'retries exhausted'}`,
          round,
        );
      }
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
  }
}

function toBatches(bodies: string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body);
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
