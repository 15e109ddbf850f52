/**
 * Input checks for Macie requests. Each failure is a ValidationException whose message names the field and
 * the rule, so a test (or a developer reading a dead-letter) sees what was wrong without guessing.
 */
import { ACCOUNT_ID } from '#sandbox/emulator/accounts';
import { macieError } from '#sandbox/emulator/errors';

export type JsonObject = Record<string, unknown>;

// Deliberately loose, like a service-side check: one @, something before it, a dotted domain after it.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const INVITATION_MESSAGE = /^[A-Za-z0-9 ]*$/;
export const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;
const MAX_INVITATION_MESSAGE = 80;
export const MAX_PAGE_SIZE = 25;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalString(body: JsonObject, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw macieError.validation(`${field} must be a string`);
  return value;
}

export function requiredString(body: JsonObject, field: string, path = field): string {
  const value = optionalString(body, field);
  if (value === undefined || value === '') throw macieError.validation(`${path} is required`);
  return value;
}

export function requireAccountId(value: string, field: string): string {
  if (!ACCOUNT_ID.test(value)) throw macieError.validation(`${field} must be a 12-digit AWS account ID, got "${value}"`);
  return value;
}

export function requireEmail(value: string, field: string): string {
  if (!EMAIL.test(value)) throw macieError.validation(`${field} must be a valid email address, got "${value}"`);
  return value;
}

export function optionalEnum<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T | undefined {
  const value = optionalString(body, field);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw macieError.validation(`${field} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

export function requiredEnum<T extends string>(body: JsonObject, field: string, allowed: readonly T[]): T {
  const value = optionalEnum(body, field, allowed);
  if (value === undefined) throw macieError.validation(`${field} is required`);
  return value;
}

export function accountIdList(body: JsonObject, field: string): string[] {
  const value = body[field];
  if (!Array.isArray(value)) throw macieError.validation(`${field} is required and must be a list of account IDs`);
  if (value.length === 0) throw macieError.validation(`${field} must contain at least one account ID`);
  return value.map((item: unknown, index) => {
    if (typeof item !== 'string') throw macieError.validation(`${field}[${index}] must be a string`);
    return requireAccountId(item, `${field}[${index}]`);
  });
}

/** Checks one tag; shared by CreateMember and TagResource. */
function checkTag(field: string, key: string, value: unknown): string {
  if (key.length === 0 || key.length > MAX_TAG_KEY) {
    throw macieError.validation(`${field} key "${key.slice(0, 40)}" must be 1 to ${MAX_TAG_KEY} characters`);
  }
  if (key.toLowerCase().startsWith('aws:')) throw macieError.validation(`${field} key "${key}" must not start with "aws:"`);
  if (typeof value !== 'string') throw macieError.validation(`${field} value for key "${key}" must be a string`);
  if (value.length > MAX_TAG_VALUE) {
    throw macieError.validation(`${field} value for key "${key}" must be at most ${MAX_TAG_VALUE} characters`);
  }
  return value;
}

export function tagMap(body: JsonObject, field: string, required: boolean): Record<string, string> {
  const value = body[field];
  if (value === undefined || value === null) {
    if (required) throw macieError.validation(`${field} is required`);
    return {};
  }
  if (!isJsonObject(value)) throw macieError.validation(`${field} must be a map of tag keys to values`);
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) throw macieError.validation(`${field} must have at most ${MAX_TAGS} tags, got ${entries.length}`);
  const tags: Record<string, string> = {};
  for (const [key, tagValue] of entries) tags[key] = checkTag(field, key, tagValue);
  return tags;
}

export function tagKeyList(keys: string[]): string[] {
  if (keys.length === 0) throw macieError.validation('tagKeys must contain at least one tag key');
  for (const key of keys) {
    if (key.length === 0 || key.length > MAX_TAG_KEY) throw macieError.validation(`tagKeys entry must be 1 to ${MAX_TAG_KEY} characters`);
  }
  return keys;
}

export function invitationMessage(body: JsonObject): string | undefined {
  const message = optionalString(body, 'message');
  if (message === undefined) return undefined;
  if (message.length > MAX_INVITATION_MESSAGE) {
    throw macieError.validation(`message must be at most ${MAX_INVITATION_MESSAGE} characters, got ${message.length}`);
  }
  if (!INVITATION_MESSAGE.test(message)) {
    throw macieError.validation('message must contain only alphanumeric characters (letters, digits and spaces)');
  }
  return message;
}

export function optionalBoolean(body: JsonObject, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw macieError.validation(`${field} must be a boolean`);
  return value;
}

/** `maxResults` arrives as a query string; the model bounds it to 1..25. */
export function pageSize(query: URLSearchParams): number {
  const raw = query.get('maxResults');
  if (raw === null || raw === '') return MAX_PAGE_SIZE;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw macieError.validation(`maxResults must be an integer between 1 and ${MAX_PAGE_SIZE}, got "${raw}"`);
  }
  return size;
}
