/**
 * A fleet run: a scheduled run fanned out over the work queue. The planner starts it, each worker
 * adds its unit's outcomes, and `status` reads where it stands. Pure.
 */
import type { OutcomeStatus } from '#shared/domain/outcomes';
import { OUTCOME_STATUSES } from '#shared/domain/outcomes';
import { zeroCounts } from '#shared/domain/types';

/** What the planner knows once every region is planned. */
export interface FleetRunPlan {
  accounts: number;
  regions: number;
  /** Account-regions planned, and how many of them went into units (the rest needed no call). */
  planned: number;
  queuedItems: number;
  inSync: number;
  unmanaged: number;
  /** Regions or accounts that could not be read, and corrupt rows: planned for never. */
  unobserved: number;
  corruptRows: number;
  plannedAt: string;
}

export interface FleetRun {
  runId: string;
  trigger: string;
  startedAt: string;
  /** Absent while the planner is still at work. */
  plan?: FleetRunPlan;
  /** Units put on the queue (a remainder re-queued at a deadline counts as one more), and those it would not take. */
  unitsQueued: number;
  unitsNotQueued: number;
  unitsDone: number;
  /** The workers' outcomes, summed over the units done. */
  outcomes: Record<OutcomeStatus, number>;
  deadLettered: number;
  lastUnitAt?: string;
}

/** One unit's contribution to its run's record. */
export interface UnitProgress {
  runId: string;
  outcomes: Record<OutcomeStatus, number>;
  deadLettered: number;
  /** The unit left a remainder on the queue: one more unit to wait for. */
  remainderQueued: boolean;
  at: string;
}

export type FleetRunState = 'planning' | 'running' | 'finished';

/**
 * Finished once planned and every unit queued is done (or was refused by the queue). Units are
 * delivered at least once, so a unit run twice after a crash counts twice: the counts are progress,
 * not an audit; the table's observations are the record.
 */
export function fleetRunState(run: Pick<FleetRun, 'plan' | 'unitsQueued' | 'unitsNotQueued' | 'unitsDone'>): FleetRunState {
  if (!run.plan) return 'planning';
  return run.unitsDone + run.unitsNotQueued >= run.unitsQueued ? 'finished' : 'running';
}

export function emptyOutcomeCounts(): Record<OutcomeStatus, number> {
  return zeroCounts(OUTCOME_STATUSES);
}
