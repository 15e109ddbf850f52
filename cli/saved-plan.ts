/**
 * Saved plans (`plan --out FILE`, `apply FILE`) and the check that makes an apply run exactly the
 * plan an operator saw: the plan the run makes is compared, item by item, with the one approved
 * (what Macie listed for each account-region, what the table asked, the actions); any difference
 * stops the run before its first action.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { MembershipPlan } from '#shared/domain/types';
import type { ServiceConfig } from '#shared/config';
import { CliError } from '#cli/errors';
import type { PlanDocument } from '#cli/commands/plan';

export const SAVED_PLAN_KIND = 'macie-members-plan';

export interface SavedPlan {
  kind: typeof SAVED_PLAN_KIND;
  schemaVersion: 1;
  createdAt: string;
  desiredMembersTable: string;
  plan: PlanDocument;
}

/** One account-region as the plan saw it and what it would do there. */
export interface PlannedEntry {
  accountId: string;
  region: string;
  unmanaged: boolean;
  observedStatus: string;
  desiredState: string;
  verdict: string;
  /** The actions, as JSON: compared whole. */
  actions: string;
}

type PlanConfig = Pick<Readonly<ServiceConfig>, 'administratorAccountId' | 'managedRegions' | 'desiredMembersTable'>;

/** Writes the plan for `apply FILE`. Only the owner may read it: it carries the members' emails. */
export async function savePlan(path: string, plan: PlanDocument, config: PlanConfig, now: Date): Promise<void> {
  const saved: SavedPlan = { kind: SAVED_PLAN_KIND, schemaVersion: 1, createdAt: now.toISOString(), desiredMembersTable: config.desiredMembersTable, plan };
  await writeFile(path, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
}

/** Reads a saved plan and checks it was made for this configuration and is complete. */
export async function loadPlan(path: string, config: PlanConfig): Promise<SavedPlan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the plan file ${path}: ${(error as Error).message}`);
  }
  let saved: SavedPlan;
  try {
    saved = JSON.parse(text) as SavedPlan;
  } catch {
    throw new CliError(`${path} is not a saved plan: it is not JSON.`, ['Save one with `macie-members plan --out FILE`.']);
  }
  if (saved?.kind !== SAVED_PLAN_KIND || saved.schemaVersion !== 1 || !Array.isArray(saved.plan?.items)) {
    throw new CliError(`${path} is not a saved plan of this version of macie-members.`, ['Save one with `macie-members plan --out FILE`.']);
  }
  const { plan } = saved;
  const mismatches = [
    plan.administratorAccountId !== config.administratorAccountId &&
      `administrator ${plan.administratorAccountId} in the plan, ${config.administratorAccountId} here`,
    plan.managedRegions.join(',') !== config.managedRegions.join(',') &&
      `regions ${plan.managedRegions.join(', ')} in the plan, ${config.managedRegions.join(', ')} here`,
    saved.desiredMembersTable !== config.desiredMembersTable && `table ${saved.desiredMembersTable} in the plan, ${config.desiredMembersTable} here`,
  ].filter((mismatch): mismatch is string => typeof mismatch === 'string');
  if (mismatches.length > 0) throw new CliError(`${path} was made for another configuration: nothing applied.`, mismatches);
  if (!plan.complete) throw new CliError(`${path} holds an incomplete plan (something could not be read): nothing applied.`, ['Make a new plan.']);
  return saved;
}

export function entriesOfPlan(plan: MembershipPlan): PlannedEntry[] {
  return [
    ...plan.items.map((item) => entry(item, false, item.desiredState)),
    ...plan.unmanaged.map((item) => entry(item, true, 'unmanaged')),
  ];
}

export function entriesOfDocument(plan: PlanDocument): PlannedEntry[] {
  return [
    ...plan.items.map((item) => ({
      accountId: item.accountId,
      region: item.region,
      unmanaged: false,
      observedStatus: item.observedStatus,
      desiredState: item.desiredState,
      verdict: item.verdict,
      actions: JSON.stringify(item.actions),
    })),
    ...plan.unmanaged.map((member) => ({
      accountId: member.accountId,
      region: member.region,
      unmanaged: true,
      observedStatus: member.relationshipStatus,
      desiredState: 'unmanaged',
      verdict: 'unmanaged',
      actions: JSON.stringify(member.actions),
    })),
  ];
}

function entry(
  item: { accountId: string; region: string; observedStatus: string; verdict: string; actions: unknown },
  unmanaged: boolean,
  desiredState: string,
): PlannedEntry {
  return {
    accountId: item.accountId,
    region: item.region,
    unmanaged,
    observedStatus: item.observedStatus,
    desiredState,
    verdict: unmanaged ? 'unmanaged' : item.verdict,
    actions: JSON.stringify(item.actions),
  };
}

/** What differs between the approved plan and the plan of now, one line per account-region; empty when they are the same. */
export function planChanges(approved: readonly PlannedEntry[], now: readonly PlannedEntry[]): string[] {
  const key = (entry: PlannedEntry) => `${entry.accountId} ${entry.region}`;
  const before = new Map(approved.map((entry) => [key(entry), entry]));
  const after = new Map(now.map((entry) => [key(entry), entry]));
  const changes: string[] = [];
  for (const [name, was] of before) {
    const is = after.get(name);
    if (!is) changes.push(`${name}: in the plan, not planned now (${was.unmanaged ? 'no longer listed by Macie' : 'no longer in the table'})`);
    else if (was.observedStatus !== is.observedStatus) changes.push(`${name}: Macie lists it as ${is.observedStatus} now, the plan saw ${was.observedStatus}`);
    else if (was.desiredState !== is.desiredState) changes.push(`${name}: the table asks ${is.desiredState} now, the plan had ${was.desiredState}`);
    else if (was.verdict !== is.verdict || was.actions !== is.actions) changes.push(`${name}: the planned actions differ now (the desired row changed)`);
  }
  for (const [name, is] of after) {
    if (!before.has(name)) changes.push(`${name}: planned now, not in the plan (${is.unmanaged ? `Macie lists it as ${is.observedStatus}` : 'new in the table'})`);
  }
  return changes.sort();
}
