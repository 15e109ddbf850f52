import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQSEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { drainQueue, listMembersStatus, loadEvent, sqsEvent, startServiceSandbox } from '../support/service-sandbox';

/** The `requests` function (SQS batches from account vending), through its real handler. */

const REGIONS = ['us-east-1', 'eu-west-1'];
const accounts = [
  { accountId: '222222222205', email: 'aws-dev-05@example.com' },
  { accountId: '222222222206', email: 'aws-dev-06@example.com' },
  { accountId: '222222222301', email: 'vended-1@example.com' },
  { accountId: '222222222302', email: 'vended-2@example.com' },
  { accountId: '222222222303', email: 'unlucky@example.com' },
  { accountId: '222222222305', email: 'fixed@example.com' },
];

let sandbox: Sandbox;
let handler: typeof import('#functions/requests/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts }, { AWS_MAX_ATTEMPTS: '2' });
  ({ handler } = await import('#functions/requests/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
});

afterAll(() => sandbox?.close());

const enroll = (accountId: string, email: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ action: 'enroll', accountId, email, ...extra });

describe('requests (SQS batch)', () => {
  it('processes the sample batch: valid requests applied, the invalid one dead-lettered, no batch failure', async () => {
    for (const region of REGIONS) {
      sandbox.emulator.control.seedMembership({ administratorAccountId: sandbox.administrator.accountId, accountId: '222222222206', region, relationshipStatus: 'Enabled' });
    }
    const event = await loadEvent<SQSEvent>('sqs-requests.json');
    const response = await handler(event, lambdaContext('requests'));

    expect(response.batchItemFailures).toEqual([]);
    expect((await listMembersStatus(sandbox, 'us-east-1')).get('222222222205')).toBe('Enabled');
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).has('222222222206')).toBe(false);
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toEqual([
      expect.objectContaining({
        reason: 'invalid-request',
        accountId: '12345',
        errorCode: 'ValidationError',
        errorMessage: expect.stringMatching(/accountId.*12 digits/),
      }),
    ]);
  });

  it('reports only the request whose processing throws; the invalid one goes to the dead-letter queue', async () => {
    // Every GetMember about 222222222303 fails, so that request cannot be reconciled.
    sandbox.emulator.control.setKnobs({
      failingCalls: [{ operation: 'GetMember', subjectAccountId: '222222222303', errorType: 'InternalServerException', statusCode: 500 }],
    });
    const event = sqsEvent([
      enroll('222222222301', 'vended-1@example.com'),
      '{"action":"enroll","accountId":"2223","email":"x"',
      enroll('222222222303', 'unlucky@example.com'),
      enroll('222222222302', 'vended-2@example.com', { tags: { Owner: 'payments' } }),
    ]);
    const response = await handler(event, lambdaContext('requests'));
    sandbox.emulator.control.setKnobs({ failingCalls: [] });

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[2]!.messageId }]);
    const statuses = await listMembersStatus(sandbox, 'eu-west-1');
    expect(statuses.get('222222222301')).toBe('Enabled');
    expect(statuses.get('222222222302')).toBe('Enabled');
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toEqual([expect.objectContaining({ reason: 'invalid-request', rawInput: '{"action":"enroll","accountId":"2223","email":"x"' })]);
    // The request was recorded before its reconciliation failed; the retry or the schedule finishes it.
    const { rows: [row] } = await runtime.store.getMany(['222222222303']);
    expect(row?.desiredState).toBe('member');
  });

  it('changes nothing when the same message is delivered twice', async () => {
    const event = sqsEvent([enroll('222222222301', 'vended-1@example.com', { requestId: 'dup-1', tags: { Owner: 'x' } })]);
    await handler(event, lambdaContext('requests'));
    const { rows: [before] } = await runtime.store.getMany(['222222222301']);
    sandbox.clearCalls();

    const again = await handler(event, lambdaContext('requests'));
    expect(again.batchItemFailures).toEqual([]);
    const { rows: [after] } = await runtime.store.getMany(['222222222301']);
    expect(after).toEqual(before);
    // The table write is conditional and is refused (the row above is unchanged); nothing else writes.
    const writes = sandbox
      .calls()
      .filter((call) => call.service !== 'dynamodb' && /^(Create|Delete|Disassociate|Update|Tag|Untag|Accept|Enable|SendMessage)/.test(call.operation));
    expect(writes).toEqual([]);
  });

  it('ends a removal request with the account gone from ListMembers', async () => {
    const response = await handler(sqsEvent([JSON.stringify({ action: 'remove', accountId: '222222222302' })]), lambdaContext('requests'));
    expect(response.batchItemFailures).toEqual([]);
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).has('222222222302')).toBe(false);
    const { rows: [row] } = await runtime.store.getMany(['222222222302']);
    expect(row).toMatchObject({ desiredState: 'absent', email: 'vended-2@example.com' });
  });

  it('replays a dead letter as old as the letter, so a correction made since it is not undone', async () => {
    const deadLetteredAt = new Date(Date.now() - 60_000).toISOString();
    const letter = JSON.stringify({
      action: 'enroll',
      accountId: '222222222305',
      email: 'typo@exmaple.com',
      reason: 'needs-operator',
      operation: 'plan',
      errorCode: 'EmailVerificationFailed',
      errorMessage: 'fix the email',
      region: 'us-east-1',
      attempts: 0,
      at: deadLetteredAt,
    });
    // The operator corrects the email after the letter was written, then redrives the letter.
    await handler(sqsEvent([enroll('222222222305', 'fixed@example.com')]), lambdaContext('requests'));
    const response = await handler(sqsEvent([letter]), lambdaContext('requests'));

    expect(response.batchItemFailures).toEqual([]);
    const { rows: [row] } = await runtime.store.getMany(['222222222305']);
    expect(row?.email).toBe('fixed@example.com');
  });
});
