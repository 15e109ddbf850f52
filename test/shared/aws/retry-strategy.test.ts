import { afterEach, describe, expect, it, vi } from 'vitest';
import { Retry } from '@smithy/core/retry';
import { PacedBackoff, THROTTLED_RETRY_BASE_MS } from '#shared/aws/retry-strategy';

describe('PacedBackoff', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('retries a throttled call after at most 100 ms, doubling, instead of the SDK\'s second', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const backoff = new PacedBackoff();
    backoff.setDelayBase(Retry.throttlingDelay());
    expect([0, 1, 2].map((retries) => backoff.computeNextBackoffDelay(retries))).toEqual([99, 199, 399]);
    expect(THROTTLED_RETRY_BASE_MS).toBeLessThan(Retry.throttlingDelay());
  });

  it('keeps the SDK\'s delays for other errors, capped at its maximum', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const backoff = new PacedBackoff();
    backoff.setDelayBase(Retry.delay());
    expect(backoff.computeNextBackoffDelay(1)).toBe(Math.floor(0.5 * Retry.delay() * 2));
    expect(backoff.computeNextBackoffDelay(30)).toBe(10_000);
  });
});
