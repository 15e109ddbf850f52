import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '#sandbox/index';

/** The sandbox's CloudFormation, through the real SDK client: DescribeStacks as AWS answers it. */

let sandbox: Sandbox;
const clients: CloudFormationClient[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ regions: ['eu-west-1', 'us-east-1'], stackName: 'reconciler-test' });
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await sandbox?.close();
});

function cloudFormation(region = sandbox.homeRegion): CloudFormationClient {
  const env = sandbox.environment();
  const client = new CloudFormationClient({
    region,
    endpoint: env.AWS_ENDPOINT_URL_CLOUDFORMATION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

const outputsOf = (stack: Stack | undefined) => Object.fromEntries((stack?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));

describe('the sandbox CloudFormation', () => {
  it('describes the sandbox as a stack in its home region, its outputs naming its own table, queues and regions', async () => {
    expect(sandbox.endpoints.cloudformation).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { Stacks: stacks } = await cloudFormation().send(new DescribeStacksCommand({ StackName: 'reconciler-test' }));
    expect(stacks).toHaveLength(1);
    expect(stacks![0]).toMatchObject({
      StackName: 'reconciler-test',
      StackId: expect.stringMatching(/^arn:aws:cloudformation:eu-west-1:111111111111:stack\/reconciler-test\/[0-9a-f-]{36}$/),
      StackStatus: 'CREATE_COMPLETE',
      CreationTime: expect.any(Date),
    });
    expect(outputsOf(stacks![0])).toEqual({
      HomeRegion: 'eu-west-1',
      AdministratorAccountId: '111111111111',
      ManagedRegions: 'eu-west-1,us-east-1',
      DesiredMembersTableName: sandbox.tableName,
      RequestQueueUrl: sandbox.requestQueueUrl,
      RequestDeadLetterQueueUrl: sandbox.requestDeadLetterQueueUrl,
      DeadLetterQueueUrl: sandbox.deadLetterQueueUrl,
      WorkQueueUrl: sandbox.workQueueUrl,
      WorkDeadLetterQueueUrl: sandbox.workDeadLetterQueueUrl,
      MemberRoleName: sandbox.memberRole.name,
      MemberRoleExternalId: sandbox.memberRole.externalId,
      PruneUnmanaged: 'false',
      SendInvitationEmail: 'false',
      EventSource: 'macie-membership-reconciler',
      AdminConcurrency: '8',
      MemberConcurrency: '16',
      MembershipMode: 'auto',
      OrganizationSync: 'false',
    });
    // By its stack ID too, as AWS allows.
    const byId = await cloudFormation().send(new DescribeStacksCommand({ StackName: stacks![0]!.StackId }));
    expect(byId.Stacks?.[0]?.StackName).toBe('reconciler-test');
    expect(sandbox.calls().filter((call) => call.service === 'cloudformation').map((call) => call.operation)).toEqual(['DescribeStacks', 'DescribeStacks']);
  });

  it('answers an unknown stack, or one of another region, with AWS\'s 400 ValidationError', async () => {
    for (const [region, name] of [['eu-west-1', 'no-such-stack'], ['us-east-1', 'reconciler-test']] as const) {
      const error = await cloudFormation(region).send(new DescribeStacksCommand({ StackName: name })).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ name: 'ValidationError', message: `Stack with id ${name} does not exist`, $metadata: { httpStatusCode: 400 }, $fault: 'client' });
    }
  });

  it('lists every stack of the region without a name, including those a test registers', async () => {
    sandbox.cloudFormation.putStack({
      name: 'broken',
      region: 'eu-west-1',
      status: 'UPDATE_ROLLBACK_FAILED',
      statusReason: 'Resource handler returned message: "Access Denied" & more',
      outputs: { Note: '<not XML>' },
    });
    const { Stacks: stacks } = await cloudFormation().send(new DescribeStacksCommand({}));
    expect(stacks?.map((stack) => stack.StackName)).toEqual(['reconciler-test', 'broken']);
    expect(stacks![1]).toMatchObject({ StackStatus: 'UPDATE_ROLLBACK_FAILED', StackStatusReason: 'Resource handler returned message: "Access Denied" & more' });
    expect(outputsOf(stacks![1])).toEqual({ Note: '<not XML>' });
  });
});
