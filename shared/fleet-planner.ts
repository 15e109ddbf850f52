import { randomUUID } from 'node:crypto';
import type { OrganizationSettingOutcome } from '#shared/domain/outcomes';
import type { CorruptRow } from '#shared/domain/desired-row';
import type { FleetRunPlan } from '#shared/domain/fleet-run';
import { hasWork, planMemberships, regionNeedsOrganization } from '#shared/domain/plan';
import type { OrganizationView } from '#shared/domain/organization';
import type { DesiredMember, PlannedMembership, PlanVerdict, Unobserved } from '#shared/domain/types';
import { PLAN_VERDICTS, zeroCounts } from '#shared/domain/types';
import { unitsForRegion, type UnitLimits, type WorkUnit } from '#shared/domain/work-units';
import { applyOrganizationSettings } from '#shared/organization-settings';
import { observeOrganization, type OrganizationReadProgress } from '#shared/organization-view';
import { settleOutcomes } from '#shared/outcome-recorder';
import type {
  DeadLetterPublisher,
  DesiredMembershipStore,
  FleetRunLog,
  MacieAdministrator,
  OrganizationAccount,
  OrganizationDirectory,
  UnqueuedUnit,
  UnsentLetter,
  WorkQueue,
} from '#shared/ports';
import { planningPolicy, unobservedFrom, type ReconcilerSettings } from '#shared/reconciler';

export interface FleetPlannerPorts {
  store: DesiredMembershipStore;
  deadLetters: DeadLetterPublisher;
  macie: MacieAdministrator;
  organization?: OrganizationDirectory;
  workQueue: WorkQueue;
  runs: FleetRunLog;
  now?: () => Date;
}

export interface FleetPlannerSettings extends Omit<ReconcilerSettings, 'leaseMs'> {
  unitLimits: UnitLimits;
}

/** What the planner of a fleet run did; the workers' outcomes are in the run's record (`status`). */
export interface FleetPlanSummary {
  runId: string;
  trigger: string;
  accounts: number;
  regions: number;
  planned: number;
  byVerdict: Record<PlanVerdict, number>;
  /** Account-regions put on the work queue, in how many units; units the queue refused are not worked this period. */
  itemsQueued: number;
  unitsQueued: number;
  unitsNotQueued: Array<{ region: string; unitId: string; items: number; code: string; message: string }>;
  unmanaged: number;
  unobserved: Unobserved[];
  corruptRows: CorruptRow[];
  /** Planner verdicts that need an operator, dead-lettered here (the workers dead-letter what fails). */
  deadLettered: number;
  deadLettersUnsent: UnsentLetter[];
  organizationSettings: OrganizationSettingOutcome[];
  durationMs: number;
}

interface RegionResult {
  byVerdict: Record<PlanVerdict, number>;
  planned: number;
  itemsQueued: number;
  unitsQueued: number;
  unqueued: UnqueuedUnit[];
  unmanaged: number;
  unobserved: Unobserved[];
  deadLettered: number;
  deadLettersUnsent: UnsentLetter[];
  notRecorded: unknown[];
  organizationSettings: OrganizationSettingOutcome[];
}

/**
 * The scheduled run on a large fleet: reads the table and the organization once, then lists,
 * plans and queues each region as soon as its members are listed, so the first region's workers
 * start while the other regions are still being listed. Only the items with work go on the queue;
 * the rest is settled here (an operator's dead letter, a changed observation). Nothing is kept per
 * region once its units are queued, so the planner holds the table and one listing per region.
 */
