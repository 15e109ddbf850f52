import type { ExecutionOutcome, OutcomeStatus } from '#shared/domain/outcomes';
import { heldByAnotherRun } from '#shared/domain/outcomes';
import { emptyOutcomeCounts } from '#shared/domain/fleet-run';
import { remainderOf, type WorkUnit } from '#shared/domain/work-units';
import { executePlan, type ExecutionPorts, type ExecutionSettings, type WorkBudget } from '#shared/executor';
import { LeaseTaker } from '#shared/leases';
import { OutcomeStream, type Settled } from '#shared/outcome-recorder';
import type { DeadLetterPublisher, DesiredMembershipStore, FleetRunLog, WorkQueue } from '#shared/ports';

export interface WorkerPorts extends ExecutionPorts {
  store: DesiredMembershipStore;
  deadLetters: DeadLetterPublisher;
  workQueue: WorkQueue;
  runs: FleetRunLog;
  now: () => Date;
}

export interface WorkerSettings extends ExecutionSettings {
  leaseMs: number;
  deadLetterQuietPeriodMs: number;
}

export interface UnitReport {
  runId: string;
  unitId: string;
  region: string;
  items: number;
  outcomes: Record<OutcomeStatus, number>;
  /** Items left for the remainder unit (the invocation's deadline came first). */
  remainder: number;
  settled: Omit<Settled, 'deadLetters'> & { deadLettered: number };
  /** False when a newer run replaced this run's record: the unit's work is done all the same. */
  progressRecorded: boolean;
}

/** The remainder could not be queued: the unit must come back whole rather than lose its rest. */
export class RemainderNotQueued extends Error {}

/**
 * Runs one work unit inside one worker invocation: leases its accounts for the run, executes the
 * planned steps, settles outcomes as they arrive (dead letters, then observations), and when the
 * deadline stops it, queues what is left at once as a new unit of the same region.
 */
export async function runWorkUnit(ports: WorkerPorts, settings: WorkerSettings, unit: WorkUnit, budget: WorkBudget): Promise<UnitReport> {
  const nowMs = ports.now().getTime();
  // One holder per run: the regions' units of one scheduled run share an account's lease.
  const leases = new LeaseTaker(ports.store, unit.runId, nowMs, nowMs + settings.leaseMs);
  const stream = new OutcomeStream(ports, { quietPeriodMs: settings.deadLetterQuietPeriodMs }, ports.now);

  let executed: ExecutionOutcome[];
  let settled: Settled;
  try {
    executed = await executePlan({ items: unit.items, unmanaged: [] }, ports, settings, {
      budget,
      onOutcome: (outcome) => stream.add(outcome),
      admit: async (item) => ((await leases.take(item.accountId)) ? undefined : heldByAnotherRun(item)),
    });
    settled = await stream.flush();
  } finally {
    await leases.release();
  }

  // Held items are another run's: the next schedule plans them again, with what that run left.
  const remainder = remainderOf(
    unit,
    executed.filter((outcome) => !leases.refused.has(outcome.item.accountId)),
  );
  if (remainder) {
    const [unqueued] = await ports.workQueue.send([remainder]);
    if (unqueued) throw new RemainderNotQueued(`the remainder of unit ${unit.unitId} (${remainder.items.length} items) was not queued: ${unqueued.code}: ${unqueued.message}`);
  }

  const outcomes = emptyOutcomeCounts();
  for (const outcome of executed) outcomes[outcome.status] += 1;
  // Items carried over to the remainder are counted when the remainder runs.
  if (remainder) outcomes.deferred -= remainder.items.length;
  const deadLettered = settled.deadLetters.length - settled.unsent.length;
  const progressRecorded = await ports.runs.recordUnit({
    runId: unit.runId,
    outcomes,
    deadLettered,
    remainderQueued: remainder !== undefined,
    at: ports.now().toISOString(),
  });
  return {
    runId: unit.runId,
    unitId: unit.unitId,
    region: unit.region,
    items: unit.items.length,
    outcomes,
    remainder: remainder?.items.length ?? 0,
    settled: { unsent: settled.unsent, knownFailures: settled.knownFailures, notRecorded: settled.notRecorded, deadLettered },
    progressRecorded,
  };
}
