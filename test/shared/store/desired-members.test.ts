import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '#sandbox/index';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamoDesiredMembershipStore } from '#shared/store/desired-members';
import type { DesiredMemberWrite } from '#shared/ports';

/** The desired-membership store against DynamoDB (dynalite) through the real SDK client. */

let sandbox: Sandbox;
let store: DynamoDesiredMembershipStore;

beforeAll(async () => {
  sandbox = await startSandbox();
  Object.assign(process.env, sandbox.environment());
  store = new DynamoDesiredMembershipStore(sandbox.tableName, { region: sandbox.homeRegion, maxAttempts: 3 });
});

afterAll(() => sandbox?.close());

const write = (overrides: Partial<DesiredMemberWrite> = {}): DesiredMemberWrite => ({
  accountId: '222222222201',
  desiredState: 'member',
  email: 'owner@example.com',
  tags: { Team: 'a' },
  autoAccept: true,
  paused: false,
  requestedBy: 'test',
  requestedAt: '2026-11-21T10:00:00.000Z',
  requestId: 'r1',
  ...overrides,
});

describe('DynamoDesiredMembershipStore', () => {
  it('writes a row and reads it back with an empty observation map', async () => {
    expect(await store.recordDesired(write({ regions: ['us-east-1'], invitationMessage: 'Hello' }))).toBe('written');
    const { rows: [row] } = await store.getMany(['222222222201']);
    expect(row).toMatchObject({ ...write(), regions: ['us-east-1'], invitationMessage: 'Hello', observed: {}, version: 1 });
  });

  it('ignores the same request delivered again, and an older request', async () => {
    expect(await store.recordDesired(write({ regions: ['us-east-1'] }))).toBe('superseded');
    expect(await store.recordDesired(write({ requestedAt: '2026-11-21T09:00:00.000Z', requestId: 'r0', desiredState: 'absent' }))).toBe('superseded');
    const { rows: [row] } = await store.getMany(['222222222201']);
    expect(row).toMatchObject({ desiredState: 'member', version: 1 });
  });

  it('lets a newer request win, removing fields it does not set', async () => {
    expect(await store.recordDesired(write({ requestedAt: '2026-11-21T11:00:00.000Z', requestId: 'r2', desiredState: 'absent' }))).toBe('written');
    const { rows: [row] } = await store.getMany(['222222222201']);
    expect(row).toMatchObject({ desiredState: 'absent', requestId: 'r2', version: 2 });
    expect(row?.regions).toBeUndefined();
    expect(row?.invitationMessage).toBeUndefined();
  });

  it('records observations per region without touching other regions or the desired fields', async () => {
    await store.recordObservations('222222222201', { 'us-east-1': { relationshipStatus: 'Enabled', lastAction: 'accept', at: 't1' } });
    await Promise.all([
      store.recordObservations('222222222201', { 'eu-west-1': { relationshipStatus: 'Invited', lastAction: 'invite', at: 't2' } }),
      store.recordDesired(write({ requestedAt: '2026-11-21T12:00:00.000Z', requestId: 'r3', email: 'new@example.com' })),
    ]);
    const { rows: [row] } = await store.getMany(['222222222201']);
    expect(row?.observed).toEqual({
      'us-east-1': { relationshipStatus: 'Enabled', lastAction: 'accept', at: 't1' },
      'eu-west-1': { relationshipStatus: 'Invited', lastAction: 'invite', at: 't2' },
    });
    expect(row).toMatchObject({ email: 'new@example.com', desiredState: 'member', version: 5 });
  });

  it('does not create a row when recording observations for an unknown account', async () => {
    await store.recordObservations('222222222299', { 'us-east-1': { relationshipStatus: 'Enabled', at: 't' } });
    expect((await store.getMany(['222222222299'])).rows).toEqual([]);
  });

  it('reads more than one BatchGetItem page and scans every row', async () => {
    const ids = Array.from({ length: 130 }, (_, index) => `3333333${String(index).padStart(5, '0')}`);
    for (const accountId of ids) await store.recordDesired(write({ accountId, requestId: accountId }));
    expect((await store.getMany([...ids, ids[0]!])).rows.map((row) => row.accountId).sort()).toEqual(ids);
    expect((await store.listAll()).rows.length).toBe(ids.length + 1);
    expect(store.consumedCapacity().read).toBeGreaterThan(0);
    expect(store.consumedCapacity().write).toBeGreaterThan(0);
  });

  it('records observations on a row written by hand without an observation map', async () => {
    const raw = new DynamoDBClient({ region: sandbox.homeRegion });
    await raw.send(new PutItemCommand({ TableName: sandbox.tableName, Item: marshall({ ...write({ accountId: '222222222288' }), version: 1 }, { removeUndefinedValues: true }) }));
    await store.recordObservations('222222222288', { 'us-east-1': { relationshipStatus: 'Created', lastAction: 'createMember', at: 't' } });
    await store.recordObservations('222222222288', { 'eu-west-1': { relationshipStatus: 'Invited', at: 't2' } });
    const { rows: [row] } = await store.getMany(['222222222288']);
    expect(row?.observed).toEqual({
      'us-east-1': { relationshipStatus: 'Created', lastAction: 'createMember', at: 't' },
      'eu-west-1': { relationshipStatus: 'Invited', at: 't2' },
    });
    raw.destroy();
  });

  it('reports a corrupt row, with each problem, instead of guessing what it means', async () => {
    const raw = new DynamoDBClient({ region: sandbox.homeRegion });
    const corrupt = { ...write({ accountId: '222222222277' }), desiredState: 'absnet', autoAccept: 'yes', email: 'typo@example.com', version: 1 };
    await raw.send(new PutItemCommand({ TableName: sandbox.tableName, Item: marshall(corrupt, { removeUndefinedValues: true }) }));
    try {
      const expected = {
        accountId: '222222222277',
        problems: [
          { field: 'desiredState', rule: 'oneOf', message: 'desiredState must be "member" or "absent", got "absnet"' },
          { field: 'autoAccept', rule: 'type', message: 'autoAccept must be true or false, got "yes"' },
        ],
      };
      expect(await store.getMany(['222222222277', '222222222201'])).toEqual({ rows: [expect.objectContaining({ accountId: '222222222201' })], corrupt: [expected] });
      const all = await store.listAll();
      expect(all.corrupt).toEqual([expected]);
      expect(all.rows.map((row) => row.accountId)).not.toContain('222222222277');
    } finally {
      await raw.send(new DeleteItemCommand({ TableName: sandbox.tableName, Key: marshall({ accountId: '222222222277' }) }));
      raw.destroy();
    }
  });

  it('gives a hand-written row the documented defaults for the attributes it leaves out', async () => {
    const raw = new DynamoDBClient({ region: sandbox.homeRegion });
    const handWritten = { accountId: '222222222266', desiredState: 'member', email: 'owner@example.com', requestedBy: 'operator', requestedAt: '2026-11-21T10:00:00.000Z' };
    await raw.send(new PutItemCommand({ TableName: sandbox.tableName, Item: marshall(handWritten) }));
    raw.destroy();
    expect(await store.getMany(['222222222266'])).toEqual({
      rows: [{ ...handWritten, tags: {}, autoAccept: true, paused: false, observed: {}, version: 0 }],
      corrupt: [],
    });
  });

  it('lets a request replace a hand-written row that has no version and no request time', async () => {
    const raw = new DynamoDBClient({ region: sandbox.homeRegion });
    await raw.send(new PutItemCommand({ TableName: sandbox.tableName, Item: marshall({ accountId: '222222222255', desiredState: 'absent' }) }));
    raw.destroy();
    const { rows: [handWritten] } = await store.getMany(['222222222255']);
    expect(handWritten?.version).toBe(0);
    expect(await store.recordDesired(write({ accountId: '222222222255' }), handWritten!.version)).toBe('written');
    expect((await store.getMany(['222222222255'])).rows[0]).toMatchObject({ desiredState: 'member', version: 1 });
  });

  it('stores and reads back tags named like Object properties (constructor, toString, prototype)', async () => {
    const tags = { constructor: 'x', toString: 'y', prototype: 'z', hasOwnProperty: 'w' };
    expect(await store.recordDesired(write({ accountId: '222222222244', tags }))).toBe('written');
    expect((await store.getMany(['222222222244'])).rows[0]?.tags).toEqual(tags);
  });

  it('leases an account to one run at a time, until the lease runs out or is given back', async () => {
    await store.recordDesired(write({ accountId: '222222222233' }));
    expect(await store.acquireLease('222222222233', 'run-a', 1_000, 61_000)).toBe(true);
    expect(await store.acquireLease('222222222233', 'run-b', 2_000, 62_000)).toBe(false);
    expect(await store.acquireLease('222222222233', 'run-a', 3_000, 63_000)).toBe(true);
    // Run a stops without giving it back: the lease runs out.
    expect(await store.acquireLease('222222222233', 'run-b', 63_000, 123_000)).toBe(true);
    await store.releaseLease('222222222233', 'run-a');
    expect(await store.acquireLease('222222222233', 'run-c', 64_000, 124_000)).toBe(false);
    await store.releaseLease('222222222233', 'run-b');
    expect(await store.acquireLease('222222222233', 'run-c', 65_000, 125_000)).toBe(true);
    expect(await store.acquireLease('222222222299', 'run-c', 65_000, 125_000)).toBe(false);
    const { rows: [row] } = await store.getMany(['222222222233']);
    expect(row?.version).toBe(1);
  });
});
