/**
 * `npm run bench`: the service's benchmarks on the local sandbox. Prints the figures as Markdown
 * tables and writes the same figures to bench/results/latest.json.
 *
 *   npm run bench                          onboarding once, steady state, baseline, Organizations onboarding, cold start
 *   npm run bench -- --onboarding-runs 3   onboarding three times (median quoted), adds ~80 s each
 *   npm run bench -- --only cold-start     one part only: fleet | organizations | cold-start
 *   npm run bench -- --scenario fleet --accounts N --regions R --membership organizations|invitation
 *                                          [--phase onboarding|steady] [--workers W] [--unit-size U]
 *                                          the fan-out on the sandbox: one JSON line; exit 0 only when nothing is lost
 *
 * The organizations part onboards the same fleet with the administrator as the organization's
 * delegated Macie administrator, beside the invitation path on the same knobs (the fleet part's
 * first onboarding when it ran, else one of its own), and quotes the ratio.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { compareMemberships, pathFigures, renderMarkdown, type BenchResults } from '#bench/report';
import { measureColdStart, median } from '#bench/cold-start';
import { onboardingBound } from '#bench/bound';
import { FLEET_REGIONS, KNOBS, REGIONS } from '#bench/fleet';
import type { FanOutFigures, FanOutOptions } from '#bench/fan-out-scenario';
import type { ScenarioFigures, ScenarioOptions } from '#bench/fleet-scenario';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const scenario = option('scenario');
if (scenario !== undefined) {
  process.exitCode = await runScenario(scenario);
  process.exit();
}
const onboardingRuns = Number(option('onboarding-runs') ?? 1);
const only = option('only');
const ACCOUNTS = 1000;
const BASELINE_ACCOUNTS = 100;
const STEADY_RUNS = 7;
const COLD_START_RUNS = 15;

async function fleetScenario(options: Omit<ScenarioOptions, 'output'>): Promise<ScenarioFigures> {
  const workspace = await mkdtemp(join(tmpdir(), 'macie-bench-fleet-'));
  const output = join(workspace, 'figures.json');
  try {
    await run(process.execPath, ['--import', 'tsx', join(here, 'fleet-scenario.ts'), JSON.stringify({ ...options, output })], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(await readFile(output, 'utf8')) as ScenarioFigures;
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}

const started = Date.now();
const machine = {
  date: new Date().toISOString().slice(0, 10),
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(2))),
};

const results: BenchResults = { machine, knobs: { ...KNOBS, throttle: { ...KNOBS.throttle } }, regions: REGIONS, accounts: ACCOUNTS, loadAverageAtEnd: [], totalSeconds: 0 };

let invitationOnboarding: ScenarioFigures['onboarding'] | undefined;
if (only === undefined || only === 'fleet') {
  const scenarios: ScenarioFigures[] = [];
  for (let index = 0; index < onboardingRuns; index++) {
    process.stderr.write(`fleet scenario ${index + 1}/${onboardingRuns}...\n`);
    scenarios.push(
      await fleetScenario({
        accounts: ACCOUNTS,
        steadyRuns: index === 0 ? STEADY_RUNS : 0,
        baselineAccounts: index === 0 ? BASELINE_ACCOUNTS : 0,
      }),
    );
  }
  const first = scenarios[0]!;
  invitationOnboarding = first.onboarding;
  const settings = first.onboarding.settings as { invitationBatchSize: number };
  const bound = onboardingBound({
    accounts: ACCOUNTS,
    regions: REGIONS.length,
    batchSize: settings.invitationBatchSize,
    ratePerSecond: KNOBS.throttle.ratePerSecond,
    burst: KNOBS.throttle.burst,
    latencyMs: KNOBS.latencyMs,
  });
  const onboardingSeconds = scenarios.map((scenario) => scenario.onboarding.seconds);
  results.onboarding = {
    runs: scenarios.map((scenario) => scenario.onboarding),
    medianSeconds: median(onboardingSeconds),
    bound,
    ratioToBound: median(onboardingSeconds) / bound.seconds,
  };
  const steady = first.steady!;
  const minimum = steady.minimumCalls.listMembers + steady.minimumCalls.scanPages;
  results.steady = {
    ...steady,
    medianSeconds: median(steady.runs.map((entry) => entry.seconds)),
    medianCalls: median(steady.runs.map((entry) => entry.listMembers + entry.scan + Object.values(entry.otherCalls).reduce((a, b) => a + b, 0))),
    minimum,
    ratio: median(steady.runs.map((entry) => entry.listMembers + entry.scan + Object.values(entry.otherCalls).reduce((a, b) => a + b, 0))) / minimum,
    maxWrites: Math.max(...steady.runs.map((entry) => entry.writes)),
  };
  const baseline = first.baseline!;
  const oursPerSecond = ACCOUNTS / median(onboardingSeconds);
  const baselinePerSecond = baseline.enabled / baseline.regions / baseline.seconds;
  results.baseline = { ...baseline, accountsPerSecond: baselinePerSecond, oursAccountsPerSecond: oursPerSecond, speedUp: oursPerSecond / baselinePerSecond };
}

if (only === undefined || only === 'organizations') {
  if (!invitationOnboarding) {
    process.stderr.write('organizations: invitation path...\n');
    invitationOnboarding = (await fleetScenario({ accounts: ACCOUNTS, steadyRuns: 0, baselineAccounts: 0, membership: 'invitation' })).onboarding;
  }
  process.stderr.write('organizations: Organizations path...\n');
  const organization = (await fleetScenario({ accounts: ACCOUNTS, steadyRuns: 0, baselineAccounts: 0, membership: 'organization' })).onboarding;
  results.organizations = compareMemberships(ACCOUNTS, REGIONS.length, pathFigures(organization), pathFigures(invitationOnboarding));
}

if (only === undefined || only === 'cold-start') {
  process.stderr.write('cold start...\n');
  results.coldStart = await measureColdStart(COLD_START_RUNS);
}

results.loadAverageAtEnd = loadavg().map((value) => Number(value.toFixed(2)));
results.totalSeconds = (Date.now() - started) / 1000;

const markdown = renderMarkdown(results);
console.log(markdown);
await mkdir(join(here, 'results'), { recursive: true });
const file = only === undefined ? 'latest.json' : `latest-${only}.tmp.json`;
await writeFile(join(here, 'results', file), `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`figures written to bench/results/${file} (${results.totalSeconds} s)\n`);

/**
 * `--scenario fleet`: the scheduled run fanned out over the work queue, in a process of its own.
 * Prints its one JSON line; exits 0 only when no desired account-region is lost (neither Enabled
 * nor dead-lettered), 2 for a usage error.
 */
