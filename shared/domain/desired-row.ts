/**
 * A row of the desired-membership table, as one schema: what each stored attribute may hold, what
 * an absent one means, and which of them a request names. The store's list of the attributes a
 * desired write owns, a request's new row and the request a row replays as are all derived from here.
 *
 * A stored row that breaks the schema is corrupt: it is reported with each problem, never read
 * with a guess (a `desiredState` typo read as `member` would enroll the account).
 */
import * as z from 'zod/mini';
import type { DesiredMember, ObservedRegionState, Region, Tags } from '#shared/domain/types';
import { OBSERVED_STATUSES } from '#shared/domain/types';
import {
  accountIdSchema,
  describeValue,
  fieldIssuesOf,
  flagSchema,
  invitationMessageSchema,
  maskEmailsIn,
  REQUIRED,
  typeError,
  type FieldIssue,
  type RuleParams,
} from '#shared/domain/rules';

/**
 * What an absent attribute means (a row written by hand may leave these out); a request's new row
 * starts from the same values.
 */
export const DESIRED_ROW_DEFAULTS: Readonly<
  Pick<DesiredMember, 'email' | 'tags' | 'autoAccept' | 'paused' | 'requestedBy' | 'requestedAt' | 'observed' | 'version'>
> = Object.freeze({
  email: '',
  tags: Object.freeze({}),
  autoAccept: true,
  paused: false,
  requestedBy: 'unknown',
  requestedAt: '',
  observed: Object.freeze({}),
  version: 0,
});

const text = z.string({ error: typeError('a string') });

// The stored rule is looser than a request's (regionsSchema): which regions are managed is
// configuration, and a row must stay readable when it changes.
const storedRegionsSchema = z
  .array(z.string({ error: typeError('a region name string') }), { error: typeError('a list of region names') })
  .check(
    z.superRefine((regions: string[], ctx) => {
      if (regions.length === 0) {
        // Read as "every managed region", an empty list would enroll the account everywhere.
        ctx.addIssue({
          code: 'custom',
          message: 'must name at least one region (leave it out to mean every managed region)',
          params: { rule: 'nonEmpty' } satisfies RuleParams,
        });
      }
    }),
  );

// Stored tags passed a request's rules when they were written; rules tightened since (AWS's tag
// character set, say) must not turn an existing row corrupt. A stored row needs only string values.
const storedTagsSchema = z.pipe(
  z.unknown().check(
    z.superRefine((tags: unknown, ctx) => {
      if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
        ctx.addIssue({ code: 'custom', message: `must be a map of string values, got ${describeValue(tags)}`, params: { rule: 'type' } satisfies RuleParams });
        return;
      }
      for (const [key, value] of Object.entries(tags)) {
        if (typeof value !== 'string') {
          ctx.addIssue({ code: 'custom', message: `must be a string, got ${describeValue(value)}`, params: { rule: 'type' } satisfies RuleParams, path: [key] });
        }
      }
    }),
  ),
  // Object.fromEntries defines own properties, so even a "__proto__" key survives as a plain tag.
  z.transform((tags: unknown): Tags => Object.fromEntries(Object.entries(tags as Record<string, string>))),
);

const observedRegionSchema = z.object(
  {
    relationshipStatus: z.enum(OBSERVED_STATUSES, {
      error: (issue) => (issue.input === undefined ? REQUIRED : `must be a Macie relationship status, "Unrecognized" or "NotListed", got ${describeValue(issue.input)}`),
    }),
    lastAction: z.optional(text),
    lastError: z.optional(text),
    letterSent: z.optional(z.object({ episode: text, at: text }, { error: typeError('an object of episode and at') })),
    at: text,
  },
  { error: typeError('an observation object') },
);

