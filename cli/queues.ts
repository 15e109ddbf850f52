/**
 * The service's queues as an operator sees them: the dead-letter queue, the request queue and the
 * request queue's own DLQ (found through its redrive policy, so it needs no setting of its own).
 */
import type { ServiceConfig } from '#shared/config';
import { QueueAdmin } from '#shared/deadletter/queue-admin';
import { AwsCallError } from '#shared/errors';

export type QueueRole = 'deadLetters' | 'requests' | 'requestDeadLetters';

export const QUEUE_LABELS: Record<QueueRole, string> = {
  deadLetters: 'dead letters (DEAD_LETTER_QUEUE_URL)',
  requests: 'requests (REQUEST_QUEUE_URL)',
  requestDeadLetters: "requests' DLQ (redrive policy)",
};

export interface QueueDepth {
  role: QueueRole;
  url: string;
  /** Visible plus in-flight messages; absent when it could not be read. */
  messages?: number;
  error?: { operation: string; code: string; message: string };
}

export class ServiceQueues {
  readonly admin: QueueAdmin;

  constructor(private readonly config: Pick<Readonly<ServiceConfig>, 'homeRegion' | 'maxAttempts' | 'deadLetterQueueUrl' | 'requestQueueUrl'>) {
    this.admin = new QueueAdmin({ region: config.homeRegion, maxAttempts: config.maxAttempts });
  }

  /** The DLQ the request queue's redrive policy names, or `undefined` when there is no request queue or no policy. */
  async requestDeadLetterQueueUrl(): Promise<string | undefined> {
    return this.config.requestQueueUrl ? this.admin.deadLetterQueueUrl(this.config.requestQueueUrl) : undefined;
  }

  /** Every queue of the service that is configured or can be derived, with its depth. Never throws: errors are per queue. */
  async depths(): Promise<QueueDepth[]> {
    const queues: Array<{ role: QueueRole; url: string }> = [{ role: 'deadLetters', url: this.config.deadLetterQueueUrl }];
    const failures: QueueDepth[] = [];
    if (this.config.requestQueueUrl) {
      queues.push({ role: 'requests', url: this.config.requestQueueUrl });
      try {
        const dlq = await this.requestDeadLetterQueueUrl();
        if (dlq) queues.push({ role: 'requestDeadLetters', url: dlq });
      } catch (error) {
        failures.push({ role: 'requestDeadLetters', url: '-', error: errorFields(error) });
      }
    }
    const depths = await Promise.all(
      queues.map(async (queue): Promise<QueueDepth> => {
        try {
          return { ...queue, messages: await this.admin.depth(queue.url) };
        } catch (error) {
          return { ...queue, error: errorFields(error) };
        }
      }),
    );
    return [...depths, ...failures];
  }
}

function errorFields(error: unknown): NonNullable<QueueDepth['error']> {
  if (error instanceof AwsCallError) return { operation: error.operation, code: error.code, message: error.message };
  return { operation: 'unknown', code: 'Error', message: error instanceof Error ? error.message : String(error) };
}
