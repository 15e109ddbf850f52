'use strict';

/**
 * The one esbuild configuration of the Lambda bundles. serverless-esbuild loads this file
 * (serverless.yml `custom.esbuild.config`) and calls the exported function; `npm run build`
 * (scripts/build.ts) and the cold-start benchmark (bench/cold-start.ts) build with
 * `lambdaBuildOptions`, so what they report is what `osls package` ships.
 *
 * The AWS SDK is bundled, not left to the runtime's copy: the runtime's SDK is CommonJS, every
 * client whole, and loading it is most of a cold start (194-213 ms of module initialisation
 * against 60-63 ms for these bundles, docs/benchmarks.md); bundling also pins the SDK version the
 * tests ran against.
 */
const plugins = require('./esbuild-plugins.cjs');

/** esbuild's own options for a Lambda bundle (serverless-esbuild adds entry points and output folders). */
const lambdaBuildOptions = Object.freeze({
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'node',
  // provider.runtime is nodejs22.x.
  target: 'node22',
  // Prefer the ESM builds of dependencies: they tree-shake.
  mainFields: ['module', 'main'],
  sourcemap: 'linked',
  // Stack traces need the mappings, not a copy of the sources.
  sourcesContent: false,
  legalComments: 'none',
  // Each drops SDK code these functions can never run; see the file.
  plugins,
});

/** serverless-esbuild's options: esbuild's, plus its own. */
module.exports = () => ({
  ...lambdaBuildOptions,
  outputFileExtension: '.mjs',
  // Nothing is external: serverless-esbuild's default would exclude `aws-sdk` (v2, unused).
  exclude: [],
});
module.exports.lambdaBuildOptions = lambdaBuildOptions;
