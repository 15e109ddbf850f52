/**
 * `status`: desired vs observed per account and region — what the table asks, what the last run
 * recorded in the row, and what Macie lists right now — plus counts by relationship status,
 * unmanaged members and queue depths. Reads only. Exits 1 when something could not be read (a
 * corrupt row of the table included).
 */
import { desiredStateIn } from '#shared/domain/plan';
import { OBSERVED_STATUSES, type DesiredMember, type DesiredState, type MembershipType, type ObservedStatus, type PlanVerdict } from '#shared/domain/types';
import { fleetRunState, type FleetRun } from '#shared/domain/fleet-run';
import type { PlanView } from '#shared/reconciler';
import type { ServiceRuntime } from '#shared/runtime';
import { renderTable } from '#shared/text/table';
import { ExitCode } from '#cli/errors';
import {
  JSON_SCHEMA_VERSION,
  MEMBERSHIP_TYPE_LABELS,
  VERDICT_LABELS,
  VERDICT_STYLES,
  corruptRowLine,
  maskedEmail,
  paintFor,
  plural,
  safeText,
  shortTime,
  writeJson,
  writeLines,
  type Paint,
  type Terminal,
} from '#cli/format';
import { QUEUE_LABELS, type QueueDepth, type ServiceQueues } from '#cli/queues';

export interface StatusCommandOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'reconciler' | 'runs'>;
  queues: Pick<ServiceQueues, 'depths'>;
  terminal: Terminal;
  json?: boolean;
  accountIds?: readonly string[];
}

export async function runStatus({ runtime, queues, terminal, json = false, accountIds }: StatusCommandOptions): Promise<number> {
  const [view, depths, fleetRun] = await Promise.all([runtime.reconciler.plan(accountIds), queues.depths(), runtime.runs.latest()]);
  const document = statusDocument(view, depths, runtime.config, fleetRun);
  if (json) writeJson(terminal.stdout, document);
  else writeLines(terminal.stdout, renderStatus(document, paintFor(terminal)));
  const incomplete = view.unobserved.length > 0 || view.corruptRows.length > 0 || depths.some((depth) => depth.error);
  return incomplete ? ExitCode.failure : ExitCode.ok;
}

interface RegionStatus {
  region: string;
  /** What the table wants in this region. */
  desired: DesiredState;
  /** What Macie lists now; `null` when it could not be observed. */
  live: ObservedStatus | null;
  /** How the account is a member (as listed), or will be (as planned); `null` when neither. */
  membershipType: MembershipType | null;
  /** What the last reconciliation recorded in the row. */
  recorded: { relationshipStatus: string; lastAction: string | null; lastError: string | null; at: string } | null;
  /** The planner's verdict on it now; `null` when not observed. */
  verdict: PlanVerdict | null;
  reason: string | null;
}

export type StatusDocument = ReturnType<typeof statusDocument>;

