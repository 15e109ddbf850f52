/**
 * `apply`: one reconciliation run now, the same run the schedule makes (trigger `cli`): observe,
 * plan, execute, record observations, dead-letter what cannot be done. Progress goes to stderr,
 * the summary to stdout. Exits 1 when anything failed, could not be observed or read (a corrupt
 * row), or was dead-lettered.
 */
import type { ExecutionOutcome, OutcomeStatus, RunSummary } from '#shared/domain/outcomes';
import { statusAfter } from '#shared/domain/outcomes';
import { createInterface } from 'node:readline';
import { hasDrift, plannedWork } from '#shared/domain/plan';
import type { ServiceRuntime } from '#shared/runtime';
import { renderTable } from '#shared/text/table';
import { ExitCode } from '#cli/errors';
import {
  JSON_SCHEMA_VERSION,
  VERDICT_LABELS,
  corruptRowLine,
  countList,
  isInteractive,
  paintFor,
  plural,
  safeText,
  writeJson,
  writeLine,
  writeLines,
  type Paint,
  type Style,
  type Terminal,
} from '#cli/format';
import { createProgress } from '#cli/progress';
import { accountsNotInTable, renderPlan } from '#cli/commands/plan';
import { CliError } from '#cli/errors';
import { entriesOfDocument, entriesOfPlan, planChanges, type PlannedEntry, type SavedPlan } from '#cli/saved-plan';

/** Reads one line from the terminal; true only for "yes", as Terraform asks. */
async function confirm(terminal: Terminal, question: string): Promise<boolean> {
  const lines = createInterface({ input: terminal.stdin!, output: terminal.stderr, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      lines.once('close', () => resolve(''));
      lines.question(question, resolve);
    });
    return answer.trim() === 'yes';
  } finally {
    lines.close();
  }
}

export interface ApplyCommandOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'reconciler'>;
  terminal: Terminal;
  json?: boolean;
  accountIds?: readonly string[];
  /** Approved in advance: no question. Needed when stdin is not a terminal. */
  yes?: boolean;
  /** A saved plan (`plan --out`): apply exactly it, or nothing. It is its own approval. */
  saved?: SavedPlan;
}

const OUTCOME_LABELS: Record<OutcomeStatus, string> = { done: 'done', pending: 'pending', failed: 'failed', deferred: 'deferred', noop: 'nothing to do' };

export async function runApply(options: ApplyCommandOptions): Promise<number> {
  const { runtime, terminal, json = false, yes = false, saved } = options;
  let accountIds = options.accountIds;
  let approved: PlannedEntry[] | undefined;
  let approval: string;
  if (saved) {
    accountIds = saved.plan.accountIds ?? undefined;
    approved = entriesOfDocument(saved.plan);
    approval = `the saved plan of ${saved.createdAt}`;
  } else if (!yes) {
    if (!isInteractive(terminal.stdin)) {
      // As `terraform apply` with -input=false: a script cannot answer, and must not be assumed to.
      throw new CliError('apply changes Macie and asks first; stdin is not a terminal, so nothing was applied.', [
        'Add --yes to apply without asking (scripts, CI), or apply a saved plan: `macie-members plan --out FILE`, then `macie-members apply FILE`.',
      ]);
    }
    const view = await runtime.reconciler.plan(accountIds);
    const notInTable = accountsNotInTable(view, accountIds);
    const drift = hasDrift(view.plan);
    writeLines(terminal.stderr, renderPlan(view, runtime.config, { accountIds, drift, all: false, notInTable, applyHint: false }, paintFor(terminal, 'stderr')));
    if (!drift) return view.unobserved.length > 0 || view.corruptRows.length > 0 || notInTable.length > 0 ? ExitCode.failure : ExitCode.ok;
    if (!(await confirm(terminal, '\nApply these changes to Macie? Only "yes" applies them: '))) {
      writeLine(terminal.stderr, 'Apply cancelled: nothing changed.');
      return ExitCode.failure;
    }
    approved = entriesOfPlan(view.plan);
    approval = 'the plan shown';
  }

  const progress = createProgress(terminal.stderr, 'apply');
  let report;
  try {
    report = await runtime.reconciler.reconcile({
      trigger: 'cli',
      accountIds,
      onPlan: (plan) => {
        // The run's own plan, made just now: it runs only if it is the one approved.
        if (approved) {
          const changes = planChanges(approved, entriesOfPlan(plan));
          if (changes.length > 0) {
            throw new CliError(`Macie or the desired table changed since ${approval}: nothing applied.`, [
              ...changes.slice(0, 20),
              ...(changes.length > 20 ? [`… and ${changes.length - 20} more`] : []),
              'Make a new plan and look at it again.',
            ]);
          }
        }
        progress.start(plannedWork(plan).length);
      },
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
