/**
 * `npm run build`: bundles each Lambda function with the esbuild options `osls package` ships
 * (infra/esbuild.config.cjs: ESM, minified, linked source maps, Node 22, the AWS SDK bundled)
 * into dist/<name>/handler.mjs, and prints each bundle's size.
 */
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

export const { lambdaBuildOptions } = createRequire(import.meta.url)('../infra/esbuild.config.cjs') as { lambdaBuildOptions: Readonly<BuildOptions> };

export const FUNCTIONS_DIR = fileURLToPath(new URL('../functions/', import.meta.url));

export async function functionNames(): Promise<string[]> {
  return (await readdir(FUNCTIONS_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

/** Bundles one function; returns the bundle's path and size in bytes. */
export async function bundleFunction(name: string, outdir: string): Promise<{ file: string; bytes: number }> {
  const file = `${outdir}/${name}/handler.mjs`;
  const result = await build({
    ...lambdaBuildOptions,
    entryPoints: [`${FUNCTIONS_DIR}${name}/handler.ts`],
    outfile: file,
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('.mjs'))?.[1].bytes ?? 0;
  return { file, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = fileURLToPath(new URL('../dist', import.meta.url));
  for (const name of await functionNames()) {
    const { file, bytes } = await bundleFunction(name, outdir);
    console.log(`${name.padEnd(10)} ${(bytes / 1024).toFixed(1).padStart(7)} KiB  ${file}`);
  }
}