export function statusDocument(view: PlanView, depths: readonly QueueDepth[], config: StatusCommandOptions['runtime']['config'], fleetRun?: FleetRun) {
  const items = new Map(view.plan.items.map((item) => [`${item.accountId}/${item.region}`, item]));
  const live = new Map(view.observed.map((member) => [`${member.accountId}/${member.region}`, member.relationshipStatus]));
  const unobserved = (region: string, accountId: string) =>
    view.unobserved.some((entry) => entry.region === region && (entry.accountId === undefined || entry.accountId === accountId));

  const accounts = [...view.rows]
    .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0))
    .map((row) => ({
      accountId: row.accountId,
      email: row.email,
      desiredState: row.desiredState,
      regions: row.regions ?? null,
      tags: row.tags,
      autoAccept: row.autoAccept,
      paused: row.paused,
      requestedBy: row.requestedBy,
      requestedAt: row.requestedAt,
      requestId: row.requestId ?? null,
      regionStates: config.managedRegions.map((region): RegionStatus => {
        const item = items.get(`${row.accountId}/${region}`);
        const seen = !unobserved(region, row.accountId);
        return {
          region,
          desired: desiredStateIn(row, region),
          live: seen ? (live.get(`${row.accountId}/${region}`) ?? 'NotListed') : null,
          membershipType: item?.membershipType ?? null,
          recorded: recordedIn(row, region),
          verdict: item?.verdict ?? null,
          reason: item?.reason ?? null,
        };
      }),
    }));

  // Every member Macie lists (managed or not), plus desired members it does not list at all.
  const countsByStatus: Record<string, Record<string, number>> = {};
  for (const region of config.managedRegions) countsByStatus[region] = {};
  for (const member of view.observed) {
    const counts = countsByStatus[member.region];
    if (counts) counts[member.relationshipStatus] = (counts[member.relationshipStatus] ?? 0) + 1;
  }
  for (const account of accounts) {
    for (const state of account.regionStates) {
      if (state.desired === 'member' && state.live === 'NotListed') {
        const counts = countsByStatus[state.region]!;
        counts.NotListed = (counts.NotListed ?? 0) + 1;
      }
    }
  }

  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    administratorAccountId: config.administratorAccountId,
    managedRegions: [...config.managedRegions],
    desiredMembersTable: config.desiredMembersTable,
    accounts,
    countsByStatus,
    unmanaged: view.plan.unmanaged.map(({ accountId, region, observedStatus, membershipType }) => ({
      accountId,
      region,
      relationshipStatus: observedStatus,
      membershipType: membershipType ?? null,
    })),
    unobserved: view.unobserved.map(({ region, accountId, operation, code, message }) => ({
      region,
      accountId: accountId ?? null,
      operation,
      code,
      message,
    })),
    corruptRows: view.corruptRows,
    /** The latest scheduled run that fanned out over the work queue; `null` when none has. */
    fleetRun: fleetRun ? { ...fleetRun, state: fleetRunState(fleetRun) } : null,
    queues: depths.map((depth) => ({
      queue: depth.role,
      url: depth.url,
      messages: depth.messages ?? null,
      error: depth.error ?? null,
    })),
  };
}

/** Where the latest fanned-out scheduled run stands: planning, running (units done of queued), or finished, with its outcomes. */
function fleetRunLines(run: NonNullable<StatusDocument['fleetRun']>, paint: Paint): string[] {
  const state = run.state === 'finished' ? 'finished' : run.state === 'running' ? paint('yellow', 'running') : paint('yellow', 'planning');
  const lines = [`Fleet run ${run.runId} (${run.trigger}), started ${shortTime(run.startedAt)}: ${state}`];
  if (!run.plan) return lines;
  const units = `${run.unitsDone} of ${plural(run.unitsQueued, 'work unit')} done` + (run.unitsNotQueued > 0 ? paint('red', `, ${run.unitsNotQueued} not queued`) : '');
  lines.push(
    `  planned ${shortTime(run.plan.plannedAt)}: ${plural(run.plan.planned, 'account-region')}, ${run.plan.inSync} in sync, ${run.plan.queuedItems} queued; ${units}`,
  );
  const { done, pending, failed, deferred } = run.outcomes;
  const failedText = failed > 0 ? paint('red', `${failed} failed`) : `${failed} failed`;
  lines.push(`  outcomes so far: ${done} changed, ${pending} pending, ${failedText}, ${deferred} deferred; ${run.deadLettered} dead-lettered` + (run.lastUnitAt ? ` (last unit ${shortTime(run.lastUnitAt)})` : ''));
  return lines;
}

function recordedIn(row: DesiredMember, region: string): RegionStatus['recorded'] {
  const state = row.observed[region];
  if (!state) return null;
  return { relationshipStatus: state.relationshipStatus, lastAction: state.lastAction ?? null, lastError: state.lastError ?? null, at: state.at };
}


