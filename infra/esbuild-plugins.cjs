'use strict';

/**
 * esbuild plugins of the Lambda bundles (infra/esbuild.config.cjs uses them). Each one removes SDK
 * code that a Lambda function of this service can never run, and each saving was measured with
 * `npx tsx bench/bundle-breakdown.ts` (figures for onboard, the largest bundle; docs/benchmarks.md).
 * A plugin that stops matching (a new SDK layout) fails nothing: the bundle grows, and
 * test/infra/bundles.test.ts's size limit says so.
 */
const { readFile } = require('node:fs/promises');
const path = require('node:path');

/**
 * `@aws-sdk/credential-provider-node` (the default credential chain) becomes the environment
 * provider alone (infra/lambda-credentials.mjs): in Lambda the function role's credentials are
 * always in the environment, and the member-account clients are given theirs. The clients import
 * only `defaultProvider` from it; any other import would fail the build. About 108 KB.
 */
const lambdaEnvironmentCredentials = {
  name: 'lambda-environment-credentials',
  setup(build) {
    const target = path.join(__dirname, 'lambda-credentials.mjs');
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({ path: target }));
  },
};

/**
 * Lets esbuild drop the schemas of operations the service never calls. A client's
 * `schemas/schemas_0.js` describes every shape of the service (Macie's: 100 KB of source) with
 * object literals keyed by file-level string constants, `{ [_jN]: _aI }` where
 * `const _jN = "jsonName"`. esbuild cannot prove a computed key free of side effects, so it kept
 * every schema. Writing the constant's own literal in place of the computed key
 * (`{ "jsonName": _aI }`) is the same object, and makes unused schemas removable. About 43 KB,
 * most of it Macie's.
 */
const treeShakableSdkSchemas = {
  name: 'tree-shakable-sdk-schemas',
  setup(build) {
    build.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ }, async ({ path: file }) => {
      const source = await readFile(file, 'utf8');
      const literals = new Map();
      for (const [, name, literal] of source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) literals.set(name, literal);
      const contents = source.replace(/([{,] )\[(_\w+)\]: /g, (key, before, name) =>
        literals.has(name) ? `${before}${literals.get(name)}: ` : key,
      );
      return { contents, loader: 'js' };
    });
  },
};

/**
 * The smithy protocols load `@smithy/core/event-streams` (with `import()`, which a single-file
 * bundle inlines) only for an operation with an event-stream member. Macie, DynamoDB, SQS, STS and
 * Organizations have none, so the bundles get a stand-in that says so if it is ever reached
 * (infra/no-event-streams.mjs). About 20 KB.
 */
const noEventStreams = {
  name: 'no-event-streams',
  setup(build) {
    const target = path.join(__dirname, 'no-event-streams.mjs');
    build.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, () => ({ path: target }));
  },
};

/**
 * Each client imports its whole package.json (2-2.5 KB minified, with every dependency listed) to
 * read `version` for the User-Agent header, the only field any of them reads. The bundles keep
 * `name` and `version`. About 11 KB.
 */
const sdkPackageVersionsOnly = {
  name: 'sdk-package-versions-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/ }, async ({ path: file }) => {
      const { name, version } = JSON.parse(await readFile(file, 'utf8'));
      return { contents: JSON.stringify({ name, version }), loader: 'json' };
    });
  },
};

/**
 * The DynamoDB client builds an endpoint-discovery cache on `mnemonist`'s LRU cache (with
 * `obliterator`), whatever its settings; the service never turns endpoint discovery on. A Map-based
 * cache with the same methods stands in (infra/map-lru-cache.mjs). About 7 KB.
 */
const mapLruCache = {
  name: 'map-lru-cache',
  setup(build) {
    const target = path.join(__dirname, 'map-lru-cache.mjs');
    build.onResolve({ filter: /^mnemonist\/lru-cache(\.js)?$/ }, () => ({ path: target }));
  },
};

module.exports = [lambdaEnvironmentCredentials, treeShakableSdkSchemas, noEventStreams, sdkPackageVersionsOnly, mapLruCache];
