import { createHash } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { awsClientOptions } from '#shared/aws/client-options';
import { callAws, toAwsCallError } from '#shared/errors';
import type { WorkUnit } from '#shared/domain/work-units';
import type { UnqueuedUnit, WorkQueue } from '#shared/ports';

// A unit is close to SQS's size limit, so each goes alone; a few go at once.
const SEND_CONCURRENCY = 4;

/**
 * The work queue: an SQS FIFO queue whose message group is the unit's region, so the event source
 * mapping runs one unit per region at a time (each region's Macie rate is one bucket) and the
 * regions in parallel.
 */
export class SqsWorkQueue implements WorkQueue {
  private readonly sqs: SQSClient;

  constructor(
    private readonly queueUrl: string,
    options: { region: string; maxAttempts: number },
  ) {
    this.sqs = new SQSClient(awsClientOptions(options));
  }

  async send(units: readonly WorkUnit[]): Promise<UnqueuedUnit[]> {
    const limit = pLimit(SEND_CONCURRENCY);
    const results = await Promise.all(
      units.map((unit) =>
        limit(async (): Promise<UnqueuedUnit | undefined> => {
          try {
            await callAws('SendMessage', () =>
              this.sqs.send(
                new SendMessageCommand({
                  QueueUrl: this.queueUrl,
                  MessageBody: JSON.stringify(unit),
                  MessageGroupId: unit.region,
                  // Deterministic: a unit sent twice within SQS's five-minute window (a worker that
                  // re-queued its remainder, crashed and ran again) is queued once.
                  MessageDeduplicationId: deduplicationIdOf(unit),
                }),
              ),
            );
            return undefined;
          } catch (error) {
            const { code, message } = toAwsCallError('SendMessage', error);
            return { unit, code, message };
          }
        }),
      ),
    );
    return results.filter((result): result is UnqueuedUnit => result !== undefined);
  }
}

/** SQS allows 128 characters; a run id and a unit id fit, a long chain of remainders is hashed down. */
function deduplicationIdOf(unit: WorkUnit): string {
  const id = `${unit.runId}:${unit.unitId}`.replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '_');
  return id.length <= 128 ? id : `${id.slice(0, 100)}~${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;
}
