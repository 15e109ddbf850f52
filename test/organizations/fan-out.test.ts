import { DeleteMemberCommand, DisassociateMemberCommand, Macie2Client } from '@aws-sdk/client-macie2';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { isFleetPlanSummary, type FleetPlanSummary } from '#shared/fleet-planner';
import { loadEvent, seedAccounts, startServiceSandbox } from '../support/service-sandbox';
import { HandDrivenWorkQueue } from '../support/work-queue';

/**
 * The fan-out under a delegated administrator: organization accounts enrolled by workers through
 * Organizations (CreateMember alone), outsiders invited; and a fleet in sync planned from the
 * member listings alone, without listing the organization.
 */

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const MANAGEMENT = { accountId: '999999999999', email: 'management@example.com', name: 'Management' };
const insiders = seedAccounts(20, 1);
const outsiders = seedAccounts(3, 1, '3333333').map((account) => ({ ...account, inOrganization: false }));

let sandbox: Sandbox;
let queue: HandDrivenWorkQueue;
let reconcile: typeof import('#functions/reconcile/handler').handler;
let worker: typeof import('#functions/worker/handler').handler;
let schedule: ScheduledEvent;

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, managementAccount: MANAGEMENT, accounts: [...insiders, ...outsiders], delegatedAdministrator: true, knobs: { invitationDelayMs: 0 } });
  Object.assign(process.env, { WORK_QUEUE_URL: sandbox.workQueueUrl, WORK_UNIT_SIZE: '7' });
  ({ handler: reconcile } = await import('#functions/reconcile/handler'));
  ({ handler: worker } = await import('#functions/worker/handler'));
  const { store } = (await import('#shared/lambda/runtime')).getLambdaRuntime();
  queue = new HandDrivenWorkQueue(sandbox);
  schedule = await loadEvent<ScheduledEvent>('schedule.json');
  for (const account of [...insiders, ...outsiders]) {
    await store.recordDesired({ ...account, desiredState: 'member', tags: { Fleet: 'fan-out' }, autoAccept: true, paused: false, requestedBy: 'test', requestedAt: new Date().toISOString() });
  }
});

afterAll(async () => {
  queue?.close();
  await sandbox?.close();
});

async function planRun(): Promise<FleetPlanSummary> {
  const summary = await reconcile(schedule, lambdaContext('reconcile'));
  if (!isFleetPlanSummary(summary)) throw new Error('expected the scheduled run to fan out');
  return summary;
}

const operations = (filter: (call: ReturnType<Sandbox['calls']>[number]) => boolean) => sandbox.calls().filter(filter).map((call) => call.operation);

describe('fan-out through Organizations', () => {
  it('enrolls the organization accounts with CreateMember alone and invites only the outsiders', async () => {
    sandbox.clearCalls();
    const summary = await planRun();
    expect(summary.itemsQueued).toBe((insiders.length + outsiders.length) * REGIONS.length);
    expect(await queue.workUntilEmpty(worker)).toMatchObject({ failed: 0 });

    for (const region of REGIONS) {
      const members = new Map(sandbox.emulator.control.members(sandbox.administrator.accountId, region).map((member) => [member.accountId, member]));
      for (const account of insiders) expect(members.get(account.accountId)).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
      for (const account of outsiders) expect(members.get(account.accountId)).toMatchObject({ relationshipStatus: 'Enabled', via: 'invitation' });
    }
    const assumed = sandbox.calls().filter((call) => call.assumedRole);
    expect(new Set(assumed.map((call) => call.accountId))).toEqual(new Set(outsiders.map((account) => account.accountId)));
    expect(operations((call) => call.operation === 'ListAccounts').length).toBeGreaterThan(0);
  });

  it('plans a fleet in sync from the member listings alone: no organization read, no unit, no row written', async () => {
    sandbox.clearCalls();
    const summary = await planRun();
    expect(summary.unitsQueued).toBe(0);
    expect(summary.byVerdict.inSync).toBe((insiders.length + outsiders.length) * REGIONS.length);
    expect(operations((call) => call.service === 'organizations')).toEqual([]);
    expect(operations((call) => call.service === 'macie2').sort()).toEqual(REGIONS.map(() => 'ListMembers'));
    // Only the run's own record is written.
    expect(operations((call) => call.service === 'dynamodb' && call.operation !== 'Scan' && call.operation !== 'GetItem')).toEqual(['PutItem', 'UpdateItem']);
  });

  it('reads the organization again as soon as one account needs enrolling, and enrolls it through Organizations', async () => {
    const [region] = REGIONS as [string];
    const macie = new Macie2Client({ region, endpoint: sandbox.endpoints.macie2, credentials: { accessKeyId: sandbox.administrator.accessKeyId, secretAccessKey: sandbox.administrator.secretAccessKey } });
    await macie.send(new DisassociateMemberCommand({ id: insiders[0]!.accountId }));
    await macie.send(new DeleteMemberCommand({ id: insiders[0]!.accountId }));
    macie.destroy();
    sandbox.clearCalls();
    const summary = await planRun();
    expect(summary.itemsQueued).toBe(1);
    expect(operations((call) => call.operation === 'ListAccounts').length).toBeGreaterThan(0);
    await queue.workUntilEmpty(worker);
    const member = sandbox.emulator.control.members(sandbox.administrator.accountId, region).find((entry) => entry.accountId === insiders[0]!.accountId);
    expect(member).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
  });
});
