/**
 * Organizations over JSON 1.1 (`X-Amz-Target: AWSOrganizationsV20161128.<Op>`), errors as `{"__type", "Message"}`.
 * One organization; its management account is the first account seeded in it. Any account in it may read
 * accounts and the organization (the reconciler reads them from the Macie administrator); only the management
 * account and delegated administrators may list delegated administrators, as AWS documents. A caller outside
 * the organization gets `AWSOrganizationsNotInUseException`.
 */
import type { AccountRecord, AccountRegistry } from '#sandbox/emulator/accounts';
import { ACCOUNT_ID } from '#sandbox/emulator/accounts';
import { AwsError, EXPIRED_SECURITY_TOKEN, INVALID_SECURITY_TOKEN } from '#sandbox/emulator/errors';
import type { OrganizationAdmins } from '#sandbox/emulator/organization-admins';
import { MACIE_SERVICE_PRINCIPAL } from '#sandbox/emulator/organization-admins';
import { decodePageToken, encodePageToken } from '#sandbox/emulator/pagination';
import type { Caller, ServiceFrontend, TransportErrors, WireReply, WireRequest } from '#sandbox/emulator/protocol';

const TARGET_PREFIX = 'AWSOrganizationsV20161128.';
const OPERATIONS = new Set(['DescribeAccount', 'DescribeOrganization', 'ListAccounts', 'ListDelegatedAdministrators']);
const ORGANIZATION_ID = 'o-emulator01';
const MAX_PAGE_SIZE = 20;
const CONTENT_TYPE = { 'content-type': 'application/x-amz-json-1.1' };

// Organizations answers every client error with HTTP 400, whatever its Smithy model suggests.
const invalidInput = (message: string) => new AwsError('InvalidInputException', 400, message);
const notInUse = () =>
  new AwsError(
  'AWSOrganizationsNotInUseException',
  400,
  "Your account is not a member of an organization. To make this request, you must use the credentials of an account that belongs to an organization.",
);
const accessDenied = () => new AwsError('AccessDeniedException', 400, "You don't have permissions to access this resource.");

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

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly admins: OrganizationAdmins,
  ) {}

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

  invoke(operation: string, request: WireRequest, caller: Caller): WireReply {
    const input = parseInput(request.bodyText);
    const callerId = caller.principal.accountId;
    if (!this.accounts.get(callerId)?.inOrganization) throw notInUse();
    const output =
      operation === 'DescribeAccount'
        ? this.describeAccount(input)
        : operation === 'DescribeOrganization'
          ? this.describeOrganization()
          : operation === 'ListDelegatedAdministrators'
            ? this.listDelegatedAdministrators(input, callerId)
            : this.listAccounts(input);
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
    // An account that left the organization is, to Organizations, an account that doesn't exist.
    if (!account?.inOrganization) throw new AwsError('AccountNotFoundException', 400, "You specified an account that doesn't exist.");
    return { Account: this.accountJson(account) };
  }

  private describeOrganization(): unknown {
    const management = this.accounts.get(this.accounts.managementAccountId() ?? '');
    const managementId = management?.accountId ?? '';
    return {
      Organization: {
        Id: ORGANIZATION_ID,
        Arn: `arn:aws:organizations::${managementId}:organization/${ORGANIZATION_ID}`,
        FeatureSet: 'ALL',
        MasterAccountArn: `arn:aws:organizations::${managementId}:account/${ORGANIZATION_ID}/${managementId}`,
        MasterAccountId: managementId,
        MasterAccountEmail: management?.email,
        AvailablePolicyTypes: [],
      },
    };
  }

  /** Only Macie delegates in this emulator, so there is at most one delegated administrator. */
  private listDelegatedAdministrators(input: Record<string, unknown>, callerId: string): unknown {
    const maxResults = this.maxResults(input);
    const principal = input.ServicePrincipal;
    if (principal !== undefined && principal !== null && (typeof principal !== 'string' || principal === '')) {
      throw invalidInput('ServicePrincipal must be a non-empty string');
    }
    const after = this.pageAfter(input, 'ListDelegatedAdministrators');
    const delegated = this.admins.delegatedAdministrator();
    if (callerId !== this.accounts.managementAccountId() && callerId !== delegated?.accountId) throw accessDenied();
    const all =
      delegated && (principal === undefined || principal === null || principal === MACIE_SERVICE_PRINCIPAL)
        ? [{ delegated, account: this.accounts.get(delegated.accountId) }]
        : [];
    const rest = all.filter(({ delegated: entry }) => after === undefined || entry.accountId > after);
    const page = rest.slice(0, maxResults);
    const last = page.at(-1);
    return {
      DelegatedAdministrators: page.map(({ delegated: entry, account }) => ({
        ...(account ? this.accountJson(account) : { Id: entry.accountId }),
        DelegationEnabledDate: entry.since / 1000,
      })),
      NextToken: rest.length > page.length && last ? encodePageToken('ListDelegatedAdministrators', last.delegated.accountId) : undefined,
    };
  }

  private maxResults(input: Record<string, unknown>): number {
    const maxResults = input.MaxResults ?? MAX_PAGE_SIZE;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_PAGE_SIZE) {
      throw invalidInput(`MaxResults must be an integer between 1 and ${MAX_PAGE_SIZE}, got ${JSON.stringify(maxResults)}`);
    }
    return maxResults;
  }

  private pageAfter(input: Record<string, unknown>, listing: string): string | undefined {
    const token = input.NextToken;
    if (token === undefined || token === null) return undefined;
    const after = typeof token === 'string' ? decodePageToken(listing, token) : undefined;
    if (after === undefined) throw invalidInput('NextToken is invalid');
    return after;
  }

  private listAccounts(input: Record<string, unknown>): unknown {
    const maxResults = this.maxResults(input);
    const after = this.pageAfter(input, 'ListAccounts');
    if (after !== undefined && !/^\d+$/.test(after)) throw invalidInput('NextToken is invalid');
    // The cursor is the joining sequence of the last account returned: accounts leaving between pages
    // never shift the rest, and an account joining during the listing shows on a later page.
    const rest = this.accounts.organizationAccounts().filter((account) => after === undefined || account.organizationSequence > Number(after));
    const page = rest.slice(0, maxResults);
    const last = page.at(-1);
    return {
      Accounts: page.map((account) => this.accountJson(account)),
      NextToken: rest.length > page.length && last ? encodePageToken('ListAccounts', String(last.organizationSequence)) : undefined,
    };
  }

  private accountJson(account: AccountRecord): Record<string, unknown> {
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
      JoinedTimestamp: account.joinedOrganizationAt / 1000,
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
