import {
  BatchGetItemCommand,
  DynamoDBClient,
  UpdateItemCommand,
  paginateScan,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { backoffBeforeRound } from '#shared/aws/backoff';
import { awsClientOptions } from '#shared/aws/client-options';
import { AwsCallError, callAws } from '#shared/errors';
import { DESIRED_FIELDS, readDesiredRow, type CorruptRow } from '#shared/domain/desired-row';
import type { DesiredMember, ObservedRegionState } from '#shared/domain/types';
import { RESERVED_KEY_PREFIX } from '#shared/store/fleet-runs';
import type { DesiredMembershipStore, DesiredMemberWrite, DesiredRows, DesiredWriteResult } from '#shared/ports';

// The attributes a desired write owns, checked against the port's write type.
const DESIRED_WRITE_FIELDS = DESIRED_FIELDS satisfies ReadonlyArray<keyof DesiredMemberWrite>;

const BATCH_GET_LIMIT = 100;
const BATCH_GET_ROUNDS = 8;

export class DynamoDesiredMembershipStore implements DesiredMembershipStore {
  // The low-level client with util-dynamodb's marshalling: the document client would add its
  // own command wrappers to every function's bundle for the same three calls.
  private readonly dynamo: DynamoDBClient;
  private readonly capacity = { read: 0, write: 0 };

  constructor(
    private readonly tableName: string,
    options: { region: string; maxAttempts: number },
  ) {
    this.dynamo = new DynamoDBClient(awsClientOptions(options));
  }

  consumedCapacity() {
    return { ...this.capacity };
  }

  async listAll(): Promise<DesiredRows> {
    return callAws('Scan', async () => {
      const rows = new DesiredRowsReader();
      const pages = paginateScan(
        { client: this.dynamo },
        { TableName: this.tableName, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' },
      );
      for await (const page of pages) {
        this.capacity.read += page.ConsumedCapacity?.CapacityUnits ?? 0;
        for (const item of page.Items ?? []) rows.read(item);
      }
      return rows.result();
    });
  }

  async getMany(accountIds: readonly string[]): Promise<DesiredRows> {
    const unique = [...new Set(accountIds)];
    const rows = new DesiredRowsReader();
    for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
      let keys: Array<Record<string, AttributeValue>> = unique
        .slice(start, start + BATCH_GET_LIMIT)
        .map((accountId) => ({ accountId: { S: accountId } }));
      // BatchGetItem may leave keys unprocessed under load; ask again for just those.
      for (let round = 0; keys.length > 0; round++) {
        if (round === BATCH_GET_ROUNDS) {
          throw new AwsCallError('BatchGetItem', 'UnprocessedKeys', `${keys.length} keys still unprocessed after ${round} rounds`, round);
        }
        if (round > 0) await backoffBeforeRound(round);
        const output = await callAws('BatchGetItem', () =>
          this.dynamo.send(
            new BatchGetItemCommand({
              RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        );
        for (const consumed of output.ConsumedCapacity ?? []) this.capacity.read += consumed.CapacityUnits ?? 0;
        for (const item of output.Responses?.[this.tableName] ?? []) rows.read(item);
        keys = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return rows.result();
  }

  async recordDesired(member: DesiredMemberWrite, expectedVersion?: number): Promise<DesiredWriteResult> {
    const set: string[] = ['observed = if_not_exists(observed, :noObservations)'];
    const remove: string[] = [];
    const values: Record<string, unknown> = { ':noObservations': {}, ':one': 1, ':requestIdOrNone': member.requestId ?? '' };
    for (const field of DESIRED_WRITE_FIELDS) {
      const value = member[field];
      if (value === undefined) {
        remove.push(field);
      } else {
        set.push(`${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    // Last request wins by request time; the same request delivered twice is a no-op. A row written
    // by hand may carry no request time (or no version): it loses to any request, as it reads.
    let condition =
      'attribute_not_exists(requestedAt) OR requestedAt < :requestedAt OR (requestedAt = :requestedAt AND requestId <> :requestIdOrNone)';
    if (expectedVersion !== undefined) {
      // Optimistic lock: the row is still the one the request was merged with (0: no row, or no version yet).
      if (expectedVersion > 0) values[':expectedVersion'] = expectedVersion;
      condition = `(${condition}) AND ${expectedVersion > 0 ? 'version = :expectedVersion' : 'attribute_not_exists(version)'}`;
    }
    try {
      await this.update({
        key: { accountId: member.accountId },
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''} ADD version :one`,
        ConditionExpression: condition,
        values,
      });
      return 'written';
    } catch (error) {
      if (error instanceof AwsCallError && error.code === 'ConditionalCheckFailedException') return 'superseded';
      throw error;
    }
  }

  async acquireLease(accountId: string, holder: string, nowMs: number, untilMs: number): Promise<boolean> {
    try {
      // The lease lives beside the desired fields; writing it bumps no version, so it never
      // invalidates a request being merged with the row.
      await this.update({
        key: { accountId },
        UpdateExpression: 'SET leaseHolder = :holder, leaseUntil = :until',
        ConditionExpression: 'attribute_exists(accountId) AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now OR leaseHolder = :holder)',
        values: { ':holder': holder, ':until': untilMs, ':now': nowMs },
      });
      return true;
    } catch (error) {
      if (error instanceof AwsCallError && error.code === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async releaseLease(accountId: string, holder: string): Promise<void> {
    try {
      await this.update({
        key: { accountId },
        UpdateExpression: 'REMOVE leaseHolder, leaseUntil',
        ConditionExpression: 'leaseHolder = :holder',
        values: { ':holder': holder },
      });
    } catch (error) {
      // Another run took it after it ran out, or the row is gone: nothing of ours to give back.
      if (!(error instanceof AwsCallError && error.code === 'ConditionalCheckFailedException')) throw error;
    }
  }

  async recordObservations(accountId: string, observations: Readonly<Record<string, ObservedRegionState>>): Promise<void> {
    const regions = Object.keys(observations);
    if (regions.length === 0) return;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':one': 1 };
    const assignments = regions.map((region, index) => {
      names[`#r${index}`] = region;
      values[`:o${index}`] = observations[region];
      return `observed.#r${index} = :o${index}`;
    });
    // Setting nested paths only touches these regions, so concurrent runs that observe other
    // regions, and requests that change the desired fields, are never overwritten.
    const nested = () =>
      this.update({
        key: { accountId },
        UpdateExpression: `SET ${assignments.join(', ')} ADD version :one`,
        ConditionExpression: 'attribute_exists(accountId)',
        ExpressionAttributeNames: names,
        values,
      });
    try {
      await nested();
    } catch (error) {
      if (!(error instanceof AwsCallError)) throw error;
      // The row is gone: there is nothing left to record against.
      if (error.code === 'ConditionalCheckFailedException') return;
      // A row written by hand without the `observed` map: nested paths cannot be set on it.
      if (error.code !== 'ValidationException') throw error;
      try {
        await this.update({
          key: { accountId },
          UpdateExpression: 'SET observed = :all ADD version :one',
          ConditionExpression: 'attribute_exists(accountId) AND attribute_not_exists(observed)',
          values: { ':all': observations, ':one': 1 },
        });
      } catch (fallbackError) {
        // Another run created the map meanwhile: the nested write works now.
        if (fallbackError instanceof AwsCallError && fallbackError.code === 'ConditionalCheckFailedException') return nested();
        throw fallbackError;
      }
    }
  }

  private async update({ key, values, ...input }: UpdateInput): Promise<void> {
    const output = await callAws('UpdateItem', () =>
      this.dynamo.send(
        new UpdateItemCommand({
          ...input,
          TableName: this.tableName,
          Key: marshall(key),
          // A tag named like an Object property ("constructor") would otherwise make marshall take
          // the tags for a class instance and throw; the request was valid, so it must be stored.
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true, convertClassInstanceToMap: true }),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    this.capacity.write += output.ConsumedCapacity?.CapacityUnits ?? 0;
  }
}

interface UpdateInput {
  key: Record<string, string>;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  values: Record<string, unknown>;
}

/** Sorts stored items into readable rows and corrupt ones, which are reported rather than guessed at. */
class DesiredRowsReader {
  private readonly rows: DesiredMember[] = [];
  private readonly corrupt: CorruptRow[] = [];

  read(item: Record<string, AttributeValue>): void {
    // The service's own records share the table (the fleet run's); they are not accounts.
    if (item.accountId?.S?.startsWith(RESERVED_KEY_PREFIX)) return;
    const reading = readDesiredRow(unmarshall(item));
    if (reading.ok) this.rows.push(reading.row);
    else this.corrupt.push(reading.corrupt);
  }

  result(): DesiredRows {
    return { rows: this.rows, corrupt: this.corrupt };
  }
}

/** The table's key schema, for the sandbox and tests (the deployed table is declared in serverless.yml). */
export const DESIRED_MEMBERS_KEY_SCHEMA = {
  AttributeDefinitions: [{ AttributeName: 'accountId', AttributeType: 'S' as const }],
  KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' as const }],
};
