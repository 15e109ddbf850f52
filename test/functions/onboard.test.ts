import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBridgeEvent } from 'aws-lambda';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { drainQueue, listMembersStatus, loadEvent, startServiceSandbox } from '../support/service-sandbox';

/** The `onboard` function, through its real handler, with each sample event in events/. */

const REGIONS = ['us-east-1', 'eu-west-1'];
const accounts = [
  { accountId: '222222222201', email: 'payments-prod@example.com' },
  { accountId: '222222222202', email: 'ct-vended@example.com' },
  { accountId: '222222222203', email: 'security+payments-dev@example.com' },
  { accountId: '222222222204', email: 'retiring@example.com' },
];

type AnyEvent = EventBridgeEvent<string, unknown>;
let sandbox: Sandbox;
let handler: typeof import('#functions/onboard/handler').handler;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;

beforeAll(async () => {
  sandbox = await startServiceSandbox({ regions: REGIONS, accounts });
  ({ handler } = await import('#functions/onboard/handler'));
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
});

afterAll(() => sandbox?.close());

async function expectEnabledEverywhere(accountId: string) {
  for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).get(accountId), region).toBe('Enabled');
}

describe('onboard (EventBridge)', () => {
  it('enrolls the account of an Organizations CreateAccountResult, with the email from DescribeAccount', async () => {
    const event = await loadEvent<AnyEvent>('organizations-create-account-result.json');
    sandbox.clearCalls();
    const result = await handler(event, lambdaContext('onboard'));

    expect(result).toMatchObject({ outcome: 'reconciled', accountId: '222222222201' });
    expect(sandbox.calls().map((call) => call.operation)).toContain('DescribeAccount');
    const { rows: [row] } = await runtime.store.getMany(['222222222201']);
    expect(row).toMatchObject({ desiredState: 'member', email: 'payments-prod@example.com', requestedBy: 'event:aws.organizations' });
    await expectEnabledEverywhere('222222222201');
  });

  it('enrolls the account of a Control Tower CreateManagedAccount', async () => {
    const result = await handler(await loadEvent<AnyEvent>('controltower-create-managed-account.json'), lambdaContext('onboard'));
    expect(result).toMatchObject({ outcome: 'reconciled', accountId: '222222222202' });
    await expectEnabledEverywhere('222222222202');
  });

  it("enrolls from the project's own Member Enrollment Requested event, using the event's email and tags", async () => {
    const result = await handler(await loadEvent<AnyEvent>('member-enrollment-requested.json'), lambdaContext('onboard'));
    expect(result).toMatchObject({ outcome: 'reconciled', accountId: '222222222203' });
    const { rows: [row] } = await runtime.store.getMany(['222222222203']);
    expect(row).toMatchObject({
      email: 'security+payments-dev@example.com',
      regions: ['us-east-1'],
      tags: { Owner: 'payments', CostCenter: 'cc-1234' },
      invitationMessage: 'Welcome to Macie',
      requestId: 'avp-2025-06-02-0003',
    });
    expect((await listMembersStatus(sandbox, 'us-east-1')).get('222222222203')).toBe('Enabled');
    // The event asks for us-east-1 only.
    expect((await listMembersStatus(sandbox, 'eu-west-1')).has('222222222203')).toBe(false);
  });

  it("removes the account of the project's own Member Removal Requested event", async () => {
    for (const region of REGIONS) {
      sandbox.emulator.control.seedMembership({ administratorAccountId: sandbox.administrator.accountId, accountId: '222222222204', region, relationshipStatus: 'Enabled' });
    }
    const result = await handler(await loadEvent<AnyEvent>('member-removal-requested.json'), lambdaContext('onboard'));
    expect(result).toMatchObject({ outcome: 'reconciled', accountId: '222222222204' });
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).has('222222222204')).toBe(false);
  });

  it('ignores a failed account creation and unrelated events', async () => {
    const failed = await loadEvent<AnyEvent>('organizations-create-account-result.json');
    const details = (failed.detail as { serviceEventDetails: { createAccountStatus: { state: string } } }).serviceEventDetails;
    details.createAccountStatus.state = 'FAILED';
    expect(await handler(failed, lambdaContext('onboard'))).toMatchObject({ outcome: 'ignored' });
    const unrelated = { ...failed, source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} };
    expect(await handler(unrelated, lambdaContext('onboard'))).toMatchObject({ outcome: 'ignored' });
  });

  it('dead-letters an invalid enrollment event instead of failing', async () => {
    const event = await loadEvent<AnyEvent>('member-enrollment-requested.json');
    const invalid = { ...event, detail: { ...(event.detail as object), accountId: '12345', email: 'nope' } };
    expect(await handler(invalid, lambdaContext('onboard'))).toMatchObject({ outcome: 'invalid' });
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toEqual([
      expect.objectContaining({ reason: 'invalid-request', operation: 'validate', accountId: '12345', errorMessage: expect.stringContaining('accountId') }),
    ]);
  });

  it('dead-letters an account whose email cannot be looked up', async () => {
    const event = await loadEvent<AnyEvent>('organizations-create-account-result.json');
    const details = (event.detail as { serviceEventDetails: { createAccountStatus: { accountId: string } } }).serviceEventDetails;
    details.createAccountStatus.accountId = '222222222299';
    expect(await handler(event, lambdaContext('onboard'))).toMatchObject({ outcome: 'dead-lettered', errorCode: 'AccountNotFoundException' });
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toEqual([expect.objectContaining({ action: 'enroll', accountId: '222222222299', reason: 'intake-failed', operation: 'DescribeAccount' })]);
  });
});
