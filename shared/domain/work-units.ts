/**
 * Work units: how a scheduled run's plan is cut into pieces that a worker invocation can finish,
 * and how a unit's message is read back. Pure.
 *
 * A unit is one region's shard of planned items. A region is the unit of Macie's rate limit (one
 * bucket per administrator and region), so the work queue groups messages by region and the
 * workers of one region take its units one after another (docs/fan-out.md).
 */
import * as z from 'zod/mini';
import { readDesiredRow } from '#shared/domain/desired-row';
import type { ExecutionOutcome } from '#shared/domain/outcomes';
import { statusAfter } from '#shared/domain/outcomes';
import { ACCOUNT_ID_PATTERN, describeValue, fieldIssuesOf, typeError, type FieldIssue } from '#shared/domain/rules';
import type { MembershipAction, PlannedMembership } from '#shared/domain/types';
import { MEMBERSHIP_TYPES, OBSERVED_STATUSES, PLAN_VERDICTS } from '#shared/domain/types';

export const WORK_UNIT_VERSION = 1;

export interface WorkUnit {
  version: typeof WORK_UNIT_VERSION;
  /** The scheduled run that planned it: its progress record, and the holder of its accounts' leases. */
  runId: string;
  region: string;
  /** `<region>/<n>` for a planned unit, `<parent>+` for the remainder of one. */
  unitId: string;
  items: PlannedMembership[];
}

export interface UnitLimits {
  /** Items per unit: what one invocation finishes well inside its timeout at the region's Macie rate. */
  maxItems: number;
  /** Serialized size per unit, under SQS's message size limit with room for the envelope. */
  maxBytes: number;
}

/** 256 KiB is SQS's limit for a message; the envelope and JSON escaping fit in what is left. */
export const DEFAULT_UNIT_LIMITS: UnitLimits = { maxItems: 200, maxBytes: 200 * 1024 };

/**
 * The item as a unit carries it: its row keeps only this region's observation (the only one the
 * worker reads, and the rest would multiply the message's size by the number of regions).
 */
export function itemForUnit(item: PlannedMembership): PlannedMembership {
  if (!item.row) return item;
  const observed = item.row.observed[item.region];
  return { ...item, row: { ...item.row, observed: observed ? { [item.region]: observed } : {} } };
}

/** Cuts one region's items with work into units within the limits, in the order given, numbered from `firstNumber`. */
export function unitsForRegion(
  runId: string,
  region: string,
  items: readonly PlannedMembership[],
  limits: UnitLimits = DEFAULT_UNIT_LIMITS,
  firstNumber = 1,
): WorkUnit[] {
  const units: WorkUnit[] = [];
  let current: PlannedMembership[] = [];
  let bytes = 0;
  const close = () => {
    if (current.length === 0) return;
    units.push({ version: WORK_UNIT_VERSION, runId, region, unitId: `${region}/${firstNumber + units.length}`, items: current });
    current = [];
    bytes = 0;
  };
  for (const planned of items) {
    const item = itemForUnit(planned);
    const size = Buffer.byteLength(JSON.stringify(item));
    if (current.length >= limits.maxItems || (current.length > 0 && bytes + size > limits.maxBytes)) close();
    current.push(item);
    bytes += size + 1;
  }
  close();
  return units;
}

/**
 * What a unit stopped by its deadline leaves for another invocation: each deferred item from the
 * step it had reached, so nothing done is done twice. `undefined` when nothing is left.
 */
export function remainderOf(unit: WorkUnit, outcomes: readonly ExecutionOutcome[]): WorkUnit | undefined {
  const items = outcomes
    .filter((outcome) => outcome.status === 'deferred')
    .map(({ item, completed, ...outcome }): PlannedMembership => ({
      ...item,
      observedStatus: statusAfter({ item, completed, ...outcome }),
      actions: item.actions.slice(completed.length),
    }));
  if (items.length === 0) return undefined;
  return { ...unit, unitId: `${unit.unitId}+`, items };
}

// ---- reading a unit back ----------------------------------------------------------------------

