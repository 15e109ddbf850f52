import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { drainQueue, listMembersStatus, loadEvent, seedAccounts, sqsEvent, startServiceSandbox } from '../support/service-sandbox';

/**
 * Malformed requests and events: each gets an error naming the field and the rule, lands in the
 * dead-letter queue, and neither fails the rest of its batch nor crashes the function. Odd input
 * that is still a valid request is recorded, and an event that is not about membership is ignored.
 * The functions log at INFO, as deployed, so every log line is really written (a logger that
 * cannot serialize what it is given crashes the function too).
 */

const REGIONS = ['us-east-1', 'eu-west-1'];
const ADMINISTRATOR = '111111111111';
const valid = seedAccounts(4, 1);
// One account per case of the catalogue that is to be accepted, so each recorded row is its case's.
const fresh = seedAccounts(40, 101);
const MEGABYTE = 1024 * 1024;
const SQS_MAX_BYTES = 256 * 1024;
type AnyEvent = EventBridgeEvent<string, unknown>;

let sandbox: Sandbox;
let requests: typeof import('#functions/requests/handler').handler;
let onboard: typeof import('#functions/onboard/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;

/** What the whole suite saw, for its summary line. */
const tally = { cases: 0, sqsBodies: 0, events: 0, deadLettered: 0, accepted: 0, ignored: 0, crashes: 0, poisonMessages: 0, largestDeadLetterBytes: 0 };
const logLines: string[] = [];

beforeAll(async () => {
  // POWERTOOLS_DEV sends the logger's lines to the global console, where they are collected.
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts: [...valid, ...fresh], administratorAccountId: ADMINISTRATOR }, { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_DEV: 'true' });
  for (const level of ['trace', 'debug', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...parts: unknown[]) => void logLines.push(parts.map(String).join(' ')));
  }
  requests = (await import('#functions/requests/handler')).handler;
  onboard = (await import('#functions/onboard/handler')).handler;
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
});

afterAll(async () => {
  vi.restoreAllMocks();
  sqs?.destroy();
  await sandbox?.close();
});

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

    tally.cases += bodies.length;
    tally.sqsBodies += bodies.length;
    tally.deadLettered += letters.length;
    tally.accepted += validBodies.length;
    tally.largestDeadLetterBytes = Math.max(tally.largestDeadLetterBytes, ...letters.map((l) => Buffer.byteLength(JSON.stringify(l))));
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
    tally.cases += badEvents.length + 1 + unrelated.length;
    tally.events += badEvents.length + 1 + unrelated.length;
    tally.deadLettered += letters.length;
    tally.accepted += 1;
    tally.ignored += ignored.length;
    tally.largestDeadLetterBytes = Math.max(tally.largestDeadLetterBytes, ...letters.map((l) => Buffer.byteLength(JSON.stringify(l))));
    console.log(
      `[reliability] bad input (EventBridge): malformed=${badEvents.length} deadLettered=${letters.length} validOnboarded=1 unrelatedIgnored=${ignored.length} crashes=0`,
    );
  });
});

/** What a case must end as: dead-lettered with its field and rule, recorded, or ignored. */
type Expected =
  | { outcome: 'dead-lettered'; field: string; rule: RegExp; truncated?: boolean }
  | { outcome: 'accepted'; accountId: string; desiredState?: 'member' | 'absent'; requestedBy: string; tags?: Record<string, string> }
  | { outcome: 'ignored' };

interface Case {
  name: string;
  /** An SQS message body (a batch of one), or an EventBridge event (anything can be sent to a function). */
  input: { sqs: string } | { event: unknown };
  expected: Expected;
}

const deadLettered = (field: string, rule: RegExp, truncated?: boolean): Expected => ({ outcome: 'dead-lettered', field, rule, ...(truncated ? { truncated } : {}) });
const IGNORED: Expected = { outcome: 'ignored' };

/** `{"a":{"a":...1...}}`: JSON.parse reads any depth, JSON.stringify overflows the stack at a few thousand levels. */
const DEPTH = 20_000;
const deepObjectText = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
const deepArrayText = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
const deepObject = () => JSON.parse(deepObjectText) as unknown;

let freshUsed = 0;
/** The next account of its own for a case that is to be recorded. */
const nextFresh = () => {
  const account = fresh[freshUsed++];
  if (!account) throw new Error('the catalogue needs more fresh accounts');
  return account;
};

/** A body `fields` spoils; the rest of it is a valid enroll request. */
const spoiled = (fields: Record<string, unknown>) => JSON.stringify({ ...enroll, ...fields });

