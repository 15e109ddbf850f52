/**
 * One fleet benchmark, in a process of its own (so the service's configuration, read once per
 * process as in Lambda, points at this run's sandbox): onboarding from scratch through the real
 * `reconcile` handler until every account is Enabled, then optionally the steady state and the
 * baseline script on the same sandbox. Writes its figures as JSON to the path in argv[2].
 *
 * `membership: 'organization'` makes the administrator the organization's delegated Macie
 * administrator in every region, so the service enrolls the (active) fleet accounts with
 * CreateMember alone; `invitation` (the default) leaves it a plain administrator that invites.
 */
import { isFleetPlanSummary } from '#shared/fleet-planner';
import { writeFile } from 'node:fs/promises';
import type { ScheduledEvent } from 'aws-lambda';
import pLimit from 'p-limit';
import { lambdaContext } from '#sandbox/lambda-context';
import { runBaseline, type BaselineResult } from '#bench/baseline';
import { ADMINISTRATOR, BASELINE_ADMINISTRATOR, KNOBS, MANAGEMENT_ACCOUNT, REGIONS, fleetAccounts } from '#bench/fleet';
import { RemoteSandbox } from '#bench/remote-sandbox';
import type { CallCount } from '#bench/sandbox-host';

export interface ScenarioOptions {
  accounts: number;
  steadyRuns: number;
  baselineAccounts: number;
  /** How the sandbox lets the administrator enroll the fleet; `invitation` when absent. */
  membership?: 'organization' | 'invitation';
  output: string;
}

export interface OperationCount {
  operation: string;
  side: string;
  ok: number;
  throttled: number;
}

export interface OnboardingFigures {
  membership: 'organization' | 'invitation';
  seconds: number;
  runs: Array<{ seconds: number; done: number; pending: number; failed: number }>;
  converged: boolean;
  /** Account-regions Enabled when the runs stopped. */
  enabled: number;
  calls: OperationCount[];
  capacity: { read: number; write: number };
  settings: Record<string, unknown>;
}

export interface SteadyRun {
  seconds: number;
  listMembers: number;
  scan: number;
  otherCalls: Record<string, number>;
  writes: number;
  capacity: { read: number; write: number };
}

export interface SteadyFigures {
  runs: SteadyRun[];
  minimumCalls: { listMembers: number; scanPages: number };
}

export interface ScenarioFigures {
  onboarding: OnboardingFigures;
  steady?: SteadyFigures;
  baseline?: BaselineResult & { accounts: number; regions: number; calls: OperationCount[] };
}

const options = JSON.parse(process.argv[2] ?? '{}') as ScenarioOptions;
const WRITE_OPERATIONS = /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems|SendMessage|SendMessageBatch)$/;