export type WorkUnitReading = { ok: true; unit: WorkUnit } | { ok: false; issues: FieldIssue[] };

const text = z.string({ error: typeError('a string') });
const nonEmpty = z.string({ error: typeError('a non-empty string') }).check(z.minLength(1, 'must not be empty'));
const accountId = z.string({ error: typeError('a string of exactly 12 digits') }).check(
  z.refine((value: string) => ACCOUNT_ID_PATTERN.test(value), { error: (issue) => `must be exactly 12 digits, got ${describeValue(issue.input)}` }),
);
const status = z.enum(OBSERVED_STATUSES, { error: typeError(`one of ${OBSERVED_STATUSES.join(', ')}`) });
const tags = z.record(z.string(), z.string());
const leaves = { leaves: status };

const actionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('disassociateMember'), ...leaves }),
  z.object({ kind: z.literal('deleteMember'), ...leaves }),
  z.object({ kind: z.literal('createMember'), email: text, tags, via: z.enum(MEMBERSHIP_TYPES), ...leaves }),
  z.object({ kind: z.literal('invite'), message: z.optional(text), ...leaves }),
  z.object({ kind: z.literal('accept'), ...leaves }),
  z.object({ kind: z.literal('updateMemberSession'), status: z.enum(['ENABLED', 'PAUSED']), ...leaves }),
  z.object({ kind: z.literal('updateTags'), arn: nonEmpty, tagsToSet: tags, tagKeysToRemove: z.array(z.string()), ...leaves }),
]);

const itemSchema = z.object({
  accountId,
  region: nonEmpty,
  desiredState: z.enum(['member', 'absent']),
  observedStatus: status,
  verdict: z.enum(PLAN_VERDICTS),
  reason: text,
  actions: z.array(actionSchema),
  row: z.optional(z.record(z.string(), z.unknown())),
  membershipType: z.optional(z.enum(MEMBERSHIP_TYPES)),
});

const unitSchema = z.object({
  version: z.literal(WORK_UNIT_VERSION, { error: `must be ${WORK_UNIT_VERSION}` }),
  runId: nonEmpty,
  region: nonEmpty,
  unitId: nonEmpty,
  items: z.array(itemSchema).check(z.minLength(1, 'must hold at least one item')),
});

/**
 * A work unit from its message body, or the broken rules, each naming its field. The queue is the
 * service's own, but a unit is still checked: a bad one is dead-lettered, never run on a guess.
 */
export function readWorkUnit(body: string): WorkUnitReading {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, issues: [{ field: 'body', rule: 'json', message: 'body must be a JSON work unit' }] };
  }
  const result = z.safeParse(unitSchema, parsed);
  if (!result.success) return { ok: false, issues: fieldIssuesOf(result.error.issues, 'body') };
  const unit = result.data;
  const issues: FieldIssue[] = [];
  const items: PlannedMembership[] = [];
  unit.items.forEach((item, index) => {
    const field = `items[${index}]`;
    if (item.region !== unit.region) {
      issues.push({ field: `${field}.region`, rule: 'unitRegion', message: `${field}.region must be the unit's region ${unit.region}, got ${describeValue(item.region)}` });
    }
    const { row: storedRow, ...planned } = item;
    if (storedRow === undefined) {
      items.push({ ...planned, actions: planned.actions as MembershipAction[] });
      return;
    }
    const row = readDesiredRow(storedRow);
    if (!row.ok) {
      const at = `${field}.row`;
      for (const problem of row.corrupt.problems) {
        const whole = problem.field === 'row';
        issues.push({ ...problem, field: whole ? at : `${at}.${problem.field}`, message: whole ? problem.message.replace(/^row/, at) : `${at}.${problem.message}` });
      }
      return;
    }
    if (row.row.accountId !== item.accountId) {
      issues.push({ field: `${field}.row.accountId`, rule: 'itemAccount', message: `${field}.row.accountId must be the item's account ${item.accountId}` });
    }
    items.push({ ...planned, actions: planned.actions as MembershipAction[], row: row.row });
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, unit: { ...unit, version: WORK_UNIT_VERSION, items } };
}
