import type { DeadLetter } from '#shared/domain/dead-letters';
import { replayRequestFor } from '#shared/domain/dead-letters';
import type { CorruptRow } from '#shared/domain/desired-row';
import { isUnprocessedAccountFailure } from '#shared/domain/macie-answers';
import { DEAD_LETTER_ACTION } from '#shared/domain/plan';
import type {
  MembershipActionKind,
  ObservedRegionState,
  ObservedStatus,
  PlannedMembership,
  PlanVerdict,
  Unobserved,
} from '#shared/domain/types';
import { PLAN_VERDICTS, zeroCounts } from '#shared/domain/types';

/**
 * What happened to one planned account × region when the executor ran it:
 * - `done`: every action succeeded;
 * - `pending`: the actions that could run did; the rest waits on the member (invitation not yet visible);
 * - `failed`: an action failed after the SDK's retries (or Macie left the account unprocessed);
 * - `deferred`: the run stopped starting new work before the deadline; the next run continues;
 * - `noop`: the plan had nothing to run (in sync, pending, skipped, dead-lettered by the planner).
 */
export const OUTCOME_STATUSES = ['done', 'pending', 'failed', 'deferred', 'noop'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

export interface ActionFailure {
  action: MembershipActionKind;
  operation: string;
  code: string;
  message: string;
  attempts: number;
}

export interface ExecutionOutcome {
  /** The planned item; an unmanaged member (pruned) is one without a `row`. */
  item: PlannedMembership;
  status: OutcomeStatus;
  /** The steps that succeeded: always the first steps of `item.actions`, in order. */
  completed: MembershipActionKind[];
  failure?: ActionFailure;
  /** The status seen after the actions, when the executor looked (otherwise derived from them). */
  observedAfter?: ObservedStatus;
  note?: string;
}

/** An item left alone because another run holds its account's lease: deferred, as at a deadline. */
export function heldByAnotherRun(item: PlannedMembership): ExecutionOutcome {
  return { item, status: 'deferred', completed: [], note: 'another run is working on this account; it is left to that run' };
}

/** The status the last completed step left, unless the executor looked afterwards. */
export function statusAfter(outcome: ExecutionOutcome): ObservedStatus {
  if (outcome.observedAfter) return outcome.observedAfter;
  const last = outcome.item.actions[outcome.completed.length - 1];
  return last?.leaves ?? outcome.item.observedStatus;
}

/**
 * How the run treats a failure that is not new: the same account, region, operation and cause as
 * the episode its row says was dead-lettered less than `quietPeriodMs` ago. Its letter is not
 * written again (an alarm on the queue would stay in alarm for ever and never fire for the next new
 * problem); after the quiet period it is, as a reminder.
 */
export interface FailureEpisodes {
  quietPeriodMs: number;
}

/** A failure's episode: what failed and why, not the words of this time. */
export function episodeOf(failure: Pick<ActionFailure, 'operation' | 'code'>): string {
  return `${failure.operation}/${failure.code}`;
}

/** True for a failure whose episode was dead-lettered within the quiet period. */
export function isKnownFailure(outcome: ExecutionOutcome, at: string, { quietPeriodMs }: FailureEpisodes): boolean {
  const sent = outcome.failure && outcome.item.row?.observed[outcome.item.region]?.letterSent;
  if (!sent || sent.episode !== episodeOf(outcome.failure!)) return false;
  return Date.parse(at) - Date.parse(sent.at) < quietPeriodMs;
}

/**
 * The observations worth writing back to the table, per account and region. Nothing is written
 * when nothing changed, so a run over a fleet with no drift makes no writes at all. `unsent` are
 * the letters the queue would not take: their items keep no mark of a letter, so the next run
 * writes them again.
 */
export function observationsToRecord(
  outcomes: readonly ExecutionOutcome[],
  at: string,
  { unsent = [], episodes = { quietPeriodMs: 0 } }: { unsent?: readonly DeadLetter[]; episodes?: FailureEpisodes } = {},
): Map<string, Record<string, ObservedRegionState>> {
  const unsentFor = new Set(unsent.map(({ request, region }) => `${String(request.accountId)}/${region ?? ''}`));
  const writes = new Map<string, Record<string, ObservedRegionState>>();
  for (const outcome of outcomes) {
    const { row } = outcome.item;
    if (!row) continue;
    const previous = row.observed[outcome.item.region];
    const letter = isKnownFailure(outcome, at, episodes) ? 'known' : unsentFor.has(`${row.accountId}/${outcome.item.region}`) ? 'unsent' : 'sent';
    const next = nextObservation(outcome, previous, at, letter);
    if (!next) continue;
    const perRegion = writes.get(row.accountId) ?? {};
    perRegion[outcome.item.region] = next;
    writes.set(row.accountId, perRegion);
  }
  return writes;
}

function nextObservation(
  outcome: ExecutionOutcome,
  previous: ObservedRegionState | undefined,
  at: string,
  letter: 'sent' | 'unsent' | 'known',
): ObservedRegionState | undefined {
  const { item } = outcome;
  const tookAction = outcome.completed.length > 0 || outcome.failure !== undefined;
  if (tookAction) {
    const lastAction = outcome.failure?.action ?? outcome.completed[outcome.completed.length - 1];
    const letterSent =
      outcome.failure === undefined ? undefined : letter === 'sent' ? { episode: episodeOf(outcome.failure), at } : letter === 'known' ? previous?.letterSent : undefined;
    return {
      relationshipStatus: statusAfter(outcome),
      lastAction,
      ...(outcome.failure ? { lastError: `${outcome.failure.code}: ${outcome.failure.message}` } : {}),
      ...(letterSent ? { letterSent } : {}),
      at,
    };
  }
  if (item.verdict === 'deadLetter') {
    // Unsent, it must stay unmarked so the next run sends it.
    if (letter === 'unsent') return undefined;
    if (previous?.relationshipStatus === item.observedStatus && previous.lastAction === DEAD_LETTER_ACTION) return undefined;
    return { relationshipStatus: item.observedStatus, lastAction: DEAD_LETTER_ACTION, lastError: item.reason, at };
  }
  // A deferred item keeps its old record, so the next run sees it exactly as this one did.
  if (outcome.status === 'deferred') return undefined;
  const status = statusAfter(outcome);
  if (previous?.relationshipStatus === status) return undefined;
  return { relationshipStatus: status, ...(previous?.lastAction ? { lastAction: previous.lastAction } : {}), at };
}

/**
 * Every new failure, and every planner verdict that needs a human, as a replayable dead letter. A
 * failure of an episode already dead-lettered within the quiet period writes none.
 */
export function deadLettersFor(outcomes: readonly ExecutionOutcome[], at: string, episodes: FailureEpisodes = { quietPeriodMs: 0 }): DeadLetter[] {
  const letters: DeadLetter[] = [];
  for (const outcome of outcomes) {
    const { item } = outcome;
    const { row } = item;
    const request = row
      ? replayRequestFor(row)
      : { action: 'remove', accountId: item.accountId, note: 'unmanaged member, pruned' };
    if (outcome.failure) {
      if (isKnownFailure(outcome, at, episodes)) continue;
      letters.push({
        request,
        reason: isUnprocessedAccountFailure(outcome.failure) ? 'unprocessed-account' : 'action-failed',
        operation: outcome.failure.operation,
        errorCode: outcome.failure.code,
        errorMessage: outcome.failure.message,
        region: item.region,
        attempts: outcome.failure.attempts,
        at,
      });
    } else if (item.verdict === 'deadLetter') {
      letters.push({
        request,
        reason: 'needs-operator',
        operation: 'plan',
        errorCode: item.observedStatus,
        errorMessage: item.reason,
        region: item.region,
        attempts: 0,
        at,
      });
    }
  }
  return letters;
}

/** An organization configuration update a run made (`done`) or tried (`failed`, with Macie's answer). */
export interface OrganizationSettingOutcome {
  region: string;
  autoEnable: boolean;
  status: 'done' | 'failed';
  code?: string;
  message?: string;
}

export interface RunSummary {
  trigger: string;
  accounts: number;
  regions: number;
  planned: number;
  byVerdict: Record<PlanVerdict, number>;
  byOutcome: Record<OutcomeStatus, number>;
  /** Per action kind: how many were attempted, succeeded and failed. */
  byAction: Partial<Record<MembershipActionKind, { attempted: number; succeeded: number; failed: number }>>;
  byObservedStatus: Partial<Record<ObservedStatus, number>>;
  unmanaged: number;
  /** Accounts or whole regions (no accountId) that could not be observed, and so were not planned. */
  unobserved: Array<Omit<Unobserved, 'operation'>>;
  /** Rows that break the row schema, and so were not planned: an operator must fix them. */
  corruptRows: CorruptRow[];
  /** Dead letters sent. */
  deadLettered: number;
  /** Dead letters the queue would not take; kept for another try (the next run, or SQS redelivery). */
  deadLettersUnsent: number;
  /** Failures new to this run (dead-lettered), and failures of an episode already dead-lettered within the quiet period. */
  failuresNew: number;
  failuresKnown: number;
  failures: Array<{ accountId: string; region: string; action: MembershipActionKind; code: string; message: string }>;
  /** Organization configuration updates, per region; the failed ones are planned again by the next run. */
  organizationSettings: OrganizationSettingOutcome[];
  durationMs: number;
}

export function summarizeRun(input: {
  trigger: string;
  outcomes: readonly ExecutionOutcome[];
  unmanaged: number;
  unobserved: readonly Unobserved[];
  corruptRows: readonly CorruptRow[];
  deadLettered: number;
  deadLettersUnsent?: number;
  /** How many of the failures belong to an episode already dead-lettered within the quiet period. */
  knownFailures?: number;
  organizationSettings?: readonly OrganizationSettingOutcome[];
  durationMs: number;
}): RunSummary {
  const byVerdict = zeroCounts(PLAN_VERDICTS);
  const byOutcome = zeroCounts(OUTCOME_STATUSES);
  const byAction: RunSummary['byAction'] = {};
  const byObservedStatus: RunSummary['byObservedStatus'] = {};
  const accounts = new Set<string>();
  const regions = new Set<string>();
  const failures: RunSummary['failures'] = [];
  for (const outcome of input.outcomes) {
    const { item } = outcome;
    if (item.row) {
      accounts.add(item.accountId);
      byVerdict[item.verdict] += 1;
      byObservedStatus[item.observedStatus] = (byObservedStatus[item.observedStatus] ?? 0) + 1;
    }
    regions.add(item.region);
    byOutcome[outcome.status] += 1;
    for (const kind of outcome.completed) {
      const counts = (byAction[kind] ??= { attempted: 0, succeeded: 0, failed: 0 });
      counts.attempted += 1;
      counts.succeeded += 1;
    }
    if (outcome.failure) {
      const counts = (byAction[outcome.failure.action] ??= { attempted: 0, succeeded: 0, failed: 0 });
      counts.attempted += 1;
      counts.failed += 1;
      failures.push({
        accountId: item.accountId,
        region: item.region,
        action: outcome.failure.action,
        code: outcome.failure.code,
        message: outcome.failure.message,
      });
    }
  }
  return {
    trigger: input.trigger,
    accounts: accounts.size,
    regions: regions.size,
    planned: input.outcomes.length,
    byVerdict,
    byOutcome,
    byAction,
    byObservedStatus,
    unmanaged: input.unmanaged,
    unobserved: input.unobserved.map(({ region, accountId, code, message }) => ({ region, accountId, code, message })),
    corruptRows: [...input.corruptRows],
    deadLettered: input.deadLettered,
    deadLettersUnsent: input.deadLettersUnsent ?? 0,
    failuresNew: failures.length - (input.knownFailures ?? 0),
    failuresKnown: input.knownFailures ?? 0,
    failures,
    organizationSettings: [...(input.organizationSettings ?? [])],
    durationMs: input.durationMs,
  };
}
