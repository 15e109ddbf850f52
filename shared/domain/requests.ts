/**
 * Membership requests from an account-vending pipeline (SQS body or EventBridge detail):
 * validation into a typed request, and the desired-table row a request asks for.
 *
 * A dead-letter message is a valid request body plus the dead-letter fields, so SQS's own redrive
 * replays it: the parser accepts those fields and strips them.
 */
import * as z from 'zod/mini';
import { DESIRED_ROW_DEFAULTS, ENROLL_REQUEST_FIELDS } from '#shared/domain/desired-row';
import type { DesiredMember, Tags } from '#shared/domain/types';
import {
  accountIdSchema,
  describeValue,
  emailSchema,
  fieldIssuesOf,
  flagSchema,
  formatFieldPath,
  invitationMessageSchema,
  regionsSchema,
  requestIdSchema,
  REQUIRED,
  tagsSchema,
  type FieldIssue,
} from '#shared/domain/rules';

export const MEMBERSHIP_ACTIONS = ['enroll', 'remove'] as const;
export type MembershipRequestAction = (typeof MEMBERSHIP_ACTIONS)[number];

interface MembershipRequestFields {
  accountId: string;
  /** Regions to be a member in; absent means every managed region. Enroll only. */
  regions?: string[];
  tags?: Tags;
  requestId?: string;
  autoAccept?: boolean;
  paused?: boolean;
  invitationMessage?: string;
}

export interface EnrollRequest extends MembershipRequestFields {
  action: 'enroll';
  email: string;
}

export interface RemoveRequest extends MembershipRequestFields {
  action: 'remove';
  email?: string;
}

export type MembershipRequest = EnrollRequest | RemoveRequest;

export type RequestIssue = FieldIssue;

export type RequestParseResult =
  | {
      ok: true;
      request: MembershipRequest;
      /** Unknown top-level keys that were stripped (dead-letter fields are expected and not listed). */
      ignoredFields: string[];
      /**
       * When the input is a replayed dead letter, the time it was dead-lettered: the request is as
       * old as that, so a correction an operator recorded since still wins.
       */
      deadLetteredAt?: string;
    }
  | { ok: false; issues: RequestIssue[]; summary: string };

export interface RequestContext {
  administratorAccountId: string;
  managedRegions: readonly string[];
}

/** What the dead-letter queue adds to a request body; the parser strips these on redrive. */
export const DEAD_LETTER_FIELDS = ['reason', 'operation', 'errorCode', 'errorMessage', 'region', 'attempts', 'at'] as const;
export type DeadLetterField = (typeof DEAD_LETTER_FIELDS)[number];

/** The extra fields a dead-letter message carries beside the request body. */
export interface DeadLetterDetails {
  reason: string;
  operation?: string;
  errorCode?: string;
  errorMessage?: string;
  region?: string;
  attempts?: number;
  /** ISO-8601 time it was dead-lettered. */
  at: string;
}

export type DeadLetterMessage = MembershipRequest & DeadLetterDetails;

const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>(['action', 'accountId', ...ENROLL_REQUEST_FIELDS]);
const DEAD_LETTER_FIELD_SET: ReadonlySet<string> = new Set<string>(DEAD_LETTER_FIELDS);
const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
const SUMMARY_ISSUES = 5;

function buildSchema(ctx: RequestContext) {
  return z.object({
    action: z.enum(MEMBERSHIP_ACTIONS, {
      error: (issue) =>
        issue.input === undefined ? REQUIRED : `must be "enroll" or "remove", got ${describeValue(issue.input)}`,
    }),
    accountId: accountIdSchema(ctx.administratorAccountId),
    email: z.optional(emailSchema),
    regions: z.optional(regionsSchema(ctx.managedRegions)),
    tags: z.optional(tagsSchema),
    requestId: z.optional(requestIdSchema),
    autoAccept: z.optional(flagSchema),
    paused: z.optional(flagSchema),
    invitationMessage: z.optional(invitationMessageSchema),
  });
}

type RequestSchema = ReturnType<typeof buildSchema>;

// A Lambda serves one configuration, so one schema per (administrator, regions) is built once.
const schemaCache = new Map<string, RequestSchema>();

