import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBridgeEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, sqsEvent, startServiceSandbox } from '../support/service-sandbox';

/**
 * Malformed requests and events: each gets an error naming the field and the rule, lands in the
 * dead-letter queue, and neither fails the rest of its batch nor crashes the function.
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const ADMINISTRATOR = '111111111111';
const valid = seedAccounts(4, 1);
const MEGABYTE = 1024 * 1024;
type AnyEvent = EventBridgeEvent<string, unknown>;

let sandbox: Sandbox;
let requests: typeof import('#functions/requests/handler').handler;
let onboard: typeof import('#functions/onboard/handler').handler;

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts: valid, administratorAccountId: ADMINISTRATOR });
  requests = (await import('#functions/requests/handler')).handler;
  onboard = (await import('#functions/onboard/handler')).handler;
});

afterAll(() => sandbox?.close());

const enroll = { action: 'enroll', accountId: '222222299999', email: 'someone@example.com' };
const manyTags = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`Key${index}`, 'v']));

/** A malformed body, and what its dead letter's message must say: the field, then the rule. */
interface BadBody {
  name: string;
  body: string;
  field: string;
  rule: RegExp;
}

const json = (value: unknown) => JSON.stringify(value);
const badBodies: BadBody[] = [
  { name: 'not JSON', body: 'enroll 222222200001 please', field: 'body', rule: /must be valid JSON/ },
  { name: 'truncated JSON', body: '{"action":"enroll","accountId":"2222', field: 'body', rule: /must be valid JSON/ },
  { name: 'empty body', body: '', field: 'body', rule: /must be a JSON object, got an empty body/ },
  { name: 'JSON array', body: '[1,2,3]', field: 'body', rule: /must be a JSON object, got an array/ },
  { name: 'JSON null', body: 'null', field: 'body', rule: /must be a JSON object, got null/ },
  { name: 'account id as a number', body: json({ ...enroll, accountId: 222222299999 }), field: 'accountId', rule: /must be a string of exactly 12 digits, got 222222299999 \(a number\)/ },
  { name: '11-digit account id', body: json({ ...enroll, accountId: '22222229999' }), field: 'accountId', rule: /must be exactly 12 digits, got "22222229999"/ },
  { name: '13-digit account id', body: json({ ...enroll, accountId: '2222222999999' }), field: 'accountId', rule: /must be exactly 12 digits, got "2222222999999"/ },
  { name: 'account id with letters', body: json({ ...enroll, accountId: '22222229999O' }), field: 'accountId', rule: /must be exactly 12 digits/ },
  { name: 'missing account id', body: json({ action: 'enroll', email: 'someone@example.com' }), field: 'accountId', rule: /is required/ },
  { name: 'bad email', body: json({ ...enroll, email: 'someone.example.com' }), field: 'email', rule: /must be a plausible email address/ },
  { name: 'email with a space', body: json({ ...enroll, email: 'some one@example.com' }), field: 'email', rule: /must be a plausible email address/ },
  { name: 'enroll without email', body: json({ action: 'enroll', accountId: '222222299999' }), field: 'email', rule: /is required to enroll/ },
  { name: '51 tags', body: json({ ...enroll, tags: manyTags }), field: 'tags', rule: /must have at most 50 tags, got 51/ },
  { name: 'tag key of 129 characters', body: json({ ...enroll, tags: { ['K'.repeat(129)]: 'v' } }), field: `tags[${JSON.stringify(`${'K'.repeat(40)}…`)}]`, rule: /key must be 1-128 characters, got 129/ },
  { name: 'tag value of 257 characters', body: json({ ...enroll, tags: { Owner: 'v'.repeat(257) } }), field: 'tags.Owner', rule: /must be at most 256 characters, got 257/ },
  { name: 'tag value not a string', body: json({ ...enroll, tags: { Owner: 42 } }), field: 'tags.Owner', rule: /must be a string, got 42/ },
  { name: 'reserved tag prefix', body: json({ ...enroll, tags: { 'aws:owner': 'x' } }), field: 'tags["aws:owner"]', rule: /key must not start with "aws:"/ },
  { name: 'invitation message of 81 characters', body: json({ ...enroll, invitationMessage: 'a'.repeat(81) }), field: 'invitationMessage', rule: /must be 1-80 characters, got 81/ },
  { name: 'invitation message not alphanumeric', body: json({ ...enroll, invitationMessage: 'Welcome!' }), field: 'invitationMessage', rule: /must contain letters, digits and spaces only/ },
  { name: 'unknown action', body: json({ ...enroll, action: 'suspend' }), field: 'action', rule: /must be "enroll" or "remove", got "suspend"/ },
  { name: 'missing action', body: json({ accountId: '222222299999', email: 'someone@example.com' }), field: 'action', rule: /is required/ },
  { name: "the administrator's own account", body: json({ ...enroll, accountId: ADMINISTRATOR }), field: 'accountId', rule: /must not be the administrator's own account/ },
  { name: 'unmanaged region', body: json({ ...enroll, regions: ['ap-south-1'] }), field: 'regions[0]', rule: /must be one of the managed regions/ },
  { name: 'regions on a removal', body: json({ action: 'remove', accountId: '222222299999', regions: ['us-east-1'] }), field: 'regions', rule: /is not allowed for remove/ },
  { name: 'flag as a string', body: json({ ...enroll, autoAccept: 'yes' }), field: 'autoAccept', rule: /must be true or false, got "yes"/ },
  { name: 'request id of 129 characters', body: json({ ...enroll, requestId: 'r'.repeat(129) }), field: 'requestId', rule: /must be 1-128 characters, got 129/ },
  { name: 'object where a string belongs', body: json({ ...enroll, accountId: { $gt: '' } }), field: 'accountId', rule: /must be a string of exactly 12 digits, got an object with 1 key/ },
  { name: 'prototype key in tags', body: '{"action":"enroll","accountId":"222222299999","email":"someone@example.com","tags":{"__proto__":{"polluted":true}}}', field: 'tags.__proto__', rule: /must be a string, got an object with 1 key/ },
  { name: '1 MB body', body: json({ ...enroll, tags: { Padding: 'x'.repeat(MEGABYTE) } }), field: 'body', rule: /must be at most 262144 bytes, got at least \d+ bytes/ },
];

describe('reliability: bad input', () => {
  it('dead-letters every malformed SQS request with its field and rule, and applies the valid ones in the same batch', async () => {
    const validBodies = valid.slice(0, 3).map((account) => json({ action: 'enroll', ...account, tags: { Source: 'batch' } }));
    // Valid requests first, in the middle and last: none of them may be held back by its neighbours.
    const bodies = [validBodies[0]!, ...badBodies.slice(0, 15).map((bad) => bad.body), validBodies[1]!, ...badBodies.slice(15).map((bad) => bad.body), validBodies[2]!];
    const event = sqsEvent(bodies);

    const started = Date.now();
    const response = await requests(event, lambdaContext('requests'));
    const elapsedMs = Date.now() - started;

    expect(response.batchItemFailures).toEqual([]);
    for (const account of valid.slice(0, 3)) {
      for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).get(account.accountId), `${account.accountId} ${region}`).toBe('Enabled');
    }
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toHaveLength(badBodies.length);
    for (const letter of letters) {
      expect(letter).toMatchObject({ reason: 'invalid-request', operation: 'validate', errorCode: 'ValidationError', attempts: 1 });
      // SQS takes at most 256 KiB a message; the 1 MB body is kept as a truncated excerpt.
      expect(Buffer.byteLength(JSON.stringify(letter))).toBeLessThan(64 * 1024);
    }
    const unmatched: string[] = [];
    for (const bad of badBodies) {
      const pattern = new RegExp(`${escapeRegExp(bad.field)} ${bad.rule.source}`);
      const letter = letters.find((candidate) => pattern.test(String(candidate.errorMessage)));
      if (!letter) unmatched.push(`${bad.name}: no dead letter says /${pattern.source}/; got ${letters.map((l) => l.errorMessage).join(' | ')}`);
    }
    expect(unmatched).toEqual([]);
    const huge = letters.find((letter) => letter.rawInputTruncatedFrom !== undefined);
    expect(huge).toMatchObject({ rawInputTruncatedFrom: badBodies.at(-1)!.body.length });
    // A "__proto__" key in a request is data, never a prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    console.log(
      `[reliability] bad input (SQS): batch=${bodies.length} valid=3 malformed=${badBodies.length} deadLettered=${letters.length} ` +
        `batchItemFailures=${response.batchItemFailures.length} validEnabled=3/3 largestDeadLetterBytes=${Math.max(...letters.map((l) => Buffer.byteLength(JSON.stringify(l))))} elapsedMs=${elapsedMs}`,
    );
  });

  it('dead-letters malformed onboarding events with their field and rule, and still onboards a valid one', async () => {
    const own = await loadEvent<AnyEvent>('member-enrollment-requested.json');
    const removal = await loadEvent<AnyEvent>('member-removal-requested.json');
    const organizations = await loadEvent<AnyEvent>('organizations-create-account-result.json');
    const controlTower = await loadEvent<AnyEvent>('controltower-create-managed-account.json');
    const withAccount = (event: AnyEvent, accountId: unknown) => {
      const copy = structuredClone(event);
      (copy.detail as { serviceEventDetails: { createAccountStatus: Record<string, unknown> } }).serviceEventDetails.createAccountStatus.accountId = accountId;
      return copy;
    };
    const withoutControlTowerAccount = structuredClone(controlTower);
    delete (withoutControlTowerAccount.detail as { serviceEventDetails: { createManagedAccountStatus: { account: Record<string, unknown> } } }).serviceEventDetails.createManagedAccountStatus.account.accountId;

    const badEvents: Array<{ name: string; event: AnyEvent; field: string; rule: RegExp }> = [
      { name: 'own enrollment, 11-digit account', event: { ...own, detail: { ...(own.detail as object), accountId: '22222229999' } }, field: 'detail.accountId', rule: /must be exactly 12 digits/ },
      { name: 'own enrollment, 13-digit account', event: { ...own, detail: { ...(own.detail as object), accountId: '2222222999999' } }, field: 'detail.accountId', rule: /must be exactly 12 digits/ },
      { name: 'own enrollment, bad email', event: { ...own, detail: { ...(own.detail as object), email: 'nobody' } }, field: 'detail.email', rule: /must be a plausible email address/ },
      { name: 'own enrollment, long invitation message', event: { ...own, detail: { ...(own.detail as object), invitationMessage: 'x'.repeat(81) } }, field: 'detail.invitationMessage', rule: /must be 1-80 characters/ },
      { name: 'own enrollment, 51 tags', event: { ...own, detail: { ...(own.detail as object), tags: manyTags } }, field: 'detail.tags', rule: /must have at most 50 tags/ },
      { name: "own enrollment, the administrator's account", event: { ...own, detail: { ...(own.detail as object), accountId: ADMINISTRATOR } }, field: 'detail.accountId', rule: /must not be the administrator's own account/ },
      { name: 'own enrollment, detail not an object', event: { ...own, detail: 'enroll please' }, field: 'detail', rule: /must be a membership request object/ },
      { name: 'own removal that says enroll', event: { ...removal, detail: { ...(removal.detail as object), action: 'enroll' } }, field: 'detail.action', rule: /must be "remove" or left out/ },
      { name: 'own enrollment, 1 MB of tags', event: { ...own, detail: { ...(own.detail as object), tags: { Padding: 'x'.repeat(MEGABYTE) } } }, field: 'detail.tags.Padding', rule: /must be at most 256 characters/ },
      { name: 'Organizations, 13-digit account', event: withAccount(organizations, '2222222999999'), field: 'detail.serviceEventDetails.createAccountStatus.accountId', rule: /must be exactly 12 digits/ },
      { name: 'Organizations, numeric account', event: withAccount(organizations, 222222299999), field: 'detail.serviceEventDetails.createAccountStatus.accountId', rule: /must be exactly 12 digits, got 222222299999 \(a number\)/ },
      { name: 'Organizations, no status', event: { ...organizations, detail: { eventName: 'CreateAccountResult', serviceEventDetails: {} } }, field: 'detail.serviceEventDetails.createAccountStatus', rule: /is required/ },
      { name: 'Control Tower, no account id', event: withoutControlTowerAccount, field: 'detail.serviceEventDetails.createManagedAccountStatus.account.accountId', rule: /must be exactly 12 digits, got nothing/ },
    ];

    const outcomes = [];
    for (const bad of badEvents) outcomes.push({ bad, result: await onboard(bad.event, lambdaContext('onboard')) });
    const validEvent = { ...own, detail: { accountId: valid[3]!.accountId, email: valid[3]!.email } };
    const onboarded = await onboard(validEvent, lambdaContext('onboard'));
    // Not membership events at all: ignored with a reason, never a crash and never a dead letter.
    const unrelated = [null, 'text', {}, { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} }];
    const ignored = [];
    for (const event of unrelated) ignored.push(await onboard(event as unknown as AnyEvent, lambdaContext('onboard')));

    for (const { bad, result } of outcomes) {
      expect(result, bad.name).toMatchObject({ outcome: 'invalid', summary: expect.stringMatching(new RegExp(`${escapeRegExp(bad.field)} ${bad.rule.source}`)) });
    }
    expect(onboarded).toMatchObject({ outcome: 'reconciled', accountId: valid[3]!.accountId });
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).get(valid[3]!.accountId)).toBe('Enabled');
    for (const result of ignored) expect(result).toMatchObject({ outcome: 'ignored', reason: expect.any(String) });

    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toHaveLength(badEvents.length);
    for (const letter of letters) {
      expect(letter).toMatchObject({ reason: 'invalid-request', operation: 'validate', errorCode: 'ValidationError' });
      expect(Buffer.byteLength(JSON.stringify(letter))).toBeLessThan(64 * 1024);
    }
    for (const { bad } of outcomes) {
      const pattern = new RegExp(`${escapeRegExp(bad.field)} ${bad.rule.source}`);
      expect(letters.some((letter) => pattern.test(String(letter.errorMessage))), bad.name).toBe(true);
    }
    console.log(
      `[reliability] bad input (EventBridge): malformed=${badEvents.length} deadLettered=${letters.length} validOnboarded=1 unrelatedIgnored=${ignored.length} crashes=0`,
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
