import type { RunSummary } from '#shared/domain/outcomes';
import { isFleetPlanSummary, type FleetPlanSummary } from '#shared/fleet-planner';

/** The scheduled run's summary when it ran in one invocation (no work queue configured), as these tests expect. */
export async function oneInvocation(run: Promise<RunSummary | FleetPlanSummary>): Promise<RunSummary> {
  const summary = await run;
  if (isFleetPlanSummary(summary)) throw new Error('the scheduled run fanned out; this test expects it in one invocation (WORK_QUEUE_URL unset)');
  return summary;
}
