/**
 * STS over the query protocol: `Action=AssumeRole&Version=2011-06-15&...` form bodies (what
 * @aws-sdk/client-sts 3.1048.0's AwsQueryProtocol sends; GET with the same query also works) and XML answers
 * in the STS namespace. Only the member role given in the options exists in each seeded account.
 */
import { randomUUID } from 'node:crypto';
import type { AccountRegistry } from '#sandbox/emulator/accounts';
import { AwsError, EXPIRED_SECURITY_TOKEN, INVALID_SECURITY_TOKEN, RATE_EXCEEDED } from '#sandbox/emulator/errors';
import type { CredentialStore } from '#sandbox/emulator/identity';
import type { Caller, ServiceFrontend, TransportErrors, WireReply, WireRequest } from '#sandbox/emulator/protocol';

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const OPERATIONS = new Set(['AssumeRole', 'GetCallerIdentity']);
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const MIN_DURATION_SECONDS = 900;
// IAM roles default to a one-hour MaxSessionDuration; the member role is not configured longer.
const MAX_DURATION_SECONDS = 3600;
const DEFAULT_DURATION_SECONDS = 3600;

const validationError = (message: string) => new AwsError('ValidationError', 400, message);

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function element(name: string, content: string): string {
  return `<${name}>${content}</${name}>`;
}

function formParameters(request: WireRequest): URLSearchParams {
  return request.method === 'GET' ? request.query : new URLSearchParams(request.bodyText);
}

export class StsFrontend implements ServiceFrontend {
  readonly service = 'sts' as const;

  readonly errors: TransportErrors = {
    missingAuthentication: () => new AwsError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token'),
    unrecognizedClient: () => new AwsError('InvalidClientTokenId', 403, INVALID_SECURITY_TOKEN),
    expiredToken: () => new AwsError('ExpiredToken', 400, EXPIRED_SECURITY_TOKEN),
    // STS answers throttling with HTTP 400 and the code `Throttling`; the SDKs retry on the code.
    throttled: () => new AwsError('Throttling', 400, RATE_EXCEEDED),
    internal: () => new AwsError('InternalFailure', 500, 'An internal error occurred. Try again later.'),
  };

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly credentials: CredentialStore,
    private readonly memberRole: { name: string; externalId: string },
  ) {}

  resolve(request: WireRequest): { operation: string; error?: AwsError } {
    const action = formParameters(request).get('Action') ?? '';
    if (OPERATIONS.has(action)) return { operation: action };
    return {
      operation: action || 'Unknown',
      error: new AwsError('InvalidAction', 400, `Could not find operation ${action} for version 2011-06-15`),
    };
  }

  subjectsOf(_operation: string, request: WireRequest): string[] {
    const target = ROLE_ARN.exec(formParameters(request).get('RoleArn') ?? '')?.[1];
    return target === undefined ? [] : [target];
  }

  invoke(operation: string, request: WireRequest, caller: Caller): WireReply {
    const parameters = formParameters(request);
    const result = operation === 'AssumeRole' ? this.assumeRole(parameters, caller) : this.getCallerIdentity(caller);
    const body =
      `<${operation}Response xmlns="${NAMESPACE}">` +
      element(`${operation}Result`, result) +
      element('ResponseMetadata', element('RequestId', randomUUID())) +
      `</${operation}Response>`;
    return { statusCode: 200, headers: { 'content-type': 'text/xml' }, body };
  }

  renderError(error: AwsError): WireReply {
    const body =
      `<ErrorResponse xmlns="${NAMESPACE}">` +
      element('Error', element('Type', error.fault) + element('Code', escapeXml(error.code)) + element('Message', escapeXml(error.message))) +
      element('RequestId', randomUUID()) +
      '</ErrorResponse>';
    return { statusCode: error.statusCode, headers: { 'content-type': 'text/xml' }, body };
  }

  private assumeRole(parameters: URLSearchParams, caller: Caller): string {
    const roleArn = parameters.get('RoleArn');
    const sessionName = parameters.get('RoleSessionName');
    const externalId = parameters.get('ExternalId');
    const durationText = parameters.get('DurationSeconds');
    if (!roleArn) throw validationError("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    if (!sessionName) {
      throw validationError("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
    }
    if (!SESSION_NAME.test(sessionName)) {
      throw validationError(
        `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must be 2 to 64 characters of [\\w+=,.@-]`,
      );
    }
    const match = ROLE_ARN.exec(roleArn);
    if (!match) throw validationError(`Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must be an IAM role ARN`);
    const duration = durationText === null ? DEFAULT_DURATION_SECONDS : Number(durationText);
    if (!Number.isInteger(duration) || duration < MIN_DURATION_SECONDS) {
      throw validationError(
        `Value '${durationText}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${MIN_DURATION_SECONDS}`,
      );
    }
    if (duration > MAX_DURATION_SECONDS) {
      throw validationError(
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role (${MAX_DURATION_SECONDS} seconds).`,
      );
    }
    const [, accountId = '', roleName = ''] = match;
    const account = this.accounts.get(accountId);
    const roleExists = account !== undefined && account.memberRole !== 'missing' && roleName === this.memberRole.name;
    // The role's trust policy requires the ExternalId; AWS does not say which condition failed, and neither do we.
    if (!roleExists || externalId !== this.memberRole.externalId) {
      throw new AwsError(
        'AccessDenied',
        403,
        `User: ${caller.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    const issued = this.credentials.issueSession(accountId, roleName, sessionName, caller.now + duration * 1000);
    return (
      element(
        'Credentials',
        element('AccessKeyId', issued.accessKeyId) +
          element('SecretAccessKey', escapeXml(issued.secretAccessKey)) +
          element('SessionToken', escapeXml(issued.sessionToken)) +
          element('Expiration', new Date(issued.expiresAt).toISOString()),
      ) +
      element('AssumedRoleUser', element('AssumedRoleId', escapeXml(issued.assumedRoleId)) + element('Arn', escapeXml(issued.arn)))
    );
  }

  private getCallerIdentity(caller: Caller): string {
    const { principal } = caller;
    return (
      element('Arn', escapeXml(principal.arn)) +
      element('UserId', escapeXml(principal.userId)) +
      element('Account', principal.accountId)
    );
  }
}
