import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '#cli/program';
import { openSession, type SessionOptions } from '#cli/session';
import type { Terminal } from '#cli/format';
import { captureTerminal, startCliSandbox, type CliSandbox } from './support/cli-sandbox';

/**
 * The commander wiring, in process: arguments reach the command functions as intended, and usage,
 * configuration and AWS errors end as one explanation and a non-zero exit code.
 */

let cli: CliSandbox;
let sessions: SessionOptions[] = [];

beforeAll(async () => {
  cli = await startCliSandbox({ sandbox: { accounts: [{ accountId: '222222222201', email: 'x@example.com' }] } });
});

afterAll(() => cli?.sandbox.close());

async function run(...argv: string[]) {
  const captured = captureTerminal();
  const exitCode = await runCli(argv, {
    terminal: captured.terminal,
    user: 'tester',
    now: () => new Date(),
    openSession: (options: SessionOptions, terminal: Terminal) => {
      sessions.push(options);
      return openSession(options, terminal);
    },
  });
  return { exitCode, stdout: captured.stdout(), stderr: captured.stderr() };
}

async function withEnvironment<T>(changes: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(changes).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(changes);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

describe('macie-members (command wiring)', () => {
  it('passes enroll arguments and options through to the desired row', async () => {
    const result = await run(
      'enroll', '222222222201', 'x@example.com',
      '--regions', 'us-east-1', '--tags', 'Team=blue', 'Env=prod', '--no-auto-accept', '--paused', '--message', 'Hi there',
    );
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout).toContain('Recorded: 222222222201 (x***@example.com) is a desired member in us-east-1.');
    const { rows: [row] } = await cli.runtime.store.getMany(['222222222201']);
    expect(row).toMatchObject({
      regions: ['us-east-1'],
      tags: { Team: 'blue', Env: 'prod' },
      autoAccept: false,
      paused: true,
      invitationMessage: 'Hi there',
      requestedBy: 'cli:tester',
    });
  });

  it('leaves flags an operator does not give as the row has them', async () => {
    expect((await run('enroll', '222222222201', 'x@example.com', '--no-paused')).exitCode).toBe(0);
    const { rows: [row] } = await cli.runtime.store.getMany(['222222222201']);
    expect(row).toMatchObject({ autoAccept: false, paused: false, tags: { Team: 'blue', Env: 'prod' } });
  });

  it('runs plan with --json and the detailed exit code', async () => {
    const result = await run('plan', '--json');
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ drift: true, summary: { items: 2 } });
  });

  it('rejects bad arguments before opening a session', async () => {
    sessions = [];
    expect(await run('plan', '--account', '12', '222222222201')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr: 'macie-members: --account must name 12-digit account IDs, got "12"\n',
    });
    expect(await run('import')).toMatchObject({ exitCode: 1, stderr: 'macie-members: import needs exactly one source: --csv <file> or --organizations\n' });
    expect((await run('import', '--csv', 'a.csv', '--organizations')).exitCode).toBe(1);
    expect((await run('redrive', '--from', 'nowhere')).stderr).toContain('--from must be "dead-letters" or "request-dlq" or a queue URL');
    expect(sessions).toEqual([]);
  });

  it('explains usage mistakes and prints help', async () => {
    const unknown = await run('bogus');
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain("error: unknown command 'bogus'");

    const missing = await run('enroll', '222222222201');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("error: missing required argument 'email'");

    const help = await run('--help');
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: macie-members [options] [command]');
    for (const command of ['plan', 'apply', 'status', 'enroll', 'remove', 'import', 'redrive']) expect(help.stdout).toContain(`  ${command} `);

    const planHelp = await run('plan', '--help');
    expect(planHelp.exitCode).toBe(0);
    expect(planHelp.stdout).toContain('Exit codes: 0 no drift, 2 drift');
  });

  it('lists every configuration problem by variable', async () => {
    const result = await withEnvironment({ MACIE_ADMINISTRATOR_ACCOUNT_ID: undefined, MANAGED_REGIONS: 'mars' }, () => run('status'));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      [
        'macie-members: the configuration is invalid:',
        '  - MACIE_ADMINISTRATOR_ACCOUNT_ID is required',
        '  - MANAGED_REGIONS.0 must be AWS region names such as us-east-1',
        'Set these environment variables (the same ones the Lambda functions read; see the README, Operations),',
        'or add --local to try the CLI on an in-process sandbox.',
        '',
      ].join('\n'),
    );
  });

  it('reports an AWS error with its operation, code and message', async () => {
    const result = await withEnvironment({ DESIRED_MEMBERS_TABLE: 'no-such-table' }, () => run('plan'));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^macie-members: AWS Scan failed: ResourceNotFoundException: .+\n {2}Something the configuration names does not exist/);
  });

  it('refuses --local together with --profile', async () => {
    const result = await run('--local', '--profile', 'prod', 'plan');
    expect(result).toMatchObject({ exitCode: 1, stderr: 'macie-members: --local and --profile cannot be combined: the sandbox uses its own credentials.\n' });
  });
});
