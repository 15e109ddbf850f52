/**
 * Classifies an EventBridge event into an onboarding intent: which account to enroll or remove, or
 * why the event does not concern membership. Pure: the handler does the lookups (email via
 * Organizations `DescribeAccount`) and the writes.
 *
 * Shapes (AWS documentation):
 * - Organizations `CreateAccountResult`: source `aws.organizations`, detail-type
 *   `AWS Service Event via CloudTrail`, `detail.serviceEventDetails.createAccountStatus`
 *   `{ id, state: SUCCEEDED | FAILED | IN_PROGRESS, accountName, accountId?, failureReason? }`.
 * - Control Tower lifecycle event `CreateManagedAccount`: source `aws.controltower`, same
 *   detail-type, `detail.serviceEventDetails.createManagedAccountStatus`
 *   `{ organizationalUnit, account: { accountName, accountId }, state: SUCCEEDED | FAILED, message }`.
 * - Organizations API calls, detail-type `AWS API Call via CloudTrail` (recorded in the
 *   management account, forwarded by infra/management-forwarding.yml): `AcceptHandshake` (an
 *   invited account joined: `userIdentity.accountId`, the handshake's `action` is `INVITE`),
 *   `RemoveAccountFromOrganization` and `CloseAccount` (`requestParameters.accountId`),
 *   `LeaveOrganization` (the leaving account is the caller: `userIdentity.accountId`). A call that
 *   failed carries `errorCode` and changed nothing.
 * - The project's own `Member Enrollment Requested` / `Member Removal Requested`: the detail is a
 *   membership request body.
 */
import { ACCOUNT_ID_PATTERN, describeValue, MAX_QUOTED_CHARS } from '#shared/domain/rules';
import {
  parseMembershipRequest,
  type MembershipRequest,
  type RequestContext,
  type RequestIssue,
} from '#shared/domain/requests';

export type OnboardingIntent =
  | { kind: 'enroll'; accountId: string; email?: string; source: string; request?: MembershipRequest }
  | { kind: 'remove'; accountId: string; source: string; request?: MembershipRequest }
  /** The account left the organization (removed, or on its own): its row decides (docs/organizations.md). */
  | { kind: 'leave'; accountId: string; source: string }
  | { kind: 'ignore'; reason: string }
  | { kind: 'invalid'; issues: RequestIssue[]; summary: string };

export const ORGANIZATIONS_SOURCE = 'aws.organizations';
export const CONTROL_TOWER_SOURCE = 'aws.controltower';
export const SERVICE_EVENT_DETAIL_TYPE = 'AWS Service Event via CloudTrail';
export const API_CALL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const ENROLLMENT_REQUESTED = 'Member Enrollment Requested';
export const REMOVAL_REQUESTED = 'Member Removal Requested';

type JsonObject = Record<string, unknown>;

