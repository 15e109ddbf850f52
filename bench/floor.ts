/**
 * A floor on a run's wall time that no correct reconciler can beat, whatever its design, in the
 * sandbox's model of AWS (`sandbox/emulator/faults.ts`, `sandbox/emulator/http.ts`):
 *
 * - every call waits `latencyMs` on the way in, then draws one token from the bucket of
 *   (service, caller account, region) and is answered at once;
 * - a bucket is created full (`burst` tokens) by its first call and refills at `ratePerSecond`, so
 *   its k-th call cannot be answered before `latency + max(0, (k - burst) / rate)` from the start;
 * - an invitation becomes visible to the member `invitationDelayMs` after CreateInvitations was
 *   handled.
 *
 * For each bucket: the calls any correct reconciler must make through it (counted below, each
 * count the lowest a smarter design could get away with), the time their tokens take, and the
 * calls that must still follow its last call. The binding bucket is the one whose tokens plus
 * that tail end last. A bucket can only bind the run if it throttles; without throttling the floor
 * is the longest chain of calls that must follow each other, so the floor is the larger of the two.
 *
 * Calls counted, per phase:
 *
 * Onboarding, both memberships, the administrator's Macie bucket in each region:
 * - 1 ListMembers page. Members listed but absent from the table must be reported (DESIGN §3), and
 *   only ListMembers shows them; a reconciler also cannot choose between CreateMember,
 *   DeleteMember + CreateMember or nothing (§3's table) without observing the state first, so the
 *   listing precedes the writes. Listed before anything is created, it is one page.
 * - N CreateMember: nothing else creates a member.
 * Organizations: nothing more. Which accounts belong to the organization is in the desired table
 * (the table sync wrote it before the run), and the delegated administrator's CreateMember
 * associates them at once, so no Organizations read (ListAccounts, DescribeOrganizationConfiguration)
 * is counted: counting one would raise the floor, and a design can do without.
 * Invitation, in addition:
 * - ceil(N/B) CreateInvitations in each region, B accounts per call (the configured batch).
 * - N AssumeRole through the administrator's STS buckets: one session per member account serves
 *   every region. A design may spread them over the R regional STS endpoints, each a bucket of its
 *   own, so the fullest holds ceil(N/R).
 * - In each member account and region (a bucket of its own): ListInvitations (only the member sees
 *   the invitation's id) and AcceptInvitation. Enabling Macie there is not counted: a member whose
 *   Macie is already on needs no call for it.
 *
 * Steady (every member Enabled, the table in sync), either membership: ceil(N/25) ListMembers pages
 * per region (all N members must be seen to know nothing changed; 25 per page at most), and the
 * table's Scan pages (ceil(tableBytes / 1 MiB), at least 1). Nothing else.
 *
 * Chains (what must follow, in latencies L and the invitation delay D):
 * - Every bucket: its first call is on the way for L before it draws a token, so L comes first.
 * - Onboarding, administrator's Macie bucket, organizations: its last call ends the work; nothing
 *   follows. Invitation: its last call is a CreateInvitations (each CreateMember's account is invited
 *   later in the same region), then D until the member can see the invitation, then
 *   AcceptInvitation (L). The member's ListInvitations is not added: it can be on its way while the
 *   invitation becomes visible, and is handled the moment it is; only AcceptInvitation must wait for
 *   its answer.
 * - STS bucket: the last session's member must still ListInvitations and AcceptInvitation (2L).
 * - Without throttling: ListMembers, CreateMember, then (invitation) CreateInvitations, D,
 *   AcceptInvitation: 2L organizations, 4L + D invitation.
 * - Steady: each ListMembers page needs the previous page's token, so a region's listing is at
 *   least P·L (P pages) whatever the bucket allows; the floor takes the larger of that and the
 *   bucket's L + (P - b)/r (the exact combination is a little higher; both are floors). The Scan
 *   adds nothing to the chain: it does not depend on the listing, so it runs beside it, and its
 *   pages can be read in parallel segments. DynamoDB is not rate-limited in the sandbox.
 */

export type FloorService = 'macie' | 'sts' | 'dynamodb';

export interface FloorLimit {
  ratePerSecond: number;
  burst: number;
}

