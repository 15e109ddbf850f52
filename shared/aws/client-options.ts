import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { pacedRetryStrategy } from '#shared/aws/retry-strategy';

/**
 * Options every AWS SDK client of the service is built with.
 *
 * Adaptive retries add client-side rate limiting on top of jittered exponential backoff: when
 * Macie throttles (it publishes no rate quota, and CreateMember is known to throttle), the client
 * slows its own sending instead of spending its retry budget on more 429s. The SDK's strategy runs
 * with our limiter (`granted-rate-limiter.ts`), which paces at the rate the service granted instead
 * of cutting once per throttled answer, and so retries a throttled call without the SDK's long wait
 * (`retry-strategy.ts`). Each client gets its own: one limiter per client, and so per service,
 * caller and region, as AWS's buckets are.
 *
 * The keep-alive agents are shared so that the thousands of per-member-account clients a large
 * fleet needs reuse sockets instead of each opening its own pool.
 */
const httpsAgent = new Agent({ keepAlive: true, maxSockets: 64 });
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });

/**
 * Appended to every request's User-Agent, so that CloudTrail's `userAgent` and AWS support can tell
 * this service's calls from other callers' in the same accounts. A constant rather than a read of
 * package.json, which would put the whole manifest in every Lambda bundle;
 * test/shared/aws/client-options.test.ts keeps it equal to package.json's name and version.
 */
export const SERVICE_USER_AGENT = 'macie-membership-reconciler/0.1.0';

export interface ClientOptionsInput {
  /** Undefined leaves it to the SDK (AWS_REGION, else the profile's region): the CLI's `--stack` lookup. */
  region: string | undefined;
  maxAttempts: number;
}

export function awsClientOptions({ region, maxAttempts }: ClientOptionsInput) {
  return {
    region,
    maxAttempts,
    retryStrategy: pacedRetryStrategy(maxAttempts),
    customUserAgent: SERVICE_USER_AGENT,
    requestHandler: { httpsAgent, httpAgent, connectionTimeout: 5_000, requestTimeout: 30_000 },
  } as const;
}
