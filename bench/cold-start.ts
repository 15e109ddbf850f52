/**
 * Cold start: each function bundled with the esbuild options `osls package` ships
 * (infra/esbuild.config.cjs: minified ESM for node22, linked source map, the AWS SDK bundled), and
 * for comparison the same with the AWS SDK left to the Lambda runtime's copy. Then the module
 * initialisation time: the median of fresh `import()`s of the bundle, each in a new `node` process
 * with the NODE_OPTIONS serverless.yml deploys (`--enable-source-maps`: Node then reads the bundle's
 * source map as it loads it).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { load } from 'js-yaml';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const { lambdaBuildOptions } = createRequire(import.meta.url)(join(root, 'infra/esbuild.config.cjs')) as { lambdaBuildOptions: Readonly<BuildOptions> };

export interface BundleFigures {
  function: string;
  /** `SDK bundled` is what serverless.yml ships; `runtime SDK` is the alternative it was chosen over. */
  variant: 'runtime SDK' | 'SDK bundled';
  bytes: number;
  initMs: { median: number; min: number; max: number; samples: number[] };
}

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The NODE_OPTIONS the functions run with (serverless.yml `provider.environment`). */
async function deployedNodeOptions(): Promise<string> {
  const service = load(await readFile(join(root, 'serverless.yml'), 'utf8')) as { provider?: { environment?: Record<string, unknown> } };
  const options = service.provider?.environment?.NODE_OPTIONS;
  return typeof options === 'string' ? options : '';
}

async function bundle(handler: string, outdir: string, externalSdk: boolean): Promise<string> {
  await build({
    ...lambdaBuildOptions,
    entryPoints: { handler: join(root, handler) },
    outdir,
    outExtension: { '.js': '.mjs' },
    external: externalSdk ? ['@aws-sdk/*'] : [],
    logLevel: 'error',
  });
  return join(outdir, 'handler.mjs');
}

async function initTimes(file: string, runs: number, nodeOptions: string): Promise<number[]> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const samples: number[] = [];
  for (let index = 0; index < runs; index++) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, NODE_OPTIONS: nodeOptions, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    samples.push(Number(stdout));
  }
  return samples;
}

export async function measureColdStart(runs = 15): Promise<BundleFigures[]> {
  const functions = (await readdir(join(root, 'functions'))).sort();
  const nodeOptions = await deployedNodeOptions();
  const workspace = await mkdtemp(join(tmpdir(), 'macie-bench-'));
  // The runtime's SDK copy stands in for Lambda's /var/runtime/node_modules.
  await symlink(join(root, 'node_modules'), join(workspace, 'node_modules'), 'dir');
  const figures: BundleFigures[] = [];
  try {
    for (const name of functions) {
      for (const variant of ['SDK bundled', 'runtime SDK'] as const) {
        const outdir = join(workspace, `${name}-${variant === 'runtime SDK' ? 'runtime-sdk' : 'bundled-sdk'}`);
        const file = await bundle(`functions/${name}/handler.ts`, outdir, variant === 'runtime SDK');
        const samples = await initTimes(file, runs, nodeOptions);
        figures.push({
          function: name,
          variant,
          bytes: (await stat(file)).size,
          initMs: { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples },
        });
      }
    }
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const figure of await measureColdStart(Number(process.argv[2] ?? 15))) {
    console.log(`${figure.function.padEnd(10)} ${figure.variant.padEnd(12)} ${(figure.bytes / 1024).toFixed(1).padStart(7)} KB  init median ${figure.initMs.median.toFixed(1)} ms (min ${figure.initMs.min.toFixed(1)}, max ${figure.initMs.max.toFixed(1)})`);
  }
}
