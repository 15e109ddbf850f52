import type { CallRecord } from '#sandbox/emulator/types';

/**
 * Every answered call, in order. Benchmarks make hundreds of thousands of calls, so a record is a few
 * short fields and the log is a plain array: no bodies, no headers.
 */
export class CallLog {
  private records: CallRecord[] = [];

  add(record: CallRecord): void {
    this.records.push(record);
  }

  /** A copy, so a caller's filtering or sorting cannot disturb the log. */
  all(): CallRecord[] {
    return this.records.slice();
  }

  clear(): void {
    this.records = [];
  }
}