function sqsCases(): Case[] {
  const accepted = (name: string, body: (account: { accountId: string; email: string }) => string, extra: Partial<Extract<Expected, { outcome: 'accepted' }>> = {}): Case => {
    const account = nextFresh();
    return { name, input: { sqs: body(account) }, expected: { outcome: 'accepted', accountId: account.accountId, requestedBy: 'sqs', ...extra } };
  };
  const bad = (name: string, body: string, field: string, rule: RegExp, truncated?: boolean): Case => ({ name, input: { sqs: body }, expected: deadLettered(field, rule, truncated) });
  /** A valid request padded to exactly `bytes` bytes of UTF-8 with `filler`. */
  const exactly = (bytes: number, account: { accountId: string; email: string }, filler = 'x') => {
    const room = bytes - Buffer.byteLength(JSON.stringify({ action: 'enroll', ...account, padding: '' }));
    const unit = Buffer.byteLength(filler);
    return JSON.stringify({ action: 'enroll', ...account, padding: `${filler.repeat(Math.floor(room / unit))}${'x'.repeat(room % unit)}` });
  };
  const accountOnly = (account: { accountId: string; email: string }, fields: Record<string, unknown> = {}) => JSON.stringify({ action: 'enroll', ...account, ...fields });
  const multibyte = spoiled({ padding: 'é'.repeat(150_000) });
  const astral = spoiled({ padding: '𝒜'.repeat(70_000) });

  return [
    // Encodings: what SQS cannot carry may still reach a function invoked directly.
    bad('SQS: byte order mark before the JSON', `\uFEFF${spoiled({})}`, 'body', /must be valid JSON/),
    bad('SQS: a byte order mark and nothing else', '\uFEFF', 'body', /must be a JSON object, got an empty body/),
    bad('SQS: lone high surrogate in the email', spoiled({ email: 'some\uD800one@example.com' }), 'email', /must be a plausible email address/),
    bad('SQS: lone surrogate escaped in JSON, in the account id', spoiled({}).replace('"222222299999"', '"22222229999\\ud800"'), 'accountId', /must be exactly 12 digits/),
    bad('SQS: lone low surrogate in a tag value', spoiled({ tags: { Owner: 'plat\uDC00form' } }), 'tags.Owner', /must contain letters, numbers, spaces and _ \. : \/ = \+ - @ only/),
    bad('SQS: U+FFFF in a tag value', spoiled({ tags: { Owner: 'plat\uFFFFform' } }), 'tags.Owner', /must contain letters, numbers, spaces/),
    bad('SQS: U+FFFE in the request id', spoiled({ requestId: 'avp-\uFFFE-1' }), 'requestId', /must contain printable ASCII characters only/),
    bad('SQS: U+FFFD (undecodable UTF-8) in the email', spoiled({ email: 'some\uFFFDone@example.com' }), 'email', /must be a plausible email address/),
    bad('SQS: NUL inside the account id', spoiled({ accountId: '22222229\u00009999' }), 'accountId', /must be exactly 12 digits, got "22222229\\u00009999"/),
    bad('SQS: raw NUL between JSON tokens', spoiled({}).replace(',', ',\u0000'), 'body', /must be valid JSON/),
    bad('SQS: ESC in the invitation message', spoiled({ invitationMessage: 'Welcome\u001b[31m' }), 'invitationMessage', /must contain letters, digits and spaces only/),
    bad('SQS: ANSI colour sequence in the request id', spoiled({ requestId: '\u001b[2Javp-1' }), 'requestId', /must contain printable ASCII characters only/),
    bad('SQS: DEL in the request id', spoiled({ requestId: 'avp\u007f1' }), 'requestId', /must contain printable ASCII characters only/),
    bad('SQS: right-to-left override in a tag value', spoiled({ tags: { Owner: 'mrof\u202Etalp' } }), 'tags.Owner', /must contain letters, numbers, spaces/),
    bad('SQS: right-to-left mark in the email', spoiled({ email: 'someone\u200F@example.com' }), 'email', /must be a plausible email address/),
    bad('SQS: zero-width space in the account id', spoiled({ accountId: '222222\u200B299999' }), 'accountId', /must be exactly 12 digits/),
    bad('SQS: full-width digits as the account id', spoiled({ accountId: '２２２２２２２９９９９９' }), 'accountId', /must be exactly 12 digits/),
    bad('SQS: Arabic-Indic digits as the account id', spoiled({ accountId: '٢٢٢٢٢٢٢٩٩٩٩٩' }), 'accountId', /must be exactly 12 digits/),
    bad('SQS: account id with a trailing newline', spoiled({ accountId: '222222299999\n' }), 'accountId', /must be exactly 12 digits/),
    bad('SQS: CR LF inside the email', spoiled({ email: 'someone@example.com\r\nBcc: x@example.com' }), 'email', /must be a plausible email address/),
    bad('SQS: NUL in a tag key', spoiled({ tags: { 'Own\u0000er': 'x' } }), 'tags["Own\\u0000er"]', /key must contain letters, numbers, spaces/),
    bad('SQS: emoji in a tag key', spoiled({ tags: { 'Owner🔥': 'x' } }), 'tags["Owner🔥"]', /key must contain letters, numbers, spaces/),
    accepted('SQS: tag values in other scripts (accepted)', (account) => accountOnly(account, { tags: { Équipe: 'Sécurité', 所有者: '日本語', Ομάδα: 'Ελληνικά', Math: '𝒜𝒷𝒸' } }), { tags: { Équipe: 'Sécurité', 所有者: '日本語', Ομάδα: 'Ελληνικά', Math: '𝒜𝒷𝒸' } }),
    accepted('SQS: white space and CR LF around the JSON (accepted)', (account) => ` \r\n\t${accountOnly(account)}\r\n `),
    accepted('SQS: odd characters only in fields the request does not know (accepted)', (account) => accountOnly(account, { note: 'NUL\u0000 ESC\u001b U+FFFF\uFFFF lone\uD800 RTL\u202E BOM\uFEFF' })),

    // Sizes, up to and past SQS's 256 KiB.
    accepted('SQS: a body of exactly 262,144 bytes (accepted)', (account) => exactly(SQS_MAX_BYTES, account)),
    accepted('SQS: a body of 262,144 bytes in two-byte characters (accepted)', (account) => exactly(SQS_MAX_BYTES, account, 'é')),
    bad('SQS: a body of 262,145 bytes', exactly(SQS_MAX_BYTES + 1, { accountId: '222222299999', email: 'someone@example.com' }), 'body', /must be at most 262144 bytes, got at least 262145 bytes/, true),
    bad('SQS: fewer than 262,144 characters, more than 262,144 bytes (two-byte)', multibyte, 'body', new RegExp(`must be at most 262144 bytes, got ${Buffer.byteLength(multibyte)} bytes`), true),
    bad('SQS: fewer than 262,144 characters, more than 262,144 bytes (four-byte)', astral, 'body', new RegExp(`must be at most 262144 bytes, got ${Buffer.byteLength(astral)} bytes`), true),
    bad('SQS: a 250,000-character tag value in a body under the limit', spoiled({ tags: { Padding: 'x'.repeat(250_000) } }), 'tags.Padding', /must be at most 256 characters, got 250000/, true),
    bad('SQS: 10,000 tags', spoiled({ tags: Object.fromEntries(Array.from({ length: 10_000 }, (_, index) => [`K${index}`, 'v'])) }), 'tags', /must have at most 50 tags, got 10000/, true),
    bad('SQS: 2,000 tags that each break a rule', spoiled({ tags: Object.fromEntries(Array.from({ length: 2_000 }, (_, index) => [`bad!${index}`, 'v'])) }), 'tags', /must have at most 50 tags, got 2000; tags\["bad!0"\] key must contain .*; and 1996 more/, true),
    bad('SQS: a 255-character email', spoiled({ email: `${'a'.repeat(64)}@${'b'.repeat(186)}.com` }), 'email', /must be at most 254 characters, got 255/),
    accepted('SQS: 50 tags of 128-character keys and 256-character values (accepted)', (account) =>
      accountOnly(account, { tags: Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`${String(index).padStart(2, '0')}${'K'.repeat(126)}`, 'V'.repeat(256)])) }),
    ),
    bad('SQS: an empty invitation message', spoiled({ invitationMessage: '' }), 'invitationMessage', /must be 1-80 characters, got 0/),
    bad('SQS: an empty request id', spoiled({ requestId: '' }), 'requestId', /must be 1-128 characters, got 0/),
    bad('SQS: an empty tag key', spoiled({ tags: { '': 'x' } }), 'tags[""]', /key must be 1-128 characters, got 0/),

    // Nesting depth: JSON.parse reads it all; nothing downstream may recurse over it.
    bad('SQS: a 20,000-deep object beside an invalid account id', spoiled({ accountId: '22222229999', extra: 1 }).replace('"extra":1', `"extra":${deepObjectText}`), 'accountId', /must be exactly 12 digits, got "22222229999"/, true),
    accepted('SQS: a 20,000-deep object in a field the request does not know (accepted)', (account) => accountOnly(account, { extra: 1 }).replace('"extra":1', `"extra":${deepObjectText}`)),
    bad('SQS: a 20,000-deep object as the whole body', deepObjectText, 'action', /is required/, true),
    bad('SQS: a 20,000-deep array as the whole body', deepArrayText, 'body', /must be a JSON object, got an array of 1 item/, true),
    bad('SQS: a 20,000-deep object as the tags', spoiled({ tags: 1 }).replace('"tags":1', `"tags":${deepObjectText}`), 'tags.a', /must be a string, got an object with 1 key/, true),
    bad('SQS: a 20,000-deep array as the regions', spoiled({ regions: 1 }).replace('"regions":1', `"regions":${deepArrayText}`), 'regions[0]', /must be a region name string, got an array of 1 item/, true),
    bad('SQS: a 20,000-deep object as the account id', spoiled({ accountId: 1 }).replace('"accountId":1', `"accountId":${deepObjectText}`), 'accountId', /must be a string of exactly 12 digits, got an object with 1 key/, true),
    bad('SQS: a 20,000-deep object cut short', deepObjectText.slice(0, 100_000), 'body', /must be valid JSON/, true),

    // Prototype keys: JSON makes them own data, never a prototype.
    accepted('SQS: "__proto__" as a top-level key (accepted)', (account) => accountOnly(account).replace('{', '{"__proto__":{"isAdministrator":true,"action":"remove"},')),
    bad('SQS: the action only under "__proto__"', `{"__proto__":{"action":"enroll"},"accountId":"222222299999","email":"someone@example.com"}`, 'action', /is required/),
    accepted('SQS: "constructor" as a top-level key (accepted)', (account) => accountOnly(account).replace('{', '{"constructor":{"prototype":{"polluted":true}},')),
    accepted('SQS: "prototype" as a top-level key (accepted)', (account) => accountOnly(account).replace('{', '{"prototype":{"polluted":true},')),
    bad('SQS: "__proto__" as a tag key', `{"action":"enroll","accountId":"222222299999","email":"someone@example.com","tags":{"__proto__":"x"}}`, 'tags.__proto__', /key must not be "__proto__": the AWS SDK for JavaScript drops it/),
    accepted('SQS: "constructor" as a tag key (accepted: the store writes it)', (account) => accountOnly(account, { tags: { constructor: 'x' } }), { tags: { constructor: 'x' } }),
    accepted('SQS: "prototype", "toString", "hasOwnProperty" and "valueOf" as tag keys (accepted)', (account) => accountOnly(account, { tags: { prototype: 'a', toString: 'b', hasOwnProperty: 'c', valueOf: 'd' } }), { tags: { prototype: 'a', toString: 'b', hasOwnProperty: 'c', valueOf: 'd' } }),
    bad('SQS: "__proto__" as a region', spoiled({ regions: ['__proto__'] }), 'regions[0]', /must be one of the managed regions/),
    bad('SQS: "toString" as the action', spoiled({ action: 'toString' }), 'action', /must be "enroll" or "remove", got "toString"/),

    // Each field's rule, beyond the batch above.
    bad('SQS: action as a number', spoiled({ action: 1 }), 'action', /must be "enroll" or "remove", got 1 \(a number\)/),
    bad('SQS: action in capitals', spoiled({ action: 'ENROLL' }), 'action', /must be "enroll" or "remove", got "ENROLL"/),
    bad('SQS: action null', spoiled({ action: null }), 'action', /must be "enroll" or "remove", got null/),
    bad('SQS: account id null', spoiled({ accountId: null }), 'accountId', /must be a string of exactly 12 digits, got null/),
    bad('SQS: account id empty', spoiled({ accountId: '' }), 'accountId', /must be exactly 12 digits, got ""/),
    bad('SQS: account id with a leading space', spoiled({ accountId: ' 222222299999' }), 'accountId', /must be exactly 12 digits/),
    bad('SQS: account id as a negative number', spoiled({ accountId: -222222299999 }), 'accountId', /must be a string of exactly 12 digits, got -222222299999 \(a number\)/),
    bad('SQS: email as a number', spoiled({ email: 42 }), 'email', /must be an email address string, got 42 \(a number\)/),
    bad('SQS: email with two @', spoiled({ email: 'some@one@example.com' }), 'email', /must be a plausible email address/),
    bad('SQS: email without a top-level domain', spoiled({ email: 'someone@localhost' }), 'email', /must be a plausible email address/),
    bad('SQS: email with a quoted local part', spoiled({ email: '"some one"@example.com' }), 'email', /must be a plausible email address/),
    bad('SQS: remove with a malformed email', JSON.stringify({ action: 'remove', accountId: '222222299999', email: 'nobody' }), 'email', /must be a plausible email address/),
    bad('SQS: no regions', spoiled({ regions: [] }), 'regions', /must name at least one region/),
    bad('SQS: a region twice', spoiled({ regions: ['us-east-1', 'us-east-1'] }), 'regions[1]', /repeats regions\[0\], got "us-east-1"/),
    bad('SQS: regions as a string', spoiled({ regions: 'us-east-1' }), 'regions', /must be a non-empty array of region names, got "us-east-1"/),
    bad('SQS: a region as a number', spoiled({ regions: [1] }), 'regions[0]', /must be a region name string, got 1 \(a number\)/),
    bad('SQS: tags as an array', spoiled({ tags: [['Owner', 'x']] }), 'tags', /must be an object of string keys and string values, got an array of 1 item/),
    bad('SQS: tags as a string', spoiled({ tags: 'Owner=x' }), 'tags', /must be an object of string keys and string values, got "Owner=x"/),
    bad('SQS: a tag value null', spoiled({ tags: { Owner: null } }), 'tags.Owner', /must be a string, got null/),
    bad('SQS: a tag key with "!"', spoiled({ tags: { 'Owner!': 'x' } }), 'tags["Owner!"]', /key must contain letters, numbers, spaces/),
    bad('SQS: reserved tag prefix in capitals', spoiled({ tags: { 'AWS:Owner': 'x' } }), 'tags["AWS:Owner"]', /key must not start with "aws:"/),
    bad('SQS: markup in a tag value', spoiled({ tags: { Owner: '<script>alert(1)</script>' } }), 'tags.Owner', /must contain letters, numbers, spaces/),
    bad('SQS: request id as a number', spoiled({ requestId: 7 }), 'requestId', /must be a string, got 7 \(a number\)/),
    bad('SQS: autoAccept as the string "true"', spoiled({ autoAccept: 'true' }), 'autoAccept', /must be true or false, got "true"/),
    bad('SQS: paused as 1', spoiled({ paused: 1 }), 'paused', /must be true or false, got 1 \(a number\)/),
    bad('SQS: invitation message as a number', spoiled({ invitationMessage: 42 }), 'invitationMessage', /must be a string, got 42 \(a number\)/),
    bad('SQS: invitation message with accented letters', spoiled({ invitationMessage: 'Willkommen bei Macie Grüße' }), 'invitationMessage', /must contain letters, digits and spaces only/),
    bad('SQS: six problems at once', JSON.stringify({ action: 'enroll', accountId: '1', email: 'x', regions: [], tags: [], requestId: '', paused: 'no' }), 'accountId', /must be exactly 12 digits, got "1"; email .*; and 1 more/),
    bad('SQS: the account id twice, the last one malformed', '{"action":"enroll","accountId":"222222299999","email":"someone@example.com","accountId":"1"}', 'accountId', /must be exactly 12 digits, got "1"/),
    bad('SQS: a replayed invalid-request letter, still invalid', JSON.stringify({ rawInput: 'enroll 2222', reason: 'invalid-request', operation: 'validate', errorCode: 'ValidationError', errorMessage: 'body must be valid JSON', attempts: 1, at: '2026-11-30T00:00:00.000Z' }), 'action', /is required/),
    bad('SQS: JSON number', '42', 'body', /must be a JSON object, got 42 \(a number\)/),
    bad('SQS: JSON string', '"enroll 222222299999"', 'body', /must be a JSON object, got "enroll 222222299999"/),
    bad('SQS: JSON true', 'true', 'body', /must be a JSON object, got true \(a boolean\)/),
    bad('SQS: white space only', ' \n\t\r ', 'body', /must be a JSON object, got an empty body/),
    bad('SQS: JSON with a comment', `/* enroll */ ${spoiled({})}`, 'body', /must be valid JSON/),
    bad('SQS: single-quoted JSON', spoiled({}).replaceAll('"', "'"), 'body', /must be valid JSON/),
    bad('SQS: NaN as a flag', spoiled({ paused: 1 }).replace('"paused":1', '"paused":NaN'), 'body', /must be valid JSON/),
    accepted('SQS: every optional field null (null is "not given") (accepted)', (account) => accountOnly(account, { regions: null, tags: null, requestId: null, autoAccept: null, paused: null, invitationMessage: null })),
    accepted('SQS: a request id with spaces and punctuation (accepted)', (account) => accountOnly(account, { requestId: 'avp 2026/11 #1 "quoted" \\ back' })),
    accepted('SQS: a remove with an empty email (accepted)', (account) => JSON.stringify({ action: 'remove', accountId: account.accountId, email: '' }), { desiredState: 'absent' }),
    accepted('SQS: a replayed dead letter (accepted)', (account) =>
      accountOnly(account, { reason: 'unprocessed-account', operation: 'CreateInvitations', errorCode: 'ClientError', errorMessage: 'x', region: 'us-east-1', attempts: 1, at: '2026-11-30T00:00:00.000Z' }),
    ),
  ];
}

