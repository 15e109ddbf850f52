import { EMULATED_SERVICES, type EmulatedService, type FailingCall, type FaultKnobs, type ThrottleLimit } from '#sandbox/emulator/types';

export const DEFAULT_KNOBS: Readonly<FaultKnobs> = Object.freeze({
  latencyMs: 0,
  throttle: null,
  throttleByService: Object.freeze({}),
  serverErrorRate: 0,
  throttledCallRate: 0,
  unprocessedInternalErrorRate: 0,
  invitationDelayMs: 0,
  emailVerificationMs: 0,
  bouncingEmails: [],
  memberQuota: 1000,
  organizationMemberQuota: 10_000,
  organizationAdminDisablingMs: 0,
  randomSeed: 1,
  failingCalls: [],
});

function requireNonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new Error(`knob ${name} must be a finite number >= 0, got ${value}`);
}

function requireRate(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`knob ${name} must be between 0 and 1, got ${value}`);
}

/** Rejects nonsense early: a typo in a benchmark's knobs should fail loudly, not silently disable a fault. */
export function validateKnobs(knobs: Partial<FaultKnobs>): void {
  const known = new Set(Object.keys(DEFAULT_KNOBS));
  for (const key of Object.keys(knobs)) if (!known.has(key)) throw new Error(`unknown knob ${key}`);
  if (knobs.latencyMs !== undefined) requireNonNegative('latencyMs', knobs.latencyMs);
  if (knobs.invitationDelayMs !== undefined) requireNonNegative('invitationDelayMs', knobs.invitationDelayMs);
  if (knobs.emailVerificationMs !== undefined) requireNonNegative('emailVerificationMs', knobs.emailVerificationMs);
  if (knobs.serverErrorRate !== undefined) requireRate('serverErrorRate', knobs.serverErrorRate);
  if (knobs.throttledCallRate !== undefined) requireRate('throttledCallRate', knobs.throttledCallRate);
  if (knobs.unprocessedInternalErrorRate !== undefined) {
    requireRate('unprocessedInternalErrorRate', knobs.unprocessedInternalErrorRate);
  }
  if (knobs.memberQuota !== undefined && (!Number.isInteger(knobs.memberQuota) || knobs.memberQuota < 0)) {
    throw new Error(`knob memberQuota must be an integer >= 0, got ${knobs.memberQuota}`);
  }
  if (
    knobs.organizationMemberQuota !== undefined &&
    (!Number.isInteger(knobs.organizationMemberQuota) || knobs.organizationMemberQuota < 0)
  ) {
    throw new Error(`knob organizationMemberQuota must be an integer >= 0, got ${knobs.organizationMemberQuota}`);
  }
  if (knobs.organizationAdminDisablingMs !== undefined) requireNonNegative('organizationAdminDisablingMs', knobs.organizationAdminDisablingMs);
  if (knobs.randomSeed !== undefined && !Number.isInteger(knobs.randomSeed)) {
    throw new Error(`knob randomSeed must be an integer, got ${knobs.randomSeed}`);
  }
  if (knobs.bouncingEmails !== undefined && !Array.isArray(knobs.bouncingEmails)) {
    throw new Error('knob bouncingEmails must be an array of email addresses');
  }
  if (knobs.failingCalls !== undefined) {
    if (!Array.isArray(knobs.failingCalls)) throw new Error('knob failingCalls must be an array');
    knobs.failingCalls.forEach((failing, index) => {
      if (!failing?.operation) throw new Error(`knob failingCalls[${index}].operation is required`);
      if (!failing.errorType) throw new Error(`knob failingCalls[${index}].errorType is required`);
      if (!Number.isInteger(failing.statusCode) || failing.statusCode < 400 || failing.statusCode > 599) {
        throw new Error(`knob failingCalls[${index}].statusCode must be an HTTP error status (400-599), got ${failing.statusCode}`);
      }
    });
  }
  if (knobs.throttle) requireLimit('throttle', knobs.throttle);
  if (knobs.throttleByService !== undefined) {
    const byService: unknown = knobs.throttleByService;
    if (typeof byService !== 'object' || byService === null || Array.isArray(byService)) {
      throw new Error(`knob throttleByService must be an object keyed by ${EMULATED_SERVICES.join(', ')}`);
    }
    for (const [service, limit] of Object.entries(byService as Record<string, ThrottleLimit | null | undefined>)) {
      if (!(EMULATED_SERVICES as readonly string[]).includes(service)) {
        throw new Error(`knob throttleByService.${service}: unknown service (one of ${EMULATED_SERVICES.join(', ')})`);
      }
      if (limit === undefined) throw new Error(`knob throttleByService.${service} must be a limit or null, got undefined`);
      if (limit !== null) requireLimit(`throttleByService.${service}`, limit);
    }
  }
}

