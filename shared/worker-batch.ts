import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DeadLetter } from '#shared/domain/dead-letters';
import { requestFromInvalidInput } from '#shared/domain/dead-letters';
import { readWorkUnit } from '#shared/domain/work-units';
import { AwsCallError } from '#shared/errors';
import type { WorkBudget } from '#shared/executor';
import type { IntakeReporter } from '#shared/intake';
import { runWorkUnit, type UnitReport, type WorkerPorts, type WorkerSettings } from '#shared/work-unit-runner';

// A unit can be broken in every item; the log names the first few, the letter says how many.
const LOGGED_ISSUES = 10;

/**
 * A batch from the work queue, one unit per record. A unit that cannot be read is dead-lettered
 * (naming each broken field) and counted as handled; a unit that fails (its remainder could not be
 * queued, the table could not be read) is reported in `batchItemFailures` and comes back after the
 * visibility timeout. The FIFO processor stops at the first failure, as SQS FIFO ordering asks.
 */
export async function takeInWorkUnits(
  event: SQSEvent,
  ports: WorkerPorts,
  settings: WorkerSettings,
  budget: WorkBudget,
  reporter: IntakeReporter & { unit?: (report: UnitReport) => void },
): Promise<SQSBatchResponse> {
  const runOne = async (record: SQSRecord): Promise<void> => {
    const reading = readWorkUnit(record.body);
    if (!reading.ok) {
      const summary = reading.issues.map((issue) => issue.message).join('; ');
      reporter.warn('Invalid work unit dead-lettered', { messageId: record.messageId, issues: reading.issues.slice(0, LOGGED_ISSUES), issueCount: reading.issues.length });
      reporter.count('WorkUnitsInvalid');
      const letter: DeadLetter = {
        request: requestFromInvalidInput(record.body),
        reason: 'invalid-work-unit',
        operation: 'validate',
        errorCode: 'ValidationError',
        errorMessage: summary,
        attempts: Number(record.attributes.ApproximateReceiveCount) || 1,
        at: ports.now().toISOString(),
      };
      const [unsent] = await ports.deadLetters.publish([letter]);
      if (unsent) throw new AwsCallError('SendMessageBatch', unsent.code, `the dead letter could not be sent: ${unsent.message}`, 1);
      return;
    }
    const report = await runWorkUnit(ports, settings, reading.unit, budget);
    reporter.unit?.(report);
  };
  return processPartialResponse(event, runOne, new SqsFifoPartialProcessorAsync());
}
