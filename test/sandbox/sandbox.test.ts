import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetMacieSessionCommand, Macie2Client } from '@aws-sdk/client-macie2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { startSandbox } from '#sandbox/index';

describe('startSandbox', () => {
  it('serves DynamoDB, SQS, Macie, STS and CloudFormation on loopback ports, and environment() points any SDK client at them', async () => {
    const sandbox = await startSandbox({ accounts: [{ accountId: '222222222201', email: 'a@example.com' }] });
    try {
      const env = sandbox.environment();
      for (const url of Object.values(sandbox.endpoints)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(env).toMatchObject({
        AWS_ENDPOINT_URL_MACIE2: sandbox.endpoints.macie2,
        AWS_ENDPOINT_URL_DYNAMODB: sandbox.endpoints.dynamodb,
        AWS_ENDPOINT_URL_SQS: sandbox.endpoints.sqs,
        AWS_ENDPOINT_URL_CLOUDFORMATION: sandbox.endpoints.cloudformation,
        MACIE_ADMINISTRATOR_ACCOUNT_ID: '111111111111',
        MANAGED_REGIONS: 'us-east-1,eu-west-1',
      });
      const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
      const region = env.AWS_REGION!;

      const dynamo = new DynamoDBClient({ region, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, credentials });
      expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toEqual([sandbox.tableName]);
      const sqs = new SQSClient({ region, endpoint: env.AWS_ENDPOINT_URL_SQS, credentials });
      expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls?.sort()).toEqual(
        [sandbox.deadLetterQueueUrl, sandbox.requestDeadLetterQueueUrl, sandbox.requestQueueUrl, sandbox.workQueueUrl, sandbox.workDeadLetterQueueUrl].sort(),
      );
      const sts = new STSClient({ region, endpoint: env.AWS_ENDPOINT_URL_STS, credentials });
      expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe('111111111111');
      const macie = new Macie2Client({ region, endpoint: env.AWS_ENDPOINT_URL_MACIE2, credentials });
      expect((await macie.send(new GetMacieSessionCommand({}))).status).toBe('ENABLED');

      expect(sandbox.calls().map((call) => `${call.service}:${call.operation}`)).toEqual(
        expect.arrayContaining(['dynamodb:ListTables', 'sqs:ListQueues', 'sts:GetCallerIdentity', 'macie2:GetMacieSession']),
      );
      for (const client of [dynamo, sqs, sts, macie]) client.destroy();
    } finally {
      await sandbox.close();
    }
  });

  it('closes every server so a second close is harmless and ports are released', async () => {
    const sandbox = await startSandbox();
    await sandbox.close();
    await sandbox.close();
    const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: sandbox.endpoints.dynamodb, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    await expect(dynamo.send(new ListTablesCommand({}))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    dynamo.destroy();
  });
});

describe('npm run sandbox', () => {
  it('prints one JSON line with endpoints, regions, credentials, members and the member role, then exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/main.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = Date.now();
    const firstLine = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`sandbox exited early with ${code}`)));
    });
    const elapsedMs = Date.now() - started;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const printed = JSON.parse(firstLine) as Record<string, unknown>;
    expect(printed).toMatchObject({
      regions: ['us-east-1', 'eu-west-1'],
      administrator: { accountId: '111111111111', accessKeyId: expect.any(String), secretAccessKey: expect.any(String) },
      memberRole: { name: 'MacieMembershipAcceptor', externalId: expect.any(String) },
      endpoints: { macie2: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/), dynamodb: expect.any(String), sqs: expect.any(String) },
      stackName: 'macie-membership-reconciler-sandbox',
    });
    const { endpoints, environment } = printed as { endpoints: Record<string, string>; environment: Record<string, string> };
    expect(endpoints.cloudformation).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(environment.AWS_ENDPOINT_URL_CLOUDFORMATION).toBe(endpoints.cloudformation);
    expect((printed.members as unknown[]).length).toBeGreaterThanOrEqual(20);
    expect(elapsedMs).toBeLessThan(15_000);

    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit, stderr).toBe(0);
  }, 30_000);
});
