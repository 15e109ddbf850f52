/**
 * `import --csv FILE` and `import --organizations`: many enrollments at once. Every row is
 * validated exactly as an SQS request; invalid rows are reported (with their line numbers) and
 * skipped, the rest recorded. Like `enroll`, it writes desired rows only: Macie changes on the
 * next reconciliation. Exits 1 when any row was invalid or could not be recorded.
 */
import { open, type FileHandle } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { MembershipRequest, RequestIssue } from '#shared/domain/requests';
import type { ServiceRuntime } from '#shared/runtime';
import { parseAccountCsv } from '#cli/csv';
import { CliError, ExitCode, describeError } from '#cli/errors';
import { JSON_SCHEMA_VERSION, maskedEmail, plural, writeJson, writeLines, type Terminal } from '#cli/format';
import { enrollmentFields, formatIssue, recordFromCli, validateRequest, type EnrollmentOptions } from '#cli/requests';
import { renderTable } from '#shared/text/table';

export type ImportSource = { kind: 'csv'; path: string } | { kind: 'organizations' };

export interface ImportCommandOptions extends EnrollmentOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'store' | 'organization'>;
  terminal: Terminal;
  source: ImportSource;
  dryRun?: boolean;
  json?: boolean;
  user: string;
  now: Date;
}

interface Candidate {
  /** CSV line, when the account came from a file. */
  line?: number;
  accountId: string;
  email: string;
}

interface InvalidRow {
  line?: number;
  accountId?: string;
  issue: RequestIssue;
}

interface Recorded extends Candidate {
  result: 'written' | 'superseded' | 'wouldWrite' | 'error';
  error?: string;
}

// Table writes are single conditional updates; a modest bound keeps a big import from throttling.
const WRITE_CONCURRENCY = 8;

export async function runImport(options: ImportCommandOptions): Promise<number> {
  const { runtime, terminal, source, dryRun = false, json = false } = options;
  const { fields, issues: optionIssues } = enrollmentFields(options);
  const optionProblems = [...optionIssues, ...problemsWithOptions(fields, runtime.config)];
  if (optionProblems.length > 0) {
    throw new CliError('invalid options, nothing imported:', optionProblems.map((issue) => `- ${formatIssue(issue)}`));
  }

  const notes: string[] = [];
  const invalid: InvalidRow[] = [];
  const skipped: Array<{ accountId: string; reason: string }> = [];
  let candidates: Candidate[];

  if (source.kind === 'csv') {
    const text = await readCsv(source.path);
    const csv = parseAccountCsv(text);
    invalid.push(...csv.problems.map(({ line, field, rule, message }) => ({ line, issue: { field, rule, message } })));
    notes.push(
      `Read ${source.path}: ${plural(csv.accounts.length + csv.problems.length, 'row')}` +
        (csv.headerLine !== undefined ? ` (header on line ${csv.headerLine} skipped)` : ''),
    );
    candidates = csv.accounts;
  } else {
    const accounts = await runtime.organization.listAccounts();
    const administrator = runtime.config.administratorAccountId;
    const active = accounts.filter((account) => account.status === 'ACTIVE' && account.accountId !== administrator);
    for (const account of accounts) {
      if (account.accountId === administrator) skipped.push({ accountId: account.accountId, reason: 'the Macie administrator itself' });
      else if (account.status !== 'ACTIVE') skipped.push({ accountId: account.accountId, reason: `status ${account.status ?? 'unknown'}` });
    }
    // An account already in the table keeps its row: the table may say "absent" on purpose, or
    // carry an email or tags an operator corrected (or a mistake `plan` reports). `enroll` changes
    // one deliberately.
    const stored = await runtime.store.getMany(active.map((account) => account.accountId));
    const existing = new Set([...stored.rows, ...stored.corrupt].map((row) => row.accountId));
    for (const account of active) {
      if (existing.has(account.accountId)) skipped.push({ accountId: account.accountId, reason: 'already in the table' });
    }
    candidates = active
      .filter((account) => !existing.has(account.accountId))
      .map((account) => ({ accountId: account.accountId, email: account.email }));
    notes.push(
      `Organization: ${plural(accounts.length, 'account')}; ${candidates.length} to import, ${skipped.length} skipped ` +
        `(${summarizeReasons(skipped)})`,
    );
  }

  const valid: Array<Candidate & { request: MembershipRequest }> = [];
  const firstLine = new Map<string, number | undefined>();
  for (const candidate of candidates) {
    const parsed = validateRequest({ action: 'enroll', accountId: candidate.accountId, email: candidate.email, ...fields }, runtime.config);
    if (!parsed.ok) {
      for (const issue of parsed.issues) invalid.push({ line: candidate.line, accountId: candidate.accountId, issue });
      continue;
    }
    if (firstLine.has(candidate.accountId)) {
      const first = firstLine.get(candidate.accountId);
      invalid.push({
        line: candidate.line,
        accountId: candidate.accountId,
        issue: { field: 'accountId', rule: 'unique', message: `accountId repeats ${first !== undefined ? `line ${first}` : 'an earlier row'}` },
      });
      continue;
    }
    firstLine.set(candidate.accountId, candidate.line);
    valid.push({ ...candidate, request: parsed.request });
  }
  invalid.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));

  let recorded: Recorded[];
  if (dryRun) {
    recorded = valid.map(({ line, accountId, email }) => ({ line, accountId, email, result: 'wouldWrite' }));
  } else {
    const limit = pLimit(WRITE_CONCURRENCY);
    recorded = await Promise.all(
      valid.map(({ request, ...candidate }) =>
        limit(async (): Promise<Recorded> => {
          try {
            const { result } = await recordFromCli(request, { store: runtime.store, user: options.user, now: options.now });
            return { ...candidate, result };
          } catch (error) {
            return { ...candidate, result: 'error', error: describeError(error).join(' ').replace(/^macie-members: /, '') };
          }
        }),
      ),
    );
  }

  const failed = recorded.filter((entry) => entry.result === 'error');
  if (json) {
    writeJson(terminal.stdout, {
      schemaVersion: JSON_SCHEMA_VERSION,
      source: source.kind === 'csv' ? { csv: source.path } : { organizations: true },
      dryRun,
      recorded: recorded.map(({ line, accountId, email, result, error }) => ({
        line: line ?? null,
        accountId,
        email,
        result,
        error: error ?? null,
      })),
      invalid: invalid.map(({ line, accountId, issue }) => ({ line: line ?? null, accountId: accountId ?? null, ...issue })),
      skipped,
    });
  } else {
    writeLines(terminal.stdout, renderImport({ notes, invalid, recorded, dryRun, source }));
  }
  return invalid.length > 0 || failed.length > 0 ? ExitCode.failure : ExitCode.ok;
}

