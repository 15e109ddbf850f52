/**
 * `npx tsx bench/bundle-breakdown.ts`: where each function's bundle bytes come from (the SDK-bundled
 * variant of bench/cold-start.ts), and what three candidate changes would save. Not part of
 * `npm run bench`; it backs the cold-start notes in docs/benchmarks.md.
 *
 *   env-only credentials  Lambda bundles resolve @aws-sdk/credential-provider-node (the default
 *                         chain: SSO, INI files, processes, web identity, IMDS, and the nested STS/SSO
 *                         clients they use) to the environment provider, the only one Lambda needs.
 *   no Organizations      the Organizations client only where it is used (onboard).
 *   zod/mini              the zod share, against a zod/mini sample using the same kinds of schema.
 */
import { createRequire } from 'node:module';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const projectPlugins = (() => {
  try {
    return createRequire(import.meta.url)(join(root, 'infra/esbuild-plugins.cjs')) as Plugin[];
  } catch {
    return [];
  }
})();

const replaceModule = (name: string, pattern: RegExp, contents: string): Plugin => ({
  name,
  setup(builder) {
    builder.onResolve({ filter: pattern }, () => ({ path: name, namespace: 'what-if' }));
    builder.onLoad({ filter: new RegExp(`^${name}$`), namespace: 'what-if' }, () => ({ contents, resolveDir: root, loader: 'js' }));
  },
});
const envOnlyCredentials = replaceModule(
  'env-only-credentials',
  /^@aws-sdk\/credential-provider-node$/,
  'import { fromEnv } from "@aws-sdk/credential-provider-env"; export const defaultProvider = (init) => fromEnv(init);',
);
const noOrganizations = replaceModule(
  'no-organizations',
  /^@aws-sdk\/client-organizations$/,
  'export class OrganizationsClient {} export class DescribeAccountCommand {} export const paginateListAccounts = () => {};',
);

async function bundleBytes(entry: string, plugins: Plugin[] = []) {
  const result = await build({
    entryPoints: [entry],
    write: false,
    outfile: 'handler.mjs',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    legalComments: 'none',
    metafile: true,
    plugins: [...projectPlugins, ...plugins],
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

const zodMiniSample = `
import * as z from 'zod/mini';
export const sample = z.object({
  a: z.string().check(z.regex(/^x$/)), b: z.optional(z.enum(['a', 'b'])), c: z.pipe(z.string(), z.transform((v) => v.split(','))),
  d: z.url(), e: z.email(), f: z.coerce.number().check(z.int(), z.minimum(1)), g: z.array(z.string()),
  h: z.record(z.string(), z.string()), i: z.union([z.literal('x'), z.literal('y')]), j: z.boolean(),
});`;
const zodMini = await build({
  stdin: { contents: zodMiniSample, resolveDir: root, loader: 'ts' },
  write: false,
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'node',
  logLevel: 'error',
});

for (const name of (await readdir(join(root, 'functions'))).sort()) {
  const entry = join(root, 'functions', name, 'handler.ts');
  const asIs = await bundleBytes(entry);
  const withEnvCredentials = await bundleBytes(entry, [envOnlyCredentials]);
  const withoutOrganizations = name === 'onboard' ? undefined : await bundleBytes(entry, [noOrganizations]);
  const both = await bundleBytes(entry, name === 'onboard' ? [envOnlyCredentials] : [envOnlyCredentials, noOrganizations]);
  const zod = asIs.packages.get('zod') ?? 0;
  const zodMiniBytes = zodMini.outputFiles[0]!.contents.length;
  console.log(`\n${name}: ${kb(asIs.bytes)} with the SDK bundled`);
  for (const [pkg, bytes] of [...asIs.packages].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${kb(bytes).padStart(9)}  ${pkg}`);
  console.log(`  what if: env-only credentials ${kb(withEnvCredentials.bytes)}` +
    (withoutOrganizations ? `; no Organizations ${kb(withoutOrganizations.bytes)}` : '') +
    `; zod ${kb(zod)} -> zod/mini sample ${kb(zodMiniBytes)}` +
    `; all of these ~${kb(both.bytes - zod + zodMiniBytes)}`);
}
