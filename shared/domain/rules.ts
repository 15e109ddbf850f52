/**
 * Field rules shared by every way a membership request reaches the service (SQS body, EventBridge
 * detail, dead-letter redrive). Each rule is a zod schema whose failures carry a named `rule`, so a
 * caller can tell an operator which field broke which rule and what value it got.
 *
 * The schemas use zod's functional `zod/mini` API, which tree-shakes to what is used (the Lambda
 * bundles' size budget); it loads no message locale, so every failure here names its own message.
 *
 * Messages built here are fragments ("must be exactly 12 digits, got \"12345\""); the request
 * parser puts the field's path in front of them.
 */
import * as z from 'zod/mini';
import type { Tags } from '#shared/domain/types';

export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
export const MAX_EMAIL_LENGTH = 254;
export const MAX_TAGS = 50;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
export const MAX_INVITATION_MESSAGE_LENGTH = 80;
export const MAX_REQUEST_ID_LENGTH = 128;
/** How much of an offending value a message may quote, so that an enormous input cannot flood logs. */
export const MAX_QUOTED_CHARS = 40;

// "local@domain.tld": a local part of RFC 5322's unquoted characters (letters, digits and
// !#$%&'*+/=?^_`{|}~.-, so no control character, space or quote), DNS-style labels in the domain and
// a top-level domain of letters. Deliberately plausible rather than RFC 5322-complete: Macie sends
// the invitation to this address, and anything stranger is far likelier a typo than a real mailbox.
const EMAIL_PATTERN = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
// AWS's tagging rule for keys and values: letters, numbers and spaces in any script, and _ . : / = + - @.
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
// The same alphabet the configuration's INVITATION_MESSAGE accepts: Macie documents "alphanumeric".
const INVITATION_MESSAGE_PATTERN = /^[A-Za-z0-9 ]+$/;
const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Masks an email address for messages and logs: `a***@example.com`. Emails are personal data. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return email.length === 0 ? '' : `${email.slice(0, 1)}***`;
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

// "/" too, although RFC 5322 allows it in a local part: it stands before the "@" of every scoped
// package in a stack trace (node_modules/@aws-sdk/...), and almost never in a real address.
const EMAIL_DELIMITERS: ReadonlySet<string> = new Set(['"', "'", '(', ')', ',', ':', ';', '<', '>', '@', '/']);
const WHITE_SPACE = /\s/;

/** White space, "@" and the usual delimiters around an address end an email-looking run. */
function delimitsEmail(character: string): boolean {
  return EMAIL_DELIMITERS.has(character) || WHITE_SPACE.test(character);
}

/**
 * Replaces every email-looking substring (`local@domain`, delimited by white space, quotes,
 * brackets, commas, colons or semicolons) with its masked form. Linear in the text's length: it
 * grows outwards from each "@", where a regular expression would backtrack quadratically on a long
 * run without one, and log lines and error texts can be long and sender-controlled.
 */
export function maskEmailsIn(text: string): string {
  if (!text.includes('@')) return text;
  let masked = '';
  let copied = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > copied && !delimitsEmail(text[start - 1]!)) start -= 1;
    let end = at + 1;
    while (end < text.length && !delimitsEmail(text[end]!)) end += 1;
    if (start === at || end === at + 1) continue;
    masked += text.slice(copied, start) + maskEmail(text.slice(start, end));
    copied = end;
  }
  return masked + text.slice(copied);
}

// A message quotes at most MAX_QUOTED_CHARS of a value, so only a bounded window is ever masked.
const MASKING_WINDOW = 512;

/**
 * A short, log-safe rendering of a value an input carried: strings are quoted, emails masked,
 * long strings cut to {@link MAX_QUOTED_CHARS}, arrays and objects summarised rather than dumped.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const safe = maskEmailsIn(value.length > MASKING_WINDOW ? value.slice(0, MASKING_WINDOW) : value);
    if (safe.length <= MAX_QUOTED_CHARS) return JSON.stringify(safe);
    return `${JSON.stringify(safe.slice(0, MAX_QUOTED_CHARS))}… (${value.length} characters)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} (a ${typeof value})`;
  }
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).length;
    return `an object with ${keys} key${keys === 1 ? '' : 's'}`;
  }
  return `a ${typeof value}`;
}

/** Renders a parse path as an operator reads it: `tags.Owner`, `regions[1]`, `tags["cost center"]`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let field = '';
  for (const segment of path) {
    if (typeof segment === 'number') field += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment) && segment.length <= MAX_QUOTED_CHARS) {
      field += field === '' ? segment : `.${segment}`;
    } else {
      const text = String(segment);
      const quoted = JSON.stringify(text.length <= MAX_QUOTED_CHARS ? text : `${text.slice(0, MAX_QUOTED_CHARS)}…`);
      field += `[${quoted}]`;
    }
  }
  return field;
}

/** The `params` a rule failure carries on its zod issue. */
export interface RuleParams {
  rule: string;
}

