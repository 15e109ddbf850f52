/**
 * The fleet scenario of `npm run bench -- --scenario fleet`, in a process of its own: the sandbox
 * in another process (as AWS is not on this machine's event loop), the scheduled run's real
 * `reconcile` handler here, and the real `worker` handler driven from the work queue by the
 * sandbox's event source mapping, each invocation in an environment process of its own, whose
 * peak memory is measured.
 *
 * Onboarding: every account starts outside Macie; the scheduled run plans and queues, the workers
 * run until the queue is empty: one scheduled period. Should any account be left pending, another
 * period runs (at most `maxPeriods`). Steady: the fleet is already enrolled and recorded, and one
 * period is measured. Writes one JSON line with the figures to stdout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import pLimit from 'p-limit';
import { lambdaContext } from '#sandbox/lambda-context';
import { startEventSourceMapping } from '#sandbox/event-source-mapping';
import { ADMINISTRATOR, FLEET_REGIONS, KNOBS, MANAGEMENT_ACCOUNT, fleetAccounts } from '#bench/fleet';
import { fleetFloor } from '#bench/floor';
import { RemoteSandbox } from '#bench/remote-sandbox';
import { bundleFunction } from '../scripts/build.ts';
import type { CallCount } from '#bench/sandbox-host';

export interface FanOutOptions {
  accounts: number;
  regions: number;
  membership: 'organizations' | 'invitation';
  phase: 'onboarding' | 'steady';
  /** Scheduled periods at most before giving up on convergence (onboarding). */
  maxPeriods: number;
  /** The event source mapping's MaximumConcurrency: the workers at once. */
  workers: number;
  unitSize: number;
}