function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** CloudTrail copies sometimes carry `serviceEventDetails` as a JSON string rather than an object. */
function serviceEventDetails(detail: JsonObject): JsonObject | undefined {
  const raw = detail.serviceEventDetails;
  if (typeof raw !== 'string') return asObject(raw);
  try {
    return asObject(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

function ignore(reason: string): OnboardingIntent {
  return { kind: 'ignore', reason };
}

function invalid(field: string, rule: string, fragment: string): OnboardingIntent {
  const message = `${field} ${fragment}`;
  return { kind: 'invalid', issues: [{ field, rule, message }], summary: `invalid onboarding event: ${message}` };
}

/** An account created by AWS: enroll it, unless the id is malformed or it is the administrator. */
function enrollCreatedAccount(accountId: unknown, field: string, source: string, ctx: RequestContext): OnboardingIntent {
  if (typeof accountId !== 'string' || !ACCOUNT_ID_PATTERN.test(accountId)) {
    return invalid(field, accountId === undefined ? 'required' : 'pattern', `must be exactly 12 digits, got ${describeValue(accountId)}`);
  }
  if (accountId === ctx.administratorAccountId) {
    return ignore(`${source} reports the Macie administrator account ${accountId} itself: it is never a member`);
  }
  return { kind: 'enroll', accountId, source };
}

/** The account an Organizations lifecycle call is about, checked like any account id from outside. */
function lifecycleAccount(accountId: unknown, field: string, eventName: string, ctx: RequestContext): { accountId: string } | OnboardingIntent {
  if (typeof accountId !== 'string' || !ACCOUNT_ID_PATTERN.test(accountId)) {
    return invalid(field, accountId === undefined ? 'required' : 'pattern', `must be exactly 12 digits in a ${eventName} event, got ${describeValue(accountId)}`);
  }
  if (accountId === ctx.administratorAccountId) return ignore(`${eventName} concerns the Macie administrator account ${accountId} itself: it is never a member`);
  return { accountId };
}

const LIFECYCLE_CALLS = ['AcceptHandshake', 'RemoveAccountFromOrganization', 'LeaveOrganization', 'CloseAccount'] as const;

function classifyOrganizationsCall(detail: JsonObject, ctx: RequestContext): OnboardingIntent {
  const eventName = asString(detail.eventName);
  const known = LIFECYCLE_CALLS.find((name) => name === eventName);
  if (!known) return ignore(`Organizations call ${describeValue(eventName)} does not change the organization's accounts (${LIFECYCLE_CALLS.join(', ')})`);
  if (detail.errorCode !== undefined && detail.errorCode !== null) return ignore(`${known} failed (${describeValue(detail.errorCode)}): nothing changed`);
  const source = ORGANIZATIONS_SOURCE;
  if (known === 'AcceptHandshake') {
    const handshake = asObject(asObject(detail.responseElements)?.handshake);
    const action = asString(handshake?.action);
    if (action !== 'INVITE') return ignore(`AcceptHandshake of a ${describeValue(action ?? null)} handshake is not an account joining (INVITE)`);
    const account = lifecycleAccount(asObject(detail.userIdentity)?.accountId, 'detail.userIdentity.accountId', known, ctx);
    return 'kind' in account ? account : { kind: 'enroll', accountId: account.accountId, source };
  }
  if (known === 'LeaveOrganization') {
    const account = lifecycleAccount(asObject(detail.userIdentity)?.accountId, 'detail.userIdentity.accountId', known, ctx);
    return 'kind' in account ? account : { kind: 'leave', accountId: account.accountId, source };
  }
  const account = lifecycleAccount(asObject(detail.requestParameters)?.accountId, 'detail.requestParameters.accountId', known, ctx);
  if ('kind' in account) return account;
  // A closed account cannot be a member anywhere; a removed one is left to its row.
  return known === 'CloseAccount' ? { kind: 'remove', accountId: account.accountId, source } : { kind: 'leave', accountId: account.accountId, source };
}

function classifyOrganizations(event: JsonObject, detail: JsonObject, ctx: RequestContext): OnboardingIntent {
  const eventName = asString(detail.eventName);
  if (eventName !== 'CreateAccountResult') {
    return ignore(`Organizations event ${describeValue(eventName)} is not an account creation (CreateAccountResult)`);
  }
  const field = 'detail.serviceEventDetails.createAccountStatus';
  const status = asObject(serviceEventDetails(detail)?.createAccountStatus);
  if (!status) return invalid(field, 'required', `is required in a CreateAccountResult event, got ${describeValue(detail.serviceEventDetails)}`);
  const state = asString(status.state);
  if (state === 'FAILED') {
    // AWS's reasons are short codes (EMAIL_ALREADY_EXISTS); a sender's could be anything, of any length.
    const why = asString(status.failureReason);
    const shown = why && why.length <= MAX_QUOTED_CHARS ? why : describeValue(why);
    return ignore(`CreateAccountResult FAILED${why ? ` (${shown})` : ''}: no account was created`);
  }
  if (state !== 'SUCCEEDED') {
    return ignore(`CreateAccountResult is ${describeValue(state)}, not SUCCEEDED: waiting for the final result`);
  }
  return enrollCreatedAccount(status.accountId, `${field}.accountId`, asString(event.source) ?? ORGANIZATIONS_SOURCE, ctx);
}

function classifyControlTower(event: JsonObject, detail: JsonObject, ctx: RequestContext): OnboardingIntent {
  const eventName = asString(detail.eventName);
  if (eventName !== 'CreateManagedAccount') {
    // UpdateManagedAccount also follows a retried account factory run, but it fires on every
    // provisioned-product update too: treating it as enrollment would undo an operator's removal.
    return ignore(`Control Tower event ${describeValue(eventName)} is not CreateManagedAccount`);
  }
  const field = 'detail.serviceEventDetails.createManagedAccountStatus';
  const status = asObject(serviceEventDetails(detail)?.createManagedAccountStatus);
  if (!status) return invalid(field, 'required', `is required in a CreateManagedAccount event, got ${describeValue(detail.serviceEventDetails)}`);
  const state = asString(status.state);
  if (state !== 'SUCCEEDED') {
    const message = asString(status.message);
    return ignore(`CreateManagedAccount is ${describeValue(state)}, not SUCCEEDED${message ? ` (${describeValue(message)})` : ''}: nothing to enroll`);
  }
  return enrollCreatedAccount(asObject(status.account)?.accountId, `${field}.account.accountId`, asString(event.source) ?? CONTROL_TOWER_SOURCE, ctx);
}

function classifyOwnRequest(detailType: string, event: JsonObject, ctx: RequestContext & { eventSource: string }): OnboardingIntent {
  const action = detailType === ENROLLMENT_REQUESTED ? 'enroll' : 'remove';
  const detail = asObject(event.detail);
  if (!detail) return invalid('detail', 'type', `must be a membership request object, got ${describeValue(event.detail)}`);

  // The detail-type names the action; a body that says otherwise is contradictory, not overridden.
  const conflict: RequestIssue | undefined =
    detail.action !== undefined && detail.action !== action
      ? {
          field: 'detail.action',
          rule: 'matchesDetailType',
          message: `detail.action must be "${action}" or left out for a "${detailType}" event, got ${describeValue(detail.action)}`,
        }
      : undefined;

  const parsed = parseMembershipRequest({ ...detail, action }, ctx);
  if (!parsed.ok || conflict) {
    const issues = [
      ...(conflict ? [conflict] : []),
      ...(parsed.ok ? [] : parsed.issues.map((entry) => ({ ...entry, field: `detail.${entry.field}`, message: `detail.${entry.message}` }))),
    ];
    const noun = issues.length === 1 ? 'problem' : 'problems';
    return {
      kind: 'invalid',
      issues,
      summary: `invalid "${detailType}" event (${issues.length} ${noun}): ${issues.map((entry) => entry.message).join('; ')}`,
    };
  }
  const { request } = parsed;
  const source = ctx.eventSource;
  return request.action === 'enroll'
    ? { kind: 'enroll', accountId: request.accountId, email: request.email, source, request }
    : { kind: 'remove', accountId: request.accountId, source, request };
}

/**
 * Decides what an EventBridge event means for membership. Never throws: an event that is not about
 * onboarding is `ignore` with a reason; one that is, but malformed, is `invalid` with issues.
 * `source` in an intent is the event's `source` (e.g. `aws.organizations`).
 */
export function classifyOnboardingEvent(event: unknown, ctx: RequestContext & { eventSource: string }): OnboardingIntent {
  const intent = classifyEnvelope(event, ctx);
  if (intent.kind !== 'enroll' && intent.kind !== 'remove') return intent;
  // The event's time orders its request against the account's others (the newest wins). EventBridge
  // always sets it; a direct invocation may leave it out, and then the time of receipt stands in.
  const time = asObject(event)?.time;
  if (time === undefined || time === null || time === '' || (typeof time === 'string' && !Number.isNaN(Date.parse(time)))) return intent;
  return invalid('time', 'format', `must be an ISO-8601 time, got ${describeValue(time)}`);
}

function classifyEnvelope(event: unknown, ctx: RequestContext & { eventSource: string }): OnboardingIntent {
  const envelope = asObject(event);
  if (!envelope) return ignore(`not an EventBridge event: got ${describeValue(event)}`);
  const source = asString(envelope.source);
  const detailType = asString(envelope['detail-type']);
  if (source === undefined || detailType === undefined) {
    return ignore('not an EventBridge event: it has no "source" and "detail-type"');
  }

  if (source === ctx.eventSource) {
    if (detailType === ENROLLMENT_REQUESTED || detailType === REMOVAL_REQUESTED) {
      return classifyOwnRequest(detailType, envelope, ctx);
    }
    return ignore(`${source} event ${describeValue(detailType)} is not a membership request`);
  }

  if (source === ORGANIZATIONS_SOURCE && detailType === API_CALL_DETAIL_TYPE) {
    const detail = asObject(envelope.detail);
    if (!detail) return invalid('detail', 'type', `must be an object, got ${describeValue(envelope.detail)}`);
    return classifyOrganizationsCall(detail, ctx);
  }
  if (source === ORGANIZATIONS_SOURCE || source === CONTROL_TOWER_SOURCE) {
    if (detailType !== SERVICE_EVENT_DETAIL_TYPE) {
      return ignore(`${source} event of type ${describeValue(detailType)} is not a service event (${SERVICE_EVENT_DETAIL_TYPE})`);
    }
    const detail = asObject(envelope.detail);
    if (!detail) return invalid('detail', 'type', `must be an object, got ${describeValue(envelope.detail)}`);
    return source === ORGANIZATIONS_SOURCE
      ? classifyOrganizations(envelope, detail, ctx)
      : classifyControlTower(envelope, detail, ctx);
  }

  if (source === 'aws.events' && detailType === 'Scheduled Event') {
    return ignore('a scheduled event triggers the full reconcile, not onboarding');
  }
  return ignore(`event from ${describeValue(source)} (${describeValue(detailType)}) does not concern Macie membership`);
}