function requireLimit(name: string, limit: ThrottleLimit): void {
  if (typeof limit !== 'object' || !(limit.ratePerSecond > 0) || !Number.isFinite(limit.ratePerSecond)) {
    throw new Error(`knob ${name}.ratePerSecond must be > 0, got ${limit?.ratePerSecond}`);
  }
  if (!Number.isInteger(limit.burst) || limit.burst < 1) {
    throw new Error(`knob ${name}.burst must be an integer >= 1, got ${limit.burst}`);
  }
}

function copyByService(byService: FaultKnobs['throttleByService']): FaultKnobs['throttleByService'] {
  return Object.fromEntries(Object.entries(byService).map(([service, limit]) => [service, limit && { ...limit }]));
}

/**
 * mulberry32: tiny, fast, and good enough for fault injection. `Math.random` would make a failing
 * fault test impossible to replay.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/** One bucket per key, created full; refilled continuously from the elapsed time, so no timers are needed. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  /** Takes one token; false when the bucket is empty. */
  take(key: string, limit: ThrottleLimit, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: limit.burst, refilledAt: now };
      this.buckets.set(key, bucket);
    } else {
      const refill = ((now - bucket.refilledAt) / 1000) * limit.ratePerSecond;
      bucket.tokens = Math.min(limit.burst, bucket.tokens + refill);
      bucket.refilledAt = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  clear(): void {
    this.buckets.clear();
  }
}

/**
 * What another run (or a person) does between two of our calls: races that real AWS lets happen
 * and a test cannot time by sleeping. `move` changes the emulator's state through its control.
 */
export interface Race {
  operation: string;
  /** The caller, or an account the request names. */
  subjectAccountId: string;
  move: () => void;
}

/** Whose bucket a call draws from. */
export interface ThrottleSubject {
  service: EmulatedService;
  /** The caller's account. */
  accountId: string;
  region: string;
}

/** The knobs in force plus the state they need (PRNG, buckets). */
export class FaultInjector {
  private current: FaultKnobs;
  private random: SeededRandom;
  private readonly buckets = new TokenBuckets();
  private bouncing = new Set<string>();
  private races: Race[] = [];

  constructor(initial: Partial<FaultKnobs> = {}) {
    this.current = { ...DEFAULT_KNOBS, throttleByService: {}, bouncingEmails: [], failingCalls: [] };
    this.random = new SeededRandom(this.current.randomSeed);
    this.set(initial);
  }

  knobs(): FaultKnobs {
    const throttle = this.current.throttle ? { ...this.current.throttle } : null;
    return {
      ...this.current,
      throttle,
      throttleByService: copyByService(this.current.throttleByService),
      bouncingEmails: [...this.current.bouncingEmails],
      failingCalls: this.current.failingCalls.map((failing) => ({ ...failing })),
    };
  }

