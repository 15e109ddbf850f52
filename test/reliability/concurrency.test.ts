import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBridgeEvent, ScheduledEvent, SQSEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import type { DesiredMember } from '#shared/domain/types';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, sqsEvent, startServiceSandbox } from '../support/service-sandbox';
import { startMacieTap, successesPerAccountRegion, type MacieTap } from '../support/macie-tap';
import { oneInvocation } from '../support/one-invocation';

/**
 * A scheduled run, an SQS batch and onboarding events for overlapping accounts, all at once
 * through the real handlers: the table must end up holding the newest request for every account,
 * its observations must match Macie after a final run, and no member may be created twice.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const fleet = seedAccounts(30, 1);
const id = (n: number) => fleet[n - 1]!.accountId;
const email = (n: number) => fleet[n - 1]!.email;
type AnyEvent = EventBridgeEvent<string, unknown>;

let sandbox: Sandbox;
let tap: MacieTap;
let handlers: {
  reconcile: typeof import('#functions/reconcile/handler').handler;
  requests: typeof import('#functions/requests/handler').handler;
  onboard: typeof import('#functions/onboard/handler').handler;
};
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;

/** What a request asks for, to compare with the row it should leave. */
interface Expected {
  desiredState: 'member' | 'absent';
  email: string;
  tags: Record<string, string>;
  regions?: string[];
  requestedAt: string;
  requestedBy: string;
}

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts: fleet, knobs: { latencyMs: 3 } }, { ACCEPT_POLL_ATTEMPTS: '2', ACCEPT_POLL_INTERVAL_MS: '20' });
  tap = await startMacieTap(sandbox.endpoints.macie2);
  process.env.AWS_ENDPOINT_URL_MACIE2 = tap.url;
  handlers = {
    reconcile: (await import('#functions/reconcile/handler')).handler,
    requests: (await import('#functions/requests/handler')).handler,
    onboard: (await import('#functions/onboard/handler')).handler,
  };
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
});

afterAll(async () => {
  await sandbox?.close();
  await tap?.close();
});

const withSentTimestamp = (event: SQSEvent, timestamps: number[]): SQSEvent => {
  event.Records.forEach((record, index) => {
    record.attributes.SentTimestamp = String(timestamps[index]);
  });
  return event;
};

function desiredFields(row: DesiredMember | undefined) {
  if (!row) return undefined;
  const { desiredState, email: rowEmail, tags, regions, requestedAt, requestedBy } = row;
  return { desiredState, email: rowEmail, tags, regions, requestedAt, requestedBy };
}