export async function planFleetRun(
  ports: FleetPlannerPorts,
  settings: FleetPlannerSettings,
  options: { trigger: string; organizationAccounts?: readonly OrganizationAccount[] },
): Promise<FleetPlanSummary> {
  const now = () => ports.now?.() ?? new Date();
  const started = now();
  const runId = randomUUID();
  await ports.runs.start({ runId, trigger: options.trigger, startedAt: started.toISOString() });

  const rows = ports.store.listAll();
  // A failed read of the table fails the run before any region is queued (nothing would be right).
  rows.catch(() => undefined);
  const noOrganization = { view: undefined, unobserved: [] as Unobserved[] };
  let organizationRead: Promise<{ view: OrganizationView | undefined; unobserved: Unobserved[] }> | undefined;
  const pages = new OrganizationPages();
  // Read once, by the first region that needs it: in `auto` mode a region in sync needs no view.
  const organization = (needed: boolean) => {
    if (settings.membershipMode === 'invitation' || !ports.organization) return Promise.resolve(noOrganization);
    if (!needed && settings.membershipMode === 'auto' && settings.autoEnable === undefined && !organizationRead) return Promise.resolve(noOrganization);
    organizationRead ??= observeOrganization(
      { macie: ports.macie, organization: ports.organization },
      settings,
      undefined,
      options.organizationAccounts,
      (progress) => pages.publish(progress),
    );
    return organizationRead;
  };

  const planRegion = async (region: string): Promise<RegionResult> => {
    const listing = await ports.macie.listMembers(region).then(
      (members) => ({ members, unobserved: [] as Unobserved[] }),
      (error: unknown) => ({ members: [], unobserved: [unobservedFrom(region, undefined, error)] }),
    );
    const { rows: desired, corrupt } = await rows;
    const corruptAccounts = corrupt.map((row) => row.accountId);
    const queue = new RegionQueue(ports, runId, region, settings.unitLimits);

    // While the organization is listed, the accounts each page finds active are planned and queued
    // at once: an account's plan depends on its row, its listing and its own place in the
    // organization, so the full plan below plans them the same, and they are not queued twice.
    const early = pages.subscribe((progress) => {
      const plan = planMemberships(
        desired,
        listing.members,
        { ...planningPolicy(settings, [region], progress.view), onlyAccounts: new Set(progress.added) },
        { unobserved: [...listing.unobserved, ...progress.unobserved.filter((entry) => entry.region === region)], corruptAccounts },
      );
      queue.add(plan.items.filter(hasWork), { partial: true });
    });
    const org = await organization(regionNeedsOrganization(desired, listing.members, region, settings.administratorAccountId)).finally(early);
    const plan = planMemberships(
      desired,
      listing.members,
      planningPolicy(settings, [region], org.view),
      { unobserved: [...listing.unobserved, ...org.unobserved.filter((entry) => entry.region === region)], corruptAccounts },
    );
    const work = [...plan.items.filter(hasWork), ...plan.unmanaged.filter(hasWork)];
    queue.add(work, { partial: false });
    const { unitsQueued, unqueued } = await queue.finish();

    const settled = await settleOutcomes(
      ports,
      plan.items.filter((item) => !hasWork(item)).map((item) => ({ item, status: 'noop' as const, completed: [] })),
      now().toISOString(),
      { quietPeriodMs: settings.deadLetterQuietPeriodMs },
    );
    const byVerdict = zeroCounts(PLAN_VERDICTS);
    for (const item of plan.items) byVerdict[item.verdict] += 1;
    return {
      byVerdict,
      planned: plan.items.length,
      itemsQueued: queue.items,
      unitsQueued,
      unqueued,
      unmanaged: plan.unmanaged.length,
      unobserved: listing.unobserved,
      deadLettered: settled.deadLetters.length - settled.unsent.length,
      deadLettersUnsent: settled.unsent,
      notRecorded: settled.notRecorded,
      organizationSettings: await applyOrganizationSettings(ports.macie, plan.organizationSettings),
    };
  };

  const regions = await Promise.all(settings.managedRegions.map(planRegion));
  const { rows: desired, corrupt } = await rows;
  const org = organizationRead ? await organizationRead : noOrganization;
  const summary = summarize(runId, options.trigger, desired, corrupt, regions, org.unobserved, now().getTime() - started.getTime());
  const plan: FleetRunPlan = {
    accounts: summary.accounts,
    regions: summary.regions,
    planned: summary.planned,
    queuedItems: summary.itemsQueued,
    inSync: summary.byVerdict.inSync,
    unmanaged: summary.unmanaged,
    unobserved: summary.unobserved.length,
    corruptRows: summary.corruptRows.length,
    plannedAt: now().toISOString(),
  };
  await ports.runs.planned(runId, plan);
  const notRecorded = regions.flatMap((region) => region.notRecorded);
  if (notRecorded.length > 0) throw notRecorded[0];
  return summary;
}

