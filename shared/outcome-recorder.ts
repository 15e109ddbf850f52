import pLimit from 'p-limit';
import type { DeadLetter } from '#shared/domain/dead-letters';
import type { ExecutionOutcome, FailureEpisodes } from '#shared/domain/outcomes';
import { deadLettersFor, isKnownFailure, observationsToRecord } from '#shared/domain/outcomes';
import type { DeadLetterPublisher, DesiredMembershipStore, UnsentLetter } from '#shared/ports';

export interface RecorderPorts {
  store: Pick<DesiredMembershipStore, 'recordObservations'>;
  deadLetters: DeadLetterPublisher;
}

export interface Settled {
  /** Every letter written, sent or not. */
  deadLetters: DeadLetter[];
  unsent: UnsentLetter[];
  knownFailures: number;
  /** Observation writes the table refused; the run reports them and fails. */
  notRecorded: unknown[];
}

// Observation writes are single-item updates; this keeps a large run from flooding the table.
const RECORD_CONCURRENCY = 16;

/**
 * Dead-letters what failed and writes back what changed, for a batch of outcomes. Letters go
 * first: an observation marks its letter as sent (the planner and the next run read that mark to
 * send each once per episode), so it may say so only for the letters that went out.
 */
export async function settleOutcomes(ports: RecorderPorts, outcomes: readonly ExecutionOutcome[], at: string, episodes: FailureEpisodes): Promise<Settled> {
  const deadLetters = deadLettersFor(outcomes, at, episodes);
  const unsent = deadLetters.length > 0 ? await ports.deadLetters.publish(deadLetters) : [];
  const observations = observationsToRecord(outcomes, at, { unsent: unsent.map(({ letter }) => letter), episodes });
  const limit = pLimit(RECORD_CONCURRENCY);
  const recorded = await Promise.allSettled(
    [...observations].map(([accountId, perRegion]) => limit(() => ports.store.recordObservations(accountId, perRegion))),
  );
  return {
    deadLetters,
    unsent,
    knownFailures: outcomes.filter((outcome) => isKnownFailure(outcome, at, episodes)).length,
    notRecorded: recorded.flatMap((result) => (result.status === 'rejected' ? [result.reason] : [])),
  };
}

/**
 * Settles outcomes as they arrive, a few at a time, so a long unit's results reach the table (and
 * its failures the dead-letter queue) while it runs, not all at its end.
 */
export class OutcomeStream {
  private buffer: ExecutionOutcome[] = [];
  private readonly settling: Array<Promise<Settled>> = [];

  constructor(
    private readonly ports: RecorderPorts,
    private readonly episodes: FailureEpisodes,
    private readonly now: () => Date,
    private readonly chunkSize = 25,
  ) {}

  add(outcome: ExecutionOutcome): void {
    this.buffer.push(outcome);
    if (this.buffer.length >= this.chunkSize) this.settleBuffer();
  }

  /** Settles what is left and waits for every chunk: the totals of the whole stream. */
  async flush(): Promise<Settled> {
    this.settleBuffer();
    const chunks = await Promise.all(this.settling);
    return {
      deadLetters: chunks.flatMap((chunk) => chunk.deadLetters),
      unsent: chunks.flatMap((chunk) => chunk.unsent),
      knownFailures: chunks.reduce((sum, chunk) => sum + chunk.knownFailures, 0),
      notRecorded: chunks.flatMap((chunk) => chunk.notRecorded),
    };
  }

  private settleBuffer(): void {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer;
    this.buffer = [];
    this.settling.push(settleOutcomes(this.ports, chunk, this.now().toISOString(), this.episodes));
  }
}
