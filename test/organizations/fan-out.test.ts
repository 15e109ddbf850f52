import { DeleteMemberCommand, DisassociateMemberCommand, Macie2Client } from '@aws-sdk/client-macie2';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { isFleetPlanSummary, type FleetPlanSummary } from '#shared/fleet-planner';
import type { OrganizationDirectory, WorkQueue } from '#shared/ports';
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
// Organization accounts the streaming test records as desired on its own.
const lateInsiders = seedAccounts(10, 51);

let sandbox: Sandbox;
let queue: HandDrivenWorkQueue;
let reconcile: typeof import('#functions/reconcile/handler').handler;
let worker: typeof import('#functions/worker/handler').handler;
let schedule: ScheduledEvent;

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, managementAccount: MANAGEMENT, accounts: [...insiders, ...outsiders, ...lateInsiders], delegatedAdministrator: true, knobs: { invitationDelayMs: 0 } });
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
    // Each account-region was created once: queued in one unit only, early or not.
    expect(operations((call) => call.service === 'macie2' && call.operation === 'CreateMember' && !call.assumedRole)).toHaveLength(
      (insiders.length + outsiders.length) * REGIONS.length,
    );
    expect(summary.unitsQueued).toBe(REGIONS.length * Math.ceil((insiders.length + outsiders.length) / 7));
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

  it('queues the accounts of the organization\'s first page before the listing ends, and each account once', async () => {
    const { getLambdaRuntime } = await import('#shared/lambda/runtime');
    const { fleetPlannerSettings } = await import('#shared/runtime');
    const { planFleetRun } = await import('#shared/fleet-planner');
    const runtime = getLambdaRuntime();
    for (const account of lateInsiders) {
      await runtime.store.recordDesired({ ...account, desiredState: 'member', tags: { Fleet: 'fan-out' }, autoAccept: true, paused: false, requestedBy: 'test', requestedAt: new Date().toISOString() });
    }
    const late = new Set(lateInsiders.map((account) => account.accountId));
    // The organization answers its first page (the late accounts), then waits until every region sent
    // a unit: a planner that waited for the whole listing would never get its second page.
    let allRegionsSent!: () => void;
    const sent = new Promise<void>((resolve) => (allRegionsSent = resolve));
    let listed = false;
    const sends: Array<{ duringListing: boolean; items: number }> = [];
    const organization: OrganizationDirectory = {
      describeAccount: (accountId) => runtime.organization.describeAccount(accountId),
      describeOrganization: () => runtime.organization.describeOrganization(),
      listAccounts: async (onPage) => {
        const accounts = await runtime.organization.listAccounts();
        onPage?.(accounts.filter((account) => late.has(account.accountId)));
        await sent;
        onPage?.(accounts.filter((account) => !late.has(account.accountId)));
        listed = true;
        return accounts;
      },
    };
    const workQueue: WorkQueue = {
      send: async (units) => {
        sends.push({ duringListing: !listed, items: units.reduce((total, unit) => total + unit.items.length, 0) });
        if (sends.length === REGIONS.length) allRegionsSent();
        return runtime.workQueue!.send(units);
      },
    };

    const summary = await planFleetRun({ ...runtime, organization, workQueue }, fleetPlannerSettings(runtime.config), { trigger: 'test' });
    expect(summary.itemsQueued).toBe(lateInsiders.length * REGIONS.length);
    // A full unit (7) of each region went out on the first page; the last 3 of each after the listing.
    expect(sends.filter((send) => send.duringListing).map((send) => send.items)).toEqual(REGIONS.map(() => 7));
    expect(sends.filter((send) => !send.duringListing).map((send) => send.items)).toEqual(REGIONS.map(() => 3));
    expect(summary.unitsQueued).toBe(REGIONS.length * 2);

    sandbox.clearCalls();
    expect(await queue.workUntilEmpty(worker)).toMatchObject({ failed: 0 });
    for (const region of REGIONS) {
      const members = new Map(sandbox.emulator.control.members(sandbox.administrator.accountId, region).map((member) => [member.accountId, member]));
      for (const account of lateInsiders) expect(members.get(account.accountId)).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
    }
    expect(operations((call) => call.operation === 'CreateMember')).toHaveLength(lateInsiders.length * REGIONS.length);
  });

  it("the Organizations adapter hands each ListAccounts page over as it arrives", async () => {
    const runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
    const pages: string[][] = [];
    const accounts = await runtime.organization.listAccounts((page) => pages.push(page.map((account) => account.accountId)));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat()).toEqual(accounts.map((account) => account.accountId));
  });
});
