import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '#cli/commands/import';
import { CliError } from '#cli/errors';
import { captureTerminal, startCliSandbox, writeCalls, type CliSandbox } from './support/cli-sandbox';

/** `import --csv` and `import --organizations` against the sandbox's organization. */

const now = new Date('2025-03-01T10:00:00.000Z');
const ORGANIZATION = [
  { accountId: '222222222201', email: 'one@example.com' },
  { accountId: '222222222202', email: 'two@example.com' },
  { accountId: '222222222203', email: 'three@example.com', status: 'SUSPENDED' as const },
  { accountId: '222222222204', email: 'four@example.com' },
];

let cli: CliSandbox;
let directory: string;

beforeAll(async () => {
  cli = await startCliSandbox({ sandbox: { accounts: ORGANIZATION } });
  directory = await mkdtemp(join(tmpdir(), 'macie-members-import-'));
});

afterAll(async () => {
  await cli?.sandbox.close();
  await rm(directory, { recursive: true, force: true });
});

async function csvFile(name: string, text: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, text);
  return path;
}

const MIXED = [
  'accountId,email',
  '  222222222301 , first@example.com ',
  '',
  '222222222302,second@example.com',
  '12345,third@example.com',
  '222222222303,not-an-email',
  '222222222301,again@example.com',
  '222222222304,d@example.com,extra',
  '111111111111,admin@example.com',
  '222222222305,fifth@example.com',
  '',
].join('\n');

describe('import --csv', () => {
  it('validates every row without writing anything on --dry-run', async () => {
    const path = await csvFile('mixed.csv', MIXED);
    cli.sandbox.clearCalls();
    const { terminal, stdout } = captureTerminal();
    expect(await runImport({ runtime: cli.runtime, terminal, source: { kind: 'csv', path }, dryRun: true, user: 'alice', now })).toBe(1);

    expect(stdout()).toContain('Dry run: would record 3 accounts as desired members (nothing written):');
    expect(writeCalls(cli.sandbox)).toEqual([]);
    expect((await cli.runtime.store.listAll()).rows).toEqual([]);
  });

  it('records the valid rows, reports the invalid ones with line numbers and skips them', async () => {
    const path = await csvFile('mixed.csv', MIXED);
    const { terminal, stdout, stderr } = captureTerminal();
    const exitCode = await runImport({ runtime: cli.runtime, terminal, source: { kind: 'csv', path }, tags: ['Source=csv'], user: 'alice', now });

    expect(exitCode).toBe(1);
    expect(stderr()).toBe('');
    expect(stdout()).toBe(
      [
        `Read ${path}: 8 rows (header on line 1 skipped)`,
        '',
        'Invalid, skipped (5 rows):',
        '  line 5: accountId [pattern]: accountId must be exactly 12 digits, got "12345"',
        '  line 6: email [format]: email must be a plausible email address such as name@example.com, got "n***"',
        '  line 7: accountId [unique]: accountId repeats line 2',
        '  line 8: row [columns]: expected 2 columns (accountId,email), got 3',
        "  line 9: accountId [notAdministrator]: accountId must not be the administrator's own account (111111111111): an account cannot be its own Macie member",
        '',
        'Recorded 3 accounts as desired members:',
        'LINE  ACCOUNT       EMAIL             RESULT',
        '----  ------------  ----------------  -------',
        '2     222222222301  f***@example.com  written',
        '4     222222222302  s***@example.com  written',
        '10    222222222305  f***@example.com  written',
        'Macie is not changed yet: run `macie-members apply` or wait for the schedule.',
        '',
      ].join('\n'),
    );

    const { rows } = await cli.runtime.store.listAll();
    expect(rows.map((row) => [row.accountId, row.email, row.desiredState, row.tags, row.requestedBy]).sort()).toEqual([
      ['222222222301', 'first@example.com', 'member', { Source: 'csv' }, 'cli:alice'],
      ['222222222302', 'second@example.com', 'member', { Source: 'csv' }, 'cli:alice'],
      ['222222222305', 'fifth@example.com', 'member', { Source: 'csv' }, 'cli:alice'],
    ]);
  });

  it('exits 0 for a clean headerless file and reports it as JSON on request', async () => {
    const path = await csvFile('clean.csv', '222222222306,sixth@example.com\r\n222222222307,seventh@example.com\r\n');
    const { terminal, stdout } = captureTerminal();
    expect(await runImport({ runtime: cli.runtime, terminal, source: { kind: 'csv', path }, json: true, user: 'alice', now })).toBe(0);
    expect(JSON.parse(stdout())).toEqual({
      schemaVersion: 1,
      source: { csv: path },
      dryRun: false,
      recorded: [
        { line: 1, accountId: '222222222306', email: 'sixth@example.com', result: 'written', error: null },
        { line: 2, accountId: '222222222307', email: 'seventh@example.com', result: 'written', error: null },
      ],
      invalid: [],
      skipped: [],
    });
  });

  it('rejects invalid shared options before reading anything', async () => {
    const path = await csvFile('clean.csv', '222222222308,eighth@example.com\n');
    const run = runImport({ runtime: cli.runtime, terminal: captureTerminal().terminal, source: { kind: 'csv', path }, regions: 'mars-1', user: 'alice', now });
    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toMatchObject({
      hints: ['- regions[0] [managedRegion]: regions[0] must be one of the managed regions (us-east-1, eu-west-1), got "mars-1"'],
    });
    expect((await cli.runtime.store.getMany(['222222222308'])).rows).toEqual([]);
  });

  it('says clearly when the file cannot be read', async () => {
    const run = runImport({ runtime: cli.runtime, terminal: captureTerminal().terminal, source: { kind: 'csv', path: join(directory, 'missing.csv') }, user: 'alice', now });
    await expect(run).rejects.toThrow(/cannot read .*missing\.csv: no such file/);
  });

  it('refuses a file that never ends (/dev/zero) after reading 8 MiB, instead of running out of memory', async () => {
    const run = runImport({ runtime: cli.runtime, terminal: captureTerminal().terminal, source: { kind: 'csv', path: '/dev/zero' }, user: 'alice', now });
    await expect(run).rejects.toThrow('/dev/zero is larger than 8 MiB: not an account list; split it into smaller files');
  });
});

describe('import --organizations', () => {
  it('enrolls every ACTIVE account not yet in the table, skipping the administrator', async () => {
    await cli.runtime.store.recordDesired({
      accountId: '222222222204',
      email: 'four@example.com',
      desiredState: 'absent',
      tags: {},
      autoAccept: true,
      paused: false,
      requestedBy: 'operator',
      requestedAt: now.toISOString(),
    });
    const { terminal, stdout } = captureTerminal();
    expect(await runImport({ runtime: cli.runtime, terminal, source: { kind: 'organizations' }, user: 'alice', now })).toBe(0);

    expect(stdout()).toContain(
      'Organization: 5 accounts; 2 to import, 3 skipped (1 the Macie administrator itself, 1 status SUSPENDED, 1 already in the table)',
    );
    expect(stdout()).toMatch(/222222222201 +o\*\*\*@example\.com +written\n222222222202 +t\*\*\*@example\.com +written/);
    const { rows } = await cli.runtime.store.getMany(['111111111111', '222222222201', '222222222202', '222222222203', '222222222204']);
    expect(rows.map((row) => [row.accountId, row.email, row.desiredState]).sort()).toEqual([
      ['222222222201', 'one@example.com', 'member'],
      ['222222222202', 'two@example.com', 'member'],
      // Left as the operator set it.
      ['222222222204', 'four@example.com', 'absent'],
    ]);
  });
});
