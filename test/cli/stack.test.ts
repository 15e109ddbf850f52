import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDocument } from '#cli/commands/status';
import type { Terminal } from '#cli/format';
import { runCli } from '#cli/program';
import { openSession, type SessionOptions } from '#cli/session';
import type { ServiceConfig } from '#shared/config';
import type { Sandbox } from '#sandbox/index';
import { startServiceSandbox } from '../support/service-sandbox';
import { captureTerminal, writeCalls } from './support/cli-sandbox';
import { withEnvironment } from '../support/environment';

/**
 * `--stack NAME` against the sandbox, whose CloudFormation describes it as a deployed stack: the
 * real CloudFormation client reads the outputs, and the commands run on the table and queues they
 * name, with none of the configuration variables set.
 */

let sandbox: Sandbox;
let configs: Array<Readonly<ServiceConfig>> = [];

// What an operator no longer sets with --stack: every setting the stack's outputs supply.
const STACK_SETTINGS = [
  'MACIE_ADMINISTRATOR_ACCOUNT_ID',
  'MANAGED_REGIONS',
  'DESIRED_MEMBERS_TABLE',
  'DEAD_LETTER_QUEUE_URL',
  'REQUEST_QUEUE_URL',
  'MEMBER_ROLE_NAME',
  'MEMBER_ROLE_EXTERNAL_ID',
];

beforeAll(async () => {
  sandbox = await startServiceSandbox({ accounts: [{ accountId: '222222222201', email: 'x@example.com' }] });
  for (const name of STACK_SETTINGS) delete process.env[name];
});

afterAll(() => sandbox?.close());

