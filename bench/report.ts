/** The benchmark's figures as Markdown: what `npm run bench` prints and docs/benchmarks.md quotes. */
import type { BaselineResult } from '#bench/baseline';
import type { Bound } from '#bench/bound';
import type { BundleFigures } from '#bench/cold-start';
import type { OnboardingFigures, OperationCount, SteadyFigures } from '#bench/fleet-scenario';

export interface BenchResults {
  machine: { date: string; cores: number; cpu: string; node: string; loadAverageAtStart: number[] };
  knobs: { latencyMs: number; throttle: { ratePerSecond: number; burst: number }; invitationDelayMs: number; emailVerificationMs: number };
  regions: string[];
  accounts: number;
  onboarding?: { runs: OnboardingFigures[]; medianSeconds: number; bound: Bound; ratioToBound: number };
  steady?: SteadyFigures & { medianSeconds: number; medianCalls: number; minimum: number; ratio: number; maxWrites: number };
  baseline?: BaselineResult & { accounts: number; regions: number; calls: OperationCount[]; accountsPerSecond: number; oursAccountsPerSecond: number; speedUp: number };
  organizations?: OrganizationsComparison;
  coldStart?: BundleFigures[];
  loadAverageAtEnd: number[];
  totalSeconds: number;
}

/** One onboarding run's figures, per path: totals, and per account-region where the brief asks. */
export interface PathFigures {
  seconds: number;
  scheduledRuns: number;
  converged: number;
  /** Calls answered (with the throttled answers the SDK retried after, in `throttled`). */
  macieAdministrator: { answered: number; throttled: number };
  member: { answered: number; throttled: number };
  assumeRole: { answered: number; throttled: number };
  listAccounts: number;
  describeOrganizationConfiguration: number;
}

export interface OrganizationsComparison {
  accounts: number;
  regions: number;
  organization: PathFigures;
  invitation: PathFigures;
  /** organization / invitation. */
  ratio: { seconds: number; administratorCalls: number; allCalls: number };
}

/** The calls of one onboarding run, summed the way the Organizations comparison quotes them. */
export function pathFigures(onboarding: OnboardingFigures): PathFigures {
  const sum = (keep: (call: OperationCount) => boolean) =>
    onboarding.calls.filter(keep).reduce((total, call) => ({ answered: total.answered + call.ok, throttled: total.throttled + call.throttled }), { answered: 0, throttled: 0 });
  const answered = (operation: string) => sum((call) => call.operation === operation).answered;
  return {
    seconds: onboarding.seconds,
    scheduledRuns: onboarding.runs.length,
    converged: onboarding.enabled,
    macieAdministrator: sum((call) => call.side === 'administrator' && !ORGANIZATIONS_OPERATIONS.has(call.operation) && call.operation !== 'AssumeRole'),
    member: sum((call) => call.side === 'member'),
    assumeRole: sum((call) => call.operation === 'AssumeRole'),
    listAccounts: answered('ListAccounts'),
    describeOrganizationConfiguration: answered('DescribeOrganizationConfiguration'),
  };
}

/** Organizations' own operations (DescribeOrganizationConfiguration is Macie's, counted with the administrator's Macie calls). */
const ORGANIZATIONS_OPERATIONS = new Set(['ListAccounts', 'DescribeAccount', 'DescribeOrganization']);

const allCalls = (path: PathFigures) => path.macieAdministrator.answered + path.member.answered + path.assumeRole.answered + path.listAccounts;

export function compareMemberships(accounts: number, regions: number, organization: PathFigures, invitation: PathFigures): OrganizationsComparison {
  return {
    accounts,
    regions,
    organization,
    invitation,
    ratio: {
      seconds: organization.seconds / invitation.seconds,
      administratorCalls: (organization.macieAdministrator.answered + organization.assumeRole.answered) / (invitation.macieAdministrator.answered + invitation.assumeRole.answered),
      allCalls: allCalls(organization) / allCalls(invitation),
    },
  };
}

