import { describe, expect, it } from 'vitest';
import { firstLookDelayMs, learnVisibility, visibilityCeilingMs } from '#shared/domain/invitation-visibility';

describe('firstLookDelayMs', () => {
  it('waits until the invitation can be visible', () => {
    expect(firstLookDelayMs(1_000, 1_000, 500)).toBe(500);
    expect(firstLookDelayMs(1_200, 1_000, 500)).toBe(300);
  });

  it('looks at once when that moment has passed, or nothing is expected', () => {
    expect(firstLookDelayMs(1_600, 1_000, 500)).toBe(0);
    expect(firstLookDelayMs(1_000, 1_000, 0)).toBe(0);
  });

  it('looks at once for an account this run did not invite', () => {
    expect(firstLookDelayMs(1_000, undefined, 500)).toBe(0);
  });
});

describe('learnVisibility', () => {
  it('learns the offset of a find that followed a miss', () => {
    expect(learnVisibility(0, { invitedAt: 1_000, foundAt: 1_600, missedBefore: true }, 10_000)).toBe(600);
  });

  it('keeps the largest offset seen', () => {
    const learned = learnVisibility(0, { invitedAt: 1_000, foundAt: 1_600, missedBefore: true }, 10_000);
    expect(learnVisibility(learned, { invitedAt: 5_000, foundAt: 5_400, missedBefore: true }, 10_000)).toBe(600);
    expect(learnVisibility(learned, { invitedAt: 5_000, foundAt: 5_900, missedBefore: true }, 10_000)).toBe(900);
  });

  it('learns nothing from a find on the first look, however late it came', () => {
    expect(learnVisibility(500, { invitedAt: 1_000, foundAt: 9_000, missedBefore: false }, 10_000)).toBe(500);
  });

  it('never goes below the configured start', () => {
    expect(learnVisibility(2_000, { invitedAt: 1_000, foundAt: 1_600, missedBefore: true }, 10_000)).toBe(2_000);
  });

  it('waits no longer than the ceiling, however late a find came', () => {
    expect(learnVisibility(0, { invitedAt: 1_000, foundAt: 9_000, missedBefore: true }, 1_000)).toBe(1_000);
  });
});

describe('visibilityCeilingMs', () => {
  it('is one poll interval, or the configured start when that is longer', () => {
    expect(visibilityCeilingMs(0, 1_000)).toBe(1_000);
    expect(visibilityCeilingMs(2_500, 1_000)).toBe(2_500);
  });
});
