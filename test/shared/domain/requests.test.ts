import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_FIELDS,
  desiredMemberFromRequest,
  parseMembershipRequest,
  parseMembershipRequestBody,
  type MembershipRequest,
  type RequestContext,
  type RequestIssue,
  type RequestParseResult,
} from '#shared/domain/requests';
import { describeValue, formatFieldPath, maskEmail, maskEmailsIn } from '#shared/domain/rules';
import type { DesiredMember } from '#shared/domain/types';

const ctx: RequestContext = { administratorAccountId: '111111111111', managedRegions: ['us-east-1', 'eu-west-1'] };

const enroll = {
  action: 'enroll',
  accountId: '222222222201',
  email: 'owner-01@example.com',
  regions: ['us-east-1'],
  tags: { Owner: 'platform' },
  requestId: 'abc',
  autoAccept: true,
  paused: false,
  invitationMessage: 'Welcome to Macie',
};

function issuesOf(result: RequestParseResult): RequestIssue[] {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.request)}`);
  return result.issues;
}

function requestOf(result: RequestParseResult): MembershipRequest {
  if (!result.ok) throw new Error(`expected a valid request, got: ${result.summary}`);
  return result.request;
}

/** Parses `enroll` with `overrides` applied (undefined deletes a key) and returns the single issue. */
function onlyIssue(overrides: Record<string, unknown>): RequestIssue {
  const body: Record<string, unknown> = { ...enroll, ...overrides };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete body[key];
  const issues = issuesOf(parseMembershipRequest(body, ctx));
  expect(issues).toHaveLength(1);
  return issues[0]!;
}

describe('parseMembershipRequest: valid requests', () => {
  it('accepts a full enroll request and keeps every field', () => {
    expect(parseMembershipRequest(enroll, ctx)).toEqual({ ok: true, request: enroll, ignoredFields: [] });
  });

  it('accepts a minimal enroll and leaves optional fields out rather than undefined', () => {
    const request = requestOf(parseMembershipRequest({ action: 'enroll', accountId: '222222222201', email: 'a@example.com' }, ctx));
    expect(request).toStrictEqual({ action: 'enroll', accountId: '222222222201', email: 'a@example.com' });
  });

  it('accepts a remove without an email', () => {
    expect(requestOf(parseMembershipRequest({ action: 'remove', accountId: '222222222202' }, ctx))).toStrictEqual({
      action: 'remove',
      accountId: '222222222202',
    });
  });

  it("treats a remove's empty email as not given, so a replayed remove of an unknown account parses", () => {
    expect(requestOf(parseMembershipRequest({ action: 'remove', accountId: '222222222202', email: '' }, ctx))).toStrictEqual({
      action: 'remove',
      accountId: '222222222202',
    });
    expect(issuesOf(parseMembershipRequest({ ...enroll, email: '' }, ctx))).toEqual([expect.objectContaining({ field: 'email', rule: 'format' })]);
  });

  it('treats null optional fields as not given', () => {
    const request = requestOf(parseMembershipRequest({ ...enroll, regions: null, tags: null, requestId: null }, ctx));
    expect(request).not.toHaveProperty('regions');
    expect(request).not.toHaveProperty('tags');
    expect(request).not.toHaveProperty('requestId');
  });

  it('round-trips a dead-letter message: strips the dead-letter fields and yields the original request', () => {
    const deadLetter = {
      ...enroll,
      reason: 'CreateInvitations left the account unprocessed',
      operation: 'CreateInvitations',
      errorCode: 'ClientError',
      errorMessage: 'The request failed because the account is already a member',
      region: 'us-east-1',
      attempts: 3,
      at: '2025-06-02T10:00:00Z',
    };
    expect(Object.keys(deadLetter)).toEqual(expect.arrayContaining([...DEAD_LETTER_FIELDS]));
    const result = parseMembershipRequestBody(JSON.stringify(deadLetter), ctx);
    // The replay is as old as the dead letter, so a correction recorded since it wins.
    expect(result).toEqual({ ok: true, request: enroll, ignoredFields: [], deadLetteredAt: '2025-06-02T10:00:00.000Z' });
  });

  it('strips other unknown keys without failing and names them', () => {
    const result = parseMembershipRequest({ ...enroll, color: 'blue', 'odd key': 1 }, ctx);
    expect(result.ok && result.request).toEqual(enroll);
    expect(result.ok && result.ignoredFields).toEqual(['color', '["odd key"]']);
  });

  it("accepts tags in any script with AWS's punctuation, and keys named like Object's own properties", () => {
    const tags = { 'Équipe': 'Sécurité', 'cost-center/team': 'a_b.c:d=e+f@g', constructor: 'x', toString: 'y', prototype: 'z' };
    const parsed = parseMembershipRequest({ ...enroll, tags: JSON.parse(JSON.stringify(tags)) }, ctx);
    expect(parsed.ok && parsed.request.tags).toEqual(JSON.parse(JSON.stringify(tags)));
  });

  it('accepts 50 tags with a 128-character key and a 256-character value', () => {
    const tags: Record<string, string> = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v']));
    tags['K'.repeat(128)] = 'V'.repeat(256);
    expect(requestOf(parseMembershipRequest({ ...enroll, tags }, ctx)).tags).toEqual(tags);
  });

  it('accepts an 80-character invitation message and a 128-character request id', () => {
    const request = requestOf(parseMembershipRequest({ ...enroll, invitationMessage: 'a'.repeat(80), requestId: '~'.repeat(128) }, ctx));
    expect(request.invitationMessage).toHaveLength(80);
  });
});

describe('parseMembershipRequest: every rule names its field and rule', () => {
  it.each([
    ['unknown action', { action: 'delete' }, 'action', 'oneOf', 'action must be "enroll" or "remove", got "delete"'],
    ['missing action', { action: undefined }, 'action', 'required', 'action is required'],
    ['short accountId', { accountId: '12345' }, 'accountId', 'pattern', 'accountId must be exactly 12 digits, got "12345"'],
    ['numeric accountId', { accountId: 222222222201 }, 'accountId', 'type', 'accountId must be a string of exactly 12 digits, got 222222222201 (a number)'],
    ['missing accountId', { accountId: undefined }, 'accountId', 'required', 'accountId is required'],
    ['accountId with letters', { accountId: '22222222220a' }, 'accountId', 'pattern', undefined],
    ["administrator's own account", { accountId: '111111111111' }, 'accountId', 'notAdministrator', undefined],
    ['enroll without email', { email: undefined }, 'email', 'required', undefined],
    ['implausible email', { email: 'owner-01.example.com' }, 'email', 'format', undefined],
    ['email without a top-level domain', { email: 'owner@localhost' }, 'email', 'format', undefined],
    ['email with spaces', { email: 'own er@example.com' }, 'email', 'format', undefined],
    ['email too long', { email: `${'a'.repeat(60)}@${'b'.repeat(200)}.com` }, 'email', 'maxLength', undefined],
    ['email not a string', { email: 42 }, 'email', 'type', undefined],
    ['email with a NUL character', { email: 'own\u0000er@example.com' }, 'email', 'format', undefined],
    ['email with an escape character', { email: '\u001b[31mowner@example.com' }, 'email', 'format', undefined],
    ['email with a quote', { email: 'own"er@example.com' }, 'email', 'format', undefined],
    ['empty regions', { regions: [] }, 'regions', 'nonEmpty', undefined],
    ['regions not an array', { regions: 'us-east-1' }, 'regions', 'type', undefined],
    ['unmanaged region', { regions: ['us-east-1', 'ap-south-9'] }, 'regions[1]', 'managedRegion', undefined],
    ['duplicate region', { regions: ['us-east-1', 'us-east-1'] }, 'regions[1]', 'unique', 'regions[1] repeats regions[0], got "us-east-1"'],
    ['region not a string', { regions: [7] }, 'regions[0]', 'type', undefined],
    ['tags not an object', { tags: ['Owner'] }, 'tags', 'type', undefined],
    ['too many tags', { tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'tags', 'maxCount', undefined],
    ['tag key too long', { tags: { ['k'.repeat(129)]: 'v' } }, `tags["${'k'.repeat(40)}…"]`, 'keyLength', undefined],
    ['empty tag key', { tags: { '': 'v' } }, 'tags[""]', 'keyLength', undefined],
    ['reserved tag key', { tags: { 'aws:owner': 'v' } }, 'tags["aws:owner"]', 'reservedPrefix', undefined],
    ['reserved tag key in upper case', { tags: { 'AWS:Owner': 'v' } }, 'tags["AWS:Owner"]', 'reservedPrefix', undefined],
    ['tag value too long', { tags: { Owner: 'v'.repeat(257) } }, 'tags.Owner', 'valueLength', 'tags.Owner must be at most 256 characters, got 257'],
    ['tag value not a string', { tags: { Owner: 1 } }, 'tags.Owner', 'type', undefined],
    ['tag key with a control character', { tags: { 'Own\u0007er': 'v' } }, 'tags["Own\\u0007er"]', 'keyCharset', undefined],
    ['tag key with a character AWS does not allow', { tags: { 'cost;center': 'v' } }, 'tags["cost;center"]', 'keyCharset', undefined],
    ['tag value with a noncharacter', { tags: { Owner: 'plat\uffffform' } }, 'tags.Owner', 'valueCharset', undefined],
    ['tag value with a newline', { tags: { Owner: 'a\nb' } }, 'tags.Owner', 'valueCharset', undefined],
    ['tag key __proto__', { tags: JSON.parse('{"__proto__":"x"}') as Record<string, string> }, 'tags.__proto__', 'reservedKey', undefined],
    ['invitation message too long', { invitationMessage: 'a'.repeat(81) }, 'invitationMessage', 'length', undefined],
    ['empty invitation message', { invitationMessage: '' }, 'invitationMessage', 'length', undefined],
    ['invitation message with punctuation', { invitationMessage: 'Welcome!' }, 'invitationMessage', 'charset', undefined],
    ['requestId too long', { requestId: 'r'.repeat(129) }, 'requestId', 'length', undefined],
    ['requestId with a newline', { requestId: 'abc\ndef' }, 'requestId', 'printable', undefined],
    ['requestId not a string', { requestId: 12 }, 'requestId', 'type', undefined],
    ['autoAccept not a boolean', { autoAccept: 'yes' }, 'autoAccept', 'type', 'autoAccept must be true or false, got "yes"'],
    ['paused not a boolean', { paused: 1 }, 'paused', 'type', undefined],
  ])('rejects %s', (_name, overrides, field, rule, message) => {
    const found = onlyIssue(overrides);
    expect(found.field).toBe(field);
    expect(found.rule).toBe(rule);
    expect(found.message.startsWith(`${field} `)).toBe(true);
    if (message !== undefined) expect(found.message).toBe(message);
  });

  it('rejects regions on a remove instead of removing the account everywhere', () => {
    const issues = issuesOf(parseMembershipRequest({ action: 'remove', accountId: '222222222201', regions: ['us-east-1'] }, ctx));
    expect(issues).toEqual([expect.objectContaining({ field: 'regions', rule: 'notAllowedForRemove' })]);
  });

  it('reports every problem at once, cross-field rules included', () => {
    const issues = issuesOf(parseMembershipRequest({ action: 'enroll', accountId: '12', regions: [], tags: { 'aws:x': 'v' } }, ctx));
    expect(issues.map((entry) => `${entry.field}:${entry.rule}`).sort()).toEqual(
      ['accountId:pattern', 'email:required', 'regions:nonEmpty', 'tags["aws:x"]:reservedPrefix'].sort(),
    );
  });

  it('rejects a body that is not an object', () => {
    expect(issuesOf(parseMembershipRequest([1, 2], ctx))).toEqual([
      { field: 'body', rule: 'type', message: 'body must be a JSON object, got an array of 2 items' },
    ]);
    expect(issuesOf(parseMembershipRequest(null, ctx))[0]).toMatchObject({ field: 'body', rule: 'type' });
  });

  it('never echoes a full email address', () => {
    const email = 'jane.doe.personal@example.com';
    const result = parseMembershipRequest({ ...enroll, email: `${email} `, requestId: `for ${email}\t` }, ctx);
    const issues = issuesOf(result);
    expect(issues.map((entry) => `${entry.field}:${entry.rule}`)).toEqual(['email:format', 'requestId:printable']);
    const text = JSON.stringify(result);
    expect(text).not.toContain(email);
    expect(text).toContain('j***@example.com');
  });

  it('truncates an enormous value in messages', () => {
    const found = onlyIssue({ accountId: '9'.repeat(100_000) });
    expect(found.rule).toBe('pattern');
    expect(found.message.length).toBeLessThan(150);
    expect(found.message).toContain('(100000 characters)');
  });

  it('summarises the issues in one line', () => {
    const result = parseMembershipRequest({ action: 'enroll', accountId: '12345' }, ctx);
    expect(!result.ok && result.summary).toBe(
      'invalid membership request (2 problems): accountId must be exactly 12 digits, got "12345"; email is required to enroll an account (Macie invites by email)',
    );
  });
});

describe('parseMembershipRequestBody', () => {
  it('parses a JSON body', () => {
    expect(requestOf(parseMembershipRequestBody(JSON.stringify(enroll), ctx))).toEqual(enroll);
  });

  it('rejects non-JSON with a body issue that does not echo the email', () => {
    const issues = issuesOf(parseMembershipRequestBody('{"email": "jane@example.com", oops}', ctx));
    expect(issues).toEqual([expect.objectContaining({ field: 'body', rule: 'json' })]);
    expect(issues[0]!.message).not.toContain('jane@example.com');
  });

  it('rejects an empty body', () => {
    expect(issuesOf(parseMembershipRequestBody('  ', ctx))).toEqual([expect.objectContaining({ field: 'body', rule: 'json' })]);
  });

  it('rejects an enormous body before parsing it', () => {
    const body = JSON.stringify({ ...enroll, padding: 'x'.repeat(300_000) });
    const issues = issuesOf(parseMembershipRequestBody(body, ctx));
    expect(issues).toEqual([expect.objectContaining({ field: 'body', rule: 'maxBytes' })]);
    expect(issues[0]!.message).toMatch(/^body must be at most 262144 bytes, got at least \d+ bytes$/);
  });

  it('counts bytes, not characters, against the limit', () => {
    const body = JSON.stringify({ ...enroll, requestId: 'é'.repeat(60) });
    expect(issuesOf(parseMembershipRequestBody(body, ctx, body.length + 10))[0]).toMatchObject({ field: 'body', rule: 'maxBytes' });
    expect(parseMembershipRequestBody(body, ctx, Buffer.byteLength(body)).ok).toBe(false); // é is not printable ASCII
  });
});

describe('desiredMemberFromRequest', () => {
  const meta = { requestedBy: 'sqs:avp', requestedAt: '2025-06-02T10:00:00Z' };
  const previous: DesiredMember = {
    accountId: '222222222201',
    desiredState: 'member',
    email: 'old@example.com',
    regions: ['eu-west-1'],
    tags: { Owner: 'old' },
    autoAccept: false,
    paused: true,
    requestedBy: 'cli',
    requestedAt: '2025-01-01T00:00:00Z',
    requestId: 'old-request',
    invitationMessage: 'Old message',
    observed: { 'eu-west-1': { relationshipStatus: 'Enabled', lastAction: 'accept', at: '2025-01-01T00:05:00Z' } },
    version: 7,
  };

  it('builds a new member row with defaults', () => {
    const request = requestOf(parseMembershipRequest({ action: 'enroll', accountId: '222222222201', email: 'a@example.com' }, ctx));
    expect(desiredMemberFromRequest(request, meta)).toStrictEqual({
      accountId: '222222222201',
      desiredState: 'member',
      email: 'a@example.com',
      tags: {},
      autoAccept: true,
      paused: false,
      requestedBy: 'sqs:avp',
      requestedAt: '2025-06-02T10:00:00Z',
      observed: {},
      version: 0,
    });
  });

  it('applies every field an enroll names and keeps observed and version', () => {
    const row = desiredMemberFromRequest(requestOf(parseMembershipRequest(enroll, ctx)), meta, previous);
    expect(row).toStrictEqual({
      accountId: '222222222201',
      desiredState: 'member',
      email: 'owner-01@example.com',
      regions: ['us-east-1'],
      tags: { Owner: 'platform' },
      autoAccept: true,
      paused: false,
      requestedBy: 'sqs:avp',
      requestedAt: '2025-06-02T10:00:00Z',
      requestId: 'abc',
      invitationMessage: 'Welcome to Macie',
      observed: previous.observed,
      version: 7,
    });
  });

  it('keeps the previous values of fields an enroll leaves out', () => {
    const request = requestOf(parseMembershipRequest({ action: 'enroll', accountId: '222222222201', email: 'new@example.com' }, ctx));
    const row = desiredMemberFromRequest(request, meta, { ...previous, desiredState: 'absent' });
    expect(row).toMatchObject({ desiredState: 'member', email: 'new@example.com', regions: ['eu-west-1'], tags: { Owner: 'old' }, autoAccept: false, paused: true });
    expect(row).not.toHaveProperty('requestId');
  });

  it('turns a remove into an absent row keeping the previous email', () => {
    const request = requestOf(parseMembershipRequest({ action: 'remove', accountId: '222222222201', requestId: 'rm-1' }, ctx));
    const row = desiredMemberFromRequest(request, meta, previous);
    expect(row).toMatchObject({ desiredState: 'absent', email: 'old@example.com', requestId: 'rm-1', version: 7, observed: previous.observed });
  });

  it('records a remove of an unknown account with an empty email when none is given', () => {
    const request = requestOf(parseMembershipRequest({ action: 'remove', accountId: '222222222209' }, ctx));
    expect(desiredMemberFromRequest(request, meta)).toMatchObject({ desiredState: 'absent', email: '', version: 0 });
  });

  it('refuses a previous row of another account', () => {
    const request = requestOf(parseMembershipRequest({ action: 'remove', accountId: '222222222209' }, ctx));
    expect(() => desiredMemberFromRequest(request, meta, previous)).toThrow(/previous row is for 222222222201/);
  });
});

describe('field rule helpers', () => {
  it('masks every address in a text, and only addresses', () => {
    expect(maskEmailsIn('from a@x.com, to "bob@y.org" (cc: carol@z.net); at node_modules/@aws-sdk/client')).toBe(
      'from a***@x.com, to "b***@y.org" (cc: c***@z.net); at node_modules/@aws-sdk/client',
    );
    expect(maskEmailsIn('a@b@c')).toBe('a***@b@c');
    expect(maskEmailsIn('no address @ here')).toBe('no address @ here');
  });

  it('masks a long text with many at-signs whole, however it is built', () => {
    const text = `${'x'.repeat(200_000)}@${' @'.repeat(50_000)}${'y'.repeat(200_000)}@example.com`;
    const masked = maskEmailsIn(text);
    expect(masked).not.toContain('yy@example.com');
    expect(masked.endsWith('y***@example.com')).toBe(true);
    expect(masked.startsWith('x'.repeat(200_000))).toBe(true);
  });

  it('masks an email as first character, *** and the domain', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j***@example.com');
    expect(maskEmail('no-at-sign')).toBe('n***');
  });

  it('describes values briefly', () => {
    expect(describeValue('x'.repeat(50))).toBe(`"${'x'.repeat(40)}"… (50 characters)`);
    expect(describeValue('mail jane@example.com')).toBe('"mail j***@example.com"');
    expect(describeValue({ a: 1 })).toBe('an object with 1 key');
    expect(describeValue(undefined)).toBe('nothing');
  });

  it('formats paths as dotted fields', () => {
    expect(formatFieldPath(['tags', 'Owner'])).toBe('tags.Owner');
    expect(formatFieldPath(['regions', 1])).toBe('regions[1]');
    expect(formatFieldPath(['tags', 'cost center'])).toBe('tags["cost center"]');
  });
});
