import { describe, expect, it } from 'vitest';
import { fleetFloor, type FloorInput } from '#bench/floor';

// bench/fleet.ts's knobs: 20/s, burst 40, 30 ms, 500 ms invitation delay; batches of 50.
const KNOBS = { ratePerSecond: 20, burst: 40, latencyMs: 30, invitationDelayMs: 500 };

function floor(partial: Partial<FloorInput>) {
  return fleetFloor({
    accounts: 1000,
    regions: 3,
    membership: 'organizations',
    phase: 'onboarding',
    knobs: KNOBS,
    invitationBatchSize: 50,
    ...partial,
  });
}

describe('fleetFloor', () => {
  it('organizations onboarding: each region passes 1 ListMembers + N CreateMember, then nothing follows', () => {
    const result = floor({});
    // (1 + 1000 - 40) / 20 = 48.05 s of tokens after the first call's 30 ms.
    expect(result.seconds).toBeCloseTo(48.08, 9);
    expect(result.chainSeconds).toBeCloseTo(0.03, 9);
    expect(result.bindingBucket).toBe("macie: administrator's Macie, each region");
    expect(result.buckets).toEqual([
      { service: 'macie', bucket: "administrator's Macie, each region", instances: 3, calls: 1001, seconds: 48.05, tailSeconds: 0 },
    ]);
    expect(result.minimumCalls).toEqual({ ListMembers: 3, CreateMember: 3000 });
    expect(result.formula).toContain('(1001 - 40)/20');
    expect(result.formula).toContain('48.08 s');
  });

  it('organizations onboarding does not depend on the number of regions: each has its own bucket', () => {
    expect(floor({ regions: 17 }).seconds).toBeCloseTo(48.08, 9);
    // (251 - 40) / 20 + 0.03
    expect(floor({ accounts: 250, regions: 17 }).seconds).toBeCloseTo(10.58, 9);
  });

  it('invitation onboarding: CreateInvitations join the Macie bucket, then the delay and AcceptInvitation follow', () => {
    const result = floor({ membership: 'invitation' });
    // M = 1000 + 20 + 1 = 1021: 0.03 + (1021 - 40)/20 + 0.5 + 0.03 = 49.61 s.
    expect(result.seconds).toBeCloseTo(49.61, 9);
    expect(result.chainSeconds).toBeCloseTo(0.56, 9);
    expect(result.bindingBucket).toBe("macie: administrator's Macie, each region");
    expect(result.buckets.map(({ service, instances, calls }) => ({ service, instances, calls }))).toEqual([
      { service: 'macie', instances: 3, calls: 1021 },
      // 1000 sessions over 3 regional STS endpoints: 334 + 333 + 333.
      { service: 'sts', instances: 1, calls: 334 },
      { service: 'sts', instances: 2, calls: 333 },
      { service: 'macie', instances: 3000, calls: 2 },
    ]);
    expect(result.buckets[1]!.seconds).toBeCloseTo(14.7, 9);
    expect(result.buckets[3]!.seconds).toBe(0);
    expect(result.minimumCalls).toEqual({
      ListMembers: 3,
      CreateMember: 3000,
      CreateInvitations: 60,
      AssumeRole: 1000,
      ListInvitations: 3000,
      AcceptInvitation: 3000,
    });
  });

  it('the binding bucket switches from Macie to STS when STS is slower', () => {
    const result = floor({ membership: 'invitation', knobs: { ...KNOBS, byService: { sts: { ratePerSecond: 5, burst: 40 } } } });
    // 0.03 + (334 - 40)/5 + 2 * 0.03 (the last session's ListInvitations and AcceptInvitation) = 58.89 s.
    expect(result.seconds).toBeCloseTo(58.89, 9);
    expect(result.bindingBucket).toBe("sts: administrator's STS, fullest region");
    expect(result.chainSeconds).toBeCloseTo(0.09, 9);
    expect(result.formula).toContain('(334 - 40)/5');
    // At 10/s STS still waits less than Macie: (334 - 40)/10 = 29.4 s < 49.05 s.
    expect(floor({ membership: 'invitation', knobs: { ...KNOBS, byService: { sts: { ratePerSecond: 10, burst: 40 } } } }).bindingBucket).toBe(
      "macie: administrator's Macie, each region",
    );
  });

  it('a burst larger than the calls costs no token time: the chain of calls is the floor', () => {
    const organizations = floor({ accounts: 10 });
    expect(organizations.buckets[0]).toMatchObject({ calls: 11, seconds: 0 });
    // ListMembers, then CreateMember.
    expect(organizations.seconds).toBeCloseTo(0.06, 9);
    expect(organizations.bindingBucket).toBe('none');
    const invitation = floor({ accounts: 10, membership: 'invitation' });
    // ListMembers, CreateMember, CreateInvitations, the delay, AcceptInvitation.
    expect(invitation.seconds).toBeCloseTo(4 * 0.03 + 0.5, 9);
    expect(invitation.chainSeconds).toBeCloseTo(0.62, 9);
    expect(invitation.bindingBucket).toBe('none');
  });

  it('steady 10,000 x 17: 400 chained ListMembers pages per region, bound by the bucket', () => {
    const result = floor({ accounts: 10_000, regions: 17, phase: 'steady', tableBytes: 2.5 * 1024 * 1024 });
    // max(0.03 + (400 - 40)/20, 400 * 0.03) = max(18.03, 12) s.
    expect(result.seconds).toBeCloseTo(18.03, 9);
    expect(result.bindingBucket).toBe("macie: administrator's Macie, each region");
    expect(result.minimumCalls).toEqual({ ListMembers: 6800, Scan: 3 });
    expect(result.formula).toContain('18.03 s');
  });

  it('steady with a slow network: the chain of pages binds, not the bucket', () => {
    const result = floor({ accounts: 10_000, regions: 17, phase: 'steady', knobs: { ...KNOBS, latencyMs: 100 } });
    // 400 pages * 100 ms = 40 s > 0.1 + 18 s.
    expect(result.seconds).toBeCloseTo(40, 9);
    expect(result.bindingBucket).toBe('none');
    expect(result.minimumCalls.Scan).toBe(1);
  });

  it('rejects nonsense', () => {
    expect(() => floor({ accounts: -1 })).toThrow(/accounts/);
    expect(() => floor({ regions: 0 })).toThrow(/regions/);
    expect(() => floor({ knobs: { ...KNOBS, ratePerSecond: 0 } })).toThrow(/rate/);
  });
});
