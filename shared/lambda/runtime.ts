import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { getConfig } from '#shared/config';
import type { RunSummary } from '#shared/domain/outcomes';
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