/** One broken rule of an input or a stored row. */
export interface FieldIssue {
  /** Dotted path of the offending field (`accountId`, `tags.Owner`, `regions[1]`), or the whole input's name. */
  field: string;
  /** The rule broken, e.g. `pattern`, `required`, `maxLength`. */
  rule: string;
  /** The whole sentence, e.g. `accountId must be exactly 12 digits, got "12345"`. */
  message: string;
}

/** Zod's issues in the project's words; an issue about the whole input is named `whole` (`body`, `row`). */
export function fieldIssuesOf(issues: readonly z.core.$ZodIssue[], whole: string): FieldIssue[] {
  return issues.map((zodIssue) => {
    const field = formatFieldPath(zodIssue.path) || whole;
    return { field, rule: ruleOf(zodIssue), message: `${field} ${zodIssue.message}` };
  });
}

function ruleOf(zodIssue: z.core.$ZodIssue): string {
  if (zodIssue.code === 'custom') {
    const params = zodIssue.params as Partial<RuleParams> | undefined;
    if (typeof params?.rule === 'string') return params.rule;
    return 'custom';
  }
  if (zodIssue.code === 'invalid_type') return zodIssue.message === REQUIRED ? 'required' : 'type';
  if (zodIssue.code === 'invalid_value') return zodIssue.message === REQUIRED ? 'required' : 'oneOf';
  return zodIssue.code;
}

type RefinementContext = z.core.$RefinementCtx;

function fail(ctx: RefinementContext, rule: string, message: string, path?: PropertyKey[]): void {
  ctx.addIssue({ code: 'custom', message, params: { rule } satisfies RuleParams, ...(path ? { path } : {}) });
}

/** The message fragment of a missing field; the request parser maps it to rule `required`. */
export const REQUIRED = 'is required';

/** The zod error customiser for a type mismatch: "is required" or "must be <expected>, got <value>". */
export function typeError(expected: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? REQUIRED : `must be ${expected}, got ${describeValue(issue.input)}`;
}

/** Without `administratorAccountId`, the pattern alone (a stored row; the planner never plans the administrator). */
export const accountIdSchema = (administratorAccountId?: string) =>
  z.string({ error: typeError('a string of exactly 12 digits') }).check(
    z.superRefine((value: string, ctx) => {
      if (!ACCOUNT_ID_PATTERN.test(value)) {
        fail(ctx, 'pattern', `must be exactly 12 digits, got ${describeValue(value)}`);
      } else if (value === administratorAccountId) {
        fail(ctx, 'notAdministrator', `must not be the administrator's own account (${value}): an account cannot be its own Macie member`);
      }
    }),
  );

export const emailSchema = z.string({ error: typeError('an email address string') }).check(
  z.superRefine((value: string, ctx) => {
    if (value.length > MAX_EMAIL_LENGTH) {
      fail(ctx, 'maxLength', `must be at most ${MAX_EMAIL_LENGTH} characters, got ${value.length} (${describeValue(maskEmail(value))})`);
    } else if (!EMAIL_PATTERN.test(value)) {
      fail(ctx, 'format', `must be a plausible email address such as name@example.com, got ${describeValue(maskEmail(value))}`);
    }
  }),
);

