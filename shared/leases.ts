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
  const limit = pLimit(LEASE_CONCURRENCY);
  const taken = await Promise.all(
    [...new Set(accountIds)].map((accountId) =>
      limit(() => store.acquireLease(accountId, holder, nowMs, untilMs).catch(() => false)).then((ok) => (ok ? accountId : undefined)),
    ),
  );
  return new Set(taken.filter((accountId): accountId is string => accountId !== undefined));
}

/** Gives the leases back; one that is not returned runs out by itself, returning it only lets the next run in sooner. */
export async function releaseLeases(store: LeaseStore, accountIds: Iterable<string>, holder: string): Promise<void> {
  const limit = pLimit(LEASE_CONCURRENCY);
  await Promise.allSettled([...accountIds].map((accountId) => limit(() => store.releaseLease(accountId, holder))));
}
