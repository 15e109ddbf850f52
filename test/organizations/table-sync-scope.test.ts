import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanDocument } from '#cli/commands/plan';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { captureTerminal } from '../cli/support/cli-sandbox';
import { loadEvent, startServiceSandbox } from '../support/service-sandbox';
import { oneInvocation } from '../support/one-invocation';

/**
 * The table sync's scope (SYNC_INCLUDE_ACCOUNTS with SYNC_EXCLUDE_ACCOUNTS) through the real reconcile
 * handler. A file of its own: the service reads its configuration once per process.
 */

const REGIONS = ['us-east-1'];
const ADMIN = '111111111111';
const MANAGEMENT = { accountId: '999999999999', email: 'management@example.com', name: 'Management' };
const [INCLUDED, INCLUDED_AND_EXCLUDED, NOT_INCLUDED] = [1, 2, 3].map((n) => ({ accountId: `22222222220${n}`, email: `owner-${n}@example.com` })) as [
  { accountId: string; email: string },
  { accountId: string; email: string },
  { accountId: string; email: string },
];

let sandbox: Sandbox;
let handler: typeof import('#functions/reconcile/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
let runPlan: typeof import('#cli/commands/plan').runPlan;

beforeAll(async () => {
  sandbox = await startServiceSandbox(
    { regions: REGIONS, administratorAccountId: ADMIN, managementAccount: MANAGEMENT, accounts: [INCLUDED, INCLUDED_AND_EXCLUDED, NOT_INCLUDED], delegatedAdministrator: true },
    {
      ORGANIZATION_SYNC: 'true',
      // The administrator is named too: it is never a member, whatever the scope says.
      SYNC_INCLUDE_ACCOUNTS: [ADMIN, MANAGEMENT.accountId, INCLUDED.accountId, INCLUDED_AND_EXCLUDED.accountId].join(','),
      SYNC_EXCLUDE_ACCOUNTS: INCLUDED_AND_EXCLUDED.accountId,
    },
  );
  ({ handler } = await import('#functions/reconcile/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  ({ runPlan } = await import('#cli/commands/plan'));
});

afterAll(() => sandbox?.close());

describe('the table sync with SYNC_INCLUDE_ACCOUNTS and SYNC_EXCLUDE_ACCOUNTS', () => {
  it('plans only the included accounts, the management account among them; never the administrator, never an excluded one', async () => {
    const { terminal, stdout } = captureTerminal();
    expect(await runPlan({ runtime, terminal, json: true })).toBe(2);
    const document = JSON.parse(stdout()) as PlanDocument;
    expect(document.tableSync?.changes?.map((change) => [change.kind, change.accountId])).toEqual([
      ['enroll', INCLUDED.accountId],
      ['enroll', MANAGEMENT.accountId],
    ]);
    // A targeted plan leaves the sync out.
    const targeted = captureTerminal();
    await runPlan({ runtime, terminal: targeted.terminal, json: true, accountIds: [INCLUDED.accountId] });
    expect((JSON.parse(targeted.stdout()) as PlanDocument).tableSync).toBeNull();
    expect((await runtime.store.listAll()).rows).toEqual([]);
  });

  it('adds and enrolls exactly those accounts on a run', async () => {
    const summary = await oneInvocation(handler(await loadEvent<ScheduledEvent>('schedule.json'), lambdaContext('reconcile')));
    expect(summary.failuresNew).toBe(0);

    const { rows } = await runtime.store.listAll();
    expect(rows.map((row) => [row.accountId, row.email, row.requestedBy]).sort()).toEqual([
      [INCLUDED.accountId, INCLUDED.email, 'organization-sync'],
      [MANAGEMENT.accountId, MANAGEMENT.email, 'organization-sync'],
    ]);
    const members = sandbox.emulator.control.members(ADMIN, REGIONS[0]!);
    expect(members.map((member) => [member.accountId, member.relationshipStatus, member.via])).toEqual([
      [INCLUDED.accountId, 'Enabled', 'organization'],
      [MANAGEMENT.accountId, 'Enabled', 'organization'],
    ]);
  });
});