// Checked entry by entry rather than with z.record, which would add 3 KB to every function's bundle
// (stored tags are checked the same way).
const observedSchema = z.pipe(
  z.unknown().check(
    z.superRefine((observed: unknown, ctx) => {
      if (typeof observed !== 'object' || observed === null || Array.isArray(observed)) {
        ctx.addIssue({ code: 'custom', message: `must be a map of region to observation, got ${describeValue(observed)}`, params: { rule: 'type' } satisfies RuleParams });
        return;
      }
      for (const [region, state] of Object.entries(observed)) {
        const parsed = z.safeParse(observedRegionSchema, state);
        if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [region, ...issue.path] });
      }
    }),
  ),
  z.transform((observed: unknown) => observed as Record<Region, ObservedRegionState>),
);

/** The attributes a desired write owns, each with its stored rule and, when it may be absent, its default. */
const desiredAttributes = {
  desiredState: z.enum(['member', 'absent'], {
    error: (issue) => (issue.input === undefined ? REQUIRED : `must be "member" or "absent", got ${describeValue(issue.input)}`),
  }),
  email: z._default(text, DESIRED_ROW_DEFAULTS.email),
  regions: z.optional(storedRegionsSchema),
  tags: z._default(storedTagsSchema, DESIRED_ROW_DEFAULTS.tags),
  autoAccept: z._default(flagSchema, DESIRED_ROW_DEFAULTS.autoAccept),
  paused: z._default(flagSchema, DESIRED_ROW_DEFAULTS.paused),
  invitationMessage: z.optional(invitationMessageSchema),
  requestedBy: z._default(text, DESIRED_ROW_DEFAULTS.requestedBy),
  requestedAt: z._default(text, DESIRED_ROW_DEFAULTS.requestedAt),
  requestId: z.optional(text),
};

export type DesiredField = keyof typeof desiredAttributes;

/** The attributes a desired write owns; `observed` and `version` belong to the reconciler and the store. */
export const DESIRED_FIELDS = Object.keys(desiredAttributes) as DesiredField[];

// The action stands for `desiredState`; who asked and when are the intake's to fill in.
const NOT_NAMED_BY_REQUESTS: ReadonlySet<DesiredField> = new Set<DesiredField>(['desiredState', 'requestedBy', 'requestedAt']);

/** The fields an enroll request names, in the row's words; an enrolled row replays as these. */
export const ENROLL_REQUEST_FIELDS: readonly DesiredField[] = DESIRED_FIELDS.filter((field) => !NOT_NAMED_BY_REQUESTS.has(field));

/** A remove keeps the rest of the row as it is, so it names only the email (when known) and its id. */
export const REMOVE_REQUEST_FIELDS = ['email', 'requestId'] as const satisfies readonly DesiredField[];

const desiredRowSchema = z.object({
  accountId: accountIdSchema(),
  ...desiredAttributes,
  observed: z._default(observedSchema, DESIRED_ROW_DEFAULTS.observed),
  version: z._default(z.number({ error: typeError('a number') }), DESIRED_ROW_DEFAULTS.version),
});

/** A stored row that breaks the schema: reported with every problem, and planned for never. */
export interface CorruptRow {
  /** The row's key as stored (it may itself be one of the problems). */
  accountId: string;
  /** Each problem, emails masked: `desiredState must be "member" or "absent", got "absnet"`. */
  problems: FieldIssue[];
}

export type StoredRowReading = { ok: true; row: DesiredMember } | { ok: false; corrupt: CorruptRow };

/** Reads a stored item: absent optional attributes take their defaults, wrong values make it corrupt. */
export function readDesiredRow(item: Readonly<Record<string, unknown>>): StoredRowReading {
  const parsed = z.safeParse(desiredRowSchema, item);
  if (!parsed.success) {
    const key = typeof item.accountId === 'string' ? item.accountId : describeValue(item.accountId);
    const problems = fieldIssuesOf(parsed.error.issues, 'row').map(({ field, rule, message }) => ({
      field: maskEmailsIn(field),
      rule,
      message: maskEmailsIn(message),
    }));
    return { ok: false, corrupt: { accountId: key, problems } };
  }
  const { requestId, ...row } = parsed.data;
  // The store's write condition compares request ids with "" for "none", so "" is no id.
  return { ok: true, row: requestId ? { ...row, requestId } : row };
}
