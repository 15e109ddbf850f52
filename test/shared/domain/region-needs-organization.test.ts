import { describe, expect, it } from 'vitest';
import { regionNeedsOrganization } from '#shared/domain/plan';
import type { DesiredMember, ObservedMember } from '#shared/domain/types';

const ADMIN = '111111111111';

const row = (index: number, overrides: Partial<DesiredMember> = {}): DesiredMember => ({
  accountId: `2222222${String(index).padStart(5, '0')}`,
  desiredState: 'member',
  email: `owner-${index}@example.com`,
  tags: {},
  autoAccept: true,
  paused: false,
  requestedBy: 'test',
  requestedAt: '2026-11-30T00:00:00.000Z',
  observed: {},
  version: 1,
  ...overrides,
});

describe('regionNeedsOrganization', () => {
  const member = (index: number, relationshipStatus: ObservedMember['relationshipStatus'], region = 'us-east-1'): ObservedMember => ({
    accountId: row(index).accountId,
    region,
    relationshipStatus,
    tags: {},
  });

  it('is false when every desired member of the region is Enabled or Paused, whichever way it came', () => {
    expect(regionNeedsOrganization([row(1), row(2)], [member(1, 'Enabled'), member(2, 'Paused')], 'us-east-1', ADMIN)).toBe(false);
  });

  it('is true as soon as one desired member is not listed, or listed in any other state', () => {
    expect(regionNeedsOrganization([row(1), row(2)], [member(1, 'Enabled')], 'us-east-1', ADMIN)).toBe(true);
    expect(regionNeedsOrganization([row(1)], [member(1, 'Removed')], 'us-east-1', ADMIN)).toBe(true);
    // Enabled in another region says nothing about this one.
    expect(regionNeedsOrganization([row(1)], [member(1, 'Enabled', 'eu-west-1')], 'us-east-1', ADMIN)).toBe(true);
  });

  it('needs no view for removals, rows of other regions, or the administrator itself', () => {
    expect(regionNeedsOrganization([row(1, { desiredState: 'absent' })], [], 'us-east-1', ADMIN)).toBe(false);
    expect(regionNeedsOrganization([row(1, { regions: ['eu-west-1'] })], [], 'us-east-1', ADMIN)).toBe(false);
    expect(regionNeedsOrganization([row(1, { accountId: ADMIN })], [], 'us-east-1', ADMIN)).toBe(false);
  });
});
