import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { backoffBeforeRound } from '#shared/aws/backoff';
import { awsClientOptions } from '#shared/aws/client-options';
import { callAws, toAwsCallError } from '#shared/errors';
import type { DeadLetter } from '#shared/domain/dead-letters';
import { deadLetterBody } from '#shared/domain/dead-letters';
import type { DeadLetterPublisher, UnsentLetter } from '#shared/ports';

// SQS limits: 10 entries and 256 KiB per SendMessageBatch call.
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 250 * 1024;
const MAX_ROUNDS = 5;

interface Outgoing {
  letter: DeadLetter;
  body: string;
}

/**
 * Sends dead letters to their SQS queue. Each letter stands alone: one that SQS refuses, or a queue
 * that cannot be reached, never keeps the others from going out, and what could not be sent is
 * returned for the caller to keep (the next run sends it again) rather than thrown.
 */
export class SqsDeadLetterPublisher implements DeadLetterPublisher {
  private readonly sqs: SQSClient;

  constructor(
    private readonly queueUrl: string,
    options: { region: string; maxAttempts: number },
  ) {
    this.sqs = new SQSClient(awsClientOptions(options));
  }

  async publish(letters: readonly DeadLetter[]): Promise<UnsentLetter[]> {
    const unsent: UnsentLetter[] = [];
    for (const batch of toBatches(letters.map((letter) => ({ letter, body: deadLetterBody(letter) })))) {
      unsent.push(...(await this.sendBatch(batch)));
    }
    return unsent;
  }

  /** A batch refused as a whole (one bad entry can do that) is sent again one letter at a time, to find the one. */
  private async sendBatch(batch: Outgoing[]): Promise<UnsentLetter[]> {
    try {
      return await this.send(batch);
    } catch (error) {
      if (batch.length === 1) return [unsentFrom(batch[0]!.letter, error)];
      const unsent: UnsentLetter[] = [];
      for (const outgoing of batch) {
        unsent.push(...(await this.send([outgoing]).catch((alone: unknown) => [unsentFrom(outgoing.letter, alone)])));
      }
      return unsent;
    }
  }

  /** SendMessageBatch succeeds as a call even when single entries fail; it resends just those, unless SQS blames the entry. */
  private async send(batch: Outgoing[]): Promise<UnsentLetter[]> {
    const unsent: UnsentLetter[] = [];
    let pending = batch.map((outgoing, index) => ({ ...outgoing, id: String(index) }));
    for (let round = 1; pending.length > 0; round++) {
      if (round > 1) await backoffBeforeRound(round - 1);
      const output = await callAws('SendMessageBatch', () =>
        this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending.map(({ id, body }) => ({ Id: id, MessageBody: body })) }),
        ),
      );
      const failed = new Map((output.Failed ?? []).map((entry) => [entry.Id, entry]));
      const again: typeof pending = [];
      for (const outgoing of pending) {
        const failure = failed.get(outgoing.id);
        if (!failure) continue;
        if (failure.SenderFault || round === MAX_ROUNDS) {
          unsent.push({ letter: outgoing.letter, code: failure.Code ?? 'DeadLetterNotDelivered', message: failure.Message ?? 'not accepted by SQS' });
        } else {
          again.push(outgoing);
        }
      }
      pending = again;
    }
    return unsent;
  }
}

function unsentFrom(letter: DeadLetter, error: unknown): UnsentLetter {
  const failure = toAwsCallError('SendMessageBatch', error);
  return { letter, code: failure.code, message: failure.message };
}

function toBatches(outgoing: Outgoing[]): Outgoing[][] {
  const batches: Outgoing[][] = [];
  let current: Outgoing[] = [];
  let bytes = 0;
  for (const entry of outgoing) {
    const size = Buffer.byteLength(entry.body);
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
