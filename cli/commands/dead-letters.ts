/**
 * `dead-letters`: the dead letters themselves (not only their count), read without removing them
 * (see `QueueAdmin.peek`): who, why, which operation, when. `--account` and `--reason` filter;
 * `dead-letters show ID` prints one whole letter. Emails are masked in human output; `--json`
 * carries the bodies as they are (a script may fix and resend one).
 */
import { summarizeDeadLetter, type DeadLetterSummary } from '#shared/domain/dead-letters';
import type { PeekedMessage } from '#shared/deadletter/queue-admin';
import { renderTable } from '#shared/text/table';
import type { ServiceRuntime } from '#shared/runtime';
import { CliError, ExitCode } from '#cli/errors';
import { JSON_SCHEMA_VERSION, maskedEmail, paintFor, plural, safeText, shortTime, writeJson, writeLines, type Terminal } from '#cli/format';
import type { ServiceQueues } from '#cli/queues';
import { resolveSource } from '#cli/commands/redrive';

export interface DeadLettersCommandOptions {
  runtime: Pick<ServiceRuntime, 'config'>;
  queues: Pick<ServiceQueues, 'admin' | 'requestDeadLetterQueueUrl'>;
  terminal: Terminal;
  /** `dead-letters` (DEAD_LETTER_QUEUE_URL), `request-dlq` or a queue URL. */
  from?: string;
  accountIds?: readonly string[];
  reasons?: readonly string[];
  /** At most this many messages are read. */
  max?: number;
  json?: boolean;
}

export const DEFAULT_MAX_LETTERS = 1000;

interface ListedLetter extends DeadLetterSummary {
  messageId: string;
  sentAt?: string;
  body: string;
}

export async function runDeadLetters(options: DeadLettersCommandOptions): Promise<number> {
  const { terminal, accountIds, reasons, json = false } = options;
  const { source, letters, waiting, complete } = await readLetters(options);
  const shown = letters.filter(
    (letter) =>
      (!accountIds || (letter.accountId !== undefined && accountIds.includes(letter.accountId))) &&
      (!reasons || reasons.includes(letter.reason)),
  );
  if (json) {
    writeJson(terminal.stdout, {
      schemaVersion: JSON_SCHEMA_VERSION,
      queueUrl: source,
      waiting,
      read: letters.length,
      complete,
      letters: shown.map(letterDocument),
    });
    return ExitCode.ok;
  }
  const paint = paintFor(terminal);
  const filtered = accountIds || reasons ? `, ${shown.length} matching` : '';
  const lines = [`${plural(letters.length, 'dead letter')} read from ${source}${filtered} (${waiting} waiting, in flight included).`];
  if (!complete) lines.push(`Only ${letters.length} were read (--max): raise --max to read them all.`);
  if (shown.length > 0) {
    lines.push(
      '',
      renderTable([
        ['ID', 'ACCOUNT', 'ACTION', 'REASON', 'FAILED AT', 'REGION', 'ERROR', 'AT'],
        ...shown.map((letter) => [
          letter.messageId.slice(0, 8),
          letter.accountId ?? '-',
          letter.action ?? '-',
          paint(letter.reason === 'needs-operator' ? 'yellow' : 'red', letter.reason),
          letter.operation ?? '-',
          letter.region ?? '-',
          letter.errorCode ?? '-',
          shortTime(letter.at ?? letter.sentAt),
        ]),
      ]),
      '',
      '`macie-members dead-letters show ID` prints one in full; `macie-members redrive` replays them once the cause is fixed.',
    );
  }
  writeLines(terminal.stdout, lines);
  return ExitCode.ok;
}

export interface DeadLetterShowOptions extends Omit<DeadLettersCommandOptions, 'accountIds' | 'reasons'> {
  /** A message ID or a unique prefix of one (the list shows the first 8 characters). */
  id: string;
}

export async function runDeadLetterShow(options: DeadLetterShowOptions): Promise<number> {
  const { terminal, id, json = false } = options;
  const { source, letters } = await readLetters(options);
  const matches = letters.filter((letter) => letter.messageId.startsWith(id));
  if (matches.length === 0) {
    throw new CliError(`no dead letter with ID ${id} in ${source}.`, ['`macie-members dead-letters` lists them with their IDs.']);
  }
  if (matches.length > 1) {
    throw new CliError(`${id} starts ${matches.length} dead letters' IDs: give more of it.`, matches.map((letter) => letter.messageId));
  }
  const letter = matches[0]!;
  if (json) {
    writeJson(terminal.stdout, { schemaVersion: JSON_SCHEMA_VERSION, queueUrl: source, letter: letterDocument(letter) });
    return ExitCode.ok;
  }
  const field = (name: string, value: string | number | undefined) => (value === undefined ? [] : [`${name.padEnd(10)} ${value}`]);
  writeLines(terminal.stdout, [
    ...field('id', letter.messageId),
    ...field('queue', source),
    ...field('account', letter.accountId),
    ...field('action', letter.action),
    ...field('email', letter.email && maskedEmail(letter.email)),
    ...field('reason', letter.reason),
    ...field('failed at', letter.operation),
    ...field('region', letter.region),
    ...field('error', letter.errorCode && `${letter.errorCode}: ${safeText(letter.errorMessage ?? '')}`),
    ...field('attempts', letter.attempts),
    ...field('at', letter.at),
    ...field('queued at', letter.sentAt),
    'body:',
    safeText(prettyBody(letter.body)),
  ]);
  return ExitCode.ok;
}

async function readLetters(options: DeadLettersCommandOptions): Promise<{ source: string; letters: ListedLetter[]; waiting: number; complete: boolean }> {
  const { runtime, queues, from = 'dead-letters', max = DEFAULT_MAX_LETTERS } = options;
  const source = await resolveSource(from, runtime.config.deadLetterQueueUrl, queues);
  const context = { ...runtime.config, eventSource: runtime.config.eventSource };
  // The depth first: once that many are read there is no need for a last, empty, long-polled receive.
  const waiting = await queues.admin.depth(source);
  const messages = waiting > 0 ? await queues.admin.peek(source, Math.min(max, waiting)) : [];
  const letters = messages.map((message: PeekedMessage) => ({ ...summarizeDeadLetter(message.body, context), ...message }));
  letters.sort((a, b) => ((a.at ?? a.sentAt ?? '') < (b.at ?? b.sentAt ?? '') ? -1 : 1));
  return { source, letters, waiting, complete: waiting <= max };
}

function letterDocument(letter: ListedLetter) {
  let body: unknown = letter.body;
  try {
    body = JSON.parse(letter.body);
  } catch {
    // Not JSON: the text as it is.
  }
  return {
    messageId: letter.messageId,
    kind: letter.kind,
    accountId: letter.accountId ?? null,
    action: letter.action ?? null,
    reason: letter.reason,
    operation: letter.operation ?? null,
    errorCode: letter.errorCode ?? null,
    errorMessage: letter.errorMessage ?? null,
    region: letter.region ?? null,
    at: letter.at ?? null,
    sentAt: letter.sentAt ?? null,
    body,
  };
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
