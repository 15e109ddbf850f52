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
export const INVALID_SECURITY_TOKEN = 'The security token included in the request is invalid.';
export const EXPIRED_SECURITY_TOKEN = 'The security token included in the request is expired';
export const RATE_EXCEEDED = 'Rate exceeded';
