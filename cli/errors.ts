/**
 * Exit codes and error reporting. Every failure ends as one short explanation on stderr and a
 * non-zero exit code; nothing prints credentials (the CLI never echoes the environment) and
 * AWS messages are shown with emails masked.
 */
import { ConfigurationError } from '#shared/config';
import { AwsCallError } from '#shared/errors';
import { paintFor, safeText, writeLines, type Terminal } from '#cli/format';

export const ExitCode = {
  ok: 0,
  /** An error, or something the operator must look at (failures, invalid input, unread state). */
  failure: 1,
  /** `plan` only: the plan would change something (like `terraform plan -detailed-exitcode`). */
  drift: 2,
} as const;

/** An error the CLI explains itself: a usage mistake, a missing setting, an impossible request. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly hints: readonly string[] = [],
    readonly exitCode: number = ExitCode.failure,
  ) {
    super(message);
  }
}

// Hints for the AWS error codes an operator meets first; the code and message are always shown too.
const AWS_HINTS: Record<string, string> = {
  CredentialsProviderError: 'No AWS credentials were found: set AWS_PROFILE (or pass --profile) or the usual AWS_* credential variables.',
  ExpiredToken: 'The AWS session has expired: refresh your credentials (for example `aws sso login`).',
  ExpiredTokenException: 'The AWS session has expired: refresh your credentials (for example `aws sso login`).',
  UnrecognizedClientException: 'AWS does not recognise these credentials: check the profile and region.',
  InvalidClientTokenId: 'AWS does not recognise these credentials: check the profile and region.',
  AccessDeniedException: 'The caller lacks a permission: run the CLI with the Macie administrator account\'s operator role.',
  AccessDenied: 'The caller lacks a permission: run the CLI with the Macie administrator account\'s operator role.',
  ResourceNotFoundException: 'Something the configuration names does not exist: check DESIRED_MEMBERS_TABLE and AWS_REGION.',
  'AWS.SimpleQueueService.NonExistentQueue': 'A queue the configuration names does not exist: check DEAD_LETTER_QUEUE_URL and REQUEST_QUEUE_URL.',
  QueueDoesNotExist: 'A queue the configuration names does not exist: check DEAD_LETTER_QUEUE_URL and REQUEST_QUEUE_URL.',
};

// A network failure keeps Node's own code (see toAwsCallError).
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);
const NETWORK_HINT = 'The AWS endpoint could not be reached: check AWS_REGION, AWS_ENDPOINT_URL_* and the network.';

/** Writes the explanation of `error` to stderr and returns the exit code to end with. */
export function reportError(error: unknown, terminal: Terminal): number {
  const paint = paintFor(terminal, 'stderr');
  const [first = '', ...rest] = describeError(error);
  writeLines(terminal.stderr, [paint('red', first), ...rest]);
  return error instanceof CliError ? error.exitCode : ExitCode.failure;
}

export function describeError(error: unknown): string[] {
  if (error instanceof CliError) {
    return [`macie-members: ${error.message}`, ...error.hints.map((hint) => `  ${hint}`)];
  }
  if (error instanceof ConfigurationError) {
    const { problems } = error;
    return [
      'macie-members: the configuration is invalid:',
      ...problems.map((problem) => `  - ${problem}`),
      'Set these environment variables (the same ones the Lambda functions read; see docs/operations.md),',
      'or add --local to try the CLI on an in-process sandbox.',
    ];
  }
  if (error instanceof AwsCallError) {
    const { code } = error;
    const hint = AWS_HINTS[code] ?? (NETWORK_CODES.has(code) ? NETWORK_HINT : undefined);
    return [`macie-members: AWS ${error.operation} failed: ${code}: ${safeText(error.message)}`, ...(hint ? [`  ${hint}`] : [])];
  }
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    return [`macie-members: ${name}${safeText(error.message)}`];
  }
  return [`macie-members: ${safeText(String(error))}`];
}
