import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { leaseAccounts, releaseLeases } from '#shared/leases';
import type { DeadLetter } from '#shared/domain/dead-letters';
import type { ExecutionOutcome, OrganizationSettingOutcome, RunSummary } from '#shared/domain/outcomes';
import { heldByAnotherRun, summarizeRun } from '#shared/domain/outcomes';
import { hasWork, planMemberships, type PlanningPolicy } from '#shared/domain/plan';
import type { DesiredMember, MembershipPlan, ObservedMember, PlannedMembership, Unobserved } from '#shared/domain/types';
import type { CorruptRow } from '#shared/domain/desired-row';
import type { MembershipMode, OrganizationView } from '#shared/domain/organization';
import { observeOrganization } from '#shared/organization-view';
import type { DeadLetterPublisher, DesiredMembershipStore, DesiredRows, OrganizationAccount, OrganizationDirectory, UnsentLetter } from '#shared/ports';
import type { ExecutionPorts, ExecutionSettings, WorkBudget } from '#shared/executor';
import { executePlan } from '#shared/executor';
import { toAwsCallError } from '#shared/errors';
import { settleOutcomes } from '#shared/outcome-recorder';
import { applyOrganizationSettings } from '#shared/organization-settings';

export interface ReconcilerPorts extends ExecutionPorts {
  store: DesiredMembershipStore;
  deadLetters: DeadLetterPublisher;
  /** The organization, read to enroll its accounts through Organizations; without it, every account is invited. */
  organization?: OrganizationDirectory;
  /** Where the run summary goes: logs and metrics in Lambda, the terminal in the CLI. */
  report?: (summary: RunSummary, unsent: readonly UnsentLetter[]) => void;
  now?: () => Date;
}

export interface ReconcilerSettings extends ExecutionSettings {
  managedRegions: readonly string[];
  pruneUnmanaged: boolean;
  /** How long a run's lease on an account lasts: longer than any run (a Lambda runs 15 minutes at most). */
  leaseMs: number;
  /** A failure that goes on is dead-lettered again only after this long. */
  deadLetterQuietPeriodMs: number;
  invitation: ExecutionSettings['invitation'] & { message: string | undefined };
  membershipMode: MembershipMode;
  /** Macie's `autoEnable` wanted in every region the administrator administers; left alone when undefined. */
  autoEnable: boolean | undefined;
}

export interface ReconcileOptions {
  /** What started the run, for the summary: `schedule`, `onboarding`, `requests`, `cli`. */
  trigger: string;
  /** The organization's accounts, when the caller has just listed them (the table sync): a full run does not list them again. */
  organizationAccounts?: readonly OrganizationAccount[];
  /** Reconcile only these accounts (targeted); every desired account when omitted. */
  accountIds?: readonly string[];
  /**
   * The rows of `accountIds`, when the caller holds them already (the intake has just recorded
   * them): the run does not read them again. Ignored without `accountIds`. The trade-off: a request
   * recorded by another writer in the moments between is not seen by this run; its own intake
   * reconciles it (and the lease keeps the two from acting on the account at once).
   */
  rows?: readonly DesiredMember[];
  budget?: WorkBudget;
  onOutcome?: (outcome: ExecutionOutcome) => void;
  /** Called once the plan is known, before anything runs (progress bars size themselves from it). */
  onPlan?: (plan: MembershipPlan) => void;
}

export interface PlanView {
  rows: DesiredMember[];
  /** Rows the table holds but that break the row schema: nothing is planned for their accounts. */
  corruptRows: CorruptRow[];
  observed: ObservedMember[];
  /** What could not be read; the planner left it out (see `plan.notPlanned`). */
  unobserved: Unobserved[];
  /** What the run read of the organization; absent when it did not (invitation mode, no directory, no organization). */
  organization: OrganizationView | undefined;
  plan: MembershipPlan;
}

