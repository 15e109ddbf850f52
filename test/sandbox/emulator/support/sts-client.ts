/**
 * `@aws-sdk/client-sts` 3.1048.0 requires `@aws-sdk/region-config-resolver` without declaring it
 * (aws/aws-sdk-js-v3#8027; that release is deprecated), so with this lockfile it cannot even be loaded.
 * Until the project declares the missing package, the tests point that one `require` at the same function
 * in `@aws-sdk/core/client`, so they still drive the real, pinned STS client. Once the package is installed
 * this shim does nothing.
 */
import { createRequire } from 'node:module';

/** Node's CommonJS resolver; undocumented, so @types/node does not declare it. */
interface CommonJsResolver {
  _resolveFilename(this: unknown, request: string, ...rest: unknown[]): string;
}

const MISSING = '@aws-sdk/region-config-resolver';

function provideMissingStsDependency(): void {
  const require = createRequire(import.meta.url);
  const stsEntry = require.resolve('@aws-sdk/client-sts');
  try {
    createRequire(stsEntry).resolve(MISSING);
    return;
  } catch {
    // Missing as expected with 3.1048.0: fall through and provide it.
  }
  const replacement = require.resolve('@aws-sdk/core/client');
  // `node:module` exposes the resolver on its default export at run time; the cast names that internal API.
  const resolver = require('node:module') as CommonJsResolver;
  const original = resolver._resolveFilename;
  resolver._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return request === MISSING ? replacement : original.call(this, request, ...rest);
  };
}

provideMissingStsDependency();

const sts = await import('@aws-sdk/client-sts');
export const { STSClient, AssumeRoleCommand, GetCallerIdentityCommand, STSServiceException } = sts;
