import { describe, expect, it } from 'vitest';
import { firstLookDelayMs, learnVisibility } from '#shared/domain/invitation-visibility';

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
    expect(learnVisibility(0, { invitedAt: 1_000, foundAt: 1_600, missedBefore: true })).toBe(600);
  });

  it('keeps the largest offset seen', () => {
    const learned = learnVisibility(0, { invitedAt: 1_000, foundAt: 1_600, missedBefore: true });
    expect(learnVisibility(learned, { invitedAt: 5_000, foundAt: 5_400, missedBefore: true })).toBe(600);
    expect(learnVisibility(learned, { invitedAt: 5_000, foundAt: 5_900, missedBefore: true })).toBe(900);
  });

  it('learns nothing from a find on the first look, however late it came', () => {
    expect(learnVisibility(500, { invitedAt: 1_000, foundAt: 9_000, missedBefore: false })).toBe(500);
  });

  it('never goes below the configured start', () => {
    expect(learnVisibility(2_000, { invitedAt: 1_000, foundAt: 1_600, missedBefore: true })).toBe(2_000);
  });
});
