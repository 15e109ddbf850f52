/**
 * Organizations over JSON 1.1 (`X-Amz-Target: AWSOrganizationsV20161128.<Op>`), errors as `{"__type", "Message"}`.
 * Every seeded account belongs to one organization whose management account is the first one seeded. Any
 * seeded caller may read it: the reconciler calls it from the Macie administrator, a delegated administrator.
 */
import type { AccountRecord, AccountRegistry } from '#sandbox/emulator/accounts';
import { ACCOUNT_ID } from '#sandbox/emulator/accounts';
import { AwsError, EXPIRED_SECURITY_TOKEN, INVALID_SECURITY_TOKEN } from '#sandbox/emulator/errors';
import { decodePageToken, encodePageToken } from '#sandbox/emulator/pagination';
import type { Caller, ServiceFrontend, TransportErrors, WireReply, WireRequest } from '#sandbox/emulator/protocol';

const TARGET_PREFIX = 'AWSOrganizationsV20161128.';
const OPERATIONS = new Set(['DescribeAccount', 'ListAccounts']);
const ORGANIZATION_ID = 'o-emulator01';
const MAX_PAGE_SIZE = 20;
const CONTENT_TYPE = { 'content-type': 'application/x-amz-json-1.1' };

// Organizations answers every client error with HTTP 400, whatever its Smithy model suggests.
const invalidInput = (message: string) => new AwsError('InvalidInputException', 400, message);

export function isOrganizationsTarget(target: string | undefined): boolean {
  return target?.startsWith(TARGET_PREFIX) ?? false;
}

export class OrganizationsFrontend implements ServiceFrontend {
  readonly service = 'organizations' as const;

  readonly errors: TransportErrors = {
    missingAuthentication: () => new AwsError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token'),
    unrecognizedClient: () => new AwsError('UnrecognizedClientException', 403, INVALID_SECURITY_TOKEN),
    expiredToken: () => new AwsError('ExpiredTokenException', 400, EXPIRED_SECURITY_TOKEN),
    throttled: () => new AwsError('TooManyRequestsException', 400, 'Rate exceeded'),
    internal: () => new AwsError('ServiceException', 500, 'AWS Organizations can\'t complete your request because of an internal service error. Try again later.'),
  };

  constructor(private readonly accounts: AccountRegistry) {}

  resolve(request: WireRequest): { operation: string; error?: AwsError } {
    const header = request.headers['x-amz-target'];
    const target = Array.isArray(header) ? header[0] : header;
    const operation = isOrganizationsTarget(target) ? (target ?? '').slice(TARGET_PREFIX.length) : '';
    if (OPERATIONS.has(operation)) return { operation };
    return { operation: operation || 'Unknown', error: new AwsError('UnknownOperationException', 400, `Unknown operation ${target ?? ''}`) };
  }

  subjectsOf(_operation: string, request: WireRequest): string[] {
    try {
      const accountId = parseInput(request.bodyText).AccountId;
      return typeof accountId === 'string' ? [accountId] : [];
    } catch {
      return [];
    }
  }

  invoke(operation: string, request: WireRequest, _caller: Caller): WireReply {
    const input = parseInput(request.bodyText);
    const output = operation === 'DescribeAccount' ? this.describeAccount(input) : this.listAccounts(input);
    return { statusCode: 200, headers: CONTENT_TYPE, body: JSON.stringify(output) };
  }

  renderError(error: AwsError): WireReply {
    return { statusCode: error.statusCode, headers: CONTENT_TYPE, body: JSON.stringify({ __type: error.code, Message: error.message }) };
  }

  private describeAccount(input: Record<string, unknown>): unknown {
    const accountId = input.AccountId;
    if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
      throw invalidInput(`AccountId must be a 12-digit account ID, got ${JSON.stringify(accountId ?? null)}`);
    }
    const account = this.accounts.get(accountId);
    if (!account) throw new AwsError('AccountNotFoundException', 400, "You specified an account that doesn't exist.");
    return { Account: this.accountJson(account) };
  }

  private listAccounts(input: Record<string, unknown>): unknown {
    const maxResults = input.MaxResults ?? MAX_PAGE_SIZE;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_PAGE_SIZE) {
      throw invalidInput(`MaxResults must be an integer between 1 and ${MAX_PAGE_SIZE}, got ${JSON.stringify(maxResults)}`);
    }
    const token = input.NextToken;
    let start = 0;
    if (token !== undefined && token !== null) {
      const after = typeof token === 'string' ? decodePageToken('ListAccounts', token) : undefined;
      // Accounts are never removed, so the position in seeding order is a stable cursor.
      if (after === undefined || !/^\d+$/.test(after)) throw invalidInput('NextToken is invalid');
      start = Number(after);
    }
    const all = this.accounts.list();
    const page = all.slice(start, start + maxResults);
    const end = start + page.length;
    return {
      Accounts: page.map((account) => this.accountJson(account)),
      NextToken: end < all.length ? encodePageToken('ListAccounts', String(end)) : undefined,
    };
  }

  private accountJson(account: AccountRecord): unknown {
    const management = this.accounts.managementAccountId() ?? account.accountId;
    return {
      Id: account.accountId,
      Arn: `arn:aws:organizations::${management}:account/${ORGANIZATION_ID}/${account.accountId}`,
      Email: account.email,
      Name: account.name,
      Status: account.status,
      State: account.status,
      JoinedMethod: account.accountId === management ? 'CREATED' : 'INVITED',
      // JSON 1.1 timestamps are epoch seconds.
      JoinedTimestamp: account.joinedAt / 1000,
    };
  }
}

function parseInput(bodyText: string): Record<string, unknown> {
  if (bodyText.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    throw new AwsError('SerializationException', 400, 'The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsError('SerializationException', 400, 'The request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
