import type { Context } from 'aws-lambda';

/**
 * A Lambda context for invoking the real handlers outside Lambda (scripts, tests, benchmarks).
 * `getRemainingTimeInMillis` counts down from `timeoutMs` like the real one, on `clock` (the wall
 * clock unless a test brings its own, so that no test depends on how fast the machine is).
 */
export function lambdaContext(functionName: string, timeoutMs = 15 * 60_000, clock: () => number = Date.now): Context {
  const startedAt = clock();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:111111111111:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `local-${functionName}-${startedAt}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (clock() - startedAt)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
