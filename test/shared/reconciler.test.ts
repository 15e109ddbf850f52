import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '#sandbox/index';
import { parseConfig } from '#shared/config';
import type { RunSummary } from '#shared/domain/outcomes';
import { AwsCallError } from '#shared/errors';
import type { MacieAdministrator } from '#shared/ports';
import { Reconciler, type ReconcilerPorts, type ReconcilerSettings } from '#shared/reconciler';
import { createRuntime, reconcilerSettings, type ServiceRuntime } from '#shared/runtime';
import { SqsDeadLetterPublisher } from '#shared/deadletter/publisher';
import { drainQueue, listMembersStatus, seedAccounts, startServiceSandbox } from '../support/service-sandbox';

/**
 * The reconciler's own duties (load, observe, plan, execute, record, report), through the real
 * adapters and SDK clients against the sandbox. Where a test needs Macie or SQS to misbehave in a
 * way the emulator's knobs cannot aim (one region only), it wraps the real adapter.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const ADMIN = '111111111111';
const fleet = seedAccounts(4, 1, '2222224');
const [first, second, bouncing, stranger] = fleet as [(typeof fleet)[number], (typeof fleet)[number], (typeof fleet)[number], (typeof fleet)[number]];

let sandbox: Sandbox;
let runtime: ServiceRuntime;

const desired = (account: { accountId: string; email: string }) => ({
  ...account,
  desiredState: 'member' as const,
  tags: {},
  autoAccept: true,
  paused: false,
  requestedBy: 'test',
  requestedAt: new Date().toISOString(),
});

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

describe('Reconciler', () => {
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

  it("reports the run and fails when its dead letters cannot be sent, leaving the planner's dead letter unmarked for the next run", async () => {
    await runtime.store.recordDesired({ ...desired(bouncing), regions: ['us-east-1'] });
    sandbox.emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: bouncing.accountId, region: 'us-east-1', relationshipStatus: 'EmailVerificationFailed' });
    const reports: RunSummary[] = [];
    const unreachable = new SqsDeadLetterPublisher(`${sandbox.deadLetterQueueUrl}-missing`, { region: sandbox.homeRegion, maxAttempts: 1 });
    const failing = reconcilerWith({ deadLetters: unreachable, report: (summary) => reports.push(summary) });

    await expect(failing.reconcile({ trigger: 'test', accountIds: [bouncing.accountId] })).rejects.toMatchObject({ operation: 'SendMessageBatch' });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.deadLettered).toBe(0);
    const [unmarked] = await runtime.store.getMany([bouncing.accountId]);
    expect(unmarked?.observed['us-east-1']?.lastAction).not.toBe('deadLetter');

    const next = await runtime.reconciler.reconcile({ trigger: 'test', accountIds: [bouncing.accountId] });
    expect(next.summary.deadLettered).toBe(1);
    expect((await drainQueue(sandbox, sandbox.deadLetterQueueUrl)).map((letter) => [letter.accountId, letter.reason])).toEqual([
      [bouncing.accountId, 'needs-operator'],
    ]);
    const [marked] = await runtime.store.getMany([bouncing.accountId]);
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
    expect(await runtime.store.getMany([stranger.accountId])).toEqual([]);
  });
});
