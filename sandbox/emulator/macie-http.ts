/**
 * Macie's REST-JSON wire protocol: routes copied from the service model's `http` traits
 * (macie2-2020-01-01, checked against the model by test/sandbox/emulator/routes.test.ts), JSON bodies, and
 * errors as `x-amzn-ErrorType` header + `{"message"}` body, which is where the SDKs look for them.
 */
import { AwsError, EXPIRED_SECURITY_TOKEN, INVALID_SECURITY_TOKEN, RATE_EXCEEDED, macieError } from '#sandbox/emulator/errors';
import type { MacieOperationName, MacieService } from '#sandbox/emulator/macie';
import { type JsonObject, isJsonObject } from '#sandbox/emulator/macie-validation';
import type { Caller, ServiceFrontend, TransportErrors, WireReply, WireRequest } from '#sandbox/emulator/protocol';

export interface MacieRoute {
  operation: MacieOperationName;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  requestUri: string;
  responseCode: number;
}

export const MACIE_ROUTES: readonly MacieRoute[] = [
  { operation: 'AcceptInvitation', method: 'POST', requestUri: '/invitations/accept', responseCode: 200 },
  { operation: 'CreateInvitations', method: 'POST', requestUri: '/invitations', responseCode: 200 },
  { operation: 'CreateMember', method: 'POST', requestUri: '/members', responseCode: 200 },
  { operation: 'DeclineInvitations', method: 'POST', requestUri: '/invitations/decline', responseCode: 200 },
  { operation: 'DeleteInvitations', method: 'POST', requestUri: '/invitations/delete', responseCode: 200 },
  { operation: 'DeleteMember', method: 'DELETE', requestUri: '/members/{id}', responseCode: 200 },
  { operation: 'DescribeOrganizationConfiguration', method: 'GET', requestUri: '/admin/configuration', responseCode: 200 },
  { operation: 'DisableMacie', method: 'DELETE', requestUri: '/macie', responseCode: 200 },
  { operation: 'DisableOrganizationAdminAccount', method: 'DELETE', requestUri: '/admin', responseCode: 200 },
  { operation: 'DisassociateFromAdministratorAccount', method: 'POST', requestUri: '/administrator/disassociate', responseCode: 200 },
  { operation: 'DisassociateFromMasterAccount', method: 'POST', requestUri: '/master/disassociate', responseCode: 200 },
  { operation: 'DisassociateMember', method: 'POST', requestUri: '/members/disassociate/{id}', responseCode: 200 },
  { operation: 'EnableMacie', method: 'POST', requestUri: '/macie', responseCode: 200 },
  { operation: 'EnableOrganizationAdminAccount', method: 'POST', requestUri: '/admin', responseCode: 200 },
  { operation: 'GetAdministratorAccount', method: 'GET', requestUri: '/administrator', responseCode: 200 },
  { operation: 'GetInvitationsCount', method: 'GET', requestUri: '/invitations/count', responseCode: 200 },
  { operation: 'GetMacieSession', method: 'GET', requestUri: '/macie', responseCode: 200 },
  { operation: 'GetMember', method: 'GET', requestUri: '/members/{id}', responseCode: 200 },
  { operation: 'ListInvitations', method: 'GET', requestUri: '/invitations', responseCode: 200 },
  { operation: 'ListMembers', method: 'GET', requestUri: '/members', responseCode: 200 },
  { operation: 'ListOrganizationAdminAccounts', method: 'GET', requestUri: '/admin', responseCode: 200 },
  { operation: 'ListTagsForResource', method: 'GET', requestUri: '/tags/{resourceArn}', responseCode: 200 },
  { operation: 'TagResource', method: 'POST', requestUri: '/tags/{resourceArn}', responseCode: 204 },
  { operation: 'UntagResource', method: 'DELETE', requestUri: '/tags/{resourceArn}', responseCode: 204 },
  { operation: 'UpdateMacieSession', method: 'PATCH', requestUri: '/macie', responseCode: 200 },
  { operation: 'UpdateMemberSession', method: 'PATCH', requestUri: '/macie/members/{id}', responseCode: 200 },
  { operation: 'UpdateOrganizationConfiguration', method: 'PATCH', requestUri: '/admin/configuration', responseCode: 200 },
];

interface CompiledRoute extends MacieRoute {
  /** A literal segment, or `{name}` for a path parameter. */
  segments: Array<{ literal: string } | { param: string }>;
}