export interface FloorKnobs extends FloorLimit {
  latencyMs: number;
  invitationDelayMs: number;
  /** A service's own rate and burst, as the emulator's `throttleByService` knob. */
  byService?: Partial<Record<'macie' | 'sts', FloorLimit>>;
}

export interface FloorInput {
  /** Accounts to onboard from scratch, or already in sync for `steady`. */
  accounts: number;
  regions: number;
  membership: 'organizations' | 'invitation';
  phase: 'onboarding' | 'steady';
  knobs: FloorKnobs;
  invitationBatchSize: number;
  /** ListMembers' maxResults ceiling. */
  listPageSize?: number;
  /** The desired table's size, for the steady phase's Scan pages. */
  tableBytes?: number;
}

export interface FloorBucket {
  service: FloorService;
  /** Whose bucket, in words. */
  bucket: string;
  /** How many buckets of this shape there are (one per region, per member account and region...). */
  instances: number;
  /** Calls each of them must pass. */
  calls: number;
  /** Time their tokens take after the first: max(0, (calls - burst) / rate); 0 where nothing throttles. */
  seconds: number;
  /** Time that must follow the first call's latency plus `seconds`: the rest of the chain. */
  tailSeconds: number;
}

export interface Floor {
  seconds: number;
  buckets: FloorBucket[];
  /** The bucket that sets the floor, or 'none' when the unthrottled chain of calls does. */
  bindingBucket: string;
  /** The latencies and delays the floor adds to the binding bucket's token time (or the whole chain). */
  chainSeconds: number;
  minimumCalls: Record<string, number>;
  formula: string;
}

const MIB = 1024 * 1024;

function tokenSeconds(calls: number, limit: FloorLimit): number {
  return Math.max(0, (calls - limit.burst) / limit.ratePerSecond);
}

function requireInput(input: FloorInput): void {
  const { accounts, regions, invitationBatchSize, knobs } = input;
  if (!Number.isInteger(accounts) || accounts < 0) throw new Error(`accounts must be an integer >= 0, got ${accounts}`);
  if (!Number.isInteger(regions) || regions < 1) throw new Error(`regions must be an integer >= 1, got ${regions}`);
  if (!Number.isInteger(invitationBatchSize) || invitationBatchSize < 1) {
    throw new Error(`invitationBatchSize must be an integer >= 1, got ${invitationBatchSize}`);
  }
  const limits: FloorLimit[] = [knobs, ...Object.values(knobs.byService ?? {})];
  for (const limit of limits) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) throw new Error('every rate must be > 0 and every burst >= 1');
  }
  if (!(knobs.latencyMs >= 0) || !(knobs.invitationDelayMs >= 0)) throw new Error('latencyMs and invitationDelayMs must be >= 0');
}

const round = (value: number) => Math.round(value * 1000) / 1000;
const secondsText = (value: number) => `${round(value)} s`;