function summarize(
  runId: string,
  trigger: string,
  rows: readonly DesiredMember[],
  corruptRows: CorruptRow[],
  regions: readonly RegionResult[],
  organizationUnobserved: readonly Unobserved[],
  durationMs: number,
): FleetPlanSummary {
  const byVerdict = zeroCounts(PLAN_VERDICTS);
  for (const region of regions) for (const verdict of PLAN_VERDICTS) byVerdict[verdict] += region.byVerdict[verdict];
  const sum = (pick: (region: RegionResult) => number) => regions.reduce((total, region) => total + pick(region), 0);
  return {
    runId,
    trigger,
    accounts: rows.length,
    regions: regions.length,
    planned: sum((region) => region.planned),
    byVerdict,
    itemsQueued: sum((region) => region.itemsQueued),
    unitsQueued: sum((region) => region.unitsQueued),
    unitsNotQueued: regions.flatMap((region) =>
      region.unqueued.map(({ unit, code, message }) => ({ region: unit.region, unitId: unit.unitId, items: unit.items.length, code, message })),
    ),
    unmanaged: sum((region) => region.unmanaged),
    unobserved: [...regions.flatMap((region) => region.unobserved), ...organizationUnobserved],
    corruptRows,
    deadLettered: sum((region) => region.deadLettered),
    deadLettersUnsent: regions.flatMap((region) => region.deadLettersUnsent),
    organizationSettings: regions.flatMap((region) => region.organizationSettings),
    durationMs,
  };
}

/** Tells the scheduled run's two results apart: the fan-out's plan, or a run in one invocation. */
export function isFleetPlanSummary(summary: object): summary is FleetPlanSummary {
  return 'unitsQueued' in summary;
}

/**
 * The organization's pages as they are read, for the regions planning from them: a region that
 * subscribes late is told first of every account found so far.
 */
class OrganizationPages {
  private latest?: OrganizationReadProgress;
  private readonly listeners = new Set<(progress: OrganizationReadProgress) => void>();

  publish(progress: OrganizationReadProgress): void {
    this.latest = progress;
    for (const listener of this.listeners) listener(progress);
  }

  /** Returns the unsubscribe. */
  subscribe(listener: (progress: OrganizationReadProgress) => void): () => void {
    if (this.latest) listener({ ...this.latest, added: [...this.latest.view.activeAccounts.keys()] });
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * One region's units, sent as they fill: items planned early go out a full unit at a time, and the
 * full plan's items (less those already queued) close the region. Each unit is counted in the run's
 * record before it is sent: a worker must not finish a unit the record does not know of yet.
 */
class RegionQueue {
  /** Accounts whose item is queued or waiting in `pending`. */
  private readonly planned = new Set<string>();
  private pending: PlannedMembership[] = [];
  private sent = 0;
  private sending: Promise<void> = Promise.resolve();
  private readonly unqueued: UnqueuedUnit[] = [];
  items = 0;

  constructor(
    private readonly ports: Pick<FleetPlannerPorts, 'runs' | 'workQueue'>,
    private readonly runId: string,
    private readonly region: string,
    private readonly limits: UnitLimits,
  ) {}

  add(items: readonly PlannedMembership[], { partial }: { partial: boolean }): void {
    for (const item of items) {
      // Unmanaged members (no row) are only in the full plan; an account's item is queued once.
      if (item.row && this.planned.has(item.accountId)) continue;
      if (item.row) this.planned.add(item.accountId);
      this.pending.push(item);
      this.items += 1;
    }
    const ready = partial ? this.pending.length - (this.pending.length % this.limits.maxItems) : this.pending.length;
    if (ready === 0) return;
    const units = unitsForRegion(this.runId, this.region, this.pending.slice(0, ready), this.limits, this.sent + 1);
    this.pending = this.pending.slice(ready);
    this.sent += units.length;
    this.sending = this.sending.then(() => this.send(units));
    // A failed send surfaces in finish(); until then it must not count as unhandled.
    this.sending.catch(() => undefined);
  }

  async finish(): Promise<{ unitsQueued: number; unqueued: UnqueuedUnit[] }> {
    await this.sending;
    return { unitsQueued: this.sent, unqueued: this.unqueued };
  }

  private async send(units: WorkUnit[]): Promise<void> {
    await this.ports.runs.addUnits(this.runId, units.length, 0);
    const unqueued = await this.ports.workQueue.send(units);
    if (unqueued.length > 0) await this.ports.runs.addUnits(this.runId, 0, unqueued.length);
    this.unqueued.push(...unqueued);
  }
}
