/**
 * Output plumbing shared by every command: where text goes, JSON for scripts, and the small
 * wording helpers that keep the commands' human output consistent. Emails never reach human
 * output unmasked: everything that may carry one goes through `maskEmail`/`maskEmailsIn`.
 */
import { styleText } from 'node:util';
import type { CorruptRow } from '#shared/domain/desired-row';
import type { MembershipType, PlanVerdict, PlannedMembership } from '#shared/domain/types';
import { maskEmail, maskEmailsIn } from '#shared/domain/rules';

/** Where a command writes: results on stdout, progress and diagnostics on stderr. */
export interface Terminal {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Where `apply` reads its confirmation; without one (or when it is not a terminal) it cannot ask. */
  stdin?: NodeJS.ReadableStream;
  /** Whether each stream takes colour (see `colorFor`); no colour when absent. */
  colors?: { stdout: boolean; stderr: boolean };
}

export function processTerminal(): Terminal {
  // The CLI's presentation settings, read at the entry point like the terminal itself; the
  // service's configuration stays with shared/config.ts.
  const env = process.env;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    colors: { stdout: colorFor(process.stdout, env), stderr: colorFor(process.stderr, env) },
  };
}

/**
 * Colour on an interactive terminal only, as the NO_COLOR convention (no-color.org) and most CLIs
 * have it: `NO_COLOR` (any non-empty value) or `TERM=dumb` turns it off, `FORCE_COLOR` (other than
 * `0`) turns it on even when piped; a pipe or a file gets plain text.
 */
export function colorFor(stream: NodeJS.WritableStream, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return isInteractive(stream) && env.TERM !== 'dumb';
}

export type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

/** Paints text in a style, or leaves it as it is when the stream takes no colour. */
export type Paint = (style: Style, text: string) => string;

const plain: Paint = (_style, text) => text;
// Whether to colour is decided above, per stream; util.styleText would otherwise look at
// process.stdout whatever stream the text is for.
const colored: Paint = (style, text) => (text === '' ? text : styleText(style, text, { validateStream: false }));

/** The painter for a terminal's stdout (`stream: 'stderr'` for diagnostics). */
export function paintFor(terminal: Terminal, stream: 'stdout' | 'stderr' = 'stdout'): Paint {
  return terminal.colors?.[stream] ? colored : plain;
}

/** True when the stream is an interactive terminal (progress bars, not progress lines). */
export function isInteractive(stream: NodeJS.WritableStream | NodeJS.ReadableStream | undefined): boolean {
  return (stream as { isTTY?: boolean } | undefined)?.isTTY === true;
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

/** How a member is (or will be) enrolled, in the operator's words. */
export const MEMBERSHIP_TYPE_LABELS: Record<MembershipType, string> = {
  organization: 'organization',
  invitation: 'invitation',
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

/** Terraform's colours: green creates, red removes, yellow updates and replaces; red for an operator; dim for nothing to do. */
export const MARKER_STYLES: Record<string, Style> = { '+': 'green', '-': 'red', '-/+': 'yellow', '~': 'yellow', '!': 'red', '.': 'dim', '=': 'dim' };

export const VERDICT_STYLES: Record<PlanVerdict, Style> = { inSync: 'green', change: 'yellow', pending: 'cyan', skipped: 'dim', deadLetter: 'red' };

export function paintedLegend(paint: Paint): string {
  return PLAN_LEGEND.replace(/(-\/\+|[+\-~!.]) (\w[\w ]*?)(?=   |$)/g, (_match, marker: string, label: string) =>
    `${paint(MARKER_STYLES[marker] ?? 'dim', marker)} ${label}`,
  );
}

/** Counts as `3 done, 1 failed`, leaving out zeros (all zeros: `none`). */
export function countList(counts: Readonly<Record<string, number>>, labels: Readonly<Record<string, string>> = {}): string {
  const parts = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([key, count]) => `${count} ${labels[key] ?? key}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
