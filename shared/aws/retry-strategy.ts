import { AdaptiveRetryStrategy, MAXIMUM_RETRY_DELAY, Retry } from '@smithy/core/retry';
import { GrantedRateLimiter } from '#shared/aws/granted-rate-limiter';

/** The first retry of a throttled call waits up to this long, then twice as long, and so on. */
export const THROTTLED_RETRY_BASE_MS = 100;

/**
 * The SDK's backoff, except after a throttled answer. The SDK waits up to a second before retrying
 * one (two before the next retry, then four), because nothing else slows the client down. Here the
 * limiter paces every attempt, retries included, at the rate the service granted: a retry waits for
 * its paced slot like any other call, and the long wait only idled it. On a work unit's last calls
 * that wait was the unit's end: measured on the sandbox, a region's last `CreateMember` came up to
 * 3 s after the others. Other errors keep the SDK's delays.
 */
export class PacedBackoff {
  private base = Retry.delay();

  setDelayBase(delay: number): void {
    this.base = delay === Retry.throttlingDelay() ? THROTTLED_RETRY_BASE_MS : delay;
  }

  computeNextBackoffDelay(retries: number): number {
    // Full jitter, capped, as the SDK's own.
    return Math.floor(Math.random() * Math.min(this.base * 2 ** retries, MAXIMUM_RETRY_DELAY));
  }
}

/** The SDK's adaptive retries, with the limiter and the backoff above: one of each per client. */
export function pacedRetryStrategy(maxAttempts: number): AdaptiveRetryStrategy {
  return new AdaptiveRetryStrategy(maxAttempts, { rateLimiter: new GrantedRateLimiter(), backoff: new PacedBackoff() });
}
