import { describe, expect, it } from 'vitest';
import { deadLetterBody, type DeadLetter } from '#shared/domain/dead-letters';

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
