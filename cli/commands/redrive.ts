/**
 * `redrive`: moves dead-letter messages back to the request queue once their cause is fixed. A
 * dead letter is a valid request body, so the requests function takes each one in again
 * (validate, record, reconcile that account). Two kinds are made replayable on the way: Lambda's
 * failure record of an onboarding event becomes the request its event asked for, and an
 * enrollment whose email was never known gets it from the organization. Messages are sent before
 * they are deleted: a failure in between leaves a duplicate, which requests tolerate, never a loss.
 */
import { replayOf } from '#shared/domain/dead-letters';
import { maskEmailsIn } from '#shared/domain/rules';
import type { ServiceRuntime } from '#shared/runtime';
import { CliError, ExitCode } from '#cli/errors';
import { JSON_SCHEMA_VERSION, plural, writeJson, writeLine, type Terminal } from '#cli/format';
import type { ServiceQueues } from '#cli/queues';

export const REDRIVE_SOURCES = ['dead-letters', 'request-dlq'] as const;

export interface RedriveCommandOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'organization'>;
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
  const { moved, left } = await queues.admin.moveAll(source, target, {
    onMoved: (count) => {
      // A line per hundred keeps a long redrive visibly alive without flooding the log.
      if (count - reported >= 100) {
        reported = count;
        writeLine(terminal.stderr, `redrive: ${count} moved so far`);
      }
    },
    prepare: (body) => replayBody(body, runtime, terminal),
  });
  if (json) {
    writeJson(terminal.stdout, { schemaVersion: JSON_SCHEMA_VERSION, from: source, to: target, dryRun: false, moved, left, waiting: null });
  } else {
    writeLine(terminal.stdout, `Moved ${plural(moved, 'message')} from ${source} to ${target}.`);
    if (left > 0) writeLine(terminal.stdout, `Left ${plural(left, 'message')} in ${source}: see the reasons above.`);
    if (moved > 0) writeLine(terminal.stdout, 'The requests function takes them in again: watch `macie-members status` for the result.');
  }
  return ExitCode.ok;
}

/** The body to send for one message, or `undefined` to leave it (said on stderr). */
async function replayBody(body: string, runtime: RedriveCommandOptions['runtime'], terminal: Terminal): Promise<string | undefined> {
  const replay = replayOf(body, { ...runtime.config, eventSource: runtime.config.eventSource });
  switch (replay.kind) {
    case 'as-is':
      return body;
    case 'request':
      return JSON.stringify(replay.request);
    case 'not-replayable':
      writeLine(terminal.stderr, `redrive: left a message: ${maskEmailsIn(replay.reason)}`);
      return undefined;
    case 'needs-email': {
      const email = await runtime.organization
        .describeAccount(replay.accountId)
        .then((account) => account.email, () => '');
      if (email === '') {
        writeLine(terminal.stderr, `redrive: left the enrollment of ${replay.accountId}: its email is not known, and the organization did not give it`);
        return undefined;
      }
      return JSON.stringify({ ...replay.request, email });
    }
  }
}

/** Rejects a `--from` that names no queue, before anything is opened. */
export function checkRedriveSource(from: string): void {
  if ((REDRIVE_SOURCES as readonly string[]).includes(from) || /^https?:\/\//.test(from)) return;
  throw new CliError(`--from must be ${REDRIVE_SOURCES.map((name) => `"${name}"`).join(' or ')} or a queue URL, got "${from}"`);
}

export async function resolveSource(from: string, deadLetterQueueUrl: string, queues: RedriveCommandOptions['queues']): Promise<string> {
  checkRedriveSource(from);
  if (from === 'dead-letters') return deadLetterQueueUrl;
  if (from === 'request-dlq') {
    const url = await queues.requestDeadLetterQueueUrl();
    if (!url) throw new CliError('the request queue has no redrive policy, so it has no dead-letter queue to redrive from.');
    return url;
  }
  return from;
}