function byOperation(counts: CallCount[], keep: (count: CallCount) => boolean): OperationCount[] {
  const merged = new Map<string, OperationCount>();
  for (const count of counts) {
    if (!keep(count)) continue;
    const side = count.caller === 'member' ? 'member' : count.service === 'dynamodb' || count.service === 'sqs' ? 'table/queue' : 'administrator';
    const key = `${side}|${count.operation}`;
    const entry = merged.get(key) ?? { operation: count.operation, side, ok: 0, throttled: 0 };
    if (count.result === 'ok') entry.ok += count.count;
    else if (/Throttl/.test(count.result)) entry.throttled += count.count;
    else entry.ok += count.count;
    merged.set(key, entry);
  }
  const sideOrder = ['administrator', 'member', 'table/queue'];
  return [...merged.values()].sort((a, b) => sideOrder.indexOf(a.side) - sideOrder.indexOf(b.side) || a.operation.localeCompare(b.operation));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const fleet = fleetAccounts(options.accounts, '2').map((account) => ({ ...account, macieEnabled: false }));
const baselineFleet = fleetAccounts(options.baselineAccounts, '3').map((account) => ({ ...account, macieEnabled: false }));
const membership = options.membership ?? 'invitation';
const sandbox = await RemoteSandbox.start({
  administratorAccountId: ADMINISTRATOR,
  ...(membership === 'organization'
    ? { delegatedAdministrator: true, managementAccount: { accountId: MANAGEMENT_ACCOUNT, email: 'management@example.com', name: 'Management', macieEnabled: false } }
    : {}),
  regions: REGIONS,
  accounts: [...fleet, ...baselineFleet, { accountId: BASELINE_ADMINISTRATOR, email: 'baseline-admin@example.com', macieEnabled: false }],
  knobs: { ...KNOBS, throttle: { ...KNOBS.throttle } },
});
try {
  // The service runs with its own defaults (shared/config.ts); only the sandbox's endpoints and
  // names are set, plus quiet logs and no metrics on stdout.
  Object.assign(process.env, sandbox.started.environment, {
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const { getLambdaRuntime } = await import('#shared/lambda/runtime');
  const { handler } = await import('#functions/reconcile/handler');
  const runtime = getLambdaRuntime();
  const schedule = { version: '0', id: 'bench', 'detail-type': 'Scheduled Event', source: 'aws.events', account: ADMINISTRATOR, time: new Date().toISOString(), region: REGIONS[0], resources: [], detail: {} } as ScheduledEvent;

  const seeding = pLimit(32);
  await Promise.all(
    fleet.map((account) =>
      seeding(() =>
        runtime.store.recordDesired({
          accountId: account.accountId,
          email: account.email,
          desiredState: 'member',
          tags: { Team: 'bench', CostCenter: '1234' },
          autoAccept: true,
          paused: false,
          requestedBy: 'bench',
          requestedAt: new Date().toISOString(),
        }),
      ),
    ),
  );

  let enabled = 0;
  const statusesEnabled = async () => {
    const counts = await Promise.all(
      REGIONS.map((region) => sandbox.request<Record<string, number>>({ method: 'statusCounts', administratorAccountId: ADMINISTRATOR, region })),
    );
    enabled = counts.reduce((sum, count) => sum + (count.Enabled ?? 0), 0);
    return counts.every((count) => count.Enabled === options.accounts);
  };

  // ---- onboarding ----
  await sandbox.request({ method: 'clearCalls' });
  const capacityBefore = runtime.store.consumedCapacity();
  const started = performance.now();
  const runs: OnboardingFigures['runs'] = [];
  let converged = false;
  for (let run = 1; run <= 5 && !converged; run++) {
    const runStarted = performance.now();
    const summary = await handler(schedule, lambdaContext('reconcile'));
    if (isFleetPlanSummary(summary)) throw new Error('this script runs the scheduled run in one invocation: unset WORK_QUEUE_URL');
    runs.push({
      seconds: (performance.now() - runStarted) / 1000,
      done: summary.byOutcome.done,
      pending: summary.byOutcome.pending + summary.byVerdict.pending,
      failed: summary.byOutcome.failed,
    });
    converged = await statusesEnabled();
  }
  const seconds = (performance.now() - started) / 1000;
  const capacityAfter = runtime.store.consumedCapacity();
  const onboardingCalls = await sandbox.callCounts();
  const config = runtime.config;
  const figures: ScenarioFigures = {
    onboarding: {
      membership,
      seconds,
      runs,
      converged,
      enabled,
      calls: byOperation(onboardingCalls, (count) => count.caller !== 'other'),
      capacity: { read: capacityAfter.read - capacityBefore.read, write: capacityAfter.write - capacityBefore.write },
      settings: {
        invitationBatchSize: config.invitation.batchSize,
        adminConcurrency: config.concurrency.administratorCallsPerRegion,
        memberConcurrency: config.concurrency.memberAccounts,
        maxAttempts: config.maxAttempts,
        acceptPolling: config.acceptPolling,
      },
    },
  };

  // ---- steady state ----
  if (options.steadyRuns > 0) {
    const { rows } = await runtime.store.listAll();
    const tableBytes = rows.reduce((sum, row) => sum + Buffer.byteLength(JSON.stringify(row)), 0);
    const steadyRuns: SteadyRun[] = [];
    for (let run = 0; run < options.steadyRuns; run++) {
      // Scheduled runs are an hour apart: every bucket is full again when the next one starts.
      await sleep((KNOBS.throttle.burst / KNOBS.throttle.ratePerSecond) * 1000 + 200);
      await sandbox.request({ method: 'clearCalls' });
      const before = runtime.store.consumedCapacity();
      const runStarted = performance.now();
      await handler(schedule, lambdaContext('reconcile'));
      const runSeconds = (performance.now() - runStarted) / 1000;
      const after = runtime.store.consumedCapacity();
      const calls = await sandbox.callCounts();
      const total = (operation: string) => calls.filter((call) => call.operation === operation).reduce((sum, call) => sum + call.count, 0);
      const otherCalls: Record<string, number> = {};
      for (const call of calls) {
        if (call.operation === 'ListMembers' || call.operation === 'Scan') continue;
        otherCalls[call.operation] = (otherCalls[call.operation] ?? 0) + call.count;
      }
      steadyRuns.push({
        seconds: runSeconds,
        listMembers: total('ListMembers'),
        scan: total('Scan'),
        otherCalls,
        writes: calls.filter((call) => WRITE_OPERATIONS.test(call.operation)).reduce((sum, call) => sum + call.count, 0),
        capacity: { read: after.read - before.read, write: after.write - before.write },
      });
    }
    figures.steady = {
      runs: steadyRuns,
      minimumCalls: {
        listMembers: REGIONS.length * Math.ceil(options.accounts / 25),
        // DynamoDB returns at most 1 MB per Scan page.
        scanPages: Math.max(1, Math.ceil(tableBytes / (1024 * 1024))),
      },
    };
  }

  // ---- baseline ----
  if (options.baselineAccounts > 0) {
    await sleep(2_500);
    await sandbox.request({ method: 'clearCalls' });
    const credentials = await sandbox.request<{ accessKeyId: string; secretAccessKey: string }>({ method: 'credentialsFor', accountId: BASELINE_ADMINISTRATOR });
    const result = await runBaseline({
      administrator: { accountId: BASELINE_ADMINISTRATOR, ...credentials },
      accounts: baselineFleet,
      regions: REGIONS,
      homeRegion: REGIONS[0]!,
      memberRole: { name: sandbox.started.environment.MEMBER_ROLE_NAME!, externalId: sandbox.started.environment.MEMBER_ROLE_EXTERNAL_ID! },
    });
    const calls = await sandbox.callCounts();
    figures.baseline = {
      ...result,
      accounts: options.baselineAccounts,
      regions: REGIONS.length,
      calls: byOperation(calls, (count) => count.service !== 'dynamodb' && count.service !== 'sqs'),
    };
  }

  await writeFile(options.output, JSON.stringify(figures, null, 2));
} finally {
  await sandbox.close();
}