async function run(...argv: string[]) {
  const captured = captureTerminal();
  const exitCode = await runCli(argv, {
    terminal: captured.terminal,
    user: 'tester',
    openSession: async (options: SessionOptions, terminal: Terminal) => {
      const session = await openSession(options, terminal);
      configs.push(session.runtime.config);
      return session;
    },
  });
  return { exitCode, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** The sandbox stack's outputs, changed: a stack of another version or state. */
function sandboxOutputs(changes: Record<string, string | undefined> = {}): Record<string, string> {
  const outputs: Record<string, string | undefined> = {
    HomeRegion: sandbox.homeRegion,
    AdministratorAccountId: sandbox.administrator.accountId,
    ManagedRegions: sandbox.regions.join(','),
    DesiredMembersTableName: sandbox.tableName,
    RequestQueueUrl: sandbox.requestQueueUrl,
    DeadLetterQueueUrl: sandbox.deadLetterQueueUrl,
    MemberRoleName: sandbox.memberRole.name,
    MemberRoleExternalId: sandbox.memberRole.externalId,
    PruneUnmanaged: 'false',
    SendInvitationEmail: 'false',
    EventSource: 'macie-membership-reconciler',
    AdminConcurrency: '8',
    MemberConcurrency: '16',
    MembershipMode: 'auto',
    OrganizationSync: 'false',
    ...changes,
  };
  return Object.fromEntries(Object.entries(outputs).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

describe('--stack', () => {
  it('runs status with nothing but --stack: the table, queues, administrator and regions come from the outputs', async () => {
    sandbox.clearCalls();
    const result = await run('--stack', sandbox.stackName, 'status', '--json');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const document = JSON.parse(result.stdout) as StatusDocument;
    expect(document).toMatchObject({
      administratorAccountId: '111111111111',
      managedRegions: ['us-east-1', 'eu-west-1'],
      desiredMembersTable: sandbox.tableName,
    });
    expect(document.queues.map((queue) => [queue.url, queue.error])).toEqual([
      [sandbox.deadLetterQueueUrl, null],
      [sandbox.requestQueueUrl, null],
      [sandbox.requestDeadLetterQueueUrl, null],
    ]);
    expect(sandbox.calls().filter((call) => call.service === 'cloudformation').map((call) => call.operation)).toEqual(['DescribeStacks']);
    expect(writeCalls(sandbox)).toEqual([]);
  });

  it('writes to the table the stack names and plans against it', async () => {
    const enrolled = await run('--stack', sandbox.stackName, 'enroll', '222222222201', 'x@example.com');
    expect(enrolled, enrolled.stderr).toMatchObject({ exitCode: 0, stderr: '' });
    expect(enrolled.stdout).toContain('Recorded: 222222222201 (x***@example.com) is a desired member in every managed region (us-east-1, eu-west-1).');

    const planned = await run('--stack', sandbox.stackName, 'plan', '--json');
    expect(planned.exitCode, planned.stderr).toBe(2);
    expect(JSON.parse(planned.stdout)).toMatchObject({ drift: true, administratorAccountId: '111111111111', summary: { items: 2 } });
  });

  it('takes the outputs over the environment, and the environment for what the stack does not decide', async () => {
    configs = [];
    const result = await withEnvironment(
      { DESIRED_MEMBERS_TABLE: 'someone-elses-table', MANAGED_REGIONS: 'ap-south-1', PRUNE_UNMANAGED: 'true', ACCEPT_POLL_ATTEMPTS: '7' },
      () => run('--stack', sandbox.stackName, 'status', '--json'),
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(configs).toHaveLength(1);
    expect(configs[0]).toMatchObject({
      desiredMembersTable: sandbox.tableName,
      managedRegions: ['us-east-1', 'eu-west-1'],
      pruneUnmanaged: false,
      acceptPolling: { attempts: 7 },
    });
  });

  it('looks the stack up in --region, and takes --region over the outputs and AWS_REGION', async () => {
    // A stack only eu-west-1 knows, whose HomeRegion output says otherwise: the explicit flag wins.
    sandbox.cloudFormation.putStack({ name: 'reconciler-eu', region: 'eu-west-1', status: 'UPDATE_COMPLETE', outputs: sandboxOutputs() });
    configs = [];
    const inEurope = await withEnvironment({ AWS_REGION: 'us-east-1' }, () => run('--region', 'eu-west-1', '--stack', 'reconciler-eu', 'status', '--json'));
    expect(inEurope.exitCode, inEurope.stderr).toBe(0);
    expect(configs[0]).toMatchObject({ homeRegion: 'eu-west-1', desiredMembersTable: sandbox.tableName });

    const inAwsRegion = await withEnvironment({ AWS_REGION: 'us-east-1' }, () => run('--stack', 'reconciler-eu', 'status'));
    expect(inAwsRegion).toMatchObject({ exitCode: 1, stdout: '' });
    expect(inAwsRegion.stderr).toContain('macie-members: stack "reconciler-eu" does not exist in us-east-1.\n');
  });

  it("signs with --profile's credentials and looks the stack up in the profile's region", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'aws-profiles-'));
    await writeFile(join(directory, 'config'), '[profile sandbox-admin]\nregion = us-east-1\n');
    await writeFile(
      join(directory, 'credentials'),
      `[sandbox-admin]\naws_access_key_id = ${sandbox.administrator.accessKeyId}\naws_secret_access_key = ${sandbox.administrator.secretAccessKey}\n`,
    );
    try {
      configs = [];
      const result = await withEnvironment(
        {
          AWS_CONFIG_FILE: join(directory, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(directory, 'credentials'),
          AWS_PROFILE: undefined,
          AWS_REGION: undefined,
          AWS_DEFAULT_REGION: undefined,
          AWS_ACCESS_KEY_ID: undefined,
          AWS_SECRET_ACCESS_KEY: undefined,
        },
        () => run('--profile', 'sandbox-admin', '--stack', sandbox.stackName, 'status', '--json'),
      );
      expect(result.exitCode, result.stderr).toBe(0);
      expect(configs[0]).toMatchObject({ homeRegion: 'us-east-1', desiredMembersTable: sandbox.tableName });
      // Macie answered the administrator: the profile's keys signed the calls.
      expect((JSON.parse(result.stdout) as StatusDocument).accounts.map((account) => account.accountId)).toEqual(['222222222201']);
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('names the stack and the region when the stack does not exist', async () => {
    expect(await run('--stack', 'macie-membership-reconciler-prod', 'status')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr:
        'macie-members: stack "macie-membership-reconciler-prod" does not exist in us-east-1.\n' +
        '  Check the name (osls deploy names the stack macie-membership-reconciler-STAGE (e.g. macie-membership-reconciler-prod)) ' +
        "and the region (--region, else AWS_REGION, else the profile's region).\n",
    });
  });

  it('refuses a stack in a failed or rolling-back state, with its reason', async () => {
    sandbox.cloudFormation.putStack({
      name: 'reconciler-broken',
      region: 'us-east-1',
      status: 'UPDATE_ROLLBACK_FAILED',
      statusReason: 'The following resource(s) failed to update: [RequestQueue].',
      outputs: sandboxOutputs(),
    });
    expect(await run('--stack', 'reconciler-broken', 'plan')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr:
        'macie-members: stack "reconciler-broken" in us-east-1 is UPDATE_ROLLBACK_FAILED (The following resource(s) failed to update: [RequestQueue].): ' +
        'its outputs cannot be trusted.\n' +
        "  Repair or redeploy the stack first (the stack's events in CloudFormation say what failed), then run the command again.\n",
    });
  });

  it('names each output an older stack lacks, and the release that declares it', async () => {
    sandbox.cloudFormation.putStack({
      name: 'reconciler-old',
      region: 'us-east-1',
      status: 'UPDATE_COMPLETE',
      outputs: sandboxOutputs({ ManagedRegions: undefined, MemberRoleName: undefined, MemberRoleExternalId: undefined }),
    });
    expect(await run('--stack', 'reconciler-old', 'status')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr:
        'macie-members: stack "reconciler-old" in us-east-1 has no outputs ManagedRegions, MemberRoleName, MemberRoleExternalId: ' +
        '--stack needs a stack deployed from macie-membership-reconciler 0.1.0 or later.\n' +
        '  Redeploy it from 0.1.0 or later (its serverless.yml declares these outputs), or leave out --stack and set the environment variables.\n',
    });
  });

  it('asks for a region when nothing names one', async () => {
    const home = await mkdtemp(join(tmpdir(), 'no-aws-'));
    try {
      const result = await withEnvironment(
        { HOME: home, AWS_CONFIG_FILE: undefined, AWS_SHARED_CREDENTIALS_FILE: undefined, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined },
        () => run('--stack', sandbox.stackName, 'status'),
      );
      expect(result).toEqual({
        exitCode: 1,
        stdout: '',
        stderr: `macie-members: --stack needs a region to find stack "${sandbox.stackName}" in.\n  Pass --region, set AWS_REGION, or use a profile that names a region.\n`,
      });
    } finally {
      await rm(home, { recursive: true });
    }
  });

  it('reports a CloudFormation that cannot be reached as a failed DescribeStacks call', async () => {
    const result = await withEnvironment({ AWS_ENDPOINT_URL_CLOUDFORMATION: 'http://127.0.0.1:9' }, () => run('--stack', sandbox.stackName, 'status'));
    expect(result).toMatchObject({ exitCode: 1, stdout: '' });
    expect(result.stderr).toMatch(/^macie-members: AWS DescribeStacks failed: ECONNREFUSED: .*\n {2}The AWS endpoint could not be reached/);
  });

  it('is in the help', async () => {
    // Commander wraps the descriptions to the terminal width.
    const help = (await run('--help')).stdout.replace(/\s+/g, ' ');
    expect(help).toContain("--stack <name> take the configuration from this deployed CloudFormation stack's outputs");
    expect(help).toContain('(explicit flags > stack outputs > environment)');
  });

  it('cannot be combined with --local', async () => {
    expect(await run('--local', '--stack', sandbox.stackName, 'status')).toMatchObject({
      exitCode: 1,
      stderr: 'macie-members: --local and --stack cannot be combined: the sandbox configures the CLI itself.\n',
    });
  });

  it('works from the real executable, given only credentials, a region and the endpoints', async () => {
    const environment = sandbox.environment();
    const awsOnly = Object.fromEntries(Object.entries(environment).filter(([name]) => name.startsWith('AWS_')));
    const { exitCode, stdout, stderr } = await new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        [fileURLToPath(new URL('../../bin/macie-members.mjs', import.meta.url)), '--stack', sandbox.stackName, 'status', '--json'],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...awsOnly }, timeout: 25_000 },
        (error, out, err) => {
          if (error && typeof error.code !== 'number') reject(error);
          else resolve({ exitCode: typeof error?.code === 'number' ? error.code : 0, stdout: out, stderr: err });
        },
      );
    });
    expect(Object.keys(awsOnly)).not.toContain('DESIRED_MEMBERS_TABLE');
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({ desiredMembersTable: sandbox.tableName, administratorAccountId: '111111111111' });
  });
});
