import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DefaultRateLimiter, type RateLimiter } from '@smithy/core/retry';
import { GrantedRateLimiter } from '#shared/aws/granted-rate-limiter';

const THROTTLED = { errorType: 'THROTTLING' };
const SUCCESS = {};

describe('GrantedRateLimiter', () => {
  it('paces nothing until the first throttle', async () => {
    let now = 0;
    const sleep = vi.fn(async () => undefined);
    const limiter = new GrantedRateLimiter({ now: () => now, sleep });
    for (let call = 0; call < 100; call++) {
      await limiter.getSendToken();
      limiter.updateClientSendingRate(SUCCESS);
      now += 1;
    }
    expect(sleep).not.toHaveBeenCalled();
    expect(limiter.ratePerSecond).toBeUndefined();
  });

  it('cuts to a little under the rate granted over the last window, once for a cluster of throttles', () => {
    let now = 10_000;
    const limiter = new GrantedRateLimiter({ now: () => now });
    // 30 successes in the last second, 10 older ones that no longer count.
    for (let call = 0; call < 10; call++) limiter.updateClientSendingRate(SUCCESS);
    now += 1_500;
    for (let call = 0; call < 30; call++) {
      limiter.updateClientSendingRate(SUCCESS);
      now += 10;
    }
    limiter.updateClientSendingRate(THROTTLED);
    expect(limiter.ratePerSecond).toBeCloseTo(27, 5);
    // The calls that were in flight come back throttled too: the same cut, not seven more.
    for (let echo = 0; echo < 7; echo++) {
      now += 50;
      limiter.updateClientSendingRate(THROTTLED);
    }
    expect(limiter.ratePerSecond).toBeCloseTo(27, 5);
  });

  it('cuts again on a throttle after the hold, from what was granted since', () => {
    let now = 0;
    const limiter = new GrantedRateLimiter({ now: () => now, probePerSecond: 0 });
    for (let call = 0; call < 40; call++) limiter.updateClientSendingRate(SUCCESS);
    limiter.updateClientSendingRate(THROTTLED);
    expect(limiter.ratePerSecond).toBeCloseTo(36, 5);
    for (let call = 0; call < 20; call++) {
      now += 55;
      limiter.updateClientSendingRate(SUCCESS);
    }
    now += 10;
    limiter.updateClientSendingRate(THROTTLED);
    // 1.11 s after the first cut: 18 of the 20 successes are inside the window.
    expect(limiter.ratePerSecond).toBeCloseTo(0.9 * 18, 5);
  });

  it('never cuts below its floor, and after a throttle that measured nothing grows fourfold a second until the next one', () => {
    let now = 0;
    const limiter = new GrantedRateLimiter({ now: () => now });
    limiter.updateClientSendingRate(THROTTLED);
    expect(limiter.ratePerSecond).toBe(0.5);
    // Up to twice the successes of the window: the first one allows 2 calls a second.
    now = 1_000;
    limiter.updateClientSendingRate(SUCCESS);
    expect(limiter.ratePerSecond).toBeCloseTo(2, 5);
    for (now = 1_250; now <= 2_000; now += 250) limiter.updateClientSendingRate(SUCCESS);
    expect(limiter.ratePerSecond).toBeCloseTo(8, 5);
    // Measured now: back to the slow probe.
    now = 2_000;
    for (let call = 0; call < 20; call++) limiter.updateClientSendingRate(SUCCESS);
    limiter.updateClientSendingRate(THROTTLED);
    expect(limiter.ratePerSecond).toBeCloseTo(0.9 * 24, 5);
    now += 500;
    limiter.updateClientSendingRate(SUCCESS);
    expect(limiter.ratePerSecond).toBeCloseTo(0.9 * 24 * 1.05 ** 0.5, 5);
  });

  it('keeps pacing a bucket too slow to measure, and after a long idle gap, instead of running away', () => {
    let now = 0;
    const limiter = new GrantedRateLimiter({ now: () => now });
    limiter.updateClientSendingRate(THROTTLED);
    // Two successes a second for a minute, a throttle now and then: never 5 in a window.
    for (let second = 1; second <= 60; second++) {
      now = second * 1_000;
      limiter.updateClientSendingRate(SUCCESS);
      now += 500;
      limiter.updateClientSendingRate(SUCCESS);
      if (second % 3 === 0) limiter.updateClientSendingRate(THROTTLED);
      expect(limiter.ratePerSecond).toBeLessThanOrEqual(6);
    }
    const paced = limiter.ratePerSecond!;
    now += 600_000;
    limiter.updateClientSendingRate(SUCCESS);
    expect(limiter.ratePerSecond).toBe(paced);
    expect(Number.isFinite(limiter.ratePerSecond)).toBe(true);
  });

  it('halves a pace that a throttle with too few successes before it finds too fast', () => {
    let now = 0;
    const limiter = new GrantedRateLimiter({ now: () => now });
    for (let call = 0; call < 20; call++) limiter.updateClientSendingRate(SUCCESS);
    limiter.updateClientSendingRate(THROTTLED);
    expect(limiter.ratePerSecond).toBeCloseTo(18, 5);
    now += 5_000;
    limiter.updateClientSendingRate(THROTTLED);
    expect(limiter.ratePerSecond).toBeCloseTo(9, 5);
  });

  it('ignores errors that are not throttling, and probes upwards between throttles', () => {
    let now = 0;
    const limiter = new GrantedRateLimiter({ now: () => now });
    for (let call = 0; call < 20; call++) limiter.updateClientSendingRate(SUCCESS);
    limiter.updateClientSendingRate(THROTTLED);
    expect(limiter.ratePerSecond).toBeCloseTo(18, 5);
    limiter.updateClientSendingRate({ errorType: 'TRANSIENT' });
    limiter.updateClientSendingRate({ errorType: 'SERVER_ERROR', error: new Error('boom') });
    expect(limiter.ratePerSecond).toBeCloseTo(18, 5);
    for (now = 100; now <= 2_000; now += 100) limiter.updateClientSendingRate(SUCCESS);
    expect(limiter.ratePerSecond).toBeCloseTo(18 * 1.05 ** 2, 5);
  });

  it('recognises a throttling error the SDK passes as the error itself', () => {
    const limiter = new GrantedRateLimiter({ now: () => 0 });
    const error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
    limiter.updateClientSendingRate({ error });
    expect(limiter.ratePerSecond).toBe(0.5);
  });

  it('spaces calls at the pace once it paces', async () => {
    let now = 0;
    const waits: number[] = [];
    const limiter = new GrantedRateLimiter({
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    for (let call = 0; call < 10; call++) limiter.updateClientSendingRate(SUCCESS);
    limiter.updateClientSendingRate(THROTTLED); // 9 calls a second
    for (let call = 0; call < 3; call++) await limiter.getSendToken();
    expect(waits.map((ms) => Math.round(ms))).toEqual([111, 111]);
  });
});

/**
 * A token bucket as AWS throttles with (20 calls/s after a burst of 40), 8 callers with calls in
 * flight 30 ms each, throttled calls retried after 500 ms, on a fake clock: the time 1,000 calls
 * take through the bucket against its floor, (1,000 - 40) / 20 = 48 s.
 */
async function timeThroughBucket(limiter: RateLimiter, { drained = false } = {}): Promise<{ seconds: number; throttled: number }> {
  const rate = 20;
  const burst = 40;
  const started = Date.now();
  let tokens = drained ? 0 : burst;
  let refilledAt = started;
  let succeeded = 0;
  let throttled = 0;
  const take = () => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - refilledAt) / 1_000) * rate);
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  const caller = async () => {
    while (succeeded < 1_000) {
      await limiter.getSendToken();
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (take()) {
        succeeded += 1;
        limiter.updateClientSendingRate(SUCCESS);
      } else {
        throttled += 1;
        limiter.updateClientSendingRate(THROTTLED);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  let finished = false;
  let finishedAt = started;
  const done = Promise.all(Array.from({ length: 8 }, caller)).then(() => {
    finished = true;
  });
  while (succeeded < 1_000) await vi.advanceTimersByTimeAsync(10);
  finishedAt = Date.now();
  // Callers still waiting out a throttled retry notice the work is done and stop.
  while (!finished) await vi.advanceTimersByTimeAsync(100);
  await done;
  return { seconds: (finishedAt - started) / 1_000, throttled };
}

describe('against a token bucket', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the bucket busy: within 3 % of its floor, with few throttled calls', async () => {
    const ours = await timeThroughBucket(new GrantedRateLimiter());
    expect(ours.seconds).toBeLessThan(48 * 1.03);
    expect(ours.throttled).toBeLessThan(50);
  });

  it('finds the rate of a bucket that others drained, within 10 % of its floor', async () => {
    const ours = await timeThroughBucket(new GrantedRateLimiter(), { drained: true });
    expect(ours.seconds).toBeLessThan((1_000 / 20) * 1.1);
  });

  it('beats the SDK limiter it replaces on the same bucket', async () => {
    const ours = await timeThroughBucket(new GrantedRateLimiter());
    const sdk = await timeThroughBucket(new DefaultRateLimiter());
    expect(ours.seconds).toBeLessThan(sdk.seconds);
  });
});