export interface FanOutFigures {
  accounts: number;
  regions: number;
  membership: FanOutOptions['membership'];
  phase: FanOutOptions['phase'];
  wallSeconds: number;
  floorSeconds: number;
  ratio: number;
  /** Environment processes the event source mapping started (at most `maximumConcurrency`). */
  workers: number;
  peakRssMiBPerWorker: number;
  /** This process's peak: the scheduled run's planner (with the driver and the table seeding). */
  plannerPeakRssMiB: number;
  /** Calls to the AWS services under rate limits (Macie, STS, Organizations), throttled answers included. */
  calls: number;
  callsPerAccountRegion: number;
  byOperation: Record<string, number>;
  tableReads: number;
  tableWrites: number;
  queueSends: number;
  invocations: number;
  /** Each invocation's duration and outcome, in the order they ended. */
  invocationSeconds: Array<{ seconds: number; outcome: string }>;
  units: number;
  periods: number;
  periodSeconds: number[];
  /** When each period's planner returned (its units all queued), from the period's start. */
  plannedSeconds: number[];
  converged: boolean;
  enabled: number;
  deadLettered: number;
  lost: number;
  floor: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as FanOutOptions;
const WRITES = /^(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/;
const TAGS = { Team: 'bench', CostCenter: '1234' };

const regions = FLEET_REGIONS.slice(0, options.regions);
const organizations = options.membership === 'organizations';
const fleet = fleetAccounts(options.accounts, '2').map((account) => ({ ...account, macieEnabled: false }));
const sandbox = await RemoteSandbox.start({
  administratorAccountId: ADMINISTRATOR,
  ...(organizations ? { delegatedAdministrator: true, managementAccount: { accountId: MANAGEMENT_ACCOUNT, email: 'management@example.com', name: 'Management', macieEnabled: false } } : {}),
  regions,
  accounts: fleet,
  knobs: { ...KNOBS, throttle: { ...KNOBS.throttle } },
  // Above the worker's timeout, as on the deployed queue.
  workVisibilityTimeoutSeconds: 360,
});
const stopping: Array<() => Promise<void>> = [() => sandbox.close()];
try {
  const environment: Record<string, string> = {
    ...sandbox.started.environment,
    WORK_QUEUE_URL: sandbox.started.workQueueUrl,
    WORK_UNIT_SIZE: String(options.unitSize),
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...(process.env.BENCH_SERVICE_ENV ? (JSON.parse(process.env.BENCH_SERVICE_ENV) as Record<string, string>) : {}),
  };
  Object.assign(process.env, environment);
  const { getLambdaRuntime } = await import('#shared/lambda/runtime');
  const { reconcileHandler } = await import('#functions/reconcile/handler');
  const { QueueAdmin } = await import('#shared/deadletter/queue-admin');
  const runtime = getLambdaRuntime();

  // ---- the fleet as the table and Macie hold it before the period ----
  const seeding = pLimit(32);
  const at = new Date().toISOString();
  await Promise.all(
    fleet.map((account) =>
      seeding(async () => {
        await runtime.store.recordDesired({
          accountId: account.accountId,
          email: account.email,
          desiredState: 'member',
          tags: TAGS,
          autoAccept: true,
          paused: false,
          requestedBy: 'bench',
          requestedAt: at,
        });
        if (options.phase === 'steady') {
          await runtime.store.recordObservations(account.accountId, Object.fromEntries(regions.map((region) => [region, { relationshipStatus: 'Enabled' as const, at }])));
        }
      }),
    ),
  );
  if (options.phase === 'steady') {
    const accountIds = fleet.map((account) => account.accountId);
    for (let start = 0; start < accountIds.length; start += 1_000) {
      await sandbox.request({
        method: 'seedMemberships',
        administratorAccountId: ADMINISTRATOR,
        accountIds: accountIds.slice(start, start + 1_000),
        regions,
        via: organizations ? 'organization' : 'invitation',
        tags: TAGS,
      });
    }
  }
  // Every bucket full, as after an hour between scheduled runs.
  await new Promise((resolve) => setTimeout(resolve, (KNOBS.throttle.burst / KNOBS.throttle.ratePerSecond) * 1000 + 200));
  await sandbox.request({ method: 'clearCalls' });

  // The worker as Lambda runs it: its esbuild bundle (what `osls package` ships), so an
  // environment's cold start is the bundle's, not the TypeScript loader's.
  const bundleDir = await mkdtemp(join(tmpdir(), 'macie-bench-worker-'));
  stopping.push(() => rm(bundleDir, { recursive: true, force: true }));
  const { file: workerBundle } = await bundleFunction('worker', bundleDir);
  const mapping = await startEventSourceMapping(
    {
      queueUrl: sandbox.started.workQueueUrl,
      environment,
      handler: { module: workerBundle },
      functionName: 'worker',
      batchSize: 1,
      maximumConcurrency: options.workers,
      functionTimeoutMs: 300_000,
      // Up to 20 environments load the worker at once on two cores; Lambda gives each its own CPU.
      initTimeoutMs: 120_000,
    },
    { region: sandbox.started.regions[0], endpoint: sandbox.started.endpoints.sqs, credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } },
  );
  stopping.unshift(() => mapping.stop());

  // ---- the scheduled periods ----
  const schedule = { version: '0', id: 'bench', 'detail-type': 'Scheduled Event', source: 'aws.events', account: ADMINISTRATOR, time: at, region: regions[0], resources: [], detail: {} } as ScheduledEvent;
  const statuses = async () =>
    Promise.all(regions.map((region) => sandbox.request<Record<string, string>>({ method: 'memberStatuses', administratorAccountId: ADMINISTRATOR, region })));
  const started = performance.now();
  const periodSeconds: number[] = [];
  const plannedSeconds: number[] = [];
  let converged = false;
  let units = 0;
  let perRegion: Array<Record<string, string>> = [];
  let ended = started;
  for (let period = 1; period <= (options.phase === 'steady' ? 1 : options.maxPeriods) && !converged; period++) {
    const periodStarted = performance.now();
    const summary = await reconcileHandler(schedule, lambdaContext('reconcile'));
    if ('unitsQueued' in summary) units += summary.unitsQueued;
    plannedSeconds.push((performance.now() - periodStarted) / 1000);
    await mapping.drain({ maxMs: 60 * 60_000 });
    // The period ends when its queue is empty; reading every member's status after it is the benchmark's own work.
    ended = performance.now();
    periodSeconds.push((ended - periodStarted) / 1000);
    perRegion = await statuses();
    converged = perRegion.every((members) => fleet.every((account) => members[account.accountId] === 'Enabled'));
  }
  const wallSeconds = (ended - started) / 1000;

  // ---- what converged, what was dead-lettered, what was lost ----
  const queues = new QueueAdmin({ region: regions[0]!, maxAttempts: 3 });
  const letters = await queues.receive(environment.DEAD_LETTER_QUEUE_URL!, 1_000_000, 600, 0);
  const deadLettered = new Set(
    letters.map((message) => JSON.parse(message.body) as { accountId?: unknown; region?: unknown }).map((letter) => `${String(letter.accountId)}/${String(letter.region)}`),
  );
  let enabled = 0;
  let lost = 0;
  regions.forEach((region, index) => {
    for (const account of fleet) {
      if (perRegion[index]?.[account.accountId] === 'Enabled') enabled += 1;
      else if (!deadLettered.has(`${account.accountId}/${region}`)) lost += 1;
    }
  });

  const counts = await sandbox.callCounts();
  const sum = (keep: (count: CallCount) => boolean) => counts.filter(keep).reduce((total, count) => total + count.count, 0);
  const limited = (count: CallCount) => count.service === 'macie2' || count.service === 'sts' || count.service === 'organizations';
  const byOperation: Record<string, number> = {};
  for (const count of counts.filter(limited)) {
    const key = `${count.caller === 'member' ? 'member:' : ''}${count.operation}${count.result === 'ok' ? '' : `(${count.result})`}`;
    byOperation[key] = (byOperation[key] ?? 0) + count.count;
  }
  const calls = sum(limited);
  const { rows } = await runtime.store.listAll();
  const floor = fleetFloor({
    accounts: options.accounts,
    regions: regions.length,
    membership: options.membership,
    phase: options.phase,
    knobs: { ratePerSecond: KNOBS.throttle.ratePerSecond, burst: KNOBS.throttle.burst, latencyMs: KNOBS.latencyMs, invitationDelayMs: KNOBS.invitationDelayMs },
    invitationBatchSize: runtime.config.invitation.batchSize,
    listPageSize: 25,
    tableBytes: rows.reduce((total, row) => total + Buffer.byteLength(JSON.stringify(row)), 0),
  });
  const environments = mapping.environments();
  const figures: FanOutFigures = {
    accounts: options.accounts,
    regions: regions.length,
    membership: options.membership,
    phase: options.phase,
    wallSeconds: round(wallSeconds),
    floorSeconds: round(floor.seconds),
    ratio: round(wallSeconds / floor.seconds, 3),
    workers: environments.length,
    peakRssMiBPerWorker: round(Math.max(0, ...environments.map((entry) => entry.peakRssMiB)), 1),
    plannerPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    calls,
    callsPerAccountRegion: round(calls / (options.accounts * regions.length), 3),
    byOperation,
    tableReads: sum((count) => count.service === 'dynamodb' && !WRITES.test(count.operation)),
    tableWrites: sum((count) => count.service === 'dynamodb' && WRITES.test(count.operation)),
    queueSends: sum((count) => count.service === 'sqs' && /^SendMessage/.test(count.operation)),
    invocations: mapping.invocations().length,
    invocationSeconds: mapping.invocations().map((invocation) => ({ seconds: round(invocation.durationMs / 1000), outcome: invocation.outcome })),
    units,
    periods: periodSeconds.length,
    periodSeconds: periodSeconds.map((seconds) => round(seconds)),
    plannedSeconds: plannedSeconds.map((seconds) => round(seconds)),
    converged,
    enabled,
    deadLettered: deadLettered.size,
    lost,
    floor: floor.formula,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  for (const stop of stopping) await stop().catch(() => undefined);
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
