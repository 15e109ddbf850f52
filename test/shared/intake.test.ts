import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { parseConfig } from '#shared/config';
import type { DeadLetter } from '#shared/domain/dead-letters';
import { AwsCallError } from '#shared/errors';
import { takeInOnboardingEvent, takeInRequestBatch, type IntakePorts, type IntakeReporter, type IntakeSettings, type OnboardingPorts } from '#shared/intake';
import { createOrganizationDirectory } from '#shared/organizations/accounts';
import type { DesiredMembershipStore, OrganizationDirectory } from '#shared/ports';
import { createRuntime, type ServiceRuntime } from '#shared/runtime';
import { listMembersStatus, loadEvent, sqsEvent, startServiceSandbox } from '../support/service-sandbox';

/**
 * The intake functions with the real store and reconciler against the sandbox; dead letters, logs,
 * metrics and the clock are recorded or fixed by the test.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const accounts = [
  { accountId: '222222222501', email: 'first@example.com' },
  { accountId: '222222222502', email: 'second@example.com' },
  { accountId: '222222222503', email: 'unwritable@example.com' },
  { accountId: '222222222504', email: 'corrupt@example.com' },
  { accountId: '222222222505', email: 'twice@example.com' },
  { accountId: '222222222506', email: 'lookup@example.com' },
  { accountId: '222222222507', email: 'future@example.com' },
  { accountId: '222222222508', email: 'replayed@example.com' },
  { accountId: '222222222509', email: 'odd-envelope@example.com' },
  { accountId: '222222222201', email: 'payments-prod@example.com' },
  { accountId: '222222222203', email: 'security+payments-dev@example.com' },
];
const NOW = new Date('2026-11-21T10:00:00.000Z');

type AnyEvent = EventBridgeEvent<string, unknown>;
let sandbox: Sandbox;
let runtime: ServiceRuntime;
let settings: IntakeSettings;
let organization: OrganizationDirectory;
let letters: DeadLetter[];
let reported: { logs: Array<{ level: string; message: string; attributes: Record<string, unknown> }>; counts: string[] };

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts });
  runtime = createRuntime(parseConfig(process.env));
  organization = createOrganizationDirectory(runtime.config);
  settings = { administratorAccountId: runtime.config.administratorAccountId, managedRegions: REGIONS, eventSource: runtime.config.eventSource };
});

afterAll(() => sandbox?.close());

beforeEach(() => {
  letters = [];
  reported = { logs: [], counts: [] };
  sandbox.clearCalls();
});

const reporter: IntakeReporter = {
  info: (message, attributes) => reported.logs.push({ level: 'info', message, attributes }),
  warn: (message, attributes) => reported.logs.push({ level: 'warn', message, attributes }),
  error: (message, attributes) => reported.logs.push({ level: 'error', message, attributes }),
  count: (metric) => reported.counts.push(metric),
};

function ports(overrides: Partial<IntakePorts> = {}): IntakePorts {
  return {
    store: runtime.store,
    deadLetters: {
      publish: async (published) => {
        letters.push(...published);
        return [];
      },
    },
    reconciler: runtime.reconciler,
    reporter,
    now: () => NOW,
    ...overrides,
  };
}

const enroll = (accountId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ action: 'enroll', accountId, email: accounts.find((account) => account.accountId === accountId)?.email, ...extra });

const tableCalls = (operation: string) => sandbox.calls().filter((call) => call.service === 'dynamodb' && call.operation === operation).length;

describe('takeInRequestBatch', () => {
  it('dead-letters an invalid request, at the intake clock, without failing the batch item', async () => {
    const response = await takeInRequestBatch(sqsEvent(['{"action":"enroll","accountId":"12345"}']), ports(), settings);

    expect(response.batchItemFailures).toEqual([]);
    expect(letters).toEqual([
      expect.objectContaining({ reason: 'invalid-request', operation: 'validate', request: { action: 'enroll', accountId: '12345' }, at: NOW.toISOString() }),
    ]);
    expect(reported.counts).toEqual(['RequestsInvalid']);
    expect(reported.logs).toEqual([expect.objectContaining({ level: 'warn', message: 'Invalid request dead-lettered' })]);
    expect(tableCalls('UpdateItem')).toBe(0);
  });

  it('logs the first 20 issues of a request that breaks thousands of rules, and how many there were', async () => {
    const tags = Object.fromEntries(Array.from({ length: 2_000 }, (_, index) => [`bad!${index}`, 'v']));
    const response = await takeInRequestBatch(sqsEvent([enroll('222222222501', { tags })]), ports(), settings);

    expect(response.batchItemFailures).toEqual([]);
    expect(letters).toEqual([expect.objectContaining({ reason: 'invalid-request', errorMessage: expect.stringMatching(/\(2001 problems\): tags must have at most 50 tags, got 2000/) })]);
    const [log] = reported.logs;
    expect(log).toMatchObject({ level: 'warn', message: 'Invalid request dead-lettered', attributes: { issueCount: 2_001 } });
    expect(log?.attributes.issues).toHaveLength(20);
  });

  it('reconciles the recorded rows without reading them again: one BatchGetItem per request, none for the reconcile', async () => {
    const event = sqsEvent([enroll('222222222501'), enroll('222222222502')]);
    const response = await takeInRequestBatch(event, ports(), settings);

    expect(response.batchItemFailures).toEqual([]);
    expect(reported.counts).toEqual(['RequestsRecorded', 'RequestsRecorded']);
    expect(tableCalls('BatchGetItem')).toBe(2);
    expect(tableCalls('Scan')).toBe(0);
    for (const region of REGIONS) {
      const statuses = await listMembersStatus(sandbox, region);
      expect(statuses.get('222222222501'), region).toBe('Enabled');
      expect(statuses.get('222222222502'), region).toBe('Enabled');
    }
  });

  it('reports a request that cannot be recorded as a batch item failure, and takes in the rest', async () => {
    const store = runtime.store;
    const unwritable: DesiredMembershipStore = {
      listAll: () => store.listAll(),
      getMany: (accountIds) => store.getMany(accountIds),
      recordDesired: (member, expectedVersion) =>
        member.accountId === '222222222503'
          ? Promise.reject(new AwsCallError('UpdateItem', 'ProvisionedThroughputExceededException', 'slow down', 3))
          : store.recordDesired(member, expectedVersion),
      recordObservations: (accountId, observations) => store.recordObservations(accountId, observations),
      acquireLease: (...lease) => store.acquireLease(...lease),
      releaseLease: (...lease) => store.releaseLease(...lease),
      consumedCapacity: () => store.consumedCapacity(),
    };
    const event = sqsEvent([enroll('222222222503'), enroll('222222222501', { tags: { Owner: 'a' } })]);
    const response = await takeInRequestBatch(event, ports({ store: unwritable }), settings);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(letters).toEqual([]);
    expect((await store.getMany(['222222222503'])).rows).toEqual([]);
    expect((await store.getMany(['222222222501'])).rows[0]?.tags).toEqual({ Owner: 'a' });
  });

  it('leaves a corrupt row alone and reports its request as a batch item failure', async () => {
    const raw = new DynamoDBClient({ region: sandbox.homeRegion, endpoint: sandbox.endpoints.dynamodb });
    const corrupt = { accountId: '222222222504', desiredState: 'absnet', email: 'corrupt@example.com', requestedAt: '2026-01-01T00:00:00.000Z' };
    await raw.send(new PutItemCommand({ TableName: sandbox.tableName, Item: marshall(corrupt) }));
    raw.destroy();

    const event = sqsEvent([enroll('222222222504'), enroll('222222222502', { tags: { Owner: 'b' } })]);
    const response = await takeInRequestBatch(event, ports(), settings);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect((await runtime.store.getMany(['222222222504'])).corrupt).toEqual([
      { accountId: '222222222504', problems: [expect.objectContaining({ field: 'desiredState', rule: 'oneOf' })] },
    ]);
  });

  it('records two requests for one account in batch order, the second merged with the row the first wrote', async () => {
    const event = sqsEvent([
      enroll('222222222505', { tags: { Owner: 'first' }, requestId: 'one' }),
      JSON.stringify({ action: 'enroll', accountId: '222222222505', email: 'twice@example.com', regions: ['us-east-1'], requestId: 'two' }),
    ]);
    const response = await takeInRequestBatch(event, ports(), settings);

    expect(response.batchItemFailures).toEqual([]);
    expect(reported.counts).toEqual(['RequestsRecorded', 'RequestsRecorded']);
    const { rows: [row] } = await runtime.store.getMany(['222222222505']);
    expect(row).toMatchObject({ requestId: 'two', regions: ['us-east-1'], tags: { Owner: 'first' } });
    // The reconcile planned on the row the second request wrote: us-east-1 only.
    expect((await listMembersStatus(sandbox, 'us-east-1')).get('222222222505')).toBe('Enabled');
    expect((await listMembersStatus(sandbox, 'eu-west-1')).has('222222222505')).toBe(false);
  });
});

describe('takeInOnboardingEvent', () => {
  let lookups: string[];
  const onboardingPorts = (): OnboardingPorts => ({
    ...ports(),
    organization: () => ({
      describeAccount: (accountId) => {
        lookups.push(accountId);
        return organization.describeAccount(accountId);
      },
      listAccounts: () => organization.listAccounts(),
      describeOrganization: () => organization.describeOrganization(),
    }),
  });

  beforeEach(() => {
    lookups = [];
  });

  it('ignores an event that does not concern membership, and counts it', async () => {
    const result = await takeInOnboardingEvent(
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} } as AnyEvent,
      onboardingPorts(),
      settings,
    );
    expect(result).toMatchObject({ outcome: 'ignored' });
    expect(reported.counts).toEqual(['OnboardingEventsIgnored']);
    expect(letters).toEqual([]);
    expect(sandbox.calls()).toEqual([]);
  });

  it('logs what a 20,000-deep source, detail-type or id is, rather than the structure, which the logger could not write', async () => {
    const deep = () => JSON.parse(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`) as unknown;
    const own = await loadEvent<AnyEvent>('member-enrollment-requested.json');
    const ignored = await takeInOnboardingEvent({ ...own, source: deep(), 'detail-type': deep() } as unknown as AnyEvent, onboardingPorts(), settings);
    const invalid = await takeInOnboardingEvent({ ...own, id: deep(), detail: { accountId: '12345' } } as unknown as AnyEvent, onboardingPorts(), settings);

    expect(ignored).toMatchObject({ outcome: 'ignored' });
    expect(invalid).toMatchObject({ outcome: 'invalid' });
    expect(reported.logs.map((log) => log.attributes)).toEqual([
      expect.objectContaining({ source: 'an object with 1 key', detailType: 'an object with 1 key' }),
      expect.objectContaining({ eventId: 'an object with 1 key' }),
    ]);
    expect(() => JSON.stringify(reported.logs)).not.toThrow();
  });

  it('dead-letters an invalid membership event', async () => {
    const event = await loadEvent<AnyEvent>('member-enrollment-requested.json');
    const result = await takeInOnboardingEvent({ ...event, detail: { ...(event.detail as object), accountId: '12345' } }, onboardingPorts(), settings);

    expect(result).toMatchObject({ outcome: 'invalid', summary: expect.stringContaining('accountId') });
    expect(letters).toEqual([expect.objectContaining({ reason: 'invalid-request', operation: 'validate', request: expect.objectContaining({ accountId: '12345' }), at: NOW.toISOString() })]);
    expect(reported.counts).toEqual(['OnboardingEventsInvalid']);
  });

  it('dead-letters an account whose email cannot be looked up, as intake-failed', async () => {
    const event = await loadEvent<AnyEvent>('organizations-create-account-result.json');
    (event.detail as { serviceEventDetails: { createAccountStatus: { accountId: string } } }).serviceEventDetails.createAccountStatus.accountId = '222222222599';
    const result = await takeInOnboardingEvent(event, onboardingPorts(), settings);

    expect(result).toEqual({ outcome: 'dead-lettered', accountId: '222222222599', errorCode: 'AccountNotFoundException' });
    expect(lookups).toEqual(['222222222599']);
    expect(letters).toEqual([
      expect.objectContaining({ reason: 'intake-failed', operation: 'DescribeAccount', request: { action: 'enroll', accountId: '222222222599' }, at: NOW.toISOString() }),
    ]);
    expect(reported.counts).toEqual(['OnboardingEventsDeadLettered']);
    expect(reported.logs).toEqual([expect.objectContaining({ level: 'error', message: 'Onboarding failed; dead-lettered' })]);
  });

  it('records and reconciles a new account, on the row it recorded', async () => {
    const result = await takeInOnboardingEvent(await loadEvent<AnyEvent>('organizations-create-account-result.json'), onboardingPorts(), settings);

    expect(result).toMatchObject({ outcome: 'reconciled', accountId: '222222222201', summary: { trigger: 'onboarding' } });
    expect(lookups).toEqual(['222222222201']);
    expect(tableCalls('BatchGetItem')).toBe(1);
    expect(reported.counts).toEqual(['RequestsRecorded', 'OnboardingEventsReconciled']);
    expect(reported.logs).toEqual([
      expect.objectContaining({ message: 'Membership request recorded', attributes: expect.objectContaining({ accountId: '222222222201', action: 'enroll', write: 'written' }) }),
    ]);
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).get('222222222201'), region).toBe('Enabled');
  });

  it('records no request id from an event id that breaks the requestId rule, so the row stays readable', async () => {
    const own = await loadEvent<AnyEvent>('member-enrollment-requested.json');
    const detail = { accountId: '222222222509', email: 'odd-envelope@example.com' };
    for (const id of [42, { uuid: 'x' }, 'r'.repeat(129), 'tab\there']) {
      const result = await takeInOnboardingEvent({ ...own, id, detail } as unknown as AnyEvent, onboardingPorts(), settings);
      expect(result, JSON.stringify(id)).toMatchObject({ outcome: 'reconciled', accountId: '222222222509' });
      const { rows, corrupt } = await runtime.store.getMany(['222222222509']);
      expect(corrupt, JSON.stringify(id)).toEqual([]);
      expect(rows[0]?.requestId, JSON.stringify(id)).toBeUndefined();
    }
    expect(letters).toEqual([]);
  });

  it("takes the email of the project's own event without looking it up", async () => {
    const result = await takeInOnboardingEvent(await loadEvent<AnyEvent>('member-enrollment-requested.json'), onboardingPorts(), settings);
    expect(result).toMatchObject({ outcome: 'reconciled', accountId: '222222222203' });
    expect(lookups).toEqual([]);
  });

  it("keeps the email it looked up in the letter when the table write fails, so the letter replays as it is", async () => {
    const store = runtime.store;
    const unwritable: DesiredMembershipStore = { ...store, recordDesired: () => Promise.reject(new AwsCallError('UpdateItem', 'ProvisionedThroughputExceededException', 'slow down', 8)) };
    for (const method of ['listAll', 'getMany', 'recordObservations', 'acquireLease', 'releaseLease', 'consumedCapacity'] as const) {
      Object.assign(unwritable, { [method]: store[method].bind(store) });
    }
    const event = structuredClone(await loadEvent<AnyEvent>('organizations-create-account-result.json'));
    (event.detail as { serviceEventDetails: { createAccountStatus: { accountId: string } } }).serviceEventDetails.createAccountStatus.accountId = '222222222506';
    const result = await takeInOnboardingEvent(event, { ...onboardingPorts(), store: unwritable }, settings);
    expect(result).toMatchObject({ outcome: 'dead-lettered', errorCode: 'ProvisionedThroughputExceededException' });
    expect(letters).toEqual([
      expect.objectContaining({ reason: 'intake-failed', request: { action: 'enroll', accountId: '222222222506', email: 'lookup@example.com' } }),
    ]);
  });

  it('never dates a request later than it arrived: an event timed in the future does not outrank the removal after it', async () => {
    const arrived = new Date();
    const future = { ...(await loadEvent<AnyEvent>('member-enrollment-requested.json')), time: '2099-01-01T00:00:00Z', id: 'future-event' };
    future.detail = { ...(future.detail as Record<string, unknown>), accountId: '222222222507', email: 'future@example.com', requestId: 'future' };
    await takeInOnboardingEvent(future, { ...onboardingPorts(), now: () => arrived }, settings);
    const { rows: [enrolled] } = await runtime.store.getMany(['222222222507']);
    expect(enrolled?.requestedAt).toBe(arrived.toISOString());

    const later = new Date(arrived.getTime() + 60_000);
    const removal = sqsEvent([JSON.stringify({ action: 'remove', accountId: '222222222507' })]);
    removal.Records[0]!.attributes.SentTimestamp = String(later.getTime());
    await takeInRequestBatch(removal, ports(), settings);
    const { rows: [removed] } = await runtime.store.getMany(['222222222507']);
    expect(removed).toMatchObject({ desiredState: 'absent', requestedAt: later.toISOString() });
  });
});

describe('request order', () => {
  it('dates a replayed dead letter no later than SQS took it, so a letter claiming the future cannot block what follows', async () => {
    const sent = new Date(Date.now() + 120_000);
    const letter = sqsEvent([JSON.stringify({ action: 'enroll', accountId: '222222222508', email: 'replayed@example.com', reason: 'action-failed', at: '2099-01-01T00:00:00.000Z' })]);
    letter.Records[0]!.attributes.SentTimestamp = String(sent.getTime());
    await takeInRequestBatch(letter, ports(), settings);
    expect((await runtime.store.getMany(['222222222508'])).rows[0]?.requestedAt).toBe(sent.toISOString());

    const then = new Date(sent.getTime() + 1_000);
    const removal = sqsEvent([JSON.stringify({ action: 'remove', accountId: '222222222508' })]);
    removal.Records[0]!.attributes.SentTimestamp = String(then.getTime());
    const response = await takeInRequestBatch(removal, ports(), settings);
    expect(response.batchItemFailures).toEqual([]);
    expect((await runtime.store.getMany(['222222222508'])).rows[0]).toMatchObject({ desiredState: 'absent', requestedAt: then.toISOString() });
  });

  it('counts and says a request that a newer one supersedes, rather than dropping it in silence', async () => {
    const old = sqsEvent([JSON.stringify({ action: 'enroll', accountId: '222222222508', email: 'replayed@example.com' })]);
    old.Records[0]!.attributes.SentTimestamp = String(NOW.getTime());
    await takeInRequestBatch(old, ports(), settings);
    expect(reported.counts).toContain('RequestsSuperseded');
    expect(reported.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'Membership request superseded: the table holds this request already, or a newer one' }),
    );
  });
});