function schemaFor(ctx: RequestContext): RequestSchema {
  const key = `${ctx.administratorAccountId}|${ctx.managedRegions.join(',')}`;
  let schema = schemaCache.get(key);
  if (!schema) {
    if (schemaCache.size > 16) schemaCache.clear();
    schema = buildSchema(ctx);
    schemaCache.set(key, schema);
  }
  return schema;
}

function issue(field: string, rule: string, fragment: string): RequestIssue {
  return { field, rule, message: `${field} ${fragment}` };
}

function summarize(issues: readonly RequestIssue[]): string {
  const shown = issues.slice(0, SUMMARY_ISSUES).map((entry) => entry.message);
  const more = issues.length - shown.length;
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return `invalid membership request (${issues.length} ${noun}): ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

function failed(issues: RequestIssue[]): RequestParseResult {
  return { ok: false, issues, summary: summarize(issues) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a request (an already-parsed SQS body or EventBridge detail). Every field is checked and
 * every problem reported at once. Unknown keys are stripped, never fatal; `null` in an optional field
 * counts as "not given" (many JSON producers write null for absent), and so does `""` as a remove's
 * email (a row removed before its email was known replays that way).
 */
export function parseMembershipRequest(input: unknown, ctx: RequestContext): RequestParseResult {
  if (!isPlainObject(input)) {
    return failed([issue('body', 'type', `must be a JSON object, got ${describeValue(input)}`)]);
  }

  const candidate: Record<string, unknown> = {};
  const ignoredFields: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (KNOWN_FIELDS.has(key)) {
      if (value === null && key !== 'action' && key !== 'accountId') continue;
      // A replayed remove of an account whose email was never known carries "": nothing to validate.
      if (key === 'email' && value === '' && input.action === 'remove') continue;
      candidate[key] = value;
    } else if (!DEAD_LETTER_FIELD_SET.has(key)) {
      ignoredFields.push(formatFieldPath([key]));
    }
  }

  const issues: RequestIssue[] = [];
  const parsed = z.safeParse(schemaFor(ctx), candidate);
  if (!parsed.success) issues.push(...fieldIssuesOf(parsed.error.issues, 'body'));

  // Cross-field rules run on the raw input so that they are reported together with field problems.
  if (candidate.action === 'enroll' && candidate.email === undefined) {
    issues.push(issue('email', 'required', 'is required to enroll an account (Macie invites by email)'));
  }
  if (candidate.action === 'remove' && candidate.regions !== undefined) {
    // A partial removal cannot be expressed as a desired row, and quietly removing the account from
    // every region instead would do more than was asked.
    issues.push(
      issue(
        'regions',
        'notAllowedForRemove',
        'is not allowed for remove: removal applies to every managed region (to leave only some regions, enroll with the regions to keep)',
      ),
    );
  }

  if (issues.length > 0 || !parsed.success) return failed(issues);

  const data = parsed.data;
  const fields: MembershipRequestFields = { accountId: data.accountId };
  if (data.regions !== undefined) fields.regions = data.regions;
  if (data.tags !== undefined) fields.tags = data.tags;
  if (data.requestId !== undefined) fields.requestId = data.requestId;
  if (data.autoAccept !== undefined) fields.autoAccept = data.autoAccept;
  if (data.paused !== undefined) fields.paused = data.paused;
  if (data.invitationMessage !== undefined) fields.invitationMessage = data.invitationMessage;

  let request: MembershipRequest;
  if (data.action === 'enroll') {
    // The cross-field check above guarantees the email.
    request = { action: 'enroll', ...fields, email: data.email as string };
  } else {
    request = { action: 'remove', ...fields, ...(data.email !== undefined ? { email: data.email } : {}) };
  }
  return { ok: true, request, ignoredFields, ...deadLetterTime(input) };
}

function deadLetterTime(input: Record<string, unknown>): { deadLetteredAt?: string } {
  if (typeof input.reason !== 'string' || typeof input.at !== 'string') return {};
  const at = Date.parse(input.at);
  return Number.isNaN(at) ? {} : { deadLetteredAt: new Date(at).toISOString() };
}

/**
 * Parses a raw message body (SQS). Oversized and non-JSON bodies give an issue on field `body`.
 * The JSON parser's own message is not quoted because it echoes the input, which may hold an email.
 */
export function parseMembershipRequestBody(
  body: string,
  ctx: RequestContext,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): RequestParseResult {
  if (typeof body !== 'string') {
    return failed([issue('body', 'type', `must be a JSON string, got ${describeValue(body)}`)]);
  }
  // A string of n characters takes at least n bytes, so the cheap test settles huge bodies.
  const bytes = body.length > maxBytes ? body.length : Buffer.byteLength(body, 'utf8');
  if (bytes > maxBytes) {
    const got = body.length > maxBytes ? `at least ${body.length}` : String(bytes);
    return failed([issue('body', 'maxBytes', `must be at most ${maxBytes} bytes, got ${got} bytes`)]);
  }
  if (body.trim() === '') return failed([issue('body', 'json', 'must be a JSON object, got an empty body')]);
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    return failed([issue('body', 'json', `must be valid JSON, got ${describeValue(body)}`)]);
  }
  return parseMembershipRequest(input, ctx);
}

/**
 * When a request counts as made, for ordering the requests of one account (the newest wins): the
 * time its sender claims (a replayed dead letter's `at`, an event's `time`), but never later than
 * the service received it (SQS's `SentTimestamp`, the event's arrival). A sender's clock, or a
 * sender, could otherwise date a request in the future, and every later request for the account
 * would lose to it.
 */
export function orderingTime(claimed: unknown, receivedAtMs: number): string {
  const time = typeof claimed === 'string' ? Date.parse(claimed) : Number.NaN;
  return new Date(Number.isNaN(time) ? receivedAtMs : Math.min(time, receivedAtMs)).toISOString();
}

/**
 * The desired-table row a request asks for.
 *
 * An enroll states what it names: fields it leaves out keep the previous row's value (so an
 * Organizations event cannot wipe tags a pipeline set), and a new row takes the row defaults
 * (`DESIRED_ROW_DEFAULTS`: every managed region, no tags, `autoAccept: true`, `paused: false`). A remove turns the row `absent` and keeps
 * everything else, including the previous email when the request names none (an unknown account
 * removed without an email gets `''`: nothing needs it to delete a membership).
 * The row's `observed` history and optimistic-lock `version` are always carried over.
 */
export function desiredMemberFromRequest(
  request: MembershipRequest,
  meta: { requestedBy: string; requestedAt: string },
  previous?: DesiredMember,
): DesiredMember {
  if (previous && previous.accountId !== request.accountId) {
    throw new Error(`desiredMemberFromRequest: previous row is for ${previous.accountId}, request is for ${request.accountId}`);
  }
  const enrolling = request.action === 'enroll';
  const regions = enrolling ? (request.regions ?? previous?.regions) : previous?.regions;
  const invitationMessage = enrolling ? (request.invitationMessage ?? previous?.invitationMessage) : previous?.invitationMessage;

  const row: DesiredMember = {
    accountId: request.accountId,
    desiredState: enrolling ? 'member' : 'absent',
    email: request.email ?? previous?.email ?? DESIRED_ROW_DEFAULTS.email,
    tags: { ...((enrolling ? request.tags : undefined) ?? previous?.tags ?? DESIRED_ROW_DEFAULTS.tags) },
    autoAccept: (enrolling ? request.autoAccept : undefined) ?? previous?.autoAccept ?? DESIRED_ROW_DEFAULTS.autoAccept,
    paused: (enrolling ? request.paused : undefined) ?? previous?.paused ?? DESIRED_ROW_DEFAULTS.paused,
    requestedBy: meta.requestedBy,
    requestedAt: meta.requestedAt,
    observed: { ...(previous?.observed ?? DESIRED_ROW_DEFAULTS.observed) },
    version: previous?.version ?? DESIRED_ROW_DEFAULTS.version,
  };
  // Optional keys are left out rather than set to undefined, so the row marshals cleanly.
  if (regions !== undefined) row.regions = [...regions];
  if (request.requestId !== undefined) row.requestId = request.requestId;
  if (invitationMessage !== undefined) row.invitationMessage = invitationMessage;
  return row;
}
