/**
 * When a member account first looks for its invitation. An invitation reaches the member a moment
 * after CreateInvitations answered; a look before then finds nothing and costs a ListInvitations
 * call (a Macie token in the member's bucket) and an interval of waiting. So the first look waits
 * until the invitation can be visible: the time CreateInvitations answered plus the delay this
 * process has seen invitations take, starting from a configured value.
 */

/** What one acceptance saw: when its account was invited, and when the look that found the invitation was due. */
export interface InvitationSighting {
  invitedAt: number;
  /**
   * When the look that found it was due (its wait over, before any queueing for a slot): the
   * offset at which looking is known to have worked, without the time other accounts' calls took.
   */
  foundAt: number;
  /** An earlier look for the same invitation found nothing. */
  missedBefore: boolean;
}

/**
 * How long to wait before the first look. An account not invited by this run (it was already
 * Invited when the run listed it) has had its invitation for a while: it looks at once.
 */
export function firstLookDelayMs(now: number, invitedAt: number | undefined, expectedVisibilityMs: number): number {
  if (invitedAt === undefined) return 0;
  return Math.max(0, invitedAt + expectedVisibilityMs - now);
}

/**
 * The expected delay after a sighting. Only a find that followed a miss teaches anything: the
 * delay was longer than the miss, and at most the find's offset, so from then on the first look
 * waits that long. A find on the first look says only that an earlier look might have found it
 * too; that gives no reason to look earlier, and probing earlier would cost the calls this saves,
 * so the estimate never shrinks. It takes the largest offset seen, up to `ceilingMs`
 * (`visibilityCeilingMs`): invitations do not all take the same time, and waiting for the
 * slowest seen costs a fraction of a poll interval where a miss costs a whole one.
 */
export function learnVisibility(expectedVisibilityMs: number, sighting: InvitationSighting, ceilingMs: number): number {
  if (!sighting.missedBefore) return expectedVisibilityMs;
  return Math.max(expectedVisibilityMs, Math.min(ceilingMs, sighting.foundAt - sighting.invitedAt));
}

/**
 * The longest a first look waits once learning has started: the configured start or one poll
 * interval, whichever is longer. Looking at once and then an interval later (the alternative) finds
 * an invitation no sooner than that, so a wait this long never makes an acceptance later than it
 * would have been. Without it, a find that followed a long queue for a member-side slot (a busy
 * run) taught every later account to wait that long too, and the run's last acceptances came
 * seconds later (1,000 accounts × 3 regions: 98 s against 73 s on the same loaded machine).
 */
export function visibilityCeilingMs(firstLookAfterMs: number, intervalMs: number): number {
  return Math.max(firstLookAfterMs, intervalMs);
}
