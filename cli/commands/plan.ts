/**
 * `plan`: what the next reconciliation would do, per account and region, with the reason, changing
 * nothing. `Reconciler.plan()` only reads (Scan/BatchGetItem, ListMembers/GetMember), so this
 * command makes no write anywhere.
 *
 * Exit codes, like `terraform plan -detailed-exitcode`: 0 no drift, 2 drift, 1 error. A plan that
 * could not observe some region or account is incomplete and ends with 1 even when it shows drift:
 * neither "no drift" nor "this is all the drift" would be true. So is a plan that left out a
 * corrupt row of the table.
 */
import { describeAction, hasDrift, hasWork, summarizePlan, type PlanSummary } from '#shared/domain/plan';
import type { CorruptRow } from '#shared/domain/desired-row';
import type { TableSyncChange } from '#shared/domain/table-sync';
import type { MembershipAction, MembershipType, PlannedMembership, PlannedOrganizationSetting, Unobserved } from '#shared/domain/types';
import { toAwsCallError } from '#shared/errors';
import { planOrganizationSync } from '#shared/organization-sync';
import type { PlanView } from '#shared/reconciler';
import { organizationSyncSettings, type ServiceRuntime } from '#shared/runtime';
import { renderTable } from '#shared/text/table';
import { ExitCode } from '#cli/errors';
import {
  JSON_SCHEMA_VERSION,
  MARKER_STYLES,
  MEMBERSHIP_TYPE_LABELS,
  VERDICT_LABELS,
  VERDICT_STYLES,
  paintFor,
  paintedLegend,
  type Paint,
  corruptRowLine,
  countList,
  plural,
  planMarker,
  safeText,
  writeJson,
  writeLine,
  writeLines,
  type Terminal,
} from '#cli/format';
import { savePlan } from '#cli/saved-plan';

export interface PlanCommandOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'reconciler' | 'store' | 'organization'>;
  terminal: Terminal;
  /** Save the plan to this file, for `apply FILE`. */
  out?: string;
  now?: Date;
  json?: boolean;
  /** Plan only these accounts. */
  accountIds?: readonly string[];
  /** Also list the account-regions that are in sync. */
  all?: boolean;
}

export async function runPlan({ runtime, terminal, json = false, accountIds, all = false, out, now = new Date() }: PlanCommandOptions): Promise<number> {
  const [view, sync] = await Promise.all([runtime.reconciler.plan(accountIds), syncPlanOf(runtime, accountIds)]);
  const drift = hasDrift(view.plan) || (sync?.changes?.length ?? 0) > 0;
  const complete = view.unobserved.length === 0 && view.corruptRows.length === 0 && sync?.error === undefined;
  const notInTable = accountsNotInTable(view, accountIds);
  // An account the operator named but the table lacks is most often a typo: "no drift" would hide it.
  const exitCode = !complete || notInTable.length > 0 ? ExitCode.failure : drift ? ExitCode.drift : ExitCode.ok;
  const document = planDocument(view, runtime.config, { accountIds, drift, complete, notInTable, sync });
  if (json) writeJson(terminal.stdout, document);
  else writeLines(terminal.stdout, renderPlan(view, runtime.config, { accountIds, drift, all, notInTable, sync, applyHint: out === undefined }, paintFor(terminal)));
  if (out !== undefined) {
    const notes = json ? terminal.stderr : terminal.stdout;
    if (!complete || notInTable.length > 0) {
      // An incomplete plan cannot be applied exactly: what it left out is unknown.
      writeLine(notes, `Not saved to ${out}: the plan is incomplete (see above).`);
    } else {
      await savePlan(out, document, runtime.config, now);
      writeLines(notes, [`Saved the plan to ${out}.`, `To make exactly these changes, run \`macie-members apply ${out}\`: it refuses if Macie or the table changed since.`]);
    }
  }
  return exitCode;
}

/** What the table sync would change before the next scheduled run, when it is on (a full plan only). */
export interface SyncPlan {
  changes?: TableSyncChange[];
  error?: { operation: string; code: string; message: string };
}

async function syncPlanOf(runtime: PlanCommandOptions['runtime'], accountIds: readonly string[] | undefined): Promise<SyncPlan | undefined> {
  if (!runtime.config.organizationSync.enabled || accountIds !== undefined) return undefined;
  try {
    return { changes: (await planOrganizationSync(runtime, organizationSyncSettings(runtime.config))).changes };
  } catch (error) {
    const { operation, code, message } = toAwsCallError('ListAccounts', error);
    return { error: { operation, code, message } };
  }
}

/** The `--account` accounts that have no row in the table (a corrupt row counts as a row). */
export function accountsNotInTable(view: Pick<PlanView, 'rows' | 'corruptRows'>, accountIds: readonly string[] | undefined): string[] {
  if (!accountIds) return [];
  const known = new Set([...view.rows, ...view.corruptRows].map((row) => row.accountId));
  return accountIds.filter((accountId) => !known.has(accountId));
}

