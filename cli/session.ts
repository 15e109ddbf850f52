/**
 * What a command runs against: the service runtime (the same wiring the Lambda functions use),
 * configured from the same environment variables, plus the queues. With `--stack` the deployed
 * stack's outputs supply the configuration; with `--local` an in-process sandbox holding the demo
 * organization stands in for AWS.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '#shared/config';
import { createRuntime, type ServiceRuntime } from '#shared/runtime';
import type { Sandbox } from '#sandbox/index';
import { CliError } from '#cli/errors';
import { writeLine, type Terminal } from '#cli/format';
import { ServiceQueues } from '#cli/queues';
import { layerSettings, settingsFromStack, type Settings } from '#cli/stack-config';
import { CloudFormationStacks } from '#cli/stack-outputs';

export interface CliSession {
  /** The very runtime the Lambda functions build. */
  runtime: ServiceRuntime;
  queues: ServiceQueues;
  /** Set with `--local`. */
  sandbox?: Sandbox;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** Start the sandbox in this process, seed the demo organization and point the environment at it. */
  local?: boolean;
  /** An AWS profile, for the SDK's own credential resolution. */
  profile?: string;
  /** The home region of the table and queues (sets AWS_REGION). */
  region?: string;
  /** A deployed stack whose outputs supply the configuration, over the environment. */
  stack?: string;
}

// One lookup while the operator waits: a few attempts, not the service's patient retries.
const STACK_LOOKUP_ATTEMPTS = 3;

// Settings that would steer the SDK away from the sandbox: a profile wins over the sandbox's static
// keys, a real session token would be sent along with them, and this one turns endpoint URLs off.
const SETTINGS_THAT_DEFEAT_THE_SANDBOX = ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'];

/**
 * Opens a session. The CLI's process environment plays the part of the Lambda environment: it is
 * written here (sandbox endpoints, profile) before the configuration is parsed and the SDK
 * clients are built, and read only through `parseConfig`. A stack's outputs are laid over it for
 * that parse, not written into it: they configure the service, not the SDK.
 */
export async function openSession(options: SessionOptions, terminal: Terminal): Promise<CliSession> {
  if (options.local && options.profile) {
    throw new CliError('--local and --profile cannot be combined: the sandbox uses its own credentials.');
  }
  if (options.local && options.region) {
    throw new CliError('--local and --region cannot be combined: the sandbox has its own home region.');
  }
  if (options.local && options.stack) {
    throw new CliError('--local and --stack cannot be combined: the sandbox configures the CLI itself.');
  }
  if (options.profile) process.env.AWS_PROFILE = options.profile;
  if (options.region) process.env.AWS_REGION = options.region;
  if (!options.local) {
    checkProfileExists(process.env, options.profile ? '--profile' : 'AWS_PROFILE');
    const stack = options.stack ? await readStackSettings(options.stack, options.region) : {};
    const runtime = createRuntime(parseConfig(layerSettings({ environment: process.env, stack, flags: { AWS_REGION: options.region } })));
    return { runtime, queues: new ServiceQueues(runtime.config), close: async () => {} };
  }

  const [{ startSandbox }, { DEMO_KNOBS, demoAccounts, seedDemoOrganization }] = await loadSandbox();
  const sandbox = await startSandbox({ accounts: demoAccounts(), knobs: DEMO_KNOBS });
  try {
    for (const name of SETTINGS_THAT_DEFEAT_THE_SANDBOX) delete process.env[name];
    Object.assign(process.env, sandbox.environment(), {
      // The demo's invitations are visible at once; no need to wait a second between polls.
      ACCEPT_POLL_INTERVAL_MS: process.env.ACCEPT_POLL_INTERVAL_MS ?? '200',
    });
    const runtime = createRuntime(parseConfig(process.env));
    const accounts = await seedDemoOrganization(sandbox, (row) => runtime.store.recordDesired(row));
    writeLine(
      terminal.stderr,
      `local sandbox: demo organization of ${accounts.length} accounts, administrator ${sandbox.administrator.accountId}, ` +
        `regions ${sandbox.regions.join(', ')}; discarded when the command ends`,
    );
    return { runtime, queues: new ServiceQueues(runtime.config), sandbox, close: () => sandbox.close() };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

/** The settings of a deployed stack, looked up in --region, else the SDK's region (AWS_REGION, the profile's). */
async function readStackSettings(name: string, region: string | undefined): Promise<Settings> {
  const stacks = new CloudFormationStacks({ region, maxAttempts: STACK_LOOKUP_ATTEMPTS });
  try {
    const lookupRegion = await stacks.region();
    if (!lookupRegion) {
      throw new CliError(`--stack needs a region to find stack "${name}" in.`, ['Pass --region, set AWS_REGION, or use a profile that names a region.']);
    }
    return settingsFromStack({ name, region: lookupRegion, stack: await stacks.describe(name) });
  } finally {
    stacks.close();
  }
}

/**
 * The SDK answers a profile that does not exist with "Could not load credentials from any
 * providers", at the first call; naming the profile and the files searched saves a long hunt.
 */
function checkProfileExists(env: NodeJS.ProcessEnv, source: string): void {
  const profile = env.AWS_PROFILE;
  if (!profile) return;
  const files = sharedConfigFiles(env);
  const known = profileNames(files);
  if (known.has(profile)) return;
  throw new CliError(`${source} names the AWS profile "${profile}", which is not in ${files.map((file) => file.path).join(' or ')}.`, [
    known.size > 0 ? `Profiles found: ${[...known].sort().join(', ')}.` : 'No profiles were found there.',
    'Create it with `aws configure --profile NAME` (or `aws configure sso`), or name another one.',
  ]);
}

// Where the SDK looks for profiles (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws).
function sharedConfigFiles(env: NodeJS.ProcessEnv): Array<{ path: string; kind: 'config' | 'credentials' }> {
  const home = env.HOME || env.USERPROFILE || homedir();
  return [
    { path: env.AWS_CONFIG_FILE || join(home, '.aws', 'config'), kind: 'config' },
    { path: env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), kind: 'credentials' },
  ];
}

/** Profile names in the shared files: `[profile NAME]`/`[default]` in config, `[NAME]` in credentials. */
export function profileNames(files: ReadonlyArray<{ path: string; kind: 'config' | 'credentials' }>): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch {
      continue;
    }
    for (const match of text.matchAll(/^\s*\[\s*([^\]]+?)\s*\]/gm)) {
      const section = match[1]!;
      if (file.kind === 'credentials') names.add(section);
      else if (section === 'default') names.add(section);
      else if (section.startsWith('profile ')) names.add(section.slice('profile '.length).trim());
    }
  }
  return names;
}

/** The sandbox needs dev dependencies (dynalite, local-aws-sqs); say so instead of a module-not-found trace. */
async function loadSandbox() {
  try {
    return await Promise.all([import('#sandbox/index'), import('#sandbox/demo-organization')]);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new CliError('--local needs the development dependencies (dynalite, local-aws-sqs).', [
        'Install them with `npm ci` (without --omit=dev).',
      ]);
    }
    throw error;
  }
}
