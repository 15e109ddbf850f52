/**
 * `npm run build`: bundles each Lambda function with esbuild the way it ships (ESM, minified,
 * source maps, Node 22) into dist/<name>/handler.mjs, and prints each bundle's size.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const FUNCTIONS_DIR = fileURLToPath(new URL('../functions/', import.meta.url));

export async function functionNames(): Promise<string[]> {
  return (await readdir(FUNCTIONS_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

/** Bundles one function; returns the bundle's path and size in bytes. */
export async function bundleFunction(name: string, outdir: string): Promise<{ file: string; bytes: number }> {
  const file = `${outdir}/${name}/handler.mjs`;
  const result = await build({
    entryPoints: [`${FUNCTIONS_DIR}${name}/handler.ts`],
    outfile: file,
    bundle: true,
    minify: true,
    sourcemap: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    metafile: true,
    // Some dependencies are CommonJS and call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
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
