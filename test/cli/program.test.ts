import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '#cli/program';
import { openSession, type SessionOptions } from '#cli/session';
import type { Terminal } from '#cli/format';
import { captureTerminal, startCliSandbox, type CliSandbox } from './support/cli-sandbox';
import { withEnvironment } from '../support/environment';

/**
 * The commander wiring, in process: arguments reach the command functions as intended, and usage,
 * configuration and AWS errors end as one explanation and a non-zero exit code.
 */

let cli: CliSandbox;
let sessions: SessionOptions[] = [];
let homeRegions: string[] = [];

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
    openSession: async (options: SessionOptions, terminal: Terminal) => {
      sessions.push(options);
      const session = await openSession(options, terminal);
      homeRegions.push(session.runtime.config.homeRegion);
      return session;
    },
  });
  return { exitCode, stdout: captured.stdout(), stderr: captured.stderr() };
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

  it('takes --tags as key=value,key=value or repeated, without swallowing the arguments after it', async () => {
    const before = await run('enroll', '--tags', 'Team=red,Env=dev', '--tags', 'Tier=1', '222222222201', 'x@example.com');
    expect(before, before.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    expect((await cli.runtime.store.getMany(['222222222201'])).rows[0]?.tags).toEqual({ Team: 'red', Env: 'dev', Tier: '1' });

    // The older form, several key=value arguments after one --tags, still works; the first argument without "=" ends it.
    const legacy = await run('enroll', '--tags', 'Team=blue', 'Env=prod', '222222222201', 'x@example.com', '--no-paused');
    expect(legacy, legacy.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    expect((await cli.runtime.store.getMany(['222222222201'])).rows[0]).toMatchObject({ tags: { Team: 'blue', Env: 'prod' }, paused: false });
  });

  it('--region sets the home region of the table and queues, over AWS_REGION', async () => {
    homeRegions = [];
    const result = await withEnvironment({ AWS_REGION: 'us-east-1' }, () => run('--region', 'eu-west-1', 'plan', '--json'));
    expect(result.exitCode, result.stderr).toBe(2);
    expect(sessions.at(-1)).toMatchObject({ region: 'eu-west-1' });
    expect(homeRegions).toEqual(['eu-west-1']);

    expect(await run('--region', 'Europe', 'plan')).toMatchObject({
      exitCode: 1,
      stderr: 'macie-members: --region must be an AWS region name such as us-east-1, got "Europe"\n',
    });
    expect((await run('--local', '--region', 'eu-west-1', 'plan')).stderr).toBe(
      'macie-members: --local and --region cannot be combined: the sandbox has its own home region.\n',
    );
  });

  it('names a profile that does not exist, and the profiles there are', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'aws-profiles-'));
    await writeFile(join(directory, 'config'), '[default]\nregion = us-east-1\n[profile ops]\nregion = eu-west-1\n');
    await writeFile(join(directory, 'credentials'), '[legacy]\naws_access_key_id = x\n');
    try {
      const result = await withEnvironment(
        { AWS_CONFIG_FILE: join(directory, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(directory, 'credentials'), AWS_PROFILE: undefined },
        () => run('--profile', 'nosuch', 'plan'),
      );
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`macie-members: --profile names the AWS profile "nosuch", which is not in ${join(directory, 'config')} or ${join(directory, 'credentials')}.`);
      expect(result.stderr).toContain('  Profiles found: default, legacy, ops.');
    } finally {
      delete process.env.AWS_PROFILE;
      await rm(directory, { recursive: true });
    }
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
    for (const command of ['plan', 'apply', 'status', 'enroll', 'remove', 'import', 'redrive', 'dead-letters']) expect(help.stdout).toContain(`  ${command} `);

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
        'Set these environment variables (the same ones the Lambda functions read; see docs/operations.md),',
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

  it('routes dead-letters (list by default) and dead-letters show, with their options', async () => {
    const listed = await run('dead-letters', '--reason', 'action-failed,needs-operator', '--account', '222222222201', '--json');
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ schemaVersion: 1, read: 0, letters: [] });
    expect((await run('dead-letters', 'list', '--max', '0')).stderr).toContain('--max must be a whole number of at least 1, got "0"');
    const shown = await run('dead-letters', 'show', 'abc');
    expect(shown.exitCode).toBe(1);
    expect(shown.stderr).toContain('macie-members: no dead letter with ID abc in');
  });

  it('apply: refuses without --yes off a terminal, and a plan file with --account', async () => {
    const refused = await run('apply', '--account', '222222222201');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('macie-members: apply changes Macie and asks first; stdin is not a terminal, so nothing was applied.');
    expect(refused.stderr).toContain('Add --yes to apply without asking');
    expect((await run('apply', 'some.plan', '--account', '222222222201')).stderr).toBe(
      'macie-members: apply takes either a plan file or --account: the saved plan names its accounts.\n',
    );
    expect((await run('apply', '/nonexistent/some.plan')).stderr).toContain('macie-members: cannot read the plan file /nonexistent/some.plan');
  });

  it('remove refuses an account the table does not have, unless --force', async () => {
    const refused = await run('remove', '222222222299');
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('macie-members: 222222222299 is not in the desired table: nothing recorded.');
    expect(refused.stderr).toContain('add --force');
    expect((await cli.runtime.store.getMany(['222222222299'])).rows).toEqual([]);

    const forced = await run('remove', '222222222299', '--force');
    expect(forced, forced.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    expect(forced.stdout).toContain('the table had no row for it');
    expect((await cli.runtime.store.getMany(['222222222299'])).rows[0]).toMatchObject({ desiredState: 'absent' });
  });
});