export interface ReconcileReport extends PlanView {
  outcomes: ExecutionOutcome[];
  /** Every letter the run wrote, sent or not. */
  deadLetters: DeadLetter[];
  /** The letters the queue would not take: the next run writes them again (their items are not marked). */
  unsentDeadLetters: UnsentLetter[];
  /** The organization configuration updates the run made or tried. */
  organizationSettings: OrganizationSettingOutcome[];
  summary: RunSummary;
}

/** Load desired rows, observe Macie, plan, execute, record outcomes, dead-letter failures, report. */
export class Reconciler {
  constructor(
    private readonly ports: ReconcilerPorts,
    private readonly settings: ReconcilerSettings,
  ) {}

  /** The plan for every desired account (or the named ones, whose rows the caller may hold already), changing nothing. */
  async plan(accountIds?: readonly string[], knownRows?: readonly DesiredMember[], organizationAccounts?: readonly OrganizationAccount[]): Promise<PlanView> {
    const targeted = accountIds !== undefined;
    const [{ rows, corrupt }, members, organization] = await Promise.all([
      this.loadRows(accountIds, knownRows),
      targeted ? this.observeAccounts(accountIds) : this.observeAll(),
      this.settings.membershipMode === 'invitation' || !this.ports.organization
        ? { view: undefined, unobserved: [] }
        : observeOrganization({ macie: this.ports.macie, organization: this.ports.organization }, this.settings, accountIds, organizationAccounts),
    ]);
    const observation = { members: members.members, unobserved: [...members.unobserved, ...organization.unobserved] };
    const plan = planMemberships(
      rows,
      observation.members,
      { ...planningPolicy(this.settings, this.settings.managedRegions, organization.view), onlyAccounts: targeted ? new Set(accountIds) : undefined },
      { unobserved: observation.unobserved, corruptAccounts: corrupt.map((row) => row.accountId) },
    );
    return { rows, corruptRows: corrupt, observed: observation.members, unobserved: observation.unobserved, organization: organization.view, plan };
  }

  private async loadRows(accountIds: readonly string[] | undefined, knownRows: readonly DesiredMember[] | undefined): Promise<DesiredRows> {
    if (accountIds === undefined) return this.ports.store.listAll();
    if (knownRows !== undefined) return { rows: [...knownRows], corrupt: [] };
    return this.ports.store.getMany(accountIds);
  }

