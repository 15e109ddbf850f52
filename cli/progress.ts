/**
 * Progress of a reconciliation run on stderr: a bar on an interactive terminal, and on anything
 * else (CI logs, pipes, files) a plain line at every tenth of the work, so logs stay short.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { ExecutionOutcome } from '#shared/domain/outcomes';
import { isInteractive, writeLine } from '#cli/format';

export interface RunProgress {
  start(total: number): void;
  tick(outcome: ExecutionOutcome): void;
  stop(): void;
}

const STEPS = 10;

export function createProgress(stream: NodeJS.WritableStream, label: string): RunProgress {
  return isInteractive(stream) ? new BarProgress(stream, label) : new LineProgress(stream, label);
}

class Counts {
  total = 0;
  finished = 0;
  failed = 0;
  changed = 0;

  add(outcome: ExecutionOutcome): void {
    this.finished += 1;
    if (outcome.status === 'failed') this.failed += 1;
    if (outcome.status === 'done') this.changed += 1;
  }
}

class BarProgress implements RunProgress {
  private readonly counts = new Counts();
  private bar: SingleBar | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly label: string,
  ) {}

  start(total: number): void {
    this.counts.total = total;
    if (total === 0) return;
    this.bar = new SingleBar(
      {
        stream: this.stream,
        format: `${this.label} [{bar}] {percentage}% | {value}/{total} account-regions | {changed} changed, {failed} failed | {duration_formatted}`,
        hideCursor: true,
        barsize: 30,
      },
      Presets.shades_classic,
    );
    this.bar.start(total, 0, { changed: 0, failed: 0 });
  }

  tick(outcome: ExecutionOutcome): void {
    this.counts.add(outcome);
    this.bar?.increment(1, { changed: this.counts.changed, failed: this.counts.failed });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class LineProgress implements RunProgress {
  private readonly counts = new Counts();
  private reported = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly label: string,
  ) {}

  start(total: number): void {
    this.counts.total = total;
    writeLine(this.stream, `${this.label}: ${total} account-region${total === 1 ? '' : 's'} to go through`);
  }

  tick(outcome: ExecutionOutcome): void {
    this.counts.add(outcome);
    const { total, finished } = this.counts;
    if (total === 0) return;
    const step = Math.floor((finished * STEPS) / total);
    if (step > this.reported) {
      this.reported = step;
      const percent = Math.floor((finished * 100) / total);
      writeLine(
        this.stream,
        `${this.label}: ${percent}% (${finished}/${total}) ${this.counts.changed} changed, ${this.counts.failed} failed`,
      );
    }
  }

  stop(): void {}
}
