import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { fieldIssuesOf, isRequestId, tagsSchema } from '#shared/domain/rules';

/** Tags as a JSON body carries them: JSON.parse makes "__proto__" an own key, as a request's would be. */
const tagIssues = (json: string) => {
  const parsed = z.safeParse(tagsSchema, JSON.parse(json));
  return parsed.success ? [] : fieldIssuesOf(parsed.error.issues, 'tags');
};

describe('tagsSchema', () => {
  it('refuses the tag key __proto__, which the AWS SDK for JavaScript drops', () => {
    expect(tagIssues('{"__proto__":"x"}')).toEqual([
      { field: '__proto__', rule: 'reservedKey', message: '__proto__ key must not be "__proto__": the AWS SDK for JavaScript drops it; use another key' },
    ]);
  });

  it('takes other keys that name Object.prototype members as plain tags, constructor included (the store writes it)', () => {
    const parsed = z.safeParse(tagsSchema, JSON.parse('{"constructor":"e","prototype":"a","toString":"b","hasOwnProperty":"c","valueOf":"d"}'));
    expect(parsed.success && parsed.data).toEqual({ constructor: 'e', prototype: 'a', toString: 'b', hasOwnProperty: 'c', valueOf: 'd' });
  });
});

describe('isRequestId', () => {
  it.each([
    ['a UUID', '3c1f5f3a-7d0e-4f2b-9a51-0f5c2a7e8b10', true],
    ['128 characters', 'r'.repeat(128), true],
    ['129 characters', 'r'.repeat(129), false],
    ['empty', '', false],
    ['a control character', 'a\u001bb', false],
    ['a number', 42, false],
    ['an object', { id: 'x' }, false],
  ])('%s: %s', (_name, value, expected) => {
    expect(isRequestId(value)).toBe(expected);
  });
});