export interface PlanDocument {
  schemaVersion: number;
  administratorAccountId: string;
  managedRegions: string[];
  /** The accounts a targeted plan covered; `null` for every desired account. */
  accountIds: string[] | null;
  /** False when some region or account could not be observed (see `unobserved`), or a row could not be read (`corruptRows`). */
  complete: boolean;
  drift: boolean;
  summary: PlanSummary;
  items: Array<{
    accountId: string;
    region: string;
    desiredState: string;
    observedStatus: string;
    verdict: string;
    reason: string;
    /** How the account is a member (as listed), or will be (as planned); `null` when neither. */
    membershipType: MembershipType | null;
    actions: MembershipAction[];
  }>;
  unmanaged: Array<{ accountId: string; region: string; relationshipStatus: string; membershipType: MembershipType | null; actions: MembershipAction[] }>;
  /** Macie's autoEnable per administered region, when it is configured. */
  organizationSettings: PlannedOrganizationSetting[];
  /** What the table sync would change; `null` when it is off (or the plan is targeted). */
  tableSync: SyncPlan | null;
  unobserved: Array<{ region: string; accountId: string | null; operation: string; code: string; message: string }>;
  corruptRows: CorruptRow[];
  /** What the planner left out (unobserved, corrupt), with its reason. */
  notPlanned: Array<{ region: string | null; accountId: string | null; reason: string }>;
  /** `--account` accounts the table has no row for: nothing is planned for them (exit code 1). */
  notInTable: string[];
}

/** The machine-readable plan (`--json`). Emails appear as they are in the table: scripts need the real values. */
export function planDocument(
  view: PlanView,
  config: PlanCommandOptions['runtime']['config'],
  meta: { accountIds?: readonly string[]; drift: boolean; complete: boolean; notInTable?: readonly string[]; sync?: SyncPlan },
): PlanDocument {
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    administratorAccountId: config.administratorAccountId,
    managedRegions: [...config.managedRegions],
    accountIds: meta.accountIds ? [...meta.accountIds] : null,
    complete: meta.complete,
    drift: meta.drift,
    summary: summarizePlan(view.plan),
    items: view.plan.items.map((item) => ({
      accountId: item.accountId,
      region: item.region,
      desiredState: item.desiredState,
      observedStatus: item.observedStatus,
      verdict: item.verdict,
      reason: item.reason,
      membershipType: item.membershipType ?? null,
      actions: item.actions,
    })),
    unmanaged: view.plan.unmanaged.map((member) => ({
      accountId: member.accountId,
      region: member.region,
      relationshipStatus: member.observedStatus,
      membershipType: member.membershipType ?? null,
      actions: member.actions,
    })),
    organizationSettings: view.plan.organizationSettings,
    tableSync: meta.sync ?? null,
    unobserved: view.unobserved.map(unobservedEntry),
    corruptRows: view.corruptRows,
    notPlanned: view.plan.notPlanned.map(({ region, accountId, reason }) => ({ region: region ?? null, accountId: accountId ?? null, reason })),
    notInTable: [...(meta.notInTable ?? [])],
  };
}

function unobservedEntry(entry: Unobserved): PlanDocument['unobserved'][number] {
  return { region: entry.region, accountId: entry.accountId ?? null, operation: entry.operation, code: entry.code, message: entry.message };
}