describe('reliability: concurrency', () => {
  const expected = new Map<string, Expected>();
  let batch: SQSEvent;

  it('keeps the table consistent when a scheduled run, an SQS batch and onboarding events overlap', async () => {
    // Before: accounts 1-20 are desired (tags Wave=initial); 1-5 are already Enabled in Macie.
    const initialAt = new Date(Date.now() - 60_000).toISOString();
    for (let n = 1; n <= 20; n++) {
      await runtime.store.recordDesired({ accountId: id(n), email: email(n), desiredState: 'member', tags: { Wave: 'initial' }, autoAccept: true, paused: false, requestedBy: 'test', requestedAt: initialAt });
      expected.set(id(n), { desiredState: 'member', email: email(n), tags: { Wave: 'initial' }, requestedAt: initialAt, requestedBy: 'test' });
    }
    for (let n = 1; n <= 5; n++) {
      for (const region of REGIONS) {
        sandbox.emulator.control.seedMembership({ administratorAccountId: sandbox.administrator.accountId, accountId: id(n), region, relationshipStatus: 'Enabled' });
      }
    }

    // The SQS batch: updates for accounts the schedule is also working on, new accounts, removals.
    const second = Math.floor(Date.now() / 1000) * 1000;
    const sqsRequests: Array<{ n: number; body: Record<string, unknown>; sentAt: number }> = [
      ...[6, 7, 8, 9, 10].map((n, index) => ({ n, body: { action: 'enroll', accountId: id(n), email: email(n), tags: { Wave: 'sqs' } }, sentAt: second + 500 + index })),
      ...[21, 22].map((n, index) => ({ n, body: { action: 'enroll', accountId: id(n), email: email(n), tags: { Wave: 'sqs' }, regions: ['us-east-1'] }, sentAt: second + 510 + index })),
      ...[1, 2].map((n, index) => ({ n, body: { action: 'remove', accountId: id(n) }, sentAt: second + 520 + index })),
    ];
    batch = withSentTimestamp(
      sqsEvent(sqsRequests.map(({ body }) => JSON.stringify(body))),
      sqsRequests.map(({ sentAt }) => sentAt),
    );
    for (const { n, body, sentAt } of sqsRequests) {
      const previous = expected.get(id(n));
      const removing = body.action === 'remove';
      expected.set(id(n), {
        desiredState: removing ? 'absent' : 'member',
        email: email(n),
        tags: removing ? (previous?.tags ?? {}) : (body.tags as Record<string, string>),
        ...(body.regions ? { regions: body.regions as string[] } : {}),
        requestedAt: new Date(sentAt).toISOString(),
        requestedBy: 'sqs',
      });
    }

    // Onboarding: the project's own event for account 7, sent in the same second as the SQS request
    // for it but half a second earlier (EventBridge times have no milliseconds), so SQS is newer;
    // and an Organizations CreateAccountResult for account 23, which nothing else asks for.
    const ownEvent = await loadEvent<AnyEvent>('member-enrollment-requested.json');
    const enrollment: AnyEvent = {
      ...ownEvent,
      time: new Date(second).toISOString().replace('.000Z', 'Z'),
      detail: { accountId: id(7), email: email(7), tags: { Wave: 'event' }, requestId: 'event-7' },
    };
    const organizations = await loadEvent<AnyEvent>('organizations-create-account-result.json');
    const created = structuredClone(organizations);
    (created.detail as { serviceEventDetails: { createAccountStatus: { accountId: string } } }).serviceEventDetails.createAccountStatus.accountId = id(23);
    created.time = new Date(second).toISOString().replace('.000Z', 'Z');
    expected.set(id(23), { desiredState: 'member', email: email(23), tags: {}, requestedAt: new Date(second).toISOString(), requestedBy: 'event:aws.organizations' });

    const schedule = await loadEvent<ScheduledEvent>('schedule.json');
    const [summary, response, enrolled, onboarded] = await Promise.all([
      oneInvocation(handlers.reconcile(schedule, lambdaContext('reconcile'))),
      handlers.requests(batch, lambdaContext('requests')),
      handlers.onboard(enrollment, lambdaContext('onboard')),
      handlers.onboard(created, lambdaContext('onboard')),
    ]);
    expect(summary.failures).toEqual([]);
    // An account another run was working on is left to that run (deferred): its request comes back
    // from SQS, as Lambda's event source mapping redelivers a batch item failure.
    let redelivered = 0;
    let comingBack = response.batchItemFailures.map(({ itemIdentifier }) => itemIdentifier);
    for (let delivery = 1; comingBack.length > 0 && delivery <= 5; delivery++) {
      redelivered += comingBack.length;
      const again: SQSEvent = { Records: batch.Records.filter((record) => comingBack.includes(record.messageId)) };
      comingBack = (await handlers.requests(again, lambdaContext('requests'))).batchItemFailures.map(({ itemIdentifier }) => itemIdentifier);
    }
    expect(comingBack).toEqual([]);
    expect(enrolled).toMatchObject({ outcome: 'reconciled', accountId: id(7) });
    expect(onboarded).toMatchObject({ outcome: 'reconciled', accountId: id(23) });

    // Every row holds the newest request for its account.
    const rows = new Map((await runtime.store.listAll()).rows.map((row) => [row.accountId, row]));
    for (const [accountId, want] of expected) {
      expect(desiredFields(rows.get(accountId)), accountId).toEqual({ regions: undefined, ...want });
    }
    expect(rows.size).toBe(expected.size);

    // A final run, then the table's observations match Macie exactly, and Macie matches the table.
    const final = await oneInvocation(handlers.reconcile(schedule, lambdaContext('reconcile')));
    expect(final.byOutcome.failed).toBe(0);
    const macie = new Map(await Promise.all(REGIONS.map(async (region) => [region, await listMembersStatus(sandbox, region)] as const)));
    const { rows: afterFinal } = await runtime.store.listAll();
    for (const row of afterFinal) {
      for (const region of REGIONS) {
        const status = macie.get(region)!.get(row.accountId) ?? 'NotListed';
        expect(row.observed[region]?.relationshipStatus ?? 'NotListed', `${row.accountId} ${region}`).toBe(status);
        const wanted = row.desiredState === 'member' && (row.regions ?? REGIONS).includes(region) ? 'Enabled' : 'NotListed';
        expect(status, `${row.accountId} ${region}`).toBe(wanted);
      }
    }

    // No member was created twice, whichever run got there first.
    const tapped = tap.calls();
    const createdTwice = [...successesPerAccountRegion(tapped, 'CreateMember')].filter(([, count]) => count > 1);
    expect(createdTwice).toEqual([]);
    // The lease keeps two runs from acting on one account at once: nobody is invited twice.
    const invitedTwice = [...successesPerAccountRegion(tapped, 'CreateInvitations')].filter(([, count]) => count > 1);
    expect(invitedTwice).toEqual([]);
    // EnableMacie's conflicts only say a member's Macie was on already: not a race absorbed.
    const conflicts = tapped.filter((call) => call.errorType === 'ConflictException' && call.operation !== 'EnableMacie').length;
    // Every unprocessedAccounts entry is dead-lettered, including the race where one run invites an
    // account another run has just enrolled: those letters are noise, never a lost account (each
    // such account ended Enabled above).
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    for (const letter of letters) {
      expect(letter).toMatchObject({ reason: 'unprocessed-account', operation: 'CreateInvitations', errorMessage: expect.stringMatching(/already a member/) });
      expect(macie.get(String(letter.region))!.get(String(letter.accountId))).toBe('Enabled');
    }

    console.log(
      `[reliability] concurrency: accounts=${expected.size} regions=${REGIONS.length} concurrentInvocations=4 (schedule, SQS batch of ${batch.Records.length}, 2 onboarding events) ` +
        `rowsMatchingNewestRequest=${expected.size}/${expected.size} observationsMatchingMacie=${afterFinal.length * REGIONS.length}/${afterFinal.length * REGIONS.length} ` +
        `createMemberTwice=${createdTwice.length} createMemberConflictsAbsorbed=${conflicts} invitedTwice=${invitedTwice.length} raceDeadLetters=${letters.length} ` +
        `deferredToAnotherRunThenRedelivered=${redelivered} lost=0`,
    );
  }, 60_000);

  it('changes nothing when the same SQS batch is delivered again', async () => {
    const { rows: before } = await runtime.store.listAll();
    sandbox.clearCalls();
    tap.clear();

    const response = await handlers.requests(batch, lambdaContext('requests'));

    expect(response.batchItemFailures).toEqual([]);
    const { rows: after } = await runtime.store.listAll();
    const byId = (rows: DesiredMember[]) => [...rows].sort((a, b) => a.accountId.localeCompare(b.accountId));
    expect(byId(after)).toEqual(byId(before));
    const writes = sandbox.calls().filter((call) => /^(Create|Delete|Disassociate|Update|Tag|Untag|Accept|Enable|Put|SendMessage)/.test(call.operation));
    expect(writes).toEqual([]);
    console.log(`[reliability] duplicate delivery: messages=${batch.Records.length} rowsChanged=0 writes=${writes.length}`);
  });

  it('records a message delivered twice at the same time once, and creates its member once', async () => {
    // SQS is at-least-once: two consumers can hold the same message at the same moment.
    const duplicate = sqsEvent([JSON.stringify({ action: 'enroll', accountId: id(24), email: email(24), tags: { Wave: 'duplicate' } })]);
    tap.clear();
    const responses = await Promise.all([
      handlers.requests(duplicate, lambdaContext('requests')),
      handlers.requests(structuredClone(duplicate), lambdaContext('requests')),
    ]);
    // One delivery works on the account; the other finds it held and hands its copy back to SQS,
    // whose redelivery is then a request the table already holds.
    const handedBack = responses.filter((response) => response.batchItemFailures.length > 0);
    expect(handedBack.length).toBeLessThanOrEqual(1);
    for (const { batchItemFailures } of handedBack) {
      expect(batchItemFailures).toEqual([{ itemIdentifier: duplicate.Records[0]!.messageId }]);
      expect((await handlers.requests(structuredClone(duplicate), lambdaContext('requests'))).batchItemFailures).toEqual([]);
    }

    const { rows: [row] } = await runtime.store.getMany([id(24)]);
    expect(desiredFields(row)).toEqual({
      desiredState: 'member',
      email: email(24),
      tags: { Wave: 'duplicate' },
      regions: undefined,
      requestedAt: new Date(Number(duplicate.Records[0]!.attributes.SentTimestamp)).toISOString(),
      requestedBy: 'sqs',
    });
    const tapped = tap.calls();
    const created = successesPerAccountRegion(tapped, 'CreateMember');
    expect([...created.values()]).toEqual(REGIONS.map(() => 1));
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).get(id(24))).toBe('Enabled');
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toEqual([]);
    const conflicts = tapped.filter((call) => call.operation === 'CreateMember' && call.errorType === 'ConflictException').length;
    const invitedTwice = [...successesPerAccountRegion(tapped, 'CreateInvitations').values()].filter((count) => count > 1).length;
    console.log(
      `[reliability] concurrent duplicate: deliveries=2 createMember=${[...created.values()].join('+')} conflictsAbsorbed=${conflicts} invitedTwice=${invitedTwice} deadLetters=${letters.length}`,
    );
  });

  it('merges two requests for one account in the same batch in batch order, losing neither', async () => {
    // Records of a batch are processed at the same time. The newer request names only `paused`, so
    // the row must keep the tags and invitation message the older request set a moment before.
    const first = { action: 'enroll', accountId: id(25), email: email(25), tags: { Owner: 'payments' }, invitationMessage: 'Welcome to Macie' };
    const second = { action: 'enroll', accountId: id(25), email: email(25), paused: false };
    const event = sqsEvent([JSON.stringify(first), JSON.stringify(second)]);

    const response = await handlers.requests(event, lambdaContext('requests'));

    expect(response.batchItemFailures).toEqual([]);
    const { rows: [row] } = await runtime.store.getMany([id(25)]);
    expect(row).toMatchObject({
      tags: { Owner: 'payments' },
      invitationMessage: 'Welcome to Macie',
      requestedAt: new Date(Number(event.Records[1]!.attributes.SentTimestamp)).toISOString(),
    });
  });
});
