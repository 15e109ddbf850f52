/**
 * Turning command-line input into membership requests. The CLI builds the same request object an
 * SQS message carries and validates it with the same parser, so an operator gets exactly the
 * rules (and the same field/rule names) a pipeline gets.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { ServiceConfig } from '#shared/config';
import { parseMembershipRequest, type MembershipRequest, type RequestIssue, type RequestParseResult } from '#shared/domain/requests';
import { ACCOUNT_ID_PATTERN, describeValue } from '#shared/domain/rules';
import { recordMembershipRequest } from '#shared/intake';
import type { DesiredMembershipStore } from '#shared/ports';
import { CliError } from '#cli/errors';

/** Options common to `enroll` and `import`, as commander hands them over. */
export interface EnrollmentOptions {
  /** `us-east-1,eu-west-1`; absent = every managed region. */
  regions?: string;
  /** `key=value` pairs, each value possibly `key=value,key=value`. */
  tags?: string[];
  autoAccept?: boolean;
  paused?: boolean;
  message?: string;
}

/** The request fields the options add to an enroll, plus problems the parser cannot see (a tag without `=`). */
export function enrollmentFields(options: EnrollmentOptions): { fields: Record<string, unknown>; issues: RequestIssue[] } {
  const fields: Record<string, unknown> = {};
  const issues: RequestIssue[] = [];
  if (options.regions !== undefined) fields.regions = splitList(options.regions);
  if (options.tags !== undefined) {
    const tags: Record<string, string> = {};
    for (const pair of options.tags.flatMap(splitList)) {
      const at = pair.indexOf('=');
      if (at < 0) {
        issues.push({ field: 'tags', rule: 'keyValue', message: `tags must be given as key=value, got ${describeValue(pair)}` });
        continue;
      }
      const key = pair.slice(0, at).trim();
      if (Object.hasOwn(tags, key)) {
        issues.push({ field: `tags.${key}`, rule: 'unique', message: `tags.${key} is given more than once` });
        continue;
      }
      tags[key] = pair.slice(at + 1).trim();
    }
    fields.tags = tags;
  }
  if (options.autoAccept !== undefined) fields.autoAccept = options.autoAccept;
  if (options.paused !== undefined) fields.paused = options.paused;
  if (options.message !== undefined) fields.invitationMessage = options.message;
  return { fields, issues };
}

/** Validates a request built from command-line input, exactly as the SQS function validates a message body. */
export function validateRequest(
  input: Record<string, unknown>,
  config: Pick<Readonly<ServiceConfig>, 'administratorAccountId' | 'managedRegions'>,
  extraIssues: readonly RequestIssue[] = [],
): RequestParseResult {
  const parsed = parseMembershipRequest(input, {
    administratorAccountId: config.administratorAccountId,
    managedRegions: config.managedRegions,
  });
  if (extraIssues.length === 0) return parsed;
  const issues = [...extraIssues, ...(parsed.ok ? [] : parsed.issues)];
  return { ok: false, issues, summary: issues.map((issue) => issue.message).join('; ') };
}

/** `  - email [format]: email must be a plausible email address…` */
export function formatIssue(issue: RequestIssue): string {
  return `${issue.field} [${issue.rule}]: ${issue.message}`;
}

export interface RecordingContext {
  store: DesiredMembershipStore;
  /** Who is asking, recorded as `requestedBy: cli:<user>`. */
  user: string;
  now: Date;
}

/** Records a validated request like the functions do; the id lets a later dead letter be traced to this command. */
export function recordFromCli(request: MembershipRequest, { store, user, now }: RecordingContext) {
  return recordMembershipRequest(store, request, {
    requestedBy: `cli:${user}`,
    requestedAt: now.toISOString(),
    fallbackRequestId: `cli-${randomUUID()}`,
  });
}

/** The operating-system user name, for `requestedBy`. */
export function currentUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    // No passwd entry (some containers): still record that the CLI made the change.
    return 'unknown';
  }
}

/** `a, b ,c` -> `['a','b','c']` (whitespace and empty entries dropped). */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** `--account` values (repeated or comma-separated), each checked to be an account ID. */
export function parseAccountIds(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const ids = [...new Set(values.flatMap(splitList))];
  const bad = ids.filter((id) => !ACCOUNT_ID_PATTERN.test(id));
  if (bad.length > 0) {
    throw new CliError(`--account must name 12-digit account IDs, got ${bad.map((id) => describeValue(id)).join(', ')}`);
  }
  if (ids.length === 0) throw new CliError('--account needs at least one account ID');
  return ids;
}