export function fleetFloor(input: FloorInput): Floor {
  requireInput(input);
  const { accounts: n, regions, membership, phase, knobs, invitationBatchSize: batch } = input;
  const pageSize = input.listPageSize ?? 25;
  const latency = knobs.latencyMs / 1000;
  const delay = knobs.invitationDelayMs / 1000;
  const macie = knobs.byService?.macie ?? knobs;
  const sts = knobs.byService?.sts ?? knobs;

  if (phase === 'steady') {
    const pages = Math.max(1, Math.ceil(n / pageSize));
    const scanPages = Math.max(1, Math.ceil((input.tableBytes ?? 0) / MIB));
    const bucketSeconds = tokenSeconds(pages, macie);
    const throttled = latency + bucketSeconds;
    const chained = pages * latency;
    const seconds = Math.max(throttled, chained);
    const buckets: FloorBucket[] = [
      { service: 'macie', bucket: "administrator's Macie, each region", instances: regions, calls: pages, seconds: bucketSeconds, tailSeconds: 0 },
      { service: 'dynamodb', bucket: 'desired table (not rate-limited)', instances: 1, calls: scanPages, seconds: 0, tailSeconds: 0 },
    ];
    const bindingBucket = throttled >= chained ? `macie: ${buckets[0]!.bucket}` : 'none';
    return {
      seconds,
      buckets,
      bindingBucket,
      chainSeconds: throttled >= chained ? latency : chained,
      minimumCalls: { ListMembers: regions * pages, Scan: scanPages },
      formula:
        `T_floor = max(L + (P - b)/r, P*L), P = ceil(N/${pageSize})` +
        ` = max(${knobs.latencyMs} ms + (${pages} - ${macie.burst})/${macie.ratePerSecond}, ${pages}*${knobs.latencyMs} ms)` +
        ` = max(${secondsText(throttled)}, ${secondsText(chained)}) = ${secondsText(seconds)}`,
    };
  }

  const invitations = membership === 'invitation' ? Math.ceil(n / batch) : 0;
  const macieCalls = 1 + n + invitations;
  // Organizations: the last CreateMember ends the work. Invitation: D, then AcceptInvitation.
  const macieTail = membership === 'invitation' ? delay + latency : 0;
  const buckets: FloorBucket[] = [
    {
      service: 'macie',
      bucket: "administrator's Macie, each region",
      instances: regions,
      calls: macieCalls,
      seconds: tokenSeconds(macieCalls, macie),
      tailSeconds: macieTail,
    },
  ];
  const minimumCalls: Record<string, number> = { ListMembers: regions, CreateMember: regions * n };
  if (membership === 'invitation' && n > 0) {
    // The fullest of the R regional STS buckets, then the ones with one session fewer.
    const fullest = Math.ceil(n / regions);
    const fullCount = n - (fullest - 1) * regions;
    buckets.push({
      service: 'sts',
      bucket: "administrator's STS, fullest region",
      instances: fullCount,
      calls: fullest,
      seconds: tokenSeconds(fullest, sts),
      tailSeconds: 2 * latency,
    });
    if (fullCount < regions && fullest > 1) {
      buckets.push({
        service: 'sts',
        bucket: "administrator's STS, other regions",
        instances: regions - fullCount,
        calls: fullest - 1,
        seconds: tokenSeconds(fullest - 1, sts),
        tailSeconds: 2 * latency,
      });
    }
    // The member's two calls cannot start before its invitation exists; the Macie bucket's tail covers them.
    buckets.push({
      service: 'macie',
      bucket: 'member account, each region',
      instances: n * regions,
      calls: 2,
      seconds: tokenSeconds(2, macie),
      tailSeconds: 0,
    });
    Object.assign(minimumCalls, {
      CreateInvitations: regions * invitations,
      AssumeRole: n,
      ListInvitations: n * regions,
      AcceptInvitation: n * regions,
    });
  }

  // ListMembers, CreateMember, and for invitations CreateInvitations, D, AcceptInvitation.
  const unthrottledChain = membership === 'invitation' ? 4 * latency + delay : 2 * latency;
  let binding: FloorBucket | undefined;
  let bucketBound = 0;
  for (const bucket of buckets) {
    const end = latency + bucket.seconds + bucket.tailSeconds;
    if (bucket.seconds > 0 && end > bucketBound) {
      bucketBound = end;
      binding = bucket;
    }
  }
  const seconds = n === 0 ? latency : Math.max(bucketBound, unthrottledChain);
  const byBucket = binding !== undefined && bucketBound >= unthrottledChain;
  const chainSeconds = byBucket ? latency + binding!.tailSeconds : unthrottledChain;
  const limit = binding?.service === 'sts' ? sts : macie;
  const tailText = membership === 'invitation' ? (binding?.service === 'sts' ? ' + 2*L' : ' + D + L') : '';
  const chainText = membership === 'invitation' ? '4*L + D' : '2*L';
  const bucketText = byBucket
    ? `L + (${binding!.calls} - ${limit.burst})/${limit.ratePerSecond}${tailText} [${binding!.bucket}]`
    : 'no bucket throttles enough to bind';
  return {
    seconds,
    buckets,
    bindingBucket: byBucket ? `${binding!.service}: ${binding!.bucket}` : 'none',
    chainSeconds,
    minimumCalls,
    formula:
      `T_floor = max(L + (calls - b)/r + tail over buckets, ${chainText}) with L = ${knobs.latencyMs} ms` +
      (membership === 'invitation' ? `, D = ${knobs.invitationDelayMs} ms` : '') +
      `: ${bucketText} = ${secondsText(byBucket ? bucketBound : unthrottledChain)}` +
      ` (unthrottled chain ${secondsText(unthrottledChain)}) -> ${secondsText(seconds)}`,
  };
}
