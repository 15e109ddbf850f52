import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CloudFormationTemplate } from './cloudformation';
import { readZip } from './zip';

/**
 * Runs `osls package` the way CI and a developer without AWS access would: no AWS credentials in
 * the environment, HOME pointing at an empty directory (so no ~/.aws files either). The test
 * files that need the result share one run: it is cached under node_modules/.cache, keyed by a
 * hash of everything that goes into the package, and a lock directory keeps two test files from
 * packaging at once (osls and serverless-esbuild share the .esbuild work folder).
 */

export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const FUNCTION_NAMES = ['reconcile', 'onboard', 'requests', 'worker'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The stage and parameters the tests package with: the sandbox's managed regions. */
export const PACKAGE_STAGE = 'dev';
export const PACKAGE_PARAMS: Readonly<Record<string, string>> = Object.freeze({ managedRegions: 'us-east-1,eu-west-1' });

export interface PackagedService {
  /** `.serverless`-like output: the CloudFormation templates and one zip per function. */
  artifactsDirectory: string;
  template: CloudFormationTemplate;
  artifact(functionName: FunctionName): string;
  /** The unzipped artifact of a function (under node_modules/.cache, with the packages cache). */
  bundleDirectory(functionName: FunctionName): string;
}

const INPUTS = ['serverless.yml', 'package.json', 'package-lock.json', 'infra', 'functions', 'shared'];
const CACHE_ROOT = join(PROJECT_ROOT, 'node_modules', '.cache', 'macie-membership-reconciler-infra');
const LOCK_STALE_MS = 180_000;
const LOCK_WAIT_MS = 170_000;
const PACKAGE_TIMEOUT_MS = 150_000;
const STALE_PACKAGE_MS = 30 * 60_000;

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let packaged: Promise<PackagedService> | undefined;

export function packageService(): Promise<PackagedService> {
  packaged ??= packageOnce();
  return packaged;
}

async function packageOnce(): Promise<PackagedService> {
  const directory = join(CACHE_ROOT, inputHash());
  const complete = join(directory, 'complete');
  if (!existsSync(complete)) {
    await withLock(async () => {
      if (existsSync(complete)) return;
      // Packages of earlier inputs are no use any more, once no running test can still be reading them.
      for (const entry of readdirSync(CACHE_ROOT)) {
        const path = join(CACHE_ROOT, entry);
        if (entry !== 'lock' && Date.now() - statSync(path).mtimeMs > STALE_PACKAGE_MS) await rm(path, { recursive: true, force: true });
      }
      await rm(directory, { recursive: true, force: true });
      await runOslsPackage(join(directory, 'artifacts'));
      for (const name of FUNCTION_NAMES) await extract(join(directory, 'artifacts', `${name}.zip`), join(directory, 'bundles', name));
      await writeFile(complete, new Date().toISOString());
    });
  }
  const artifactsDirectory = join(directory, 'artifacts');
  const template = JSON.parse(await readFile(join(artifactsDirectory, 'cloudformation-template-update-stack.json'), 'utf8')) as CloudFormationTemplate;
  return {
    artifactsDirectory,
    template,
    artifact: (name) => join(artifactsDirectory, `${name}.zip`),
    bundleDirectory: (name) => join(directory, 'bundles', name),
  };
}

/** The environment of a machine with no AWS access: no AWS_* variables, an empty HOME. */
async function credentialFreeEnvironment(): Promise<NodeJS.ProcessEnv> {
  const environment: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_')) environment[key] = value;
  }
  environment.HOME = await mkdtemp(join(tmpdir(), 'macie-infra-home-'));
  return environment;
}

async function runOslsPackage(outputDirectory: string): Promise<void> {
  const osls = join(PROJECT_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  const params = Object.entries(PACKAGE_PARAMS).map(([key, value]) => `--param=${key}=${value}`);
  const environment = await credentialFreeEnvironment();
  try {
    await run(process.execPath, [osls, 'package', '--stage', PACKAGE_STAGE, '--package', outputDirectory, ...params], {
      cwd: PROJECT_ROOT,
      env: environment,
      timeout: PACKAGE_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`osls package failed: ${failure.message}\n${failure.stdout ?? ''}\n${failure.stderr ?? ''}`);
  } finally {
    await rm(environment.HOME!, { recursive: true, force: true });
  }
}

async function extract(zipPath: string, into: string): Promise<void> {
  for (const [name, contents] of readZip(await readFile(zipPath))) {
    const target = join(into, name);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, contents);
  }
}

function inputHash(): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ stage: PACKAGE_STAGE, params: PACKAGE_PARAMS, node: process.version }));
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
      return;
    }
    hash.update(relative(PROJECT_ROOT, path));
    hash.update(readFileSync(path));
  };
  for (const input of INPUTS) visit(join(PROJECT_ROOT, input));
  return hash.digest('hex').slice(0, 16);
}

async function withLock(work: () => Promise<void>): Promise<void> {
  const lock = join(CACHE_ROOT, 'lock');
  await mkdir(CACHE_ROOT, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then((info) => Date.now() - info.mtimeMs, () => 0);
      // A lock left by a run that was killed mid-package.
      if (age > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for the packaging lock ${lock}`);
      else await sleep(250);
    }
  }
  try {
    await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
