/**
 * `redrive`: moves dead-letter messages back to the request queue once their cause is fixed. A
 * dead letter is a valid request body, so the requests function takes each one in again
 * (validate, record, reconcile that account). Messages are sent before they are deleted: a
 * failure in between leaves a duplicate, which requests tolerate, never a loss.
 */
import type { ServiceRuntime } from '#shared/runtime';
import { CliError, ExitCode } from '#cli/errors';
import { JSON_SCHEMA_VERSION, plural, writeJson, writeLine, type Terminal } from '#cli/format';
import type { ServiceQueues } from '#cli/queues';

export const REDRIVE_SOURCES = ['dead-letters', 'request-dlq'] as const;

export interface RedriveCommandOptions {
  runtime: Pick<ServiceRuntime, 'config'>;
  queues: Pick<ServiceQueues, 'admin' | 'requestDeadLetterQueueUrl'>;
  terminal: Terminal;
  /** `dead-letters` (DEAD_LETTER_QUEUE_URL), `request-dlq` (the request queue's DLQ) or a queue URL. */
  from?: string;
  dryRun?: boolean;
  json?: boolean;
}

export async function runRedrive({ runtime, queues, terminal, from = 'dead-letters', dryRun = false, json = false }: RedriveCommandOptions): Promise<number> {
  const target = runtime.config.requestQueueUrl;
  if (!target) {
    throw new CliError('REQUEST_QUEUE_URL is not set: redrive moves dead letters back to the request queue.', [
      'Set REQUEST_QUEUE_URL to the URL of the service\'s request queue (the `requests` function\'s SQS source).',
    ]);
  }
  const source = await resolveSource(from, runtime.config.deadLetterQueueUrl, queues);
  if (source === target) throw new CliError('--from names the request queue itself: there is nothing to move.');

  if (dryRun) {
    const waiting = await queues.admin.depth(source);
    if (json) writeJson(terminal.stdout, { schemaVersion: JSON_SCHEMA_VERSION, from: source, to: target, dryRun: true, moved: 0, waiting });
    else writeLine(terminal.stdout, `Dry run: ${plural(waiting, 'message')} waiting in ${source} would move to ${target}.`);
    return ExitCode.ok;
  }

  let reported = 0;
  const moved = await queues.admin.moveAll(source, target, (count) => {
    // A line per hundred keeps a long redrive visibly alive without flooding the log.
    if (count - reported >= 100) {
      reported = count;
      writeLine(terminal.stderr, `redrive: ${count} moved so far`);
    }
  });
  if (json) {
    writeJson(terminal.stdout, { schemaVersion: JSON_SCHEMA_VERSION, from: source, to: target, dryRun: false, moved, waiting: null });
  } else {
    writeLine(terminal.stdout, `Moved ${plural(moved, 'message')} from ${source} to ${target}.`);
    if (moved > 0) writeLine(terminal.stdout, 'The requests function takes them in again: watch `macie-members status` for the result.');
  }
  return ExitCode.ok;
}

/** Rejects a `--from` that names no queue, before anything is opened. */
export function checkRedriveSource(from: string): void {
  if ((REDRIVE_SOURCES as readonly string[]).includes(from) || /^https?:\/\//.test(from)) return;
  throw new CliError(`--from must be ${REDRIVE_SOURCES.map((name) => `"${name}"`).join(' or ')} or a queue URL, got "${from}"`);
}

async function resolveSource(from: string, deadLetterQueueUrl: string, queues: RedriveCommandOptions['queues']): Promise<string> {
  checkRedriveSource(from);
  if (from === 'dead-letters') return deadLetterQueueUrl;
  if (from === 'request-dlq') {
    const url = await queues.requestDeadLetterQueueUrl();
    if (!url) throw new CliError('the request queue has no redrive policy, so it has no dead-letter queue to redrive from.');
    return url;
  }
  return from;
}
