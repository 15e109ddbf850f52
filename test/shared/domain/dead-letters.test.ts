import { describe, expect, it } from 'vitest';
import { deadLetterBody, requestFromInvalidInput, summarizeDeadLetter, type DeadLetter } from '#shared/domain/dead-letters';

const letter = (overrides: Partial<DeadLetter> = {}): DeadLetter => ({
  request: { action: 'enroll', accountId: '222222222201', email: 'owner@example.com', tags: { Owner: 'platform' } },
  reason: 'action-failed',
  operation: 'CreateMember',
  errorCode: 'ValidationException',
  errorMessage: 'The email owner@example.com is not valid',
  region: 'us-east-1',
  attempts: 1,
  at: '2026-11-30T00:00:00.000Z',
  ...overrides,
});

describe('deadLetterBody', () => {
  it('masks the emails of the error text, and keeps the request its own email so it replays', () => {
    const body = JSON.parse(deadLetterBody(letter())) as Record<string, unknown>;
    expect(body.errorMessage).toBe('The email o***@example.com is not valid');
    expect(body.email).toBe('owner@example.com');
  });

  it('writes characters SQS refuses as JSON escapes that parse back to the same text', () => {
    const request = { action: 'enroll', accountId: '222222222201', email: 'owner@example.com', rawInput: 'before\uffff\ufffeafter' };
    const body = deadLetterBody(letter({ request, errorMessage: 'got \uffff' }));
    // SQS's allowed set: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
    expect(body).toMatch(/^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/u);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(parsed.rawInput).toBe('before\uffff\ufffeafter');
    expect(parsed.errorMessage).toBe('got \uffff');
  });

  it('masks an address that the cut would split', () => {
    const body = JSON.parse(deadLetterBody(letter({ errorMessage: `${'x'.repeat(2040)} alice@example.com` }))) as Record<string, string>;
    expect(body.errorMessage).not.toContain('alice');
  });

  it('cuts a sender-controlled error text of any length to 2,048 characters', () => {
    const body = JSON.parse(deadLetterBody(letter({ errorMessage: 'x'.repeat(1_000_000) }))) as Record<string, string>;
    expect(body.errorMessage).toHaveLength(2048);
  });
});

/** `{"a":{"a":...1...}}`, `depth` levels deep: JSON.parse reads it, JSON.stringify overflows the stack on it. */
const deepObjectText = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

function depthOf(value: unknown): number {
  let depth = 0;
  for (let node = value; typeof node === 'object' && node !== null; node = (node as Record<string, unknown>).a ?? (node as unknown[])[0]) depth += 1;
  return depth;
}

describe('deadLetterBody without recursion', () => {
  it('writes the same text as JSON.stringify for ordinary data', () => {
    const request = {
      action: 'enroll',
      accountId: '222222222201',
      tags: { Owner: 'platform', Empty: '' },
      regions: ['us-east-1', undefined, null, Number.NaN, -0, 1e21],
      nested: [[], {}, [{ left: undefined, kept: true }]],
      lone: 'half \ud800 a pair \ud83d\ude00 "quoted" \u0000\u001b\u202e',
      when: new Date('2026-11-30T00:00:00.000Z'),
      skipped: undefined,
      ['__proto__']: 'a key, not a prototype',
    };
    const { request: _request, ...why } = letter({ errorMessage: 'no email here' });
    const body = deadLetterBody({ request, ...why });
    expect(body).toContain('"__proto__":"a key, not a prototype"');
    expect(body).toBe(JSON.stringify({ ...request, ...why }));
  });

  it('serializes a request that holds an array nested 10,000 deep', () => {
    const deep = JSON.parse(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) as unknown;
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const body = JSON.parse(deadLetterBody(letter({ request: { action: 'enroll', nested: deep } }))) as Record<string, unknown>;
    expect(depthOf(body.nested)).toBe(10_000);
    expect(body.reason).toBe('action-failed');
  });
});

describe('requestFromInvalidInput without recursion', () => {
  it('keeps a 20,000-deep object (an EventBridge detail) as a truncated excerpt of its JSON text', () => {
    const text = deepObjectText(20_000);
    const kept = requestFromInvalidInput(JSON.parse(text));
    expect(kept).toEqual({ rawInput: text.slice(0, 16 * 1024), rawInputTruncatedFrom: text.length });
  });

  it('keeps a body with a 20,000-deep field as a truncated excerpt that starts with its readable fields', () => {
    const body = `{"action":"enroll","accountId":"12345","x":${deepObjectText(20_000)}}`;
    const kept = requestFromInvalidInput(body);
    expect(kept.rawInputTruncatedFrom).toBe(body.length);
    expect(String(kept.rawInput)).toMatch(/^\{"action":"enroll","accountId":"12345","x":\{"a":\{"a":/);
    expect(String(kept.rawInput)).toHaveLength(16 * 1024);
  });

  it('keeps a small object whose nesting JSON.stringify cannot write, and the letter body carries it', () => {
    const input = JSON.parse(`{"accountId":"12345","nested":${'['.repeat(7_000)}${']'.repeat(7_000)}}`) as Record<string, unknown>;
    const kept = requestFromInvalidInput(input);
    expect(kept).toEqual(input);
    const body = JSON.parse(deadLetterBody(letter({ request: kept, reason: 'invalid-request' }))) as Record<string, unknown>;
    expect(depthOf(body.nested)).toBe(7_000);
  });
});

describe('summarizeDeadLetter', () => {
  const context = { administratorAccountId: '111111111111', managedRegions: ['us-east-1'], eventSource: 'macie.membership' };

  it("reads a letter's account, reason and failure", () => {
    const body = deadLetterBody({
      request: { action: 'enroll', accountId: '222222222201', email: 'a@example.com' },
      reason: 'action-failed',
      operation: 'CreateMember',
      errorCode: 'ThrottlingException',
      errorMessage: 'Rate exceeded',
      region: 'us-east-1',
      attempts: 3,
      at: '2026-11-30T10:00:00.000Z',
    });
    expect(summarizeDeadLetter(body, context)).toEqual({
      kind: 'letter',
      accountId: '222222222201',
      action: 'enroll',
      email: 'a@example.com',
      reason: 'action-failed',
      operation: 'CreateMember',
      errorCode: 'ThrottlingException',
      errorMessage: 'Rate exceeded',
      region: 'us-east-1',
      attempts: 3,
      at: '2026-11-30T10:00:00.000Z',
    });
  });

  it("reads Lambda's failure record as reason lambda-failure, with its condition and error, masking emails", () => {
    const record = {
      timestamp: '2026-11-30T10:00:00.000Z',
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { source: 'aws.organizations' },
      responsePayload: { errorType: 'Error', errorMessage: 'failed for owner@example.com' },
    };
    expect(summarizeDeadLetter(JSON.stringify(record), context)).toMatchObject({
      kind: 'lambda-failure',
      reason: 'lambda-failure',
      operation: 'RetriesExhausted',
      errorCode: 'Error',
      errorMessage: 'failed for o***@example.com',
      attempts: 3,
      at: '2026-11-30T10:00:00.000Z',
    });
  });

  it('calls anything else unreadable', () => {
    expect(summarizeDeadLetter('not json', context)).toEqual({ kind: 'unreadable', reason: 'unreadable' });
    expect(summarizeDeadLetter('[1]', context)).toEqual({ kind: 'unreadable', reason: 'unreadable' });
  });
});
