/**
 * The lower bound on onboarding wall time that the sandbox's rate limits and latency allow, whatever
 * the design. Only the administrator's calls are rate-bound: every member account has buckets of its
 * own, and DynamoDB and SQS are not throttled.
 *
 * The administrator must make, in each of the R regions, at least N CreateMember, ceil(N/B)
 * CreateInvitations and 1 ListMembers call; and N AssumeRole calls (one session per member
 * account), each through some region's STS endpoint. The sandbox, like AWS, throttles each service
 * apart, per (service, caller account, region): a token bucket of rate r and burst b for Macie in
 * each region, and another for STS in each region. The AssumeRole calls therefore never slow the
 * Macie calls, and the bound is the later of the two services' last calls:
 *
 *     t_macie = (M - b) / r,                M = N + ceil(N/B) + 1  (each region's Macie bucket)
 *     t_sts   = (N - R*b) / (R*r)           (AssumeRole spread over the R regional STS endpoints)
 *
 * and after the last one at least the member's ListInvitations and AcceptInvitation (2 latencies)
 * must follow. The invitation delay D is not added: an ideal schedule hides it behind the
 * remaining calls, so adding it would overstate the bound.
 *
 *     T_bound = max(t_macie, t_sts) + 2*latency
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
  // A bucket starts full: calls within the burst cost no time, hence the max with 0.
  const macieSeconds = Math.max(0, (regionCalls - b) / r);
  const stsSeconds = Math.max(0, (n - regions * b) / (regions * r));
  const seconds = Math.max(macieSeconds, stsSeconds) + tail;
  // With every AssumeRole in one region, that region's STS bucket alone must pass N calls.
  const singleStsRegionSeconds = Math.max(macieSeconds, Math.max(0, (n - b) / r)) + tail;
  return {
    administratorCalls,
    perRegion,
    assumeRole: n,
    seconds,
    singleStsRegionSeconds,
    formula:
      `T_bound = max((M - b)/r, (N - R*b)/(R*r)) + 2*latency, M = N + ceil(N/B) + 1` +
      ` = max((${regionCalls} - ${b})/${r}, (${n} - ${regions}*${b})/(${regions}*${r})) + 2*${latencyMs} ms = ${seconds.toFixed(2)} s`,
  };
}
