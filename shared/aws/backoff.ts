/**
 * Waits before retrying the part of a batch call AWS left undone (BatchGetItem's UnprocessedKeys,
 * SendMessageBatch's failed entries): the SDK retries whole calls, not these, and asking again at
 * once would meet the same throttled partition. Full jitter, capped exponential.
 */
export function backoffBeforeRound(round: number, baseMs = 50, capMs = 2_000): Promise<void> {
  const ceiling = Math.min(capMs, baseMs * 2 ** round);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
