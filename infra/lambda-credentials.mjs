/**
 * What the Lambda bundles get for `@aws-sdk/credential-provider-node` (see infra/esbuild.config.cjs):
 * the environment provider alone, in the shape the clients import
 * (`import { defaultProvider as credentialDefaultProvider } from "@aws-sdk/credential-provider-node"`
 * in each client's runtimeConfig.js).
 *
 * Lambda hands a function its role's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, and the service's member-account clients are given the assumed role's
 * credentials explicitly, so the rest of the default chain (SSO, INI files, credential processes,
 * web identity, container and instance metadata, and the STS/SSO clients they carry) never runs in
 * Lambda; it was 106 KB of each bundle. The CLI is not bundled and keeps the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init) => fromEnv(init);
