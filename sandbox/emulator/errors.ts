/**
 * One error type for all three services. Each protocol renders it in its own wire shape
 * (REST-JSON header + body, query XML, JSON 1.1 `__type`), so operations never think about wire formats.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }

  /** STS's XML error carries who is to blame; AWS says `Receiver` for 5xx. */
  get fault(): 'Sender' | 'Receiver' {
    return this.statusCode >= 500 ? 'Receiver' : 'Sender';
  }
}

/** Macie's modelled errors with the status codes the service model assigns them. */
export const macieError = {
  validation: (message: string) => new AwsError('ValidationException', 400, message),
  quotaExceeded: (message: string) => new AwsError('ServiceQuotaExceededException', 402, message),
  accessDenied: (message: string) => new AwsError('AccessDeniedException', 403, message),
  notFound: (message: string) => new AwsError('ResourceNotFoundException', 404, message),
  conflict: (message: string) => new AwsError('ConflictException', 409, message),
  throttling: (message: string) => new AwsError('ThrottlingException', 429, message),
  internal: (message: string) => new AwsError('InternalServerException', 500, message),
} as const;

export const MACIE_NOT_ENABLED = 'Macie is not enabled';
/**
 * AWS's answer to an AcceptInvitation with no pending invitation from that administrator (stale,
 * already accepted, or an ID that does not match) or from an account that is another
 * administrator's member: 400 ValidationException, worded with "master" as AWS still words it
 * (terraform-provider-aws issue 40587 quotes a real trace).
 */
export const NO_PENDING_INVITATION =
  'The request is rejected because the current account has no pending invitation from the given master account ID or is already an associated member of another master account.';
export const INVALID_SECURITY_TOKEN = 'The security token included in the request is invalid.';
export const EXPIRED_SECURITY_TOKEN = 'The security token included in the request is expired';
export const RATE_EXCEEDED = 'Rate exceeded';
