/**
 * The ports: what the core (intake, reconciler, executor) needs from the outside world, in the
 * domain's words. Each outside system has one adapter folder that implements its port and only
 * translates (`shared/macie/`, `shared/store/`, `shared/deadletter/`, `shared/organizations/`).
 * Tests swap an adapter for a recording one without touching the core.
 */
import type { DeadLetter } from '#shared/domain/dead-letters';
import type { CorruptRow } from '#shared/domain/desired-row';
import type { FleetRun, FleetRunPlan, UnitProgress } from '#shared/domain/fleet-run';
import type { OrganizationConfiguration } from '#shared/domain/organization';
import type { WorkUnit } from '#shared/domain/work-units';
import type { DesiredMember, ObservedMember, ObservedRegionState, Tags } from '#shared/domain/types';

// ---- Macie, administrator side ----------------------------------------------------------------

/** An `unprocessedAccounts` entry of `CreateInvitations`. */
export interface UnprocessedAccount {
  accountId: string;
  errorCode: string;
  errorMessage: string;
}

export interface InvitationOptions {
  message: string | undefined;
  sendEmail: boolean;
}

/** What the reconciler needs from Macie on the administrator's side, one region at a time. */
export interface MacieAdministrator {
  listMembers(region: string): Promise<ObservedMember[]>;
  /** One account's membership, or `undefined` when Macie does not list it. */
  getMember(region: string, accountId: string): Promise<ObservedMember | undefined>;
  createMember(region: string, accountId: string, email: string, tags: Tags): Promise<void>;
  createInvitations(region: string, accountIds: string[], options: InvitationOptions): Promise<UnprocessedAccount[]>;
  disassociateMember(region: string, accountId: string): Promise<void>;
  deleteMember(region: string, accountId: string): Promise<void>;
  updateMemberSession(region: string, accountId: string, status: 'ENABLED' | 'PAUSED'): Promise<void>;
  tagMember(region: string, arn: string, tags: Tags): Promise<void>;
  untagMember(region: string, arn: string, tagKeys: string[]): Promise<void>;
  /** Macie's organization configuration; answers access-denied where the caller is not the delegated administrator. */
  describeOrganizationConfiguration(region: string): Promise<OrganizationConfiguration>;
  updateOrganizationConfiguration(region: string, autoEnable: boolean): Promise<void>;
}

// ---- Macie, member side -----------------------------------------------------------------------

export type AcceptanceResult = 'accepted' | 'invitationNotVisible';

/** Runs a burst of member-side calls, e.g. inside a concurrency limiter. */
export type CallScheduler = <T>(calls: () => Promise<T>) => Promise<T>;

export interface AcceptanceOptions {
  /**
   * Wraps each burst of calls, never the waits between polls: the executor passes its member-side
   * limiter here, so an acceptance waiting for its invitation to arrive holds no slot that another
   * account's calls could use.
   */
  schedule?: CallScheduler;
  /**
   * When CreateInvitations answered for this account and region, if this run invited it: the
   * first look waits until the invitation can be visible. Absent: the invitation is older than
   * the run, so the first look goes at once.
   */
  invitedAt?: number;
}

/** What the reconciler needs from inside a member account. */
export interface MemberAccountAcceptor {
  /**
   * Enables Macie if needed, finds the administrator's invitation (polling briefly, since
   * invitations take a moment to reach the member) and accepts it.
   */
  acceptInvitationInMemberAccount(
    accountId: string,
    region: string,
    administratorAccountId: string,
    options?: AcceptanceOptions,
  ): Promise<AcceptanceResult>;
  /**
   * Starts what an acceptance in this account will need (the member role's session) without
   * waiting for it, so that it overlaps the administrator's side of the work.
   */
  prepareAcceptance?(accountId: string, region: string): void;
}

// ---- The desired-membership table -------------------------------------------------------------

/** The desired part of a row: what a request or an operator says. */
export type DesiredMemberWrite = Omit<DesiredMember, 'observed' | 'version'>;

export type DesiredWriteResult = 'written' | 'superseded';

/** Rows as read: the readable ones, and the corrupt ones (reported, never planned for). */
export interface DesiredRows {
  rows: DesiredMember[];
  corrupt: CorruptRow[];
}

