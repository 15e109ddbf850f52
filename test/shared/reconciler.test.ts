import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Sandbox } from '#sandbox/index';
import { parseConfig } from '#shared/config';
import type { RunSummary } from '#shared/domain/outcomes';
import { AwsCallError } from '#shared/errors';
import type { MacieAdministrator } from '#shared/ports';
import { Reconciler, accountsToRetry, type ReconcilerPorts, type ReconcilerSettings } from '#shared/reconciler';
import { createRuntime, reconcilerSettings, type ServiceRuntime } from '#shared/runtime';
import { SqsDeadLetterPublisher } from '#shared/deadletter/publisher';
import { drainQueue, listMembersStatus, seedAccounts, startServiceSandbox } from '../support/service-sandbox';
import { startMacieTap, type MacieTap } from '../support/macie-tap';

/**
 * The reconciler's own duties (load, observe, plan, execute, record, report), through the real
 * adapters and SDK clients against the sandbox. Where a test needs Macie or SQS to misbehave in a
 * way the emulator's knobs cannot aim (one region only), it wraps the real adapter.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const ADMIN = '111111111111';
const fleet = seedAccounts(4, 1, '2222224');
const [first, second, bouncing, stranger] = fleet as [(typeof fleet)[number], (typeof fleet)[number], (typeof fleet)[number], (typeof fleet)[number]];


const healthy = { accountId: '222222222401', email: 'healthy@example.com' };
// Read the old way, the typo would enroll this account; its row says nothing else is wrong.
const typo = { accountId: '222222222402', email: 'typo@example.com' };
// An Enabled member whose row has a wrong type: with pruning on, a member without a readable row
// would read as unmanaged and be removed.
const wrongType = { accountId: '222222222403', email: 'wrong-type@example.com' };

const desired = (account: { accountId: string; email: string }) => ({
  ...account,
  desiredState: 'member' as const,
  tags: {},
  autoAccept: true,
  paused: false,
  requestedBy: 'test',
  requestedAt: new Date().toISOString(),
});

describe('Reconciler', () => {
  let sandbox: Sandbox;
  let runtime: ServiceRuntime;

  beforeAll(async () => {
    sandbox = await startServiceSandbox({ regions: REGIONS, accounts: fleet });
    runtime = createRuntime(parseConfig(process.env));
  });

  afterAll(() => sandbox?.close());

  beforeEach(async () => {
    sandbox.emulator.control.clearCalls();
    await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
  });

  /** The real administrator adapter, except that one region cannot be listed. */
  function macieBlindIn(region: string): MacieAdministrator {
    return new Proxy(runtime.macie, {
      get(target, property, receiver) {
        if (property === 'listMembers') {
          return async (listed: string) => {
            if (listed === region) throw new AwsCallError('ListMembers', 'ThrottlingException', 'Rate exceeded', 8);
            return target.listMembers(listed);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  function reconcilerWith(overrides: Partial<ReconcilerPorts>, settings: Partial<ReconcilerSettings> = {}) {
    const { store, deadLetters, macie, acceptor } = runtime;
    return new Reconciler({ store, deadLetters, macie, acceptor, ...overrides }, { ...reconcilerSettings(runtime.config), ...settings });
  }

  const macieCalls = (operation: string, region?: string) =>
    sandbox.emulator.control.calls().filter((call) => call.service === 'macie2' && call.operation === operation && (!region || call.region === region));

  it('plans nothing in a region Macie would not list, says why, and still converges the other region', async () => {
    await runtime.store.recordDesired(desired(first));
    const reports: RunSummary[] = [];
    const reconciler = reconcilerWith({ macie: macieBlindIn('eu-west-1'), report: (summary) => reports.push(summary) });

    const report = await reconciler.reconcile({ trigger: 'test', accountIds: undefined });

    expect(report.plan.items.map((item) => item.region)).toEqual(['us-east-1']);
    expect(report.plan.notPlanned).toEqual([
      { region: 'eu-west-1', reason: expect.stringContaining('ListMembers answered ThrottlingException') },
    ]);
    expect(reports[0]?.unobserved).toEqual([{ region: 'eu-west-1', accountId: undefined, code: 'ThrottlingException', message: 'Rate exceeded' }]);
    expect(macieCalls('CreateMember', 'eu-west-1')).toEqual([]);
    expect((await listMembersStatus(sandbox, 'us-east-1')).get(first.accountId)).toBe('Enabled');
    expect((await listMembersStatus(sandbox, 'eu-west-1')).has(first.accountId)).toBe(false);
  });

  it("reports the letters the queue would not take and keeps them: the planner's dead letter stays unmarked for the next run", async () => {
    await runtime.store.recordDesired({ ...desired(bouncing), regions: ['us-east-1'] });
    sandbox.emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: bouncing.accountId, region: 'us-east-1', relationshipStatus: 'EmailVerificationFailed' });
    const reports: Array<{ summary: RunSummary; unsent: number }> = [];
    const unreachable = new SqsDeadLetterPublisher(`${sandbox.deadLetterQueueUrl}-missing`, { region: sandbox.homeRegion, maxAttempts: 1 });
    const failing = reconcilerWith({ deadLetters: unreachable, report: (summary, unsent) => reports.push({ summary, unsent: unsent.length }) });

    const report = await failing.reconcile({ trigger: 'test', accountIds: [bouncing.accountId] });
    expect(report.unsentDeadLetters.map(({ letter }) => [letter.request.accountId, letter.reason])).toEqual([[bouncing.accountId, 'needs-operator']]);
    expect(reports).toEqual([{ summary: expect.objectContaining({ deadLettered: 0, deadLettersUnsent: 1 }), unsent: 1 }]);
    expect(accountsToRetry(report)).toEqual(new Set([bouncing.accountId]));
    const { rows: [unmarked] } = await runtime.store.getMany([bouncing.accountId]);
    expect(unmarked?.observed['us-east-1']?.lastAction).not.toBe('deadLetter');

    const next = await runtime.reconciler.reconcile({ trigger: 'test', accountIds: [bouncing.accountId] });
    expect(next.summary.deadLettered).toBe(1);
    expect((await drainQueue(sandbox, sandbox.deadLetterQueueUrl)).map((letter) => [letter.accountId, letter.reason])).toEqual([
      [bouncing.accountId, 'needs-operator'],
    ]);
    const { rows: [marked] } = await runtime.store.getMany([bouncing.accountId]);
    expect(marked?.observed['us-east-1']?.lastAction).toBe('deadLetter');
  });

  it('prunes unmanaged members as ordinary work when pruning is on, and records nothing for them', async () => {
    await runtime.store.recordDesired(desired(second));
    for (const region of REGIONS) {
      sandbox.emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: stranger.accountId, region, relationshipStatus: 'Enabled' });
    }
    const pruning = reconcilerWith({}, { pruneUnmanaged: true });

    const report = await pruning.reconcile({ trigger: 'test', accountIds: undefined });

    const pruned = report.outcomes.filter((outcome) => outcome.item.accountId === stranger.accountId);
    expect(pruned.map((outcome) => [outcome.item.region, outcome.status, outcome.completed])).toEqual([
      ['us-east-1', 'done', ['disassociateMember', 'deleteMember']],
      ['eu-west-1', 'done', ['disassociateMember', 'deleteMember']],
    ]);
    expect(pruned.every((outcome) => outcome.item.row === undefined)).toBe(true);
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).has(stranger.accountId)).toBe(false);
    expect((await runtime.store.getMany([stranger.accountId])).rows).toEqual([]);
  });

  it('leaves an account another run holds to that run: deferred, untouched, and its request comes back', async () => {
    const held = seedAccounts(1, 1, '2222225')[0]!;
    sandbox.emulator.control.seedAccounts([held]);
    await runtime.store.recordDesired(desired(held));
    expect(await runtime.store.acquireLease(held.accountId, 'another-run', Date.now(), Date.now() + 60_000)).toBe(true);
    sandbox.emulator.control.clearCalls();

    const report = await runtime.reconciler.reconcile({ trigger: 'test', accountIds: [held.accountId] });

    expect(report.outcomes.map((outcome) => [outcome.item.region, outcome.status, outcome.note])).toEqual(
      REGIONS.map((region) => [region, 'deferred', 'another run is working on this account; it is left to that run']),
    );
    expect(macieCalls('CreateMember')).toEqual([]);
    expect(accountsToRetry(report)).toEqual(new Set([held.accountId]));
    // The lease is that run's: this one gives back only its own.
    expect(await runtime.store.acquireLease(held.accountId, 'a-third-run', Date.now(), Date.now() + 60_000)).toBe(false);
  });

  it('dead-letters a failure that goes on once, counts it as known, and writes it again after the quiet period', async () => {
    const broken = { accountId: '222222600001', email: 'no-role@example.com', memberRole: 'missing' as const };
    sandbox.emulator.control.seedAccounts([broken]);
    await runtime.store.recordDesired({ ...desired(broken), regions: ['us-east-1'] });
    let clock = Date.parse('2026-11-30T08:00:00.000Z');
    const later = reconcilerWith({ now: () => new Date(clock) });
    const run = async () => {
      const { summary } = await later.reconcile({ trigger: 'test', accountIds: [broken.accountId] });
      const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
      return { summary, letters: letters.map((letter) => `${letter.operation}/${letter.errorCode}`) };
    };

    expect(await run()).toMatchObject({ summary: { failuresNew: 1, failuresKnown: 0, deadLettered: 1 }, letters: ['AssumeRole/AccessDenied'] });
    clock += 3_600_000;
    expect(await run()).toMatchObject({ summary: { failuresNew: 0, failuresKnown: 1, deadLettered: 0 }, letters: [] });
    clock += 24 * 3_600_000;
    expect(await run()).toMatchObject({ summary: { failuresNew: 1, failuresKnown: 0, deadLettered: 1 }, letters: ['AssumeRole/AccessDenied'] });
  });
});

describe('Reconciler with corrupt rows', () => {
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
