/**
 * The project's own error types. Adapters translate SDK exceptions into these so that the
 * reconciler decides on a code and a flag, never on an SDK class.
 */

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