async function eventCases(): Promise<Case[]> {
  const organizations = await loadEvent<Record<string, unknown>>('organizations-create-account-result.json');
  const controlTower = await loadEvent<Record<string, unknown>>('controltower-create-managed-account.json');
  const own = await loadEvent<Record<string, unknown>>('member-enrollment-requested.json');
  const removal = await loadEvent<Record<string, unknown>>('member-removal-requested.json');
  const schedule = await loadEvent<Record<string, unknown>>('schedule.json');
  const event = (name: string, input: unknown, expected: Expected): Case => ({ name, input: { event: input }, expected });
  const accepted = (name: string, build: (account: { accountId: string; email: string }) => unknown, requestedBy: string, extra: Partial<Extract<Expected, { outcome: 'accepted' }>> = {}): Case => {
    const account = nextFresh();
    return { name, input: { event: build(account) }, expected: { outcome: 'accepted', accountId: account.accountId, requestedBy, ...extra } };
  };
  const orgStatus = (status: Record<string, unknown>) => ({ ...organizations, detail: { eventName: 'CreateAccountResult', serviceEventDetails: { createAccountStatus: status } } });
  const ctStatus = (status: Record<string, unknown>) => ({ ...controlTower, detail: { eventName: 'CreateManagedAccount', serviceEventDetails: { createManagedAccountStatus: status } } });
  const ownDetail = (detail: unknown) => ({ ...own, detail });
  const ownJson = (json: string) => ({ ...own, detail: JSON.parse(json) as unknown });
  const ORG_STATUS = 'detail.serviceEventDetails.createAccountStatus';
  const CT_STATUS = 'detail.serviceEventDetails.createManagedAccountStatus';
  const ownBy = 'event:macie-membership-reconciler';
  const without = (envelope: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(envelope).filter(([name]) => name !== key));

  return [
    // Organizations CreateAccountResult.
    accepted('Organizations: a new account (accepted)', (account) => orgStatus({ state: 'SUCCEEDED', accountId: account.accountId }), 'event:aws.organizations'),
    accepted('Organizations: serviceEventDetails as a JSON string (accepted)', (account) => ({ ...organizations, detail: { eventName: 'CreateAccountResult', serviceEventDetails: JSON.stringify({ createAccountStatus: { state: 'SUCCEEDED', accountId: account.accountId } }) } }), 'event:aws.organizations'),
    accepted('Organizations: no id (accepted)', (account) => without(orgStatus({ state: 'SUCCEEDED', accountId: account.accountId }), 'id'), 'event:aws.organizations'),
    accepted('Organizations: no time (the time of receipt stands in) (accepted)', (account) => ({ ...orgStatus({ state: 'SUCCEEDED', accountId: account.accountId }), time: undefined }), 'event:aws.organizations'),
    event('Organizations: FAILED', orgStatus({ state: 'FAILED', failureReason: 'EMAIL_ALREADY_EXISTS' }), IGNORED),
    event('Organizations: IN_PROGRESS', orgStatus({ state: 'IN_PROGRESS', accountId: '222222299999' }), IGNORED),
    event('Organizations: no state', orgStatus({ accountId: '222222299999' }), IGNORED),
    event('Organizations: another event name', { ...organizations, detail: { eventName: 'CreateAccount' } }, IGNORED),
    event('Organizations: event name a 20,000-deep object', { ...organizations, detail: { eventName: deepObject() } }, IGNORED),
    event('Organizations: another detail-type', { ...organizations, 'detail-type': 'AWS API Call via CloudTrail' }, IGNORED),
    event("Organizations: the administrator's own account", orgStatus({ state: 'SUCCEEDED', accountId: ADMINISTRATOR }), IGNORED),
    event('Organizations: no serviceEventDetails', { ...organizations, detail: { eventName: 'CreateAccountResult' } }, deadLettered(ORG_STATUS, /is required in a CreateAccountResult event, got nothing/)),
    event('Organizations: serviceEventDetails a string that is not JSON', { ...organizations, detail: { eventName: 'CreateAccountResult', serviceEventDetails: '{"createAccountStatus":' } }, deadLettered(ORG_STATUS, /is required/)),
    event('Organizations: null detail', { ...organizations, detail: null }, deadLettered('detail', /must be an object, got null/)),
    event('Organizations: detail a string', { ...organizations, detail: 'CreateAccountResult' }, deadLettered('detail', /must be an object, got "CreateAccountResult"/)),
    event('Organizations: detail an array', { ...organizations, detail: [organizations.detail] }, deadLettered('detail', /must be an object, got an array of 1 item/)),
    event('Organizations: no detail', { ...organizations, detail: undefined }, deadLettered('detail', /must be an object, got nothing/)),
    event('Organizations: account id null', orgStatus({ state: 'SUCCEEDED', accountId: null }), deadLettered(`${ORG_STATUS}.accountId`, /must be exactly 12 digits, got null/)),
    event('Organizations: time not a time', { ...organizations, time: 'yesterday' }, deadLettered('time', /must be an ISO-8601 time, got "yesterday"/)),
    event('Organizations: a 20,000-deep serviceEventDetails', { ...organizations, detail: { eventName: 'CreateAccountResult', serviceEventDetails: deepObject() } }, deadLettered(ORG_STATUS, /is required in a CreateAccountResult event, got an object with 1 key/, true)),
    event('Organizations: the status only under "__proto__"', { ...organizations, detail: JSON.parse('{"eventName":"CreateAccountResult","serviceEventDetails":{"__proto__":{"createAccountStatus":{"state":"SUCCEEDED","accountId":"222222299999"}}}}') as unknown }, deadLettered(ORG_STATUS, /is required/)),

    // Control Tower CreateManagedAccount.
    accepted('Control Tower: a new managed account (accepted)', (account) => ctStatus({ state: 'SUCCEEDED', account: { accountName: 'x', accountId: account.accountId } }), 'event:aws.controltower'),
    accepted('Control Tower: serviceEventDetails as a JSON string (accepted)', (account) => ({ ...controlTower, detail: { eventName: 'CreateManagedAccount', serviceEventDetails: JSON.stringify({ createManagedAccountStatus: { state: 'SUCCEEDED', account: { accountId: account.accountId } } }) } }), 'event:aws.controltower'),
    event('Control Tower: FAILED', ctStatus({ state: 'FAILED', message: 'AWS Control Tower could not create the account', account: { accountId: '222222299999' } }), IGNORED),
    event('Control Tower: UpdateManagedAccount', { ...controlTower, detail: { eventName: 'UpdateManagedAccount' } }, IGNORED),
    event("Control Tower: the administrator's own account", ctStatus({ state: 'SUCCEEDED', account: { accountId: ADMINISTRATOR } }), IGNORED),
    event('Control Tower: no serviceEventDetails', { ...controlTower, detail: { eventName: 'CreateManagedAccount' } }, deadLettered(CT_STATUS, /is required in a CreateManagedAccount event, got nothing/)),
    event('Control Tower: account a string', ctStatus({ state: 'SUCCEEDED', account: '222222299999' }), deadLettered(`${CT_STATUS}.account.accountId`, /must be exactly 12 digits, got nothing/)),
    event('Control Tower: 11-digit account id', ctStatus({ state: 'SUCCEEDED', account: { accountId: '22222229999' } }), deadLettered(`${CT_STATUS}.account.accountId`, /must be exactly 12 digits, got "22222229999"/)),
    accepted('Control Tower: no id (accepted)', (account) => without(ctStatus({ state: 'SUCCEEDED', account: { accountId: account.accountId } }), 'id'), 'event:aws.controltower'),
    event('Control Tower: null detail', { ...controlTower, detail: null }, deadLettered('detail', /must be an object, got null/)),
    event('Control Tower: detail an array', { ...controlTower, detail: [] }, deadLettered('detail', /must be an object, got an array of 0 items/)),
    event('Control Tower: time a number', { ...controlTower, time: 1_748_858_400 }, deadLettered('time', /must be an ISO-8601 time, got 1748858400 \(a number\)/)),
    event('Control Tower: a 20,000-deep account', ctStatus({ state: 'SUCCEEDED', account: deepObject() }), deadLettered(`${CT_STATUS}.account.accountId`, /must be exactly 12 digits, got nothing/, true)),

    // The project's own Member Enrollment Requested / Member Removal Requested.
    accepted('own enrollment: action given and agreeing (accepted)', (account) => ownDetail({ action: 'enroll', ...account }), ownBy),
    accepted('own removal: a known account (accepted)', (account) => ({ ...removal, detail: { accountId: account.accountId } }), ownBy, { desiredState: 'absent' }),
    accepted('own enrollment: a 20,000-deep field it does not know (accepted)', (account) => ownDetail({ ...account, extra: deepObject() }), ownBy),
    accepted('own enrollment: "constructor" and "prototype" as top-level keys (accepted)', (account) => ownJson(`{"constructor":{"prototype":{"polluted":true}},"prototype":1,"accountId":"${account.accountId}","email":"${account.email}"}`), ownBy),
    accepted('own enrollment: no id (accepted)', (account) => without(ownDetail({ ...account }), 'id'), ownBy),
    accepted('own enrollment: id a number (accepted, no request id taken from it)', (account) => ({ ...ownDetail({ ...account }), id: 42 }), ownBy),
    accepted('own enrollment: 1 MB in a field it does not know, past what EventBridge carries (accepted)', (account) => ownDetail({ ...account, padding: 'x'.repeat(MEGABYTE) }), ownBy),
    accepted('own enrollment: time null (accepted)', (account) => ({ ...ownDetail({ ...account }), time: null }), ownBy),
    event('own removal: with regions', { ...removal, detail: { accountId: '222222299999', regions: ['us-east-1'] } }, deadLettered('detail.regions', /is not allowed for remove/)),
    event('own enrollment: null detail', ownDetail(null), deadLettered('detail', /must be a membership request object, got null/)),
    event('own enrollment: detail an array', ownDetail([{ accountId: '222222299999' }]), deadLettered('detail', /must be a membership request object, got an array of 1 item/)),
    event('own removal: detail a string', { ...removal, detail: '{"accountId":"222222299999"}' }, deadLettered('detail', /must be a membership request object, got "\{\\"accountId\\":\\"222222299999\\"\}"/)),
    event('own enrollment: no detail', ownDetail(undefined), deadLettered('detail', /must be a membership request object, got nothing/)),
    event('own enrollment that says remove', ownDetail({ action: 'remove', accountId: '222222299999', email: 'someone@example.com' }), deadLettered('detail.action', /must be "enroll" or left out/)),
    event('own enrollment: a 20,000-deep field beside an 11-digit account', ownDetail({ accountId: '22222229999', email: 'someone@example.com', extra: deepObject() }), deadLettered('detail.accountId', /must be exactly 12 digits, got "22222229999"/, true)),
    event('own enrollment: a 20,000-deep detail', ownDetail(deepObject()), deadLettered('detail.accountId', /is required/, true)),
    event('own enrollment: the account only under "__proto__"', ownJson('{"__proto__":{"accountId":"222222299999"},"email":"someone@example.com"}'), deadLettered('detail.accountId', /is required/)),
    accepted('own enrollment: "constructor" as a tag key (accepted: the store writes it)', (account) => ownDetail({ ...account, tags: { constructor: 'x' } }), ownBy, { tags: { constructor: 'x' } }),
    event('own enrollment: "__proto__" as a tag key', ownJson('{"accountId":"222222299999","email":"someone@example.com","tags":{"__proto__":"x"}}'), deadLettered('detail.tags.__proto__', /key must not be "__proto__": the AWS SDK for JavaScript drops it/)),
    event('own enrollment: time not a time', { ...ownDetail({ ...enroll }), time: 'yesterday' }, deadLettered('time', /must be an ISO-8601 time, got "yesterday"/)),
    event('own enrollment: time an object', { ...ownDetail({ ...enroll }), time: { toString: 'x' } }, deadLettered('time', /must be an ISO-8601 time, got an object with 1 key/)),
    event('own enrollment: U+FFFF in a tag value', ownDetail({ ...enroll, tags: { Owner: '\uFFFF' } }), deadLettered('detail.tags.Owner', /must contain letters, numbers, spaces/)),
    event('own enrollment: NUL in the account id', ownDetail({ ...enroll, accountId: '2222222\u000099999' }), deadLettered('detail.accountId', /must be exactly 12 digits/)),
    event('own enrollment: right-to-left override in the email', ownDetail({ ...enroll, email: 'moc.elpmaxe@\u202Eenoemos' }), deadLettered('detail.email', /must be a plausible email address/)),
    event('own enrollment: byte order mark in the account id', ownDetail({ ...enroll, accountId: '\uFEFF222222299999' }), deadLettered('detail.accountId', /must be exactly 12 digits/)),
    event('own enrollment: lone surrogate in the request id', ownDetail({ ...enroll, requestId: 'avp-\uD83D' }), deadLettered('detail.requestId', /must contain printable ASCII characters only/)),
    event('own enrollment: a 300 KiB invitation message', ownDetail({ ...enroll, invitationMessage: 'x'.repeat(300 * 1024) }), deadLettered('detail.invitationMessage', /must be 1-80 characters, got 307200/, true)),
    event('own enrollment: paused as "false"', ownDetail({ ...enroll, paused: 'false' }), deadLettered('detail.paused', /must be true or false, got "false"/)),
    event('own enrollment: a 20,000-deep id and an invalid detail', { ...ownDetail({ accountId: '1' }), id: deepObject() }, deadLettered('detail.accountId', /must be exactly 12 digits, got "1"/)),
    event('own removal: time a date without a day', { ...removal, time: '2025-13' }, deadLettered('time', /must be an ISO-8601 time, got "2025-13"/)),
    event('own source: another detail-type', { ...own, 'detail-type': 'Member Suspension Requested' }, IGNORED),
    event('own detail-type from another source', { ...own, source: 'someone-else' }, IGNORED),

    // Scheduled events trigger the reconcile function, not onboarding.
    event('scheduled event', schedule, IGNORED),
    event('scheduled event: null detail', { ...schedule, detail: null }, IGNORED),
    event('scheduled event: time not a time', { ...schedule, time: 'yesterday' }, IGNORED),
    event('scheduled event: no id', without(schedule, 'id'), IGNORED),

    // Not EventBridge events at all, or from sources the function does not know.
    event('no event at all', undefined, IGNORED),
    event('a number', 42, IGNORED),
    event('an array', [own], IGNORED),
    event('a source without a detail-type', { source: 'aws.organizations', detail: organizations.detail }, IGNORED),
    event('source and detail-type as numbers', { source: 1, 'detail-type': 2, detail: {} }, IGNORED),
    event('a 20,000-deep source', { ...own, source: deepObject() }, IGNORED),
    event('a 20,000-deep detail-type', { ...own, 'detail-type': deepObject() }, IGNORED),
    event('an S3 event with 1 MB of detail', { source: 'aws.s3', 'detail-type': 'Object Created', detail: { key: 'x'.repeat(MEGABYTE) } }, IGNORED),
    event('source in capitals', { ...organizations, source: 'AWS.ORGANIZATIONS' }, IGNORED),
    event('source with NUL and a right-to-left override', { ...organizations, source: 'aws.organizations\u0000\u202E' }, IGNORED),
    event('source and detail-type only under "__proto__"', JSON.parse(`{"__proto__":{"source":"aws.organizations","detail-type":"AWS Service Event via CloudTrail"},"detail":${JSON.stringify(organizations.detail)}}`) as unknown, IGNORED),
  ];
}

