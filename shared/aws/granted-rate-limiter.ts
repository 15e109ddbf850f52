import { isThrottlingError, type RateLimiter } from '@smithy/core/retry';

/**
 * The client-side rate limiter of every AWS SDK client of the service (plugged into the SDK's
 * adaptive retry strategy in place of its `DefaultRateLimiter`): it paces calls at the rate the
 * service was seen to grant, found from the answers themselves.
 *
 * AWS throttles with token buckets (a burst, then a steady rate), and Macie publishes no rate. The
 * SDK's own limiter cuts its rate by 0.7 on every throttled answer, from a send rate it measures in
 * half-second steps. Against a token bucket both of those waste the bucket: the answers that come
 * back throttled together (every call in flight when the bucket ran dry) cut the rate once each, so
 * eight calls in flight can leave it at a twentieth; and a throttle in the first half-second, when
 * nothing has been measured yet, drops it to its floor of 0.5 calls a second. Either way the client
 * then waits seconds for its cubic ramp while the bucket refills unused: measured on the sandbox,
 * about 4 s of a 48 s region lost this way.
 *
 * Here a throttled answer sets the pace to a little under what was granted: the successful answers
 * of the last `windowMs`, which against a token bucket that has run dry is its rate. Throttled
 * answers within `holdMs` of that cut are the echoes of calls already in flight and change nothing.
 * Between throttles the pace probes upwards by `probePerSecond` of itself each second, so a rate
 * that rises, or a cut that undershot, is found again. Until the first throttle nothing is paced,
 * as with the SDK's limiter: most clients never meet one.
 *
 * A throttle with too few successes before it to measure anything (a fresh client meeting a bucket
 * that others drained) halves the pace instead (a client not yet paced starts at the floor), and the
 * pace then grows `slowStartPerSecond`-fold each second until the next throttle measures the rate.
 * Growth never takes the pace above twice the successes of the last window, as the SDK's limiter
 * caps its own: a bucket too slow ever to be measured keeps the pace near its rate, and a client
 * idle for minutes does not come back unpaced.
 */
export interface GrantedRateLimiterOptions {
  /** How far back successful answers count towards the granted rate. */
  windowMs?: number;
  /** After a cut, throttled answers this long are taken as echoes of the same one. */
  holdMs?: number;
  /** The pace after a cut, as a fraction of the granted rate. */
  beta?: number;
  /** How much the pace grows per second without a throttle, as a fraction of itself. */
  probePerSecond?: number;
  /** The pace never goes below this (calls per second). */
  minRatePerSecond?: number;
  /** Successes in the window below which a throttle measures nothing. */
  minSamples?: number;
  /** How fast the pace grows after a throttle that measured nothing, per second. */
  slowStartPerSecond?: number;
  /** Injected for tests: milliseconds, and a wait. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULTS = { windowMs: 1_000, holdMs: 1_000, beta: 0.9, probePerSecond: 0.05, minRatePerSecond: 0.5, minSamples: 5, slowStartPerSecond: 4 } as const;

export class GrantedRateLimiter implements RateLimiter {
  private readonly settings: Required<Omit<GrantedRateLimiterOptions, 'now' | 'sleep'>>;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** When each successful answer arrived, oldest first, from `oldest` on (the rest is compacted away). */
  private successes: number[] = [];
  private oldest = 0;
  /** Calls per second; undefined until the first throttle. */
  private rate: number | undefined;
  private lastCutAt = -Infinity;
  private lastProbeAt = 0;
  /** The last cut measured nothing: the pace grows fast until a throttle measures the rate. */
  private slowStart = false;
  /** The earliest time the next call may be sent, one interval after the last. */
  private nextSendAt = 0;
  private lastSendAt = -Infinity;

  constructor(options: GrantedRateLimiterOptions = {}) {
    const { now, sleep, ...settings } = options;
    this.settings = { ...DEFAULTS, ...settings };
    this.now = now ?? Date.now;
    this.sleep = sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The current pace in calls per second, or undefined while nothing is paced. */
  get ratePerSecond(): number | undefined {
    return this.rate;
  }

  async getSendToken(): Promise<void> {
    // Callers waiting together wake together; one takes the slot and the others wait for the next.
    while (this.rate !== undefined) {
      const now = this.now();
      if (now >= this.nextSendAt) {
        this.lastSendAt = now;
        this.nextSendAt = now + 1_000 / this.rate;
        return;
      }
      await this.sleep(this.nextSendAt - now);
    }
  }

  // The SDK passes a RetryErrorInfo for a failed attempt and an empty object for a success.
  updateClientSendingRate(response: unknown): void {
    const now = this.now();
    const { windowMs, holdMs, beta, probePerSecond, minRatePerSecond, minSamples, slowStartPerSecond } = this.settings;
    while (this.oldest < this.successes.length && this.successes[this.oldest]! <= now - windowMs) this.oldest += 1;
    if (this.oldest > 1_024) {
      this.successes = this.successes.slice(this.oldest);
      this.oldest = 0;
    }
    const inWindow = this.successes.length - this.oldest;
    if (isThrottled(response)) {
      if (now - this.lastCutAt < holdMs) return;
      this.slowStart = inWindow < minSamples;
      const granted = (inWindow * 1_000) / windowMs;
      this.rate = Math.max(minRatePerSecond, this.slowStart ? (this.rate ?? minRatePerSecond) / 2 : granted * beta);
      this.lastCutAt = now;
      this.lastProbeAt = now;
      this.nextSendAt = this.lastSendAt + 1_000 / this.rate;
      return;
    }
    if (isErrorInfo(response)) return;
    this.successes.push(now);
    if (this.rate === undefined) return;
    const grown = this.rate * (this.slowStart ? slowStartPerSecond : 1 + probePerSecond) ** ((now - this.lastProbeAt) / 1_000);
    // Never more than twice what was granted lately: a slow bucket that never yields enough successes
    // to measure would otherwise let the pace run away, and an idle client would come back unpaced.
    this.rate = Math.min(grown, Math.max(this.rate, (2 * (inWindow + 1) * 1_000) / windowMs));
    this.lastProbeAt = now;
    // A faster pace brings the next slot forward: a wait set at the old pace would hold it back.
    this.nextSendAt = Math.min(this.nextSendAt, this.lastSendAt + 1_000 / this.rate);
  }
}

interface RetryErrorInfo {
  errorType?: string;
  error?: unknown;
}

function isErrorInfo(response: unknown): response is RetryErrorInfo {
  return typeof response === 'object' && response !== null && ('errorType' in response || 'error' in response);
}

function isThrottled(response: unknown): boolean {
  if (!isErrorInfo(response)) return false;
  if (response.errorType === 'THROTTLING') return true;
  // The same classification the SDK's limiter applies to the error itself.
  return response.error !== undefined && isThrottlingError(response.error as Parameters<typeof isThrottlingError>[0]);
}
