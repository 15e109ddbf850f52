/**
 * Output plumbing shared by every command: where text goes, JSON for scripts, and the small
 * wording helpers that keep the commands' human output consistent. Emails never reach human
 * output unmasked: everything that may carry one goes through `maskEmail`/`maskEmailsIn`.
 */
import type { CorruptRow } from '#shared/domain/desired-row';
import type { PlanVerdict, PlannedMembership } from '#shared/domain/types';
import { maskEmail, maskEmailsIn } from '#shared/domain/rules';

/** Where a command writes: results on stdout, progress and diagnostics on stderr. */
export interface Terminal {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function processTerminal(): Terminal {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** True when the stream is an interactive terminal (progress bars, not progress lines). */
export function isInteractive(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WritableStream & { isTTY?: boolean }).isTTY === true;
}

export function writeLine(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}

export function writeLines(stream: NodeJS.WritableStream, lines: readonly string[]): void {
  if (lines.length > 0) stream.write(`${lines.join('\n')}\n`);
}

/**
 * The one thing a `--json` command prints on stdout. Documents carry `schemaVersion` so that a
 * script can notice a breaking change; keys are only ever added within a version.
 */
export function writeJson(stream: NodeJS.WritableStream, document: unknown): void {
  stream.write(`${JSON.stringify(document, null, 2)}\n`);
}

export const JSON_SCHEMA_VERSION = 1;

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** `a***@example.com`, or `-` when the table has no email. */
export function maskedEmail(email: string | undefined): string {
  return email ? maskEmail(email) : '-';
}

/** Operator-facing text that may quote an email (reasons, AWS error messages). */
export function safeText(text: string): string {
  return maskEmailsIn(text);
}

/** `  222222222201: desiredState must be "member" or "absent", got "absnet"; ...`: one line per corrupt row. */
export function corruptRowLine(row: CorruptRow): string {
  return `  ${row.accountId}: ${row.problems.map((problem) => safeText(problem.message)).join('; ')}`;
}

/** `2025-01-31T12:00:00Z` (seconds are enough for an operator; milliseconds only add noise). */
export function shortTime(iso: string | undefined): string {
  if (!iso) return '-';
  return iso.replace(/\.\d{3}Z$/, 'Z');
}

export const VERDICT_LABELS: Record<PlanVerdict, string> = {
  inSync: 'in sync',
  change: 'change',
  pending: 'pending',
  skipped: 'skipped',
  deadLetter: 'needs operator',
};

/**
 * Terraform-style marker for a planned item: `+` create, `-` remove, `-/+` replace, `~` update,
 * `!` needs an operator, `.` nothing to do now (waiting or skipped), `=` in sync.
 */
export function planMarker(item: PlannedMembership): string {
  if (item.verdict === 'deadLetter') return '!';
  if (item.verdict === 'inSync') return '=';
  if (item.actions.length === 0) return '.';
  const kinds = new Set(item.actions.map((action) => action.kind));
  if (kinds.has('createMember')) return kinds.has('deleteMember') ? '-/+' : '+';
  if (kinds.has('deleteMember')) return '-';
  return '~';
}

export const PLAN_LEGEND = '+ create   - remove   -/+ replace   ~ update   ! needs an operator   . waiting or skipped';

/** Counts as `3 done, 1 failed`, leaving out zeros (all zeros: `none`). */
export function countList(counts: Readonly<Record<string, number>>, labels: Readonly<Record<string, string>> = {}): string {
  const parts = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([key, count]) => `${count} ${labels[key] ?? key}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
