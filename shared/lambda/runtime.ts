import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { ConfigurationError, getConfig } from '#shared/config';
import type { RunSummary } from '#shared/domain/outcomes';
import type { FleetPlanSummary } from '#shared/fleet-planner';
import type { UnitReport, WorkerPorts } from '#shared/work-unit-runner';
import type { OrganizationSyncReport } from '#shared/organization-sync';
import type { WorkBudget } from '#shared/executor';
import type { IntakePorts, IntakeReporter, IntakeSettings } from '#shared/intake';
import { logger, metrics } from '#shared/powertools';
import type { UnsentLetter } from '#shared/ports';
import { createRuntime, type ServiceRuntime } from '#shared/runtime';

let runtime: ServiceRuntime | undefined;

/**
 * The functions' shared runtime: built on the first invocation (so importing a handler stays
 * cheap and tests can point the environment at a sandbox first) and reused while warm.
 */
export function getLambdaRuntime(): ServiceRuntime {
  runtime ??= createRuntime(getConfig(), reportRunWithPowertools);
  return runtime;
}

const powertoolsReporter: IntakeReporter = {
  info: (message, attributes) => logger.info(message, attributes),
  warn: (message, attributes) => logger.warn(message, attributes),
  error: (message, attributes) => logger.error(message, attributes),
  count: (metric) => metrics.addMetric(metric, MetricUnit.Count, 1),
};

/** The intake's ports in a function: the shared runtime, Powertools' logger and metrics, the system clock. */
export function lambdaIntakePorts(): IntakePorts {
  const { store, deadLetters, reconciler } = getLambdaRuntime();
  return { store, deadLetters, reconciler, reporter: powertoolsReporter, now: () => new Date() };
}

/** The intake's settings for one invocation: the configuration, and the budget its deadline leaves. */
export function lambdaIntakeSettings(context: Pick<Context, 'getRemainingTimeInMillis'>): IntakeSettings {
  const { config } = getLambdaRuntime();
  return {
    administratorAccountId: config.administratorAccountId,
    managedRegions: config.managedRegions,
    eventSource: config.eventSource,
    budget: deadlineBudget(context, config.deadlineSafetyMs),
  };
}

/** Logs the run summary once and emits it as metrics (the logger masks emails in all of it). */
export function reportRunWithPowertools(summary: RunSummary, unsent: readonly UnsentLetter[] = []): void {
  logger.info('Reconciliation run finished', { summary });
  metrics.addMetric('AccountRegionsPlanned', MetricUnit.Count, summary.planned);
  metrics.addMetric('AccountRegionsInSync', MetricUnit.Count, summary.byVerdict.inSync);
  metrics.addMetric('AccountRegionsChanged', MetricUnit.Count, summary.byOutcome.done);
  metrics.addMetric('AccountRegionsPending', MetricUnit.Count, summary.byOutcome.pending + summary.byVerdict.pending);
  metrics.addMetric('AccountRegionsFailed', MetricUnit.Count, summary.byOutcome.failed);
  // New failures are what an alarm should fire on; known ones were dead-lettered within the quiet period.
  metrics.addMetric('FailuresNew', MetricUnit.Count, summary.failuresNew);
  metrics.addMetric('FailuresKnown', MetricUnit.Count, summary.failuresKnown);
  metrics.addMetric('AccountRegionsDeferred', MetricUnit.Count, summary.byOutcome.deferred);
  metrics.addMetric('DeadLettered', MetricUnit.Count, summary.deadLettered);
  metrics.addMetric('DeadLettersUnsent', MetricUnit.Count, summary.deadLettersUnsent);
  if (unsent.length > 0) {
    const letters = unsent.map(({ letter, code, message }) => ({ accountId: letter.request.accountId, region: letter.region, reason: letter.reason, code, message }));
    logger.error('Some dead letters could not be sent; the next run writes them again', { unsent: letters });
  }
  metrics.addMetric('UnmanagedMembers', MetricUnit.Count, summary.unmanaged);
  // A region or account Macie would not list was not planned at all: nothing dead-letters it.
  metrics.addMetric('Unobserved', MetricUnit.Count, summary.unobserved.length);
  if (summary.unobserved.length > 0) {
    logger.warn('Some memberships could not be read and were not reconciled', { unobserved: summary.unobserved });
  }
  // A corrupt row is not planned at all: only an operator fixing it in the table brings it back.
  metrics.addMetric('CorruptRows', MetricUnit.Count, summary.corruptRows.length);
  if (summary.corruptRows.length > 0) {
    logger.warn('Some desired rows are corrupt and were not reconciled; fix them in the table', { corruptRows: summary.corruptRows });
  }
  const settingsFailed = summary.organizationSettings.filter((setting) => setting.status === 'failed');
  metrics.addMetric('OrganizationSettingsFailed', MetricUnit.Count, settingsFailed.length);
  if (settingsFailed.length > 0) {
    logger.error('Macie organization configuration could not be updated; the next run tries again', { organizationSettings: settingsFailed });
  }
  metrics.addMetric('RunDuration', MetricUnit.Milliseconds, summary.durationMs);
}

/** Logs what the table sync changed, and counts it. */
export function reportSyncWithPowertools(report: OrganizationSyncReport): void {
  if (report.unread) {
    metrics.addMetric('SyncFailures', MetricUnit.Count, 1);
    logger.error('The table sync could not read the organization; the run goes on with the table as it stands', { unread: report.unread });
    return;
  }
  const added = report.changes.filter((change) => change.kind === 'enroll').length;
  logger.info('Desired table synced from the organization', {
    added,
    removed: report.changes.length - added,
    recorded: report.recorded,
    superseded: report.superseded,
    changes: report.changes.map(({ kind, accountId, reason }) => ({ kind, accountId, reason })),
  });
  metrics.addMetric('SyncAccountsAdded', MetricUnit.Count, added);
  metrics.addMetric('SyncAccountsRemoved', MetricUnit.Count, report.changes.length - added);
  metrics.addMetric('SyncFailures', MetricUnit.Count, report.failed.length);
  if (report.failed.length > 0) logger.error('Some table sync changes could not be recorded; the next sync tries them again', { failed: report.failed });
}

