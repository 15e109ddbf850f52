import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Sandbox } from '#sandbox/index';
import { parseConfig } from '#shared/config';
import { createRuntime, type ServiceRuntime } from '#shared/runtime';
import { listMembersStatus, startServiceSandbox } from '../support/service-sandbox';
import { startMacieTap, type MacieTap } from '../support/macie-tap';

/** The reconciler against the sandbox, with the real adapters: what it does with a corrupt row. */

const REGIONS = ['us-east-1', 'eu-west-1'];
const healthy = { accountId: '222222222401', email: 'healthy@example.com' };
// Read the old way, the typo would enroll this account; its row says nothing else is wrong.
const typo = { accountId: '222222222402', email: 'typo@example.com' };
// An Enabled member whose row has a wrong type: with pruning on, a member without a readable row
// would read as unmanaged and be removed.
const wrongType = { accountId: '222222222403', email: 'wrong-type@example.com' };

let sandbox: Sandbox;
let tap: MacieTap;
let runtime: ServiceRuntime;

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts: [healthy, typo, wrongType] }, { PRUNE_UNMANAGED: 'true' });
  tap = await startMacieTap(sandbox.endpoints.macie2);
  // The SDK clients take their endpoint from the environment.
  process.env.AWS_ENDPOINT_URL_MACIE2 = tap.url;
  runtime = createRuntime(parseConfig(process.env));
  for (const region of REGIONS) {
    sandbox.emulator.control.seedMembership({ administratorAccountId: sandbox.administrator.accountId, accountId: wrongType.accountId, region, relationshipStatus: 'Enabled' });
  }
  const row = { desiredState: 'member', tags: {}, autoAccept: true, paused: false, requestedBy: 'test', requestedAt: '2026-11-21T10:00:00.000Z' } as const;
  await runtime.store.recordDesired({ ...healthy, ...row });
  const raw = new DynamoDBClient({ region: sandbox.homeRegion, endpoint: sandbox.endpoints.dynamodb });
  for (const item of [
    { ...typo, ...row, desiredState: 'membr' },
    { ...wrongType, ...row, autoAccept: 'yes' },
  ]) {
    await raw.send(new PutItemCommand({ TableName: sandbox.tableName, Item: marshall(item) }));
  }
  raw.destroy();
});

afterAll(async () => {
  await sandbox?.close();
  await tap?.close();
});

const CORRUPT_ROWS = [
  { accountId: typo.accountId, problems: [{ field: 'desiredState', rule: 'oneOf', message: 'desiredState must be "member" or "absent", got "membr"' }] },
  { accountId: wrongType.accountId, problems: [{ field: 'autoAccept', rule: 'type', message: 'autoAccept must be true or false, got "yes"' }] },
];

/** Every Macie call naming the account (administrator side) or made from inside it (member side). */
function macieCallsAbout(accountId: string) {
  const named = tap.calls().filter((call) => call.subjects.includes(accountId));
  const fromInside = sandbox.calls().filter((call) => call.service === 'macie2' && call.accountId === accountId);
  return [...named.map((call) => call.operation), ...fromInside.map((call) => call.operation)];
}

describe('Reconciler with corrupt rows', () => {
  it('plans nothing for a corrupt row and reports each problem in the plan', async () => {
    const view = await runtime.reconciler.plan();
    expect(view.corruptRows).toEqual(expect.arrayContaining(CORRUPT_ROWS));
    expect(view.corruptRows).toHaveLength(2);
    const planned = new Set([...view.plan.items, ...view.plan.unmanaged].map((entry) => entry.accountId));
    expect([...planned]).toEqual([healthy.accountId]);
  });

  it('makes no Macie call for a corrupt row, neither creating nor pruning, and reports it in the run summary', async () => {
    tap.clear();
    sandbox.clearCalls();
    const { summary } = await runtime.reconciler.reconcile({ trigger: 'schedule' });

    expect(summary.corruptRows).toEqual(expect.arrayContaining(CORRUPT_ROWS));
    expect(summary.byAction.createMember?.succeeded).toBe(REGIONS.length);
    expect(tap.calls().filter((call) => call.operation === 'CreateMember').flatMap((call) => call.subjects)).toEqual(REGIONS.map(() => healthy.accountId));
    expect(macieCallsAbout(typo.accountId)).toEqual([]);
    expect(macieCallsAbout(wrongType.accountId)).toEqual([]);
    for (const region of REGIONS) {
      const statuses = await listMembersStatus(sandbox, region);
      expect(statuses.has(typo.accountId), region).toBe(false);
      expect(statuses.get(wrongType.accountId), region).toBe('Enabled');
    }
  });

  it('only reads the membership of a corrupt row named in a targeted run', async () => {
    tap.clear();
    sandbox.clearCalls();
    const { summary, plan } = await runtime.reconciler.reconcile({ trigger: 'cli', accountIds: [typo.accountId, wrongType.accountId] });

    expect(summary.corruptRows).toEqual(expect.arrayContaining(CORRUPT_ROWS));
    expect(plan.items).toEqual([]);
    for (const account of [typo, wrongType]) expect(new Set(macieCallsAbout(account.accountId))).toEqual(new Set(['GetMember']));
  });
});
