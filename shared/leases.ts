import pLimit from 'p-limit';
import type { DesiredMembershipStore } from '#shared/ports';

type LeaseStore = Pick<DesiredMembershipStore, 'acquireLease' | 'releaseLease'>;

// Lease writes are single-item updates; this keeps a large run from flooding the table.
const LEASE_CONCURRENCY = 16;

/**
 * Takes the lease of every account for `holder`, so that overlapping runs never act on one account
 * at once (two runs would invite it twice). Returns the accounts taken; one another run holds (or
 * whose write failed) is left to that run.
 */
export async function leaseAccounts(store: LeaseStore, accountIds: Iterable<string>, holder: string, nowMs: number, untilMs: number): Promise<Set<string>> {
  const taker = new LeaseTaker(store, holder, nowMs, untilMs);
  await Promise.all([...new Set(accountIds)].map((accountId) => taker.take(accountId)));
  return taker.taken;
}

/**
 * Takes leases one account at a time, as the work reaches each, for one holder: the first call of a
 * unit waits for one conditional write instead of one per account.
 */
export class LeaseTaker {
  readonly taken = new Set<string>();
  /** Accounts another run holds (or whose write failed): left to that run. */
  readonly refused = new Set<string>();
  private readonly limit = pLimit(LEASE_CONCURRENCY);

  constructor(
    private readonly store: LeaseStore,
    private readonly holder: string,
    private readonly nowMs: number,
    private readonly untilMs: number,
  ) {}

  async take(accountId: string): Promise<boolean> {
    if (this.taken.has(accountId)) return true;
    const ok = await this.limit(() => this.store.acquireLease(accountId, this.holder, this.nowMs, this.untilMs).catch(() => false));
    (ok ? this.taken : this.refused).add(accountId);
    return ok;
  }

  release(): Promise<void> {
    return releaseLeases(this.store, this.taken, this.holder);
  }
}

/** Gives the leases back; one that is not returned runs out by itself, returning it only lets the next run in sooner. */
export async function releaseLeases(store: LeaseStore, accountIds: Iterable<string>, holder: string): Promise<void> {
  const limit = pLimit(LEASE_CONCURRENCY);
  await Promise.allSettled([...accountIds].map((accountId) => limit(() => store.releaseLease(accountId, holder))));
}
