#!/usr/bin/env node
// The `macie-members` executable: runs the TypeScript sources through tsx, so the CLI works
// straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

// Before the AWS SDK and Powertools load, so operator output stays clean: no Node-version notice
// from the SDK, Powertools logging only errors (unless asked otherwise), no metrics emitted.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

register();
await import('../cli/main.ts');