  set(partial: Partial<FaultKnobs>): void {
    validateKnobs(partial);
    const throttle = partial.throttle === undefined ? this.current.throttle : partial.throttle && { ...partial.throttle };
    this.current = {
      ...this.current,
      ...partial,
      throttle,
      throttleByService: partial.throttleByService ? copyByService(partial.throttleByService) : this.current.throttleByService,
      bouncingEmails: partial.bouncingEmails ? [...partial.bouncingEmails] : this.current.bouncingEmails,
      failingCalls: partial.failingCalls ? partial.failingCalls.map((failing) => ({ ...failing })) : this.current.failingCalls,
    };
    this.bouncing = new Set(this.current.bouncingEmails.map((email) => email.toLowerCase()));
    // A new seed restarts the sequence; a new throttle starts every bucket full, as a fresh run would.
    if (partial.randomSeed !== undefined) this.random = new SeededRandom(partial.randomSeed);
    if (partial.throttle !== undefined || partial.throttleByService !== undefined) this.buckets.clear();
  }

  reset(): void {
    this.races = [];
    this.current = { ...DEFAULT_KNOBS, throttleByService: {}, bouncingEmails: [], failingCalls: [] };
    this.bouncing.clear();
    this.random = new SeededRandom(this.current.randomSeed);
    this.buckets.clear();
  }

  get latencyMs(): number {
    return this.current.latencyMs;
  }

  get memberQuota(): number {
    return this.current.memberQuota;
  }

  get organizationMemberQuota(): number {
    return this.current.organizationMemberQuota;
  }

  get organizationAdminDisablingMs(): number {
    return this.current.organizationAdminDisablingMs;
  }

  get invitationDelayMs(): number {
    return this.current.invitationDelayMs;
  }

  get emailVerificationMs(): number {
    return this.current.emailVerificationMs;
  }

  isBouncing(email: string): boolean {
    return this.bouncing.has(email.toLowerCase());
  }

  get hasFailingCalls(): boolean {
    return this.current.failingCalls.length > 0;
  }

  /** The configured failure for this call, if any; `subjects` are the caller and the accounts the request names. */
  failingCall(operation: string, subjects: readonly string[]): FailingCall | undefined {
    return this.current.failingCalls.find(
      (failing) =>
        failing.operation === operation &&
        (failing.subjectAccountId === undefined || subjects.includes(failing.subjectAccountId)),
    );
  }

  /** Another actor's move, made once just before the next matching call is answered. */
  raceBefore(race: Race): void {
    this.races.push(race);
  }

  get hasRaces(): boolean {
    return this.races.length > 0;
  }

  /** Runs (and forgets) the race waiting for this call, if any. */
  runRaceBefore(operation: string, subjects: readonly string[]): void {
    const index = this.races.findIndex((race) => race.operation === operation && subjects.includes(race.subjectAccountId));
    if (index < 0) return;
    const [race] = this.races.splice(index, 1);
    race!.move();
  }

  /**
   * True when the call must be answered with a throttling error: its bucket is empty, or the seeded
   * draw says so. One bucket per (service, caller account, region): AWS rates each service apart, so
   * a caller's STS or Organizations calls never spend its Macie tokens, nor the other way round.
   */
  throttles({ service, accountId, region }: ThrottleSubject, now: number): boolean {
    const byService = this.current.throttleByService;
    const limit = service in byService ? (byService[service] ?? null) : this.current.throttle;
    if (limit !== null && !this.buckets.take(`${service}|${accountId}|${region}`, limit, now)) return true;
    return this.current.throttledCallRate > 0 && this.random.next() < this.current.throttledCallRate;
  }

  // The PRNG is consulted only when a rate is set, so turning one fault on does not shift another's sequence.
  failsWithServerError(): boolean {
    return this.current.serverErrorRate > 0 && this.random.next() < this.current.serverErrorRate;
  }

  leavesInvitationUnprocessed(): boolean {
    return this.current.unprocessedInternalErrorRate > 0 && this.random.next() < this.current.unprocessedInternalErrorRate;
  }
}