const table = (rows: string[][]) => {
  const [header, ...body] = rows;
  return [`| ${header!.join(' | ')} |`, `|${header!.map(() => '---').join('|')}|`, ...body.map((row) => `| ${row.join(' | ')} |`)].join('\n');
};
const s = (seconds: number) => `${seconds.toFixed(1)} s`;
const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

export function renderMarkdown(results: BenchResults): string {
  const { machine, knobs } = results;
  const out: string[] = [];
  out.push(
    `Benchmarks of ${machine.date} on ${machine.cores} cores (${machine.cpu}), Node ${machine.node}; load average at start ${machine.loadAverageAtStart.join(' ')}.`,
    `Sandbox: ${knobs.latencyMs} ms latency per call, token bucket of ${knobs.throttle.ratePerSecond} req/s (burst ${knobs.throttle.burst}) per (service, caller account, region), ` +
      `invitation delay ${knobs.invitationDelayMs} ms, ${results.regions.length} regions (${results.regions.join(', ')}).`,
  );

  if (results.onboarding) {
    const { onboarding } = results;
    const first = onboarding.runs[0]!;
    out.push(
      '',
      `### 1. Onboarding ${results.accounts.toLocaleString('en')} accounts × ${results.regions.length} regions from scratch`,
      '',
      `Service settings (its defaults): ${JSON.stringify(first.settings)}.`,
      '',
      table([
        ['figure', 'value'],
        ['wall time to all Enabled', `${s(onboarding.medianSeconds)}${onboarding.runs.length > 1 ? ` (median of ${onboarding.runs.length}: ${onboarding.runs.map((run) => run.seconds.toFixed(1)).join(', ')})` : ''}`],
        ['scheduled runs until converged', onboarding.runs.map((run) => String(run.runs.length)).join(', ')],
        ['lower bound', s(onboarding.bound.seconds)],
        ['ratio to the bound', `${onboarding.ratioToBound.toFixed(2)} (target ≤ 1.25: ${verdict(onboarding.ratioToBound <= 1.25)})`],
        ['DynamoDB capacity (RCU / WCU)', `${first.capacity.read} / ${first.capacity.write}`],
      ]),
      '',
      `Bound: ${onboarding.bound.formula}. ` +
        `(Were every AssumeRole sent through one region's STS endpoint, the bound would be ${s(onboarding.bound.singleStsRegionSeconds)}.)`,
      '',
      table([
        ['side', 'operation', 'answered', 'throttled'],
        ...first.calls.map((call) => [call.side, call.operation, String(call.ok), String(call.throttled)]),
      ]),
    );
  }

  if (results.steady) {
    const { steady } = results;
    const other = (run: SteadyFigures['runs'][number]) => Object.entries(run.otherCalls).map(([operation, count]) => `${operation} ${count}`).join(', ') || '0';
    out.push(
      '',
      `### 2. Steady state: the same fleet, no drift (${steady.runs.length} runs, median quoted)`,
      '',
      table([
        ['figure', 'value'],
        ['wall time per run', `${s(steady.medianSeconds)} (runs: ${steady.runs.map((run) => run.seconds.toFixed(2)).join(', ')})`],
        ['calls per run', `${steady.medianCalls} (ListMembers ${steady.runs[0]!.listMembers}, Scan ${steady.runs[0]!.scan}, other ${other(steady.runs[0]!)})`],
        ['minimum calls', `${steady.minimum} (ListMembers ${steady.minimumCalls.listMembers} = ${results.regions.length} × ⌈${results.accounts}/25⌉, Scan pages ${steady.minimumCalls.scanPages})`],
        ['ratio', `${steady.ratio.toFixed(2)} (target 1.00: ${verdict(steady.ratio === 1)})`],
        ['writes per run', `${steady.maxWrites} (target 0: ${verdict(steady.maxWrites === 0)})`],
        ['DynamoDB capacity per run (RCU / WCU)', `${steady.runs[0]!.capacity.read} / ${steady.runs[0]!.capacity.write}`],
      ]),
    );
  }

  if (results.baseline && results.onboarding) {
    const { baseline, onboarding } = results;
    out.push(
      '',
      `### 3. Against the AWS sample scripts' way (sequential, one account and one call at a time)`,
      '',
      table([
        ['', 'accounts × regions', 'wall time', 'accounts/s', 'failed'],
        ['this service', `${results.accounts} × ${results.regions.length}`, s(onboarding.medianSeconds), baseline.oursAccountsPerSecond.toFixed(2), '0'],
        ['baseline script', `${baseline.accounts} × ${baseline.regions}`, s(baseline.seconds), baseline.accountsPerSecond.toFixed(3), String(baseline.failed.length)],
      ]),
      '',
      `Speed-up: ${baseline.speedUp.toFixed(1)}× (target ≥ 10×: ${verdict(baseline.speedUp >= 10)}). ` +
        `Baseline calls: ${baseline.calls.map((call) => `${call.operation} ${call.ok + call.throttled}${call.throttled ? ` (${call.throttled} throttled)` : ''}`).join(', ')}.`,
    );
  }

  if (results.coldStart) {
    out.push(
      '',
      '### 4. Cold start (the bundles `osls package` ships: infra/esbuild.config.cjs; the runtime-SDK rows are the alternative, for comparison)',
      '',
      table([
        ['function', 'AWS SDK', 'bundle', 'init median (min–max)', '< 400 KB', '< 150 ms'],
        ...results.coldStart.map((figure) => [
          figure.function,
          figure.variant,
          `${(figure.bytes / 1024).toFixed(1)} KB`,
          `${figure.initMs.median.toFixed(1)} ms (${figure.initMs.min.toFixed(1)}–${figure.initMs.max.toFixed(1)})`,
          verdict(figure.bytes < 400 * 1024),
          verdict(figure.initMs.median < 150),
        ]),
      ]),
      '',
      `Init: median of ${results.coldStart[0]?.initMs.samples.length} fresh \`import()\`s of the bundle, each in a new \`node\` process with the NODE_OPTIONS serverless.yml deploys.`,
    );
  }
  if (results.organizations) {
    const { organization, invitation, ratio, accounts, regions } = results.organizations;
    const pairs = accounts * regions;
    const per = (count: { answered: number; throttled: number }) => `${(count.answered / pairs).toFixed(2)} (${count.answered}; ${count.throttled} throttled)`;
    const row = (label: string, value: (path: PathFigures) => string) => [label, value(organization), value(invitation)];
    out.push(
      '',
      `### 5. Organizations onboarding: ${accounts.toLocaleString('en')} accounts × ${regions} regions, beside the invitation path (same knobs, one run)`,
      '',
      table([
        ['figure', 'Organizations (delegated administrator)', 'invitation'],
        row('wall time to all Enabled', (path) => s(path.seconds)),
        row('scheduled runs', (path) => String(path.scheduledRuns)),
        row('account-regions Enabled', (path) => `${path.converged} of ${pairs}`),
        row('Macie calls per account-region, administrator (total; throttled)', (path) => per(path.macieAdministrator)),
        row('member-side calls per account-region', (path) => per(path.member)),
        row('STS AssumeRole per account-region', (path) => per(path.assumeRole)),
        row('Organizations ListAccounts pages', (path) => String(path.listAccounts)),
        row(`DescribeOrganizationConfiguration (${regions} regions)`, (path) => String(path.describeOrganizationConfiguration)),
        row('all AWS calls per account-region', (path) => (allCalls(path) / pairs).toFixed(2)),
      ]),
      '',
      `Ratio organization / invitation: wall time ${ratio.seconds.toFixed(2)}, administrator calls (Macie + AssumeRole) ${ratio.administratorCalls.toFixed(2)}, ` +
        `all AWS calls ${ratio.allCalls.toFixed(2)}.`,
    );
  }

  out.push('', `Load average at end ${results.loadAverageAtEnd.join(' ')}; the whole benchmark took ${s(results.totalSeconds)}.`);
  return out.join('\n');
}
