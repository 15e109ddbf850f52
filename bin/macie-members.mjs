#!/usr/bin/env node
// The `macie-members` executable: runs the TypeScript sources through tsx, so the CLI works
// straight after `npm ci` with no build step. It works from any directory (through `npm link`,
// `npm install -g <clone>` or `node <clone>/bin/macie-members.mjs`): everything is found from this
// file's own location, which Node takes after resolving symlinks.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Before the AWS SDK and Powertools load, so operator output stays clean: no Node-version notice
// from the SDK, Powertools logging only errors (unless asked otherwise), no metrics emitted.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

// The project's tsconfig, not one that happens to be in the operator's working directory.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../cli/main.ts');
