import type { Context } from 'aws-lambda';

/**
 * A Lambda context for invoking the real handlers outside Lambda (scripts, tests, benchmarks).
 * `getRemainingTimeInMillis` counts down from `timeoutMs` like the real one.
 */
export function lambdaContext(functionName: string, timeoutMs = 15 * 60_000, startedAt = Date.now()): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:111111111111:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `local-${functionName}-${startedAt}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - startedAt)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
