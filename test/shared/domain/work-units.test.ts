import { describe, expect, it } from 'vitest';
import { planMemberships } from '#shared/domain/plan';
import type { ExecutionOutcome } from '#shared/domain/outcomes';
import type { DesiredMember, ObservedMember, PlannedMembership } from '#shared/domain/types';
import { itemForUnit, readWorkUnit, remainderOf, unitsForRegion, type WorkUnit } from '#shared/domain/work-units';

const ADMIN = '111111111111';
const REGIONS = ['us-east-1', 'eu-west-1'];

const row = (index: number, overrides: Partial<DesiredMember> = {}): DesiredMember => {
  const accountId = `2222222${String(index).padStart(5, '0')}`;
  return {
    accountId,
    desiredState: 'member',
    email: `owner-${accountId}@example.com`,
    tags: { Team: 'platform' },
    autoAccept: true,
    paused: false,
    requestedBy: 'test',
    requestedAt: '2026-11-30T00:00:00.000Z',
    observed: Object.fromEntries(REGIONS.map((region) => [region, { relationshipStatus: 'NotListed' as const, at: '2026-11-29T00:00:00.000Z' }])),
    version: 3,
    ...overrides,
  };
};

/** Planned items of `count` accounts not yet members in us-east-1: create, invite, accept each. */
function onboardingItems(count: number, observed: ObservedMember[] = []): PlannedMembership[] {
  const rows = Array.from({ length: count }, (_, index) => row(index + 1));
  return planMemberships(rows, observed, { administratorAccountId: ADMIN, managedRegions: ['us-east-1'], pruneUnmanaged: false }).items;
}

describe('unitsForRegion', () => {
  it('cuts a region into units of at most maxItems, in order, numbered within the region', () => {
    const units = unitsForRegion('run-1', 'us-east-1', onboardingItems(25), { maxItems: 10, maxBytes: 1024 * 1024 });
    expect(units.map((unit) => unit.items.length)).toEqual([10, 10, 5]);
    expect(units.map((unit) => unit.unitId)).toEqual(['us-east-1/1', 'us-east-1/2', 'us-east-1/3']);
    expect(units.flatMap((unit) => unit.items.map((item) => item.accountId))).toEqual(onboardingItems(25).map((item) => item.accountId));
    expect(units.every((unit) => unit.runId === 'run-1' && unit.region === 'us-east-1')).toBe(true);
  });

  it('closes a unit before it would pass maxBytes, whatever maxItems allows', () => {
    const items = onboardingItems(12);
    const oneItem = Buffer.byteLength(JSON.stringify(itemForUnit(items[0]!)));
    const units = unitsForRegion('run-1', 'us-east-1', items, { maxItems: 100, maxBytes: oneItem * 4 + 10 });
    expect(units.length).toBeGreaterThanOrEqual(3);
    for (const unit of units) expect(Buffer.byteLength(JSON.stringify(unit.items))).toBeLessThanOrEqual(oneItem * 4 + 10 + 16);
  });

  it('queues nothing for a region without work', () => {
    expect(unitsForRegion('run-1', 'us-east-1', [])).toEqual([]);
  });

  it("keeps only the unit region's observation of each row", () => {
    const [unit] = unitsForRegion('run-1', 'us-east-1', onboardingItems(1));
    expect(Object.keys(unit!.items[0]!.row!.observed)).toEqual(['us-east-1']);
  });
});

describe('remainderOf', () => {
  const unit: WorkUnit = unitsForRegion('run-1', 'us-east-1', onboardingItems(3))[0]!;
  const [first, second, third] = unit.items as [PlannedMembership, PlannedMembership, PlannedMembership];

  it('carries each deferred item on from the step it reached, and nothing else', () => {
    const outcomes: ExecutionOutcome[] = [
      { item: first, status: 'done', completed: ['createMember', 'invite', 'accept'] },
      { item: second, status: 'deferred', completed: ['createMember', 'invite'] },
      { item: third, status: 'deferred', completed: [] },
    ];
    const remainder = remainderOf(unit, outcomes)!;
    expect(remainder.unitId).toBe(`${unit.unitId}+`);
    expect(remainder.runId).toBe('run-1');
    expect(remainder.items.map((item) => item.accountId)).toEqual([second.accountId, third.accountId]);
    expect(remainder.items[0]!.actions.map((action) => action.kind)).toEqual(['accept']);
    expect(remainder.items[0]!.observedStatus).toBe('Invited');
    expect(remainder.items[1]!.actions.map((action) => action.kind)).toEqual(['createMember', 'invite', 'accept']);
    expect(remainder.items[1]!.observedStatus).toBe('NotListed');
  });

  it('leaves no remainder when nothing was deferred', () => {
    expect(remainderOf(unit, [{ item: first, status: 'failed', completed: [] }])).toBeUndefined();
  });
});

describe('readWorkUnit', () => {
  const unit = unitsForRegion('run-1', 'us-east-1', onboardingItems(2))[0]!;

  it('reads back a unit as it was queued', () => {
    const reading = readWorkUnit(JSON.stringify(unit));
    expect(reading).toEqual({ ok: true, unit });
  });

  it('names the field and the rule of each problem', () => {
    const broken = JSON.parse(JSON.stringify(unit)) as { items: Array<Record<string, unknown>> };
    broken.items[0]!.accountId = '12345';
    broken.items[1]!.actions = [{ kind: 'launchRockets', leaves: 'Enabled' }];
    const reading = readWorkUnit(JSON.stringify(broken));
    expect(reading.ok).toBe(false);
    if (reading.ok) return;
    expect(reading.issues.map((issue) => issue.field)).toEqual(['items[0].accountId', 'items[1].actions[0].kind']);
    expect(reading.issues[0]!.message).toContain('must be exactly 12 digits');
  });

  it("refuses an item of another region, and a row that is not the item's", () => {
    const broken = JSON.parse(JSON.stringify(unit)) as { items: Array<{ region: string; row: Record<string, unknown> }> };
    broken.items[0]!.region = 'eu-west-1';
    broken.items[1]!.row.accountId = '999999999999';
    const reading = readWorkUnit(JSON.stringify(broken));
    expect(reading.ok).toBe(false);
    if (reading.ok) return;
    expect(reading.issues.map(({ field, rule }) => [field, rule])).toEqual([
      ['items[0].region', 'unitRegion'],
      ['items[1].row.accountId', 'itemAccount'],
    ]);
  });

  it('masks emails in what it says of a corrupt row', () => {
    const broken = JSON.parse(JSON.stringify(unit)) as { items: Array<{ row: Record<string, unknown> }> };
    broken.items[0]!.row.desiredState = 'owner@example.com';
    const reading = readWorkUnit(JSON.stringify(broken));
    expect(reading.ok).toBe(false);
    if (reading.ok) return;
    expect(reading.issues[0]!.field).toBe('items[0].row.desiredState');
    expect(JSON.stringify(reading.issues)).not.toContain('owner@example.com');
  });

  it('refuses a body that is not JSON, or not a unit', () => {
    expect(readWorkUnit('{not json')).toEqual({ ok: false, issues: [{ field: 'body', rule: 'json', message: 'body must be a JSON work unit' }] });
    const reading = readWorkUnit(JSON.stringify({ version: 1, runId: 'r', region: 'us-east-1', unitId: 'u', items: [] }));
    expect(reading.ok).toBe(false);
    if (!reading.ok) expect(reading.issues[0]!.field).toBe('items');
  });
});
