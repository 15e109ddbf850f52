import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { awsClientOptions } from '#shared/aws/client-options';
import { AwsCallError, callAws } from '#shared/errors';
import type { FleetRun, FleetRunPlan, UnitProgress } from '#shared/domain/fleet-run';
import { emptyOutcomeCounts } from '#shared/domain/fleet-run';
import { OUTCOME_STATUSES } from '#shared/domain/outcomes';
import type { FleetRunLog } from '#shared/ports';

/**
 * The key of the fleet run's record in the desired-membership table. Keys starting with `#` are
 * the service's own records, never an account (an account id is 12 digits): readers of desired
 * rows skip them.
 */
export const FLEET_RUN_KEY = '#fleet-run';
export const RESERVED_KEY_PREFIX = '#';

/** The latest fleet run, as one item of the desired-membership table; workers add to it with atomic counters. */
export class DynamoFleetRunLog implements FleetRunLog {
  private readonly dynamo: DynamoDBClient;

  constructor(
    private readonly tableName: string,
    options: { region: string; maxAttempts: number },
  ) {
    this.dynamo = new DynamoDBClient(awsClientOptions(options));
  }

  async start(run: Pick<FleetRun, 'runId' | 'trigger' | 'startedAt'>): Promise<void> {
    const counters = Object.fromEntries(OUTCOME_STATUSES.map((status) => [counterOf(status), 0]));
    const item = { accountId: FLEET_RUN_KEY, ...run, unitsQueued: 0, unitsNotQueued: 0, unitsDone: 0, deadLettered: 0, ...counters };
    await callAws('PutItem', () => this.dynamo.send(new PutItemCommand({ TableName: this.tableName, Item: marshall(item) })));
  }

  async addUnits(runId: string, queued: number, notQueued: number): Promise<void> {
    await this.updateRun(runId, 'ADD unitsQueued :queued, unitsNotQueued :notQueued', { ':queued': queued, ':notQueued': notQueued });
  }

  async planned(runId: string, plan: FleetRunPlan): Promise<void> {
    await this.updateRun(runId, 'SET #plan = :plan', { ':plan': plan }, { '#plan': 'plan' });
  }

  async recordUnit(progress: UnitProgress): Promise<boolean> {
    const adds = OUTCOME_STATUSES.map((status) => `${counterOf(status)} :${status}`);
    const values: Record<string, unknown> = {
      ':one': 1,
      ':remainder': progress.remainderQueued ? 1 : 0,
      ':deadLettered': progress.deadLettered,
      ':at': progress.at,
    };
    for (const status of OUTCOME_STATUSES) values[`:${status}`] = progress.outcomes[status];
    return this.updateRun(
      progress.runId,
      `SET lastUnitAt = :at ADD unitsDone :one, unitsQueued :remainder, deadLettered :deadLettered, ${adds.join(', ')}`,
      values,
    );
  }

  async latest(): Promise<FleetRun | undefined> {
    const output = await callAws('GetItem', () =>
      this.dynamo.send(new GetItemCommand({ TableName: this.tableName, Key: marshall({ accountId: FLEET_RUN_KEY }), ConsistentRead: true })),
    );
    if (!output.Item) return undefined;
    const item = unmarshall(output.Item);
    const outcomes = emptyOutcomeCounts();
    for (const status of OUTCOME_STATUSES) outcomes[status] = Number(item[counterOf(status)] ?? 0);
    return {
      runId: String(item.runId),
      trigger: String(item.trigger),
      startedAt: String(item.startedAt),
      ...(item.plan ? { plan: item.plan as FleetRunPlan } : {}),
      unitsQueued: Number(item.unitsQueued ?? 0),
      unitsNotQueued: Number(item.unitsNotQueued ?? 0),
      unitsDone: Number(item.unitsDone ?? 0),
      outcomes,
      deadLettered: Number(item.deadLettered ?? 0),
      ...(item.lastUnitAt ? { lastUnitAt: String(item.lastUnitAt) } : {}),
    };
  }

  /** Updates the record if it is still this run's; `false` when a newer run has replaced it. */
  private async updateRun(runId: string, expression: string, values: Record<string, unknown>, names?: Record<string, string>): Promise<boolean> {
    try {
      await callAws('UpdateItem', () =>
        this.dynamo.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: marshall({ accountId: FLEET_RUN_KEY }),
            UpdateExpression: expression,
            ConditionExpression: 'runId = :runId',
            ExpressionAttributeValues: marshall({ ...values, ':runId': runId }),
            ...(names ? { ExpressionAttributeNames: names } : {}),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof AwsCallError && error.code === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

function counterOf(status: string): string {
  return `outcome_${status}`;
}
