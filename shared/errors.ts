/**
 * The project's own error types. Adapters translate SDK exceptions into these so that the
 * reconciler decides on a code and a flag, never on an SDK class.
 */
import type { CorruptRow } from '#shared/domain/desired-row';

export class AwsCallError extends Error {
  override readonly name = 'AwsCallError';

  constructor(
    /** The API operation, e.g. `CreateMember`. */
    readonly operation: string,
    /** The AWS error code, e.g. `ThrottlingException`. */
    readonly code: string,
    message: string,
    /** How many attempts the SDK made before giving up. */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A request for an account whose stored row is corrupt. Merging with a row that cannot be read
 * would guess at the fields the request leaves out, so the request waits until an operator has
 * fixed the row (`macie-members plan` names each problem).
 */
export class CorruptRowError extends Error {
  override readonly name = 'CorruptRowError';

  constructor(readonly row: CorruptRow) {
    super(`the desired row of ${row.accountId} is corrupt (${row.problems.map((problem) => problem.message).join('; ')}): fix it in the table`);
  }
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  Code?: unknown;
  /** Node's code for a network failure: ECONNREFUSED, ENOTFOUND... */
  code?: unknown;
  $metadata?: { attempts?: unknown };
}

/** Wraps anything an SDK call threw into an `AwsCallError` naming the operation. */
export function toAwsCallError(operation: string, error: unknown): AwsCallError {
  if (error instanceof AwsCallError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const code =
    typeof shape.name === 'string' && shape.name !== 'Error'
      ? shape.name
      : typeof shape.Code === 'string'
        ? shape.Code
        : typeof shape.code === 'string'
          ? shape.code
          : 'UnknownError';
  const message = typeof shape.message === 'string' && shape.message.length > 0 ? shape.message : String(error);
  const attempts = typeof shape.$metadata?.attempts === 'number' ? shape.$metadata.attempts : 1;
  return new AwsCallError(operation, code, message, attempts, { cause: error });
}

/** Runs an SDK call and translates its failure. */
export async function callAws<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toAwsCallError(operation, error);
  }
}