async function runScenario(name: string): Promise<number> {
  const usage = (problem: string) => {
    process.stderr.write(`${problem}\nusage: npm run bench -- --scenario fleet --accounts N --regions R --membership organizations|invitation [--phase onboarding|steady] [--workers W] [--unit-size U] [--max-periods P]\n`);
    return 2;
  };
  if (name !== 'fleet') return usage(`unknown scenario "${name}"`);
  const whole = (flag: string, fallback: number | undefined, max: number) => {
    const text = option(flag);
    if (text === undefined) return fallback;
    const value = Number(text);
    return Number.isInteger(value) && value >= 1 && value <= max ? value : Number.NaN;
  };
  const accounts = whole('accounts', undefined, 10_000);
  const regions = whole('regions', undefined, FLEET_REGIONS.length);
  const workers = whole('workers', 20, 100);
  const unitSize = whole('unit-size', 200, 1000);
  const maxPeriods = whole('max-periods', 3, 10);
  const membership = option('membership');
  const phase = option('phase') ?? 'onboarding';
  if (accounts === undefined || Number.isNaN(accounts)) return usage('--accounts must be a whole number from 1 to 10000');
  if (regions === undefined || Number.isNaN(regions)) return usage(`--regions must be a whole number from 1 to ${FLEET_REGIONS.length}`);
  if (membership !== 'organizations' && membership !== 'invitation') return usage('--membership must be organizations or invitation');
  if (phase !== 'onboarding' && phase !== 'steady') return usage('--phase must be onboarding or steady');
  if ([workers, unitSize, maxPeriods].some((value) => value === undefined || Number.isNaN(value))) return usage('--workers, --unit-size and --max-periods must be whole numbers');
  const options: FanOutOptions = { accounts, regions, membership, phase, workers: workers!, unitSize: unitSize!, maxPeriods: maxPeriods! };
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, ['--import', 'tsx', join(here, 'fan-out-scenario.ts'), JSON.stringify(options)], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      maxBuffer: 256 * 1024 * 1024,
    }));
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    process.stderr.write(`the fleet scenario failed:\n${stderr.slice(-4000)}\n`);
    return 1;
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  process.stdout.write(`${line}\n`);
  const figures = JSON.parse(line) as FanOutFigures;
  return figures.lost === 0 ? 0 : 1;
}