let sqs: SQSClient | undefined;
/** Messages the dead-letter queue has held so far: the local SQS counts hidden ones too. */
let lettersCounted = 0;

async function deadLetterCount(): Promise<number> {
  sqs ??= new SQSClient({ region: sandbox.homeRegion, endpoint: sandbox.endpoints.sqs, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const { Attributes: attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: sandbox.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(attributes.ApproximateNumberOfMessages ?? 0);
}

/**
 * Receives the letters dead-lettered since the last call, with their raw bodies (a letter may hold
 * more nesting than JSON.stringify can write back). The sandbox's SQS is one server, so its count is
 * exact; reading it first spares a ReceiveMessage, which the local SQS answers in about 40 ms, when
 * nothing new arrived.
 */
async function receiveNewLetters(atLeast: number): Promise<Array<{ body: string; letter: Record<string, unknown> }>> {
  const bodies: string[] = [];
  // On a busy machine a message the count already shows can miss a receive: a case that expects a
  // letter looks again (a bounded number of times) rather than leave it for the next case to find.
  for (let look = 0; look < RECEIVE_LOOKS; look++) {
    const arrived = (await deadLetterCount()) - lettersCounted;
    if (bodies.length >= Math.max(arrived, atLeast)) break;
    const { Messages: messages = [] } = await sqs!.send(new ReceiveMessageCommand({ QueueUrl: sandbox.deadLetterQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300, WaitTimeSeconds: 0 }));
    bodies.push(...messages.map((message) => message.Body ?? ''));
    if (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  lettersCounted += bodies.length;
  return bodies.map((body) => ({ body, letter: JSON.parse(body) as Record<string, unknown> }));
}

const RECEIVE_LOOKS = 200;

/** What is wrong with how a case ended (the handler's outcome, the letters it dead-lettered), or undefined. */
async function mismatchOf(expected: Expected, outcome: string, letters: Array<{ body: string; letter: Record<string, unknown> }>): Promise<string | undefined> {
  const oversized = letters.find(({ body }) => Buffer.byteLength(body) >= SQS_MAX_BYTES);
  if (oversized) return `a dead letter of ${Buffer.byteLength(oversized.body)} bytes, more than SQS carries`;
  const errorMessages = letters.map(({ letter }) => String(letter.errorMessage)).join(' | ');

  if (expected.outcome === 'dead-lettered') {
    const pattern = new RegExp(`${escapeRegExp(expected.field)} ${expected.rule.source}`);
    const [only] = letters;
    if (!only || letters.length > 1 || (outcome !== 'handled' && outcome !== 'invalid')) return `expected one dead letter, got ${letters.length} (outcome ${outcome}): ${errorMessages}`;
    const { letter } = only;
    if (letter.reason !== 'invalid-request' || letter.operation !== 'validate' || !pattern.test(String(letter.errorMessage))) {
      return `expected an invalid-request letter saying /${pattern.source}/, got ${String(letter.reason)}: ${String(letter.errorMessage)}`;
    }
    // An input too large to keep whole is kept as a 16 KiB excerpt of its JSON text.
    if (Boolean(expected.truncated) !== (letter.rawInputTruncatedFrom !== undefined)) {
      return `expected the letter ${expected.truncated ? 'to keep a truncated excerpt' : 'to keep the input whole'}, got keys ${Object.keys(letter).join(',')}`;
    }
    return undefined;
  }
  if (expected.outcome === 'ignored') {
    return letters.length > 0 || outcome !== 'ignored' ? `expected it ignored, got outcome ${outcome} and ${letters.length} dead letter(s): ${errorMessages}` : undefined;
  }
  if (letters.length > 0 || (outcome !== 'handled' && outcome !== 'reconciled')) {
    return `expected it recorded, got outcome ${outcome} and ${letters.length} dead letter(s): ${errorMessages}`;
  }
  const { rows: [row], corrupt } = await runtime.store.getMany([expected.accountId]);
  if (!row || corrupt.length > 0) return `expected a readable row for ${expected.accountId}, got ${row ? 'one' : 'none'} and ${corrupt.length} corrupt`;
  if (row.desiredState !== (expected.desiredState ?? 'member') || row.requestedBy !== expected.requestedBy || (expected.tags && JSON.stringify(row.tags) !== JSON.stringify(expected.tags))) {
    return `the row holds ${row.desiredState} by ${row.requestedBy} with tags ${JSON.stringify(row.tags)}`;
  }
  return undefined;
}

describe('reliability: bad input, case by case', () => {
  it('dead-letters each malformed SQS body and event with its field and rule, records the odd but valid ones and ignores the rest, without a crash or a poison message', async () => {
    const cases = [...sqsCases(), ...(await eventCases())];
    const names = cases.map((testCase) => testCase.name);
    expect(new Set(names).size, 'case names are distinct').toBe(names.length);

    lettersCounted = await deadLetterCount();
    const mismatches: string[] = [];
    const crashes: string[] = [];
    const poison: string[] = [];
    const seen = { deadLettered: 0, accepted: 0, ignored: 0 };
    let largestDeadLetterBytes = 0;

    for (const { name, input, expected } of cases) {
      let outcome: string;
      try {
        if ('sqs' in input) {
          const response = await requests(sqsEvent([input.sqs]), lambdaContext('requests'));
          if (response.batchItemFailures.length > 0) poison.push(`${name}: reported in batchItemFailures`);
          outcome = 'handled';
        } else {
          outcome = (await onboard(input.event as AnyEvent, lambdaContext('onboard'))).outcome;
        }
      } catch (error) {
        // A batch whose only record failed is thrown rather than reported: that record is a poison message.
        if (error instanceof FullBatchFailureError) poison.push(`${name}: ${String(error.recordErrors[0])}`);
        else crashes.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      const letters = await receiveNewLetters(expected.outcome === 'dead-lettered' ? 1 : 0);
      for (const { body } of letters) largestDeadLetterBytes = Math.max(largestDeadLetterBytes, Buffer.byteLength(body));
      const mismatch = await mismatchOf(expected, outcome, letters);
      if (mismatch) mismatches.push(`${name}: ${mismatch}`);
      else seen[expected.outcome === 'dead-lettered' ? 'deadLettered' : expected.outcome] += 1;
    }

    // Counted before the assertions, so the summary reports a crash even when this test fails on it.
    tally.cases += cases.length;
    tally.sqsBodies += cases.filter(({ input }) => 'sqs' in input).length;
    tally.events += cases.filter(({ input }) => 'event' in input).length;
    tally.deadLettered += seen.deadLettered;
    tally.accepted += seen.accepted;
    tally.ignored += seen.ignored;
    tally.crashes += crashes.length;
    tally.poisonMessages += poison.length;
    tally.largestDeadLetterBytes = Math.max(tally.largestDeadLetterBytes, largestDeadLetterBytes);

    expect(crashes).toEqual([]);
    expect(poison).toEqual([]);
    expect(mismatches).toEqual([]);
    // Each enrollment recorded was also reconciled: Enabled in every managed region.
    const enrolled = cases.flatMap(({ expected }) => (expected.outcome === 'accepted' && (expected.desiredState ?? 'member') === 'member' ? [expected.accountId] : []));
    for (const region of REGIONS) {
      const statuses = await listMembersStatus(sandbox, region);
      expect(enrolled.filter((accountId) => statuses.get(accountId) !== 'Enabled'), region).toEqual([]);
    }

  });

  it('sums up: at least 80 cases, every one dead-lettered, accepted or ignored, 0 crashes, 0 poison messages, every log line written', () => {
    const largestLogLineBytes = Math.max(0, ...logLines.map((line) => Buffer.byteLength(line)));
    console.log(
      `[reliability] bad input: cases=${tally.cases} sqsBodies=${tally.sqsBodies} events=${tally.events} deadLettered=${tally.deadLettered} accepted=${tally.accepted} ignored=${tally.ignored} ` +
        `crashes=${tally.crashes} poisonMessages=${tally.poisonMessages} largestDeadLetterBytes=${tally.largestDeadLetterBytes} logLines=${logLines.length} largestLogLineBytes=${largestLogLineBytes}`,
    );
    expect(tally.cases).toBeGreaterThanOrEqual(80);
    expect(tally.deadLettered + tally.accepted + tally.ignored).toBe(tally.cases);
    expect(tally).toMatchObject({ crashes: 0, poisonMessages: 0 });
    // Every case logs at least one line, so the logger really wrote them all.
    expect(logLines.length).toBeGreaterThan(tally.cases);
    // CloudWatch Logs takes at most 256 KB an event; a longer line would be cut.
    expect(largestLogLineBytes).toBeLessThan(SQS_MAX_BYTES);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
