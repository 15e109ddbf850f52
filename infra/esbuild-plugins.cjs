'use strict';

/**
 * esbuild plugins for the Lambda bundles (serverless-esbuild loads this file by path).
 *
 * zod 4's `z` namespace re-exports every message locale (`z.locales`), about 250 KB of a
 * 500 KB bundle. The service never switches locale: zod configures English itself, from
 * `locales/en.js` directly. So the locale index is replaced by one that exports English only.
 * A later `z.locales.fr()` would be undefined at run time; a named import of a dropped locale
 * from the index fails the build.
 */
const englishOnlyZodLocales = {
  name: 'english-only-zod-locales',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
    }));
  },
};

module.exports = [englishOnlyZodLocales];