/** Stops a run from starting new work when the Lambda is close to its timeout. */
export function deadlineBudget(context: Pick<Context, 'getRemainingTimeInMillis'>, safetyMs: number): WorkBudget {
  return { canStartWork: () => context.getRemainingTimeInMillis() > safetyMs };
}

/** Logs what the fan-out planner queued, and counts it (the workers count their outcomes). */
export function reportFleetPlanWithPowertools(summary: FleetPlanSummary): void {
  const { deadLettersUnsent, ...logged } = summary;
  logger.info('Fleet run planned and queued', { summary: { ...logged, deadLettersUnsent: deadLettersUnsent.length } });
  metrics.addMetric('AccountRegionsPlanned', MetricUnit.Count, summary.planned);
  metrics.addMetric('AccountRegionsInSync', MetricUnit.Count, summary.byVerdict.inSync);
  metrics.addMetric('AccountRegionsQueued', MetricUnit.Count, summary.itemsQueued);
  metrics.addMetric('WorkUnitsQueued', MetricUnit.Count, summary.unitsQueued);
  // Units the queue refused are not worked this period: the next scheduled run plans them again.
  metrics.addMetric('WorkUnitsNotQueued', MetricUnit.Count, summary.unitsNotQueued.length);
  if (summary.unitsNotQueued.length > 0) logger.error('Some work units could not be queued; the next scheduled run plans them again', { unitsNotQueued: summary.unitsNotQueued });
  metrics.addMetric('DeadLettered', MetricUnit.Count, summary.deadLettered);
  metrics.addMetric('DeadLettersUnsent', MetricUnit.Count, deadLettersUnsent.length);
  metrics.addMetric('UnmanagedMembers', MetricUnit.Count, summary.unmanaged);
  metrics.addMetric('Unobserved', MetricUnit.Count, summary.unobserved.length);
  if (summary.unobserved.length > 0) logger.warn('Some memberships could not be read and were not reconciled', { unobserved: summary.unobserved });
  metrics.addMetric('CorruptRows', MetricUnit.Count, summary.corruptRows.length);
  if (summary.corruptRows.length > 0) logger.warn('Some desired rows are corrupt and were not reconciled; fix them in the table', { corruptRows: summary.corruptRows });
  const settingsFailed = summary.organizationSettings.filter((setting) => setting.status === 'failed');
  metrics.addMetric('OrganizationSettingsFailed', MetricUnit.Count, settingsFailed.length);
  if (settingsFailed.length > 0) logger.error('Macie organization configuration could not be updated; the next run tries again', { organizationSettings: settingsFailed });
  metrics.addMetric('RunDuration', MetricUnit.Milliseconds, summary.durationMs);
}

/** Logs one work unit's result and counts its outcomes, under the same metric names as a run in one invocation. */
export function reportUnitWithPowertools(report: UnitReport): void {
  const { settled, ...logged } = report;
  logger.info('Work unit finished', { unit: { ...logged, deadLettered: settled.deadLettered, deadLettersUnsent: settled.unsent.length } });
  metrics.addMetric('AccountRegionsChanged', MetricUnit.Count, report.outcomes.done);
  metrics.addMetric('AccountRegionsPending', MetricUnit.Count, report.outcomes.pending);
  metrics.addMetric('AccountRegionsFailed', MetricUnit.Count, report.outcomes.failed);
  metrics.addMetric('AccountRegionsDeferred', MetricUnit.Count, report.outcomes.deferred);
  metrics.addMetric('FailuresNew', MetricUnit.Count, report.outcomes.failed - settled.knownFailures);
  metrics.addMetric('FailuresKnown', MetricUnit.Count, settled.knownFailures);
  metrics.addMetric('DeadLettered', MetricUnit.Count, settled.deadLettered);
  metrics.addMetric('DeadLettersUnsent', MetricUnit.Count, settled.unsent.length);
  metrics.addMetric('WorkUnitRemainders', MetricUnit.Count, report.remainder > 0 ? 1 : 0);
  if (settled.unsent.length > 0) {
    const letters = settled.unsent.map(({ letter, code, message }) => ({ accountId: letter.request.accountId, region: letter.region, reason: letter.reason, code, message }));
    logger.error('Some dead letters could not be sent; the next run writes them again', { unsent: letters });
  }
  if (settled.notRecorded.length > 0) {
    metrics.addMetric('ObservationsNotRecorded', MetricUnit.Count, settled.notRecorded.length);
    logger.error('Some observations could not be recorded; the next run observes Macie again', { errors: settled.notRecorded.map(String).slice(0, 10) });
  }
}

/** The worker's ports in a function: the shared runtime and the system clock. */
export function lambdaWorkerPorts(): WorkerPorts {
  const { store, deadLetters, macie, acceptor, runs, workQueue } = getLambdaRuntime();
  if (!workQueue) throw new ConfigurationError(['WORK_QUEUE_URL is required by the worker function (the remainder of a unit goes back to it)']);
  return { store, deadLetters, macie, acceptor, runs, workQueue, now: () => new Date() };
}

/** The worker's reporter: the intake's logger and metrics, plus one log line and metrics per unit. */
export const workerReporter = { ...powertoolsReporter, unit: reportUnitWithPowertools };