export function renderPlan(
  view: PlanView,
  config: PlanCommandOptions['runtime']['config'],
  {
    accountIds,
    drift,
    all,
    notInTable,
    sync,
    applyHint = true,
  }: { accountIds?: readonly string[]; drift: boolean; all: boolean; notInTable: readonly string[]; sync?: SyncPlan; applyHint?: boolean },
  paint: Paint,
): string[] {
  const { plan } = view;
  const summary = summarizePlan(plan);
  const accounts = new Set(plan.items.map((item) => item.accountId)).size;
  const scope = accountIds ? `account${accountIds.length === 1 ? '' : 's'} ${accountIds.join(', ')}` : 'every desired account';
  const lines = [
    `Macie membership plan for administrator ${config.administratorAccountId}, ${scope}, regions ${config.managedRegions.join(', ')}`,
    `${plural(accounts, 'account')} in the table, ${plural(summary.items, 'account-region')}: ${countList(summary.byVerdict, VERDICT_LABELS)}`,
  ];
  if (notInTable.length > 0) {
    lines.push(
      '',
      paint('red', `Not in the desired table, so nothing is planned for ${notInTable.length === 1 ? 'it' : 'them'}: ${notInTable.join(', ')}`),
      '  Check the account ID; `macie-members enroll` adds an account (plan lists a Macie member the table lacks as unmanaged).',
    );
  }

  const shown = plan.items.filter((item) => all || item.verdict !== 'inSync');
  if (shown.length > 0) {
    lines.push('', paintedLegend(paint), '');
    for (const group of groupRegions(shown)) lines.push(...renderGroup(group, paint));
  }

  if (plan.unmanaged.length > 0) {
    const pruning = plan.unmanaged.some(hasWork);
    lines.push(
      '',
      pruning
        ? 'Unmanaged members (listed in Macie, not in the table): PRUNE_UNMANAGED is on, they will be removed'
        : 'Unmanaged members (listed in Macie, not in the table): left alone (PRUNE_UNMANAGED is off)',
      renderTable([
        ['ACCOUNT', 'REGION', 'STATUS', 'ACTIONS'],
        ...plan.unmanaged.map((member) => [
          member.accountId,
          member.region,
          member.observedStatus,
          member.actions.length > 0 ? member.actions.map(describeAction).join('; ') : 'none',
        ]),
      ]),
    );
  }

  const settings = plan.organizationSettings.filter((setting) => all || setting.verdict === 'change');
  if (settings.length > 0) {
    lines.push('', 'Macie organization configuration (regions where this administrator is the delegated one):');
    for (const setting of settings) lines.push(`  ${setting.region}: ${safeText(setting.reason)}`);
  }

  if (sync?.changes && sync.changes.length > 0) {
    lines.push('', 'Table sync from the organization (ORGANIZATION_SYNC is on), before the next scheduled run:');
    for (const change of sync.changes) {
      lines.push(`  ${change.kind === 'enroll' ? paint('green', '+') : paint('red', '-')} ${change.accountId}: ${change.kind === 'enroll' ? 'add' : 'remove'} the row (${safeText(change.reason)})`);
    }
  } else if (sync?.error) {
    lines.push('', paint('red', `Table sync not planned (the plan is incomplete): ${sync.error.operation} ${sync.error.code}: ${safeText(sync.error.message)}`));
  }

  if (view.unobserved.length > 0) {
    lines.push('', paint('red', 'Not observed, so left out of this plan (the plan is incomplete):'));
    for (const entry of view.unobserved) {
      lines.push(`  ${entry.region} ${entry.accountId ?? '(every account)'}: ${entry.operation} ${entry.code}: ${safeText(entry.message)}`);
    }
  }

  if (view.corruptRows.length > 0) {
    lines.push('', paint('red', 'Corrupt rows, left out of this plan (the plan is incomplete; fix them in the table):'));
    lines.push(...view.corruptRows.map(corruptRowLine));
  }

  lines.push('');
  const actionCounts = countList(summary.actionsByKind);
  const settingChanges = plan.organizationSettings.filter((setting) => setting.verdict === 'change').length;
  if (drift) {
    lines.push(
      paint(
        'bold',
        `Plan: ${plural(summary.byVerdict.change + summary.pruning, 'account-region')} to change (actions: ${actionCounts})` +
          (summary.byVerdict.deadLetter > 0 ? `, ${summary.byVerdict.deadLetter} to dead-letter for an operator` : '') +
          (settingChanges > 0 ? `, ${plural(settingChanges, 'organization setting')} to update` : '') +
          (sync?.changes?.length ? `, ${plural(sync.changes.length, 'table row')} to sync` : '') +
          '.',
      ),
    );
    if (applyHint) {
      lines.push(`Run \`macie-members apply${accountIds ? ` --account ${accountIds.join(' ')}` : ''}\` to make these changes now, or wait for the schedule.`);
    }
  } else if (notInTable.length > 0 && plan.items.length === 0) {
    lines.push(paint('red', 'Nothing planned: none of the accounts asked for is in the desired table.'));
  } else {
    lines.push(paint('green', 'No changes: Macie matches the desired table.'));
  }
  return lines;
}

/**
 * An account usually needs the same thing in every region; saying it once per account (with the
 * regions listed) keeps a large plan readable without hiding any difference between regions.
 */
function groupRegions(items: readonly PlannedMembership[]): Array<{ item: PlannedMembership; regions: string[] }> {
  const groups: Array<{ item: PlannedMembership; regions: string[]; key: string }> = [];
  for (const item of items) {
    const key = JSON.stringify([item.accountId, item.observedStatus, item.membershipType, item.desiredState, item.verdict, item.reason, item.actions.map(describeAction)]);
    const last = groups[groups.length - 1];
    if (last?.key === key) last.regions.push(item.region);
    else groups.push({ item, regions: [item.region], key });
  }
  return groups;
}

function renderGroup({ item, regions }: { item: PlannedMembership; regions: string[] }, paint: Paint): string[] {
  const marker = planMarker(item);
  const style = MARKER_STYLES[marker] ?? 'dim';
  return [
    `${' '.repeat(3 - marker.length)}${paint(style, marker)} ${item.accountId} ${regions.join(', ')}: ${item.observedStatus} -> ${item.desiredState}` +
      `${item.membershipType ? ` [${MEMBERSHIP_TYPE_LABELS[item.membershipType]}]` : ''} ` +
      `(${paint(VERDICT_STYLES[item.verdict], VERDICT_LABELS[item.verdict])})`,
    `      ${safeText(item.reason)}`,
    ...item.actions.map((action, index) => `      ${index + 1}. ${describeAction(action)}`),
  ];
}