  async reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
    const started = this.now().getTime();
    const view = await this.plan(options.accountIds, options.rows, options.organizationAccounts);
    options.onPlan?.(view.plan);
    const holder = randomUUID();
    const accountsWithWork = view.plan.items.filter(hasWork).map((item) => item.accountId);
    const nowMs = this.now().getTime();
    const leased = await leaseAccounts(this.ports.store, accountsWithWork, holder, nowMs, nowMs + this.settings.leaseMs);
    try {
      return await this.execute(view, leased, options, started);
    } finally {
      await releaseLeases(this.ports.store, leased, holder);
    }
  }

  private now(): Date {
    return this.ports.now?.() ?? new Date();
  }

  private async execute(view: PlanView, leased: ReadonlySet<string>, options: ReconcileOptions, started: number): Promise<ReconcileReport> {
    const isHeldElsewhere = (item: PlannedMembership) => hasWork(item) && !leased.has(item.accountId);
    const held = view.plan.items.filter(isHeldElsewhere).map(heldByAnotherRun);
    for (const outcome of held) options.onOutcome?.(outcome);
    const organizationSettings = await applyOrganizationSettings(this.ports.macie, view.plan.organizationSettings);
    const executed = await executePlan({ items: view.plan.items.filter((item) => !isHeldElsewhere(item)), unmanaged: view.plan.unmanaged }, this.ports, this.settings, {
      budget: options.budget,
      onOutcome: options.onOutcome,
    });
    const outcomes = [...executed, ...held];

    const at = this.now().toISOString();
    const settled = await settleOutcomes(this.ports, outcomes, at, { quietPeriodMs: this.settings.deadLetterQuietPeriodMs });
    const { deadLetters, unsent } = settled;

    const summary = summarizeRun({
      trigger: options.trigger,
      outcomes,
      unmanaged: view.plan.unmanaged.length,
      unobserved: view.unobserved,
      corruptRows: view.corruptRows,
      deadLettered: deadLetters.length - unsent.length,
      deadLettersUnsent: unsent.length,
      knownFailures: settled.knownFailures,
      organizationSettings,
      durationMs: this.now().getTime() - started,
    });
    this.ports.report?.(summary, unsent);
    // The run is reported either way; a failure to keep its record is the run's failure.
    if (settled.notRecorded.length > 0) throw settled.notRecorded[0];
    return { ...view, outcomes, deadLetters, unsentDeadLetters: unsent, organizationSettings, summary };
  }

  private async observeAll(): Promise<Observation> {
    const results = await Promise.all(
      this.settings.managedRegions.map(async (region) => {
        try {
          return { members: await this.ports.macie.listMembers(region), unobserved: [] };
        } catch (error) {
          return { members: [], unobserved: [unobservedFrom(region, undefined, error)] };
        }
      }),
    );
    return { members: results.flatMap((r) => r.members), unobserved: results.flatMap((r) => r.unobserved) };
  }

  /**
   * A targeted run (one onboarding event, one SQS batch) asks about its few accounts directly
   * rather than paging through every member of a large fleet.
   */
  private async observeAccounts(accountIds: readonly string[]): Promise<Observation> {
    const unique = [...new Set(accountIds)];
    const limit = pLimit(this.settings.concurrency.administratorCallsPerRegion);
    const observation: Observation = { members: [], unobserved: [] };
    await Promise.all(
      this.settings.managedRegions.flatMap((region) =>
        unique.map((accountId) =>
          limit(async () => {
            try {
              const member = await this.ports.macie.getMember(region, accountId);
              if (member) observation.members.push(member);
            } catch (error) {
              observation.unobserved.push(unobservedFrom(region, accountId, error));
            }
          }),
        ),
      ),
    );
    return observation;
  }
}

/**
 * Accounts a targeted run did not finish with: unreadable (alone, or with their whole region), left
 * for the deadline, or failed with a dead letter the queue would not take. Their requests should be
 * delivered again rather than wait for the schedule.
 */
export function accountsToRetry(report: Pick<ReconcileReport, 'unobserved' | 'outcomes' | 'rows' | 'unsentDeadLetters'>): Set<string> {
  const retry = new Set<string>();
  const wholeRegionUnread = report.unobserved.some((entry) => entry.accountId === undefined);
  if (wholeRegionUnread) for (const row of report.rows) retry.add(row.accountId);
  for (const entry of report.unobserved) if (entry.accountId) retry.add(entry.accountId);
  for (const outcome of report.outcomes) if (outcome.status === 'deferred') retry.add(outcome.item.accountId);
  // A failure whose letter could not be sent would otherwise be lost with the request.
  for (const { letter } of report.unsentDeadLetters) retry.add(String(letter.request.accountId));
  return retry;
}

interface Observation {
  members: ObservedMember[];
  unobserved: Unobserved[];
}

/** The planner's policy from the service's settings, for these regions and what was read of the organization. */
export function planningPolicy(
  settings: Pick<ReconcilerSettings, 'administratorAccountId' | 'pruneUnmanaged' | 'invitation' | 'membershipMode' | 'autoEnable'>,
  regions: readonly string[],
  organization: OrganizationView | undefined,
): PlanningPolicy {
  return {
    administratorAccountId: settings.administratorAccountId,
    managedRegions: [...regions],
    pruneUnmanaged: settings.pruneUnmanaged,
    invitationMessage: settings.invitation.message,
    membershipMode: settings.membershipMode,
    organization,
    autoEnable: settings.autoEnable,
  };
}

/** A membership that could not be read: a whole region (`ListMembers`), or one account (`GetMember`). */
export function unobservedFrom(region: string, accountId: string | undefined, error: unknown): Unobserved {
  const failure = toAwsCallError(accountId ? 'GetMember' : 'ListMembers', error);
  return { region, accountId, operation: failure.operation, code: failure.code, message: failure.message };
}
