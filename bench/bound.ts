/**
 * The lower bound on onboarding wall time that the sandbox's rate limits and latency allow, whatever
 * the design. Only the administrator's calls are rate-bound: every member account has buckets of its
 * own, and DynamoDB and SQS are not throttled.
 *
 * The administrator must make, in each of the R regions, at least N CreateMember, ceil(N/B)
 * CreateInvitations and 1 ListMembers call; and N AssumeRole calls (one session per member
 * account), each through some region's STS endpoint. All of them are the administrator's calls, and
 * the sandbox (like AWS) throttles per (caller account, region): R token buckets of rate r and
 * burst b. By time t, R buckets have handed out at most R*(b + r*t) tokens, so the last
 * administrator call comes no earlier than
 *
 *     t_admin = (A - R*b) / (R*r),   A = R*(N + ceil(N/B) + 1) + N
 *
 * and after it at least the member's ListInvitations and AcceptInvitation (2 latencies) must
 * follow. The invitation delay D is not added: an ideal schedule hides it behind the remaining
 * AssumeRole calls (D*R*r of them), so adding it would overstate the bound.
 *
 *     T_bound = t_admin + 2*latency
 */
export interface BoundInput {
  accounts: number;
  regions: number;
  batchSize: number;
  ratePerSecond: number;
  burst: number;
  latencyMs: number;
}

export interface Bound {
  administratorCalls: number;
  perRegion: { createMember: number; createInvitations: number; listMembers: number };
  assumeRole: number;
  seconds: number;
  /** The same bound for a design whose AssumeRole calls all go through one region's STS endpoint. */
  singleStsRegionSeconds: number;
  formula: string;
}

export function onboardingBound(input: BoundInput): Bound {
  const { accounts: n, regions, batchSize, ratePerSecond: r, burst: b, latencyMs } = input;
  const perRegion = { createMember: n, createInvitations: Math.ceil(n / batchSize), listMembers: 1 };
  const regionCalls = perRegion.createMember + perRegion.createInvitations + perRegion.listMembers;
  const administratorCalls = regions * regionCalls + n;
  const tail = (2 * latencyMs) / 1000;
  const seconds = (administratorCalls - regions * b) / (regions * r) + tail;
  // With every AssumeRole in one region, that region's bucket alone must pass regionCalls + N calls.
  const singleStsRegionSeconds = Math.max((regionCalls + n - b) / r, (administratorCalls - regions * b) / (regions * r)) + tail;
  return {
    administratorCalls,
    perRegion,
    assumeRole: n,
    seconds,
    singleStsRegionSeconds,
    formula:
      `T_bound = (A - R*b)/(R*r) + 2*latency, A = R*(N + ceil(N/B) + 1) + N` +
      ` = (${administratorCalls} - ${regions}*${b})/(${regions}*${r}) + 2*${latencyMs} ms = ${seconds.toFixed(2)} s`,
  };
}