/** The desired-membership table, as the reconciler and the functions use it. */
export interface DesiredMembershipStore {
  listAll(): Promise<DesiredRows>;
  /** The rows of these accounts that exist; an account without a row is in neither list. */
  getMany(accountIds: readonly string[]): Promise<DesiredRows>;
  /**
   * Records what is desired for an account. Returns `superseded` (and writes nothing) when the row
   * already holds this request or a newer one: redelivered and out-of-order requests change nothing.
   * With `expectedVersion`, writes only while the row is still at that version (0: no row yet), and
   * also returns `superseded` when it is not: the caller merged with a row that has since changed.
   */
  recordDesired(member: DesiredMemberWrite, expectedVersion?: number): Promise<DesiredWriteResult>;
  /** Records observations for some regions of an existing row, leaving the other regions and the desired fields alone. */
  recordObservations(accountId: string, observations: Readonly<Record<string, ObservedRegionState>>): Promise<void>;
  /**
   * Takes the account's lease for `holder` until `untilMs`, unless another holder's lease is still
   * running at `nowMs`: overlapping runs (a schedule, an SQS batch, an onboarding event) then never
   * work on one account at once. False when another run holds it, or the row is gone.
   */
  acquireLease(accountId: string, holder: string, nowMs: number, untilMs: number): Promise<boolean>;
  /** Gives the lease back, if `holder` still has it. */
  releaseLease(accountId: string, holder: string): Promise<void>;
  /** Read and write capacity units consumed so far (the benchmarks report them). */
  consumedCapacity(): { read: number; write: number };
}

// ---- Dead letters -----------------------------------------------------------------------------

/** A dead letter the queue would not take, and why. */
export interface UnsentLetter {
  letter: DeadLetter;
  code: string;
  message: string;
}

/** Where everything that could not be done goes, with its reason, so nothing is silently lost. */
export interface DeadLetterPublisher {
  /**
   * Sends every letter it can; never throws. Returns the letters that could not be sent, which the
   * caller keeps for another try (the next run, or SQS redelivering the request).
   */
  publish(letters: readonly DeadLetter[]): Promise<UnsentLetter[]>;
}

// ---- AWS Organizations ------------------------------------------------------------------------

export interface OrganizationAccount {
  accountId: string;
  email: string;
  name: string | undefined;
  status: string | undefined;
}

/**
 * What the service needs from AWS Organizations: an account (its email, whether it is active;
 * `AccountNotFoundException` when it is not in the organization), and the list of accounts.
 */
export interface OrganizationDirectory {
  describeAccount(accountId: string): Promise<OrganizationAccount>;
  /** Every account; `onPage` sees each page as it arrives, so a caller can start on the first ones. */
  listAccounts(onPage?: (accounts: readonly OrganizationAccount[]) => void): Promise<OrganizationAccount[]>;
  describeOrganization(): Promise<{ organizationId: string; managementAccountId: string }>;
}

// ---- The work queue and the fleet run's record ------------------------------------------------

/** A unit the queue would not take, and why. */
export interface UnqueuedUnit {
  unit: WorkUnit;
  code: string;
  message: string;
}

/** Where a scheduled run puts its work for the worker function (an SQS FIFO queue grouped by region). */
export interface WorkQueue {
  /** Sends every unit it can; never throws. Returns the units the queue would not take. */
  send(units: readonly WorkUnit[]): Promise<UnqueuedUnit[]>;
}

/** The latest fleet run's progress and result, kept in the desired-membership table. */
export interface FleetRunLog {
  /** Starts a run's record, replacing the previous run's. */
  start(run: Pick<FleetRun, 'runId' | 'trigger' | 'startedAt'>): Promise<void>;
  /** Counts units about to be queued (before they are sent, so no worker can finish one first), or refused by the queue. */
  addUnits(runId: string, queued: number, notQueued: number): Promise<void>;
  /** Records that every region is planned. */
  planned(runId: string, plan: FleetRunPlan): Promise<void>;
  /** Adds a unit's outcomes; `false` when a newer run has replaced this run's record. */
  recordUnit(progress: UnitProgress): Promise<boolean>;
  latest(): Promise<FleetRun | undefined>;
}