/** Problems with the shared options (regions, tags, message), checked once rather than on every row. */
function problemsWithOptions(fields: Record<string, unknown>, config: ImportCommandOptions['runtime']['config']): RequestIssue[] {
  if (Object.keys(fields).length === 0) return [];
  // Any valid account and email will do: only the option fields are of interest here.
  const probeAccount = config.administratorAccountId === '000000000001' ? '000000000002' : '000000000001';
  const parsed = validateRequest({ action: 'enroll', accountId: probeAccount, email: 'probe@example.com', ...fields }, config);
  return parsed.ok ? [] : parsed.issues;
}

/**
 * A fleet's CSV is a few hundred kilobytes (10,000 accounts at ~60 bytes a line); anything past
 * this is a mistake, and a device such as /dev/zero never ends, so the file is read only this far.
 */
const MAX_CSV_BYTES = 8 * 1024 * 1024;

async function readCsv(path: string): Promise<string> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'r');
    const buffer = Buffer.alloc(MAX_CSV_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CSV_BYTES) {
        throw new CliError(`${path} is larger than ${MAX_CSV_BYTES / 1024 / 1024} MiB: not an account list; split it into smaller files`);
      }
    }
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as { code?: string }).code;
    throw new CliError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  } finally {
    await file?.close();
  }
}

function summarizeReasons(skipped: ReadonlyArray<{ reason: string }>): string {
  const counts = new Map<string, number>();
  for (const { reason } of skipped) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].map(([reason, count]) => `${count} ${reason}`).join(', ');
}

function renderImport({
  notes,
  invalid,
  recorded,
  dryRun,
  source,
}: {
  notes: string[];
  invalid: InvalidRow[];
  recorded: Recorded[];
  dryRun: boolean;
  source: ImportSource;
}): string[] {
  const lines = [...notes];
  if (invalid.length > 0) {
    const rows = new Set(invalid.map((entry) => `${entry.line ?? entry.accountId}`)).size;
    lines.push('', `Invalid, skipped (${plural(rows, source.kind === 'csv' ? 'row' : 'account')}):`);
    for (const { line, accountId, issue } of invalid) {
      lines.push(`  ${line !== undefined ? `line ${line}` : accountId}: ${formatIssue(issue)}`);
    }
  }

  const counts = { written: 0, superseded: 0, wouldWrite: 0, error: 0 };
  for (const entry of recorded) counts[entry.result] += 1;
  lines.push('');
  if (recorded.length === 0) {
    lines.push('Nothing to record.');
    return lines;
  }
  lines.push(
    dryRun
      ? `Dry run: would record ${plural(recorded.length, 'account')} as desired members (nothing written):`
      : `Recorded ${plural(counts.written, 'account')} as desired members` +
          (counts.superseded > 0 ? `; ${counts.superseded} already held this or a newer request` : '') +
          (counts.error > 0 ? `; ${counts.error} failed` : '') +
          ':',
    renderTable([
      [...(source.kind === 'csv' ? ['LINE'] : []), 'ACCOUNT', 'EMAIL', 'RESULT'],
      ...recorded.map((entry) => [
        ...(source.kind === 'csv' ? [String(entry.line ?? '-')] : []),
        entry.accountId,
        maskedEmail(entry.email),
        entry.result === 'wouldWrite' ? 'would write' : entry.result === 'error' ? `error: ${entry.error}` : entry.result,
      ]),
    ]),
  );
  if (!dryRun && counts.written > 0) lines.push('Macie is not changed yet: run `macie-members apply` or wait for the schedule.');
  return lines;
}
