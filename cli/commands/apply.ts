/**
 * `apply`: one reconciliation run now, the same run the schedule makes (trigger `cli`): observe,
 * plan, execute, record observations, dead-letter what cannot be done. Progress goes to stderr,
 * the summary to stdout. Exits 1 when anything failed, could not be observed or read (a corrupt
 * row), or was dead-lettered.
 */
import type { ExecutionOutcome, OutcomeStatus, RunSummary } from '#shared/domain/outcomes';
import { statusAfter } from '#shared/domain/outcomes';
import { plannedWork } from '#shared/domain/plan';
import type { ServiceRuntime } from '#shared/runtime';
import { renderTable } from '#shared/text/table';
import { ExitCode } from '#cli/errors';
import {
  JSON_SCHEMA_VERSION,
  VERDICT_LABELS,
  corruptRowLine,
  countList,
  paintFor,
  plural,
  safeText,
  writeJson,
  writeLines,
  type Paint,
  type Style,
  type Terminal,
} from '#cli/format';
import { createProgress } from '#cli/progress';

export interface ApplyCommandOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'reconciler'>;
  terminal: Terminal;
  json?: boolean;
  accountIds?: readonly string[];
}

const OUTCOME_LABELS: Record<OutcomeStatus, string> = { done: 'done', pending: 'pending', failed: 'failed', deferred: 'deferred', noop: 'nothing to do' };

export async function runApply({ runtime, terminal, json = false, accountIds }: ApplyCommandOptions): Promise<number> {
  const progress = createProgress(terminal.stderr, 'apply');
  let report;
  try {
    report = await runtime.reconciler.reconcile({
      trigger: 'cli',
      accountIds,
      onPlan: (plan) => progress.start(plannedWork(plan).length),
      onOutcome: (outcome) => progress.tick(outcome),
    });
  } finally {
    progress.stop();
  }
  const { summary, outcomes } = report;
  if (json) {
    writeJson(terminal.stdout, applyDocument(summary, outcomes, runtime.config.deadLetterQueueUrl));
  } else {
    writeLines(terminal.stdout, renderSummary(summary, outcomes, runtime.config.deadLetterQueueUrl, paintFor(terminal)));
  }
  const troubled = summary.byOutcome.failed > 0 || summary.unobserved.length > 0 || summary.corruptRows.length > 0 || summary.deadLettered > 0;
  return troubled ? ExitCode.failure : ExitCode.ok;
}

/** The machine-readable result (`--json`): the run summary plus one entry per account-region. */
export function applyDocument(summary: RunSummary, outcomes: readonly ExecutionOutcome[], deadLetterQueueUrl: string) {
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    summary,
    outcomes: outcomes.map((outcome) => ({
      accountId: outcome.item.accountId,
      region: outcome.item.region,
      unmanaged: !outcome.item.row,
      verdict: outcome.item.verdict,
      before: outcome.item.observedStatus,
      after: statusAfter(outcome),
      status: outcome.status,
      completed: outcome.completed,
      failure: outcome.failure ?? null,
      note: outcome.note ?? null,
    })),
    deadLetterQueueUrl,
  };
}

function renderSummary(summary: RunSummary, outcomes: readonly ExecutionOutcome[], deadLetterQueueUrl: string, paint: Paint): string[] {
  const lines = [
    `Reconciliation run (trigger ${summary.trigger}) finished in ${(summary.durationMs / 1000).toFixed(1)} s: ` +
      `${plural(summary.planned, 'account-region')} of ${plural(summary.accounts, 'account')} in ${plural(summary.regions, 'region')}.`,
  ];

  const acted = outcomes.filter((outcome) => outcome.status !== 'noop' || outcome.item.verdict === 'deadLetter');
  if (acted.length > 0) {
    lines.push(
      '',
      renderTable([
        ['ACCOUNT', 'REGION', 'BEFORE', 'AFTER', 'STEPS DONE', 'RESULT'],
        ...acted.map((outcome) => [
          outcome.item.accountId,
          outcome.item.region,
          outcome.item.observedStatus,
          statusAfter(outcome),
          outcome.completed.length > 0 ? outcome.completed.join(', ') : '-',
          paint(resultStyle(outcome), resultText(outcome)),
        ]),
      ]),
    );
  }

  const actions = Object.entries(summary.byAction).map(
    ([kind, counts]) => `${kind} ${counts.succeeded} ok${counts.failed > 0 ? `, ${counts.failed} failed` : ''}`,
  );
  lines.push(
    '',
    `Outcomes: ${countList(summary.byOutcome, OUTCOME_LABELS)}`,
    `Plan verdicts: ${countList(summary.byVerdict, VERDICT_LABELS)}`,
    `Actions: ${actions.length > 0 ? actions.join('; ') : 'none'}`,
  );
  if (summary.failures.length > 0) {
    lines.push(paint('red', `Failures (${summary.failures.length}):`));
    for (const failure of summary.failures) {
      lines.push(`  ${failure.accountId} ${failure.region} ${failure.action}: ${failure.code}: ${safeText(failure.message)}`);
    }
  }
  for (const entry of summary.unobserved) {
    lines.push(`${paint('red', 'Not observed:')} ${entry.region} ${entry.accountId ?? '(every account)'}: ${entry.code}: ${safeText(entry.message)}`);
  }
  if (summary.corruptRows.length > 0) {
    lines.push(paint('red', 'Corrupt rows, not reconciled (fix them in the table):'), ...summary.corruptRows.map(corruptRowLine));
  }
  if (summary.unmanaged > 0) lines.push(`Unmanaged members: ${summary.unmanaged} (see \`macie-members plan\`)`);
  if (summary.deadLettered > 0) {
    lines.push(
      paint('red', `Dead-lettered: ${plural(summary.deadLettered, 'message')} to ${deadLetterQueueUrl}`),
      'Fix the cause (see the failures above), then `macie-members redrive` replays them.',
    );
  } else {
    lines.push('Dead-lettered: none');
  }
  return lines;
}

function resultStyle(outcome: ExecutionOutcome): Style {
  if (outcome.failure || outcome.item.verdict === 'deadLetter') return 'red';
  if (outcome.status === 'done') return 'green';
  if (outcome.status === 'pending') return 'yellow';
  return 'dim';
}

function resultText(outcome: ExecutionOutcome): string {
  if (outcome.failure) return `failed at ${outcome.failure.action}: ${outcome.failure.code}`;
  if (outcome.item.verdict === 'deadLetter') return 'dead-lettered: needs an operator';
  if (outcome.status === 'pending') return `pending${outcome.note ? `: ${outcome.note}` : ''}`;
  return outcome.status;
}
