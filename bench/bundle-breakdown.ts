/**
 * `npx tsx bench/bundle-breakdown.ts`: where each function's bundle bytes come from (the bundles
 * `osls package` ships, built with infra/esbuild.config.cjs), and what each of the project's esbuild
 * plugins (infra/esbuild-plugins.cjs) saves: the bundle built without that one plugin, against the
 * shipped one. Not part of `npm run bench`; it backs the cold-start notes in docs/benchmarks.md.
 */
import { createRequire } from 'node:module';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const { lambdaBuildOptions } = createRequire(import.meta.url)(join(root, 'infra/esbuild.config.cjs')) as { lambdaBuildOptions: Readonly<BuildOptions> };
const shippedPlugins = lambdaBuildOptions.plugins ?? [];

async function bundleBytes(entry: string, plugins: readonly Plugin[] = shippedPlugins) {
  const result = await build({
    ...lambdaBuildOptions,
    entryPoints: [entry],
    write: false,
    outfile: 'handler.mjs',
    // The source map is a separate file; the bundle's bytes are what is measured.
    sourcemap: false,
    metafile: true,
    plugins: [...plugins],
    logLevel: 'error',
  });
  const packages = new Map<string, number>();
  for (const [path, input] of Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'project code';
    packages.set(name, (packages.get(name) ?? 0) + input.bytesInOutput);
  }
  return { bytes: result.outputFiles[0]!.contents.length, packages };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

for (const name of (await readdir(join(root, 'functions'))).sort()) {
  const entry = join(root, 'functions', name, 'handler.ts');
  const shipped = await bundleBytes(entry);
  console.log(`\n${name}: ${kb(shipped.bytes)} as shipped`);
  for (const [pkg, bytes] of [...shipped.packages].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${kb(bytes).padStart(9)}  ${pkg}`);
  const savings: string[] = [];
  for (const plugin of shippedPlugins) {
    const without = await bundleBytes(entry, shippedPlugins.filter((other) => other !== plugin));
    savings.push(`${plugin.name} −${kb(without.bytes - shipped.bytes)}`);
  }
  const none = await bundleBytes(entry, []);
  console.log(`  plugins save: ${savings.join('; ')}; all together −${kb(none.bytes - shipped.bytes)} (${kb(none.bytes)} without them)`);
}
