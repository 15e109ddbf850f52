import { describe, expect, it } from 'vitest';
import { parseQueueArn } from '#shared/deadletter/queue-admin';

describe('parseQueueArn', () => {
  it('splits an SQS queue ARN into region, account and queue name', () => {
    expect(parseQueueArn('arn:aws:sqs:us-east-1:111111111111:macie-membership-requests-dlq')).toEqual({
      region: 'us-east-1',
      accountId: '111111111111',
      name: 'macie-membership-requests-dlq',
    });
    expect(parseQueueArn('arn:aws-cn:sqs:cn-north-1:111111111111:dlq.fifo')).toEqual({ region: 'cn-north-1', accountId: '111111111111', name: 'dlq.fifo' });
  });

  it('answers undefined for anything that is not a queue ARN', () => {
    expect(parseQueueArn(undefined)).toBeUndefined();
    expect(parseQueueArn('')).toBeUndefined();
    expect(parseQueueArn('arn:aws:sns:us-east-1:111111111111:topic')).toBeUndefined();
    expect(parseQueueArn('arn:aws:sqs:us-east-1:111111111111')).toBeUndefined();
    expect(parseQueueArn('https://sqs.us-east-1.amazonaws.com/111111111111/dlq')).toBeUndefined();
  });
});