export const regionsSchema = (managedRegions: readonly string[]) => {
  const managed = new Set(managedRegions);
  return z
    .array(z.string({ error: typeError('a region name string') }), { error: typeError('a non-empty array of region names') })
    .check(z.superRefine((regions: string[], ctx) => {
      if (regions.length === 0) {
        fail(ctx, 'nonEmpty', 'must name at least one region (leave it out to mean every managed region)');
        return;
      }
      const seen = new Map<string, number>();
      regions.forEach((region, index) => {
        const first = seen.get(region);
        if (first !== undefined) {
          fail(ctx, 'unique', `repeats regions[${first}], got ${describeValue(region)}`, [index]);
        } else if (!managed.has(region)) {
          fail(ctx, 'managedRegion', `must be one of the managed regions (${[...managed].join(', ')}), got ${describeValue(region)}`, [index]);
        }
        if (first === undefined) seen.set(region, index);
      });
    }));
};

export const tagsSchema = z.pipe(
  z.unknown().check(z.superRefine((tags: unknown, ctx) => {
    if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
      fail(ctx, 'type', `must be an object of string keys and string values, got ${describeValue(tags)}`);
      return;
    }
    const entries = Object.entries(tags);
    if (entries.length > MAX_TAGS) {
      fail(ctx, 'maxCount', `must have at most ${MAX_TAGS} tags, got ${entries.length}`);
    }
    for (const [key, value] of entries) {
      if (key.length < 1 || key.length > MAX_TAG_KEY_LENGTH) {
        fail(ctx, 'keyLength', `key must be 1-${MAX_TAG_KEY_LENGTH} characters, got ${key.length}`, [key]);
      } else if (!TAG_CHARACTERS.test(key)) {
        fail(ctx, 'keyCharset', `key must contain letters, numbers, spaces and _ . : / = + - @ only (AWS's tag rule), got ${describeValue(key)}`, [key]);
      } else if (key === '__proto__') {
        // AWS allows it, but the AWS SDK for JavaScript builds maps by assignment, where "__proto__"
        // sets the prototype: the tag would vanish without a word on the way to DynamoDB and Macie.
        fail(ctx, 'reservedKey', 'key must not be "__proto__": the AWS SDK for JavaScript drops it; use another key', [key]);
      } else if (key.toLowerCase().startsWith('aws:')) {
        fail(ctx, 'reservedPrefix', `key must not start with "aws:" (reserved for AWS), got ${describeValue(key)}`, [key]);
      }
      if (typeof value !== 'string') {
        fail(ctx, 'type', `must be a string, got ${describeValue(value)}`, [key]);
      } else if (value.length > MAX_TAG_VALUE_LENGTH) {
        fail(ctx, 'valueLength', `must be at most ${MAX_TAG_VALUE_LENGTH} characters, got ${value.length}`, [key]);
      } else if (!TAG_CHARACTERS.test(value)) {
        fail(ctx, 'valueCharset', `must contain letters, numbers, spaces and _ . : / = + - @ only (AWS's tag rule), got ${describeValue(value)}`, [key]);
      }
    }
  })),
  // Object.fromEntries defines own properties, so even a "__proto__" key survives as a plain tag.
  z.transform((tags: unknown): Tags => Object.fromEntries(Object.entries(tags as Record<string, string>))),
);

export const requestIdSchema = z.string({ error: typeError('a string') }).check(
  z.superRefine((value: string, ctx) => {
    if (value.length < 1 || value.length > MAX_REQUEST_ID_LENGTH) {
      fail(ctx, 'length', `must be 1-${MAX_REQUEST_ID_LENGTH} characters, got ${value.length}`);
    } else if (!PRINTABLE_ASCII.test(value)) {
      fail(ctx, 'printable', `must contain printable ASCII characters only, got ${describeValue(value)}`);
    }
  }),
);

/** Whether a value keeps the requestId rule, such as an event id that is to stand in for a missing requestId. */
export function isRequestId(value: unknown): value is string {
  return z.safeParse(requestIdSchema, value).success;
}

export const invitationMessageSchema = z.string({ error: typeError('a string') }).check(
  z.superRefine((value: string, ctx) => {
    if (value.length < 1 || value.length > MAX_INVITATION_MESSAGE_LENGTH) {
      fail(ctx, 'length', `must be 1-${MAX_INVITATION_MESSAGE_LENGTH} characters, got ${value.length}`);
    } else if (!INVITATION_MESSAGE_PATTERN.test(value)) {
      fail(ctx, 'charset', `must contain letters, digits and spaces only (Macie's rule), got ${describeValue(value)}`);
    }
  }),
);

export const flagSchema = z.boolean({ error: typeError('true or false') });