function renderStatus(document: StatusDocument, paint: Paint): string[] {
  const memberRows = document.accounts.filter((account) => account.desiredState === 'member').length;
  const lines = [
    `Macie membership status for administrator ${document.administratorAccountId}, regions ${document.managedRegions.join(', ')}`,
    `Desired table ${document.desiredMembersTable}: ${plural(document.accounts.length, 'account')} ` +
      `(${memberRows} member, ${document.accounts.length - memberRows} absent)`,
    '',
  ];

  const problems: string[] = [];
  const rows = [['ACCOUNT', 'EMAIL', 'REGION', 'DESIRED', 'LIVE', 'TYPE', 'RECORDED', 'LAST ACTION', 'RECORDED AT', 'PLAN']];
  for (const account of document.accounts) {
    for (const state of account.regionStates) {
      rows.push([
        account.accountId,
        maskedEmail(account.email),
        state.region,
        state.desired,
        state.live ?? '?',
        state.membershipType ? MEMBERSHIP_TYPE_LABELS[state.membershipType] : '-',
        state.recorded?.relationshipStatus ?? '-',
        state.recorded?.lastAction ?? '-',
        shortTime(state.recorded?.at),
        state.verdict ? paint(VERDICT_STYLES[state.verdict], VERDICT_LABELS[state.verdict]) : paint('red', '?'),
      ]);
      if (state.recorded?.lastError) {
        problems.push(`  ${account.accountId} ${state.region} ${state.recorded.lastAction ?? ''}: ${safeText(state.recorded.lastError)}`);
      }
    }
  }
  lines.push(document.accounts.length > 0 ? renderTable(rows) : 'The desired table is empty: add accounts with `enroll` or `import`.');
  if (problems.length > 0) lines.push('', paint('red', 'Last errors recorded by the reconciler:'), ...problems);

  const statuses = OBSERVED_STATUSES.filter((status) =>
    document.managedRegions.some((region) => (document.countsByStatus[region]?.[status] ?? 0) > 0),
  );
  lines.push('', 'Members by relationship status (live ListMembers; NotListed = desired but not a member):');
  if (statuses.length === 0) {
    lines.push('  none');
  } else {
    lines.push(
      renderTable([
        ['STATUS', ...document.managedRegions, 'TOTAL'],
        ...statuses.map((status) => {
          const perRegion = document.managedRegions.map((region) => document.countsByStatus[region]?.[status] ?? 0);
          return [status, ...perRegion.map(String), String(perRegion.reduce((sum, count) => sum + count, 0))];
        }),
      ]),
    );
  }

  lines.push('', `Unmanaged members (listed in Macie, not in the table): ${document.unmanaged.length === 0 ? 'none' : ''}`.trimEnd());
  if (document.unmanaged.length > 0) {
    lines.push(
      renderTable([
        ['ACCOUNT', 'REGION', 'STATUS', 'TYPE'],
        ...document.unmanaged.map((member) => [
          member.accountId,
          member.region,
          member.relationshipStatus,
          member.membershipType ? MEMBERSHIP_TYPE_LABELS[member.membershipType] : '-',
        ]),
      ]),
    );
  }

  if (document.unobserved.length > 0) {
    lines.push('', paint('red', 'Not observed (shown as ? above):'));
    for (const entry of document.unobserved) {
      lines.push(`  ${entry.region} ${entry.accountId ?? '(every account)'}: ${entry.operation} ${entry.code}: ${safeText(entry.message)}`);
    }
  }

  if (document.corruptRows.length > 0) {
    lines.push('', paint('red', 'Corrupt rows (not reconciled until fixed in the table):'), ...document.corruptRows.map(corruptRowLine));
  }

  if (document.fleetRun) lines.push('', ...fleetRunLines(document.fleetRun, paint));

  lines.push(
    '',
    'Queues:',
    renderTable([
      ['QUEUE', 'MESSAGES', 'URL'],
      ...document.queues.map((queue) => [
        QUEUE_LABELS[queue.queue],
        queue.messages !== null
          ? queue.queue !== 'requests' && queue.messages > 0
            ? paint('red', String(queue.messages))
            : String(queue.messages)
          : paint('red', `? (${queue.error?.code}: ${safeText(queue.error?.message ?? '')})`),
        queue.url,
      ]),
    ]),
  );
  const waiting = document.queues.filter((queue) => queue.queue !== 'requests' && (queue.messages ?? 0) > 0);
  if (waiting.length > 0) lines.push('Dead letters are waiting: fix their cause, then `macie-members redrive` replays them.');
  return lines;
}
