/**
 * The `accountId,email` CSV that AWS's multi-account enablement scripts (Macie, GuardDuty,
 * Security Hub) take: one account per line, no header required. This reader is lenient about
 * layout (an optional header, blank lines, surrounding whitespace and quotes, CRLF, a BOM) and
 * strict about content: anything else is reported with its line number, never guessed at.
 */

export interface CsvAccount {
  /** 1-based line number in the file. */
  line: number;
  accountId: string;
  email: string;
}

export interface CsvProblem {
  line: number;
  field: string;
  rule: string;
  message: string;
}

export interface AccountCsv {
  accounts: CsvAccount[];
  problems: CsvProblem[];
  /** The line number of the header that was skipped, if there was one. */
  headerLine?: number;
}

export function parseAccountCsv(text: string): AccountCsv {
  const accounts: CsvAccount[] = [];
  const problems: CsvProblem[] = [];
  let headerLine: number | undefined;
  let seenContent = false;

  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\n|\r/)
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === '') return;
      const cells = raw.split(',').map(unquote);
      // Trailing empty cells ("id,email,") come from spreadsheets; they carry nothing.
      while (cells.length > 2 && cells[cells.length - 1] === '') cells.pop();
      const first = !seenContent;
      seenContent = true;
      // A header names columns: its first cell has no digit at all, unlike any account ID.
      if (first && !/\d/.test(cells[0] ?? '')) {
        headerLine = line;
        return;
      }
      if (cells.length !== 2) {
        problems.push({
          line,
          field: 'row',
          rule: 'columns',
          message: `expected 2 columns (accountId,email), got ${cells.length}`,
        });
        return;
      }
      accounts.push({ line, accountId: cells[0]!, email: cells[1]! });
    });

  return { accounts, problems, headerLine };
}

function unquote(cell: string): string {
  const trimmed = cell.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
}