const compiled: CompiledRoute[] = MACIE_ROUTES.map((route) => ({
  ...route,
  segments: route.requestUri
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith('{') ? { param: segment.slice(1, -1) } : { literal: segment })),
}));

export interface MatchedRoute {
  route: MacieRoute;
  pathParams: Record<string, string>;
}

/** Matches on raw segments first and decodes afterwards, so `%2F` inside an ARN never splits the path. */
export function matchMacieRoute(method: string, rawPath: string): MatchedRoute | undefined {
  const segments = rawPath.split('/').filter(Boolean);
  for (const route of compiled) {
    if (route.method !== method || route.segments.length !== segments.length) continue;
    const pathParams: Record<string, string> = {};
    const matches = route.segments.every((pattern, index) => {
      const segment = segments[index] ?? '';
      if ('literal' in pattern) return pattern.literal === segment;
      try {
        pathParams[pattern.param] = decodeURIComponent(segment);
        return true;
      } catch {
        return false;
      }
    });
    if (matches) return { route, pathParams };
  }
  return undefined;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

export class MacieFrontend implements ServiceFrontend {
  readonly service = 'macie2' as const;

  readonly errors: TransportErrors = {
    missingAuthentication: () => new AwsError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token'),
    unrecognizedClient: () => new AwsError('UnrecognizedClientException', 403, INVALID_SECURITY_TOKEN),
    expiredToken: () => new AwsError('ExpiredTokenException', 403, EXPIRED_SECURITY_TOKEN),
    throttled: () => macieError.throttling(RATE_EXCEEDED),
    internal: () => macieError.internal('An internal error occurred. Try again later.'),
  };

  constructor(private readonly macie: MacieService) {}

  resolve(request: WireRequest): { operation: string; error?: AwsError } {
    const matched = matchMacieRoute(request.method, request.path);
    if (matched) return { operation: matched.route.operation };
    return {
      operation: 'Unknown',
      error: new AwsError('UnknownOperationException', 404, `No operation matches ${request.method} ${request.path}`),
    };
  }

  subjectsOf(_operation: string, request: WireRequest): string[] {
    const matched = matchMacieRoute(request.method, request.path);
    if (!matched) return [];
    const subjects: string[] = [];
    const { id, resourceArn } = matched.pathParams;
    if (id) subjects.push(id);
    const arnMember = resourceArn === undefined ? undefined : /:member\/(\d{12})$/.exec(resourceArn)?.[1];
    if (arnMember) subjects.push(arnMember);
    let body: JsonObject;
    try {
      body = parseBody(request.bodyText);
    } catch {
      return subjects;
    }
    const adminInQuery = request.query.get('adminAccountId');
    if (adminInQuery) subjects.push(adminInQuery);
    const { account, accountIds, administratorAccountId, adminAccountId } = body;
    if (typeof adminAccountId === 'string') subjects.push(adminAccountId);
    if (isJsonObject(account) && typeof account.accountId === 'string') subjects.push(account.accountId);
    if (Array.isArray(accountIds)) subjects.push(...accountIds.filter((item): item is string => typeof item === 'string'));
    if (typeof administratorAccountId === 'string') subjects.push(administratorAccountId);
    return subjects;
  }

  invoke(operation: string, request: WireRequest, caller: Caller): WireReply {
    const matched = matchMacieRoute(request.method, request.path);
    if (!matched || matched.route.operation !== operation) throw this.resolve(request).error ?? this.errors.internal();
    const output = this.macie.invoke(matched.route.operation, {
      ...caller,
      pathParams: matched.pathParams,
      query: request.query,
      body: parseBody(request.bodyText),
    });
    const statusCode = matched.route.responseCode;
    if (statusCode === 204) return { statusCode, headers: {}, body: '' };
    return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(output ?? {}) };
  }

  renderError(error: AwsError): WireReply {
    return {
      statusCode: error.statusCode,
      headers: { ...JSON_HEADERS, 'x-amzn-ErrorType': error.code },
      body: JSON.stringify({ message: error.message }),
    };
  }
}

function parseBody(bodyText: string): JsonObject {
  if (bodyText.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    throw macieError.validation('The request body is not valid JSON');
  }
  if (!isJsonObject(parsed)) throw macieError.validation('The request body must be a JSON object');
  return parsed;
}
