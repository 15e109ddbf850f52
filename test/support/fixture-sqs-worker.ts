import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * An SQS worker for the event source mapping tests, driven by each message's body (JSON `WorkOrder`).
 * It appends one line per invocation start and end to `$FIXTURE_LOG` (JSON), so that a test can
 * assert order and overlap from what the worker itself saw.
 */

export interface WorkOrder {
  id: string;
  /** Reported as a batch item failure while ApproximateReceiveCount <= this. */
  failReceives?: number;
  /** The invocation throws while ApproximateReceiveCount <= this. */
  throwReceives?: number;
  /** The process exits (code 1) mid-invocation while ApproximateReceiveCount <= this. */
  exitReceives?: number;
  /** Sleeps this long while ApproximateReceiveCount <= `sleepReceives` (every receive when that is unset). */
  sleepMs?: number;
  sleepReceives?: number;
  /**
   * Waits until `parties` messages naming the same barrier are being processed at once (each in its
   * own invocation), so that a test can prove overlap without depending on timing.
   */
  barrier?: { name: string; parties: number };
}

export interface FixtureLogLine {
  phase: 'start' | 'end';
  pid: number;
  at: number;
  records: Array<{ id: string; messageId: string; group?: string; receiveCount: number }>;
  failed?: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function log(line: FixtureLogLine): void {
  appendFileSync(process.env.FIXTURE_LOG!, `${JSON.stringify(line)}\n`);
}

async function meet(barrier: NonNullable<WorkOrder['barrier']>, id: string): Promise<void> {
  const directory = process.env.FIXTURE_BARRIERS!;
  writeFileSync(join(directory, `${barrier.name}--${id}`), '');
  // A generous bound: a driver that never runs the parties at once fails the test instead of hanging it.
  const deadline = Date.now() + 45_000;
  while (readdirSync(directory).filter((name) => name.startsWith(`${barrier.name}--`)).length < barrier.parties) {
    if (Date.now() > deadline) throw new Error(`barrier ${barrier.name} never reached ${barrier.parties} parties`);
    await sleep(20);
  }
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const work = event.Records.map((record) => ({
    record,
    order: JSON.parse(record.body) as WorkOrder,
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
  }));
  const records = work.map(({ record, order, receiveCount }) => ({
    id: order.id,
    messageId: record.messageId,
    group: record.attributes.MessageGroupId,
    receiveCount,
  }));
  log({ phase: 'start', pid: process.pid, at: Date.now(), records });
  const failed: string[] = [];
  for (const { record, order, receiveCount } of work) {
    if (order.barrier) await meet(order.barrier, order.id);
    if (order.sleepMs && receiveCount <= (order.sleepReceives ?? Infinity)) await sleep(order.sleepMs);
    if (receiveCount <= (order.exitReceives ?? 0)) process.exit(1);
    if (receiveCount <= (order.throwReceives ?? 0)) throw new Error(`${order.id} throws on receive ${receiveCount}`);
    if (receiveCount <= (order.failReceives ?? 0)) failed.push(record.messageId);
  }
  log({ phase: 'end', pid: process.pid, at: Date.now(), records, failed: work.filter(({ record }) => failed.includes(record.messageId)).map(({ order }) => order.id) });
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
