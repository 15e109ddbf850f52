import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { createSqsServer } from 'local-aws-sqs';
import { DESIRED_MEMBERS_KEY_SCHEMA } from '#shared/store/desired-members';
import { startCloudFormation, type SandboxCloudFormation } from '#sandbox/cloudformation';
import { startAwsEmulator, type AwsEmulator, type FaultKnobs, type SeedAccount } from '#sandbox/emulator/index';

/**
 * The local sandbox: DynamoDB (dynalite, in memory), SQS (local-aws-sqs), the project's own
 * Macie/STS/Organizations emulator and a CloudFormation that describes the sandbox as a deployed
 * stack, each on a free loopback port, in this process. The real AWS SDK clients reach it through
 * the standard `AWS_ENDPOINT_URL_*` settings from `environment()`.
 */

export interface SandboxOptions {
  administratorAccountId?: string;
  regions?: string[];
  /** Accounts besides the administrator: in the organization unless seeded with `inOrganization: false`. */
  accounts?: SeedAccount[];
  /**
   * The organization's management account, seeded first. Without it the administrator is the
   * first account, and so the management account itself.
   */
  managementAccount?: SeedAccount;
  /** Designate the administrator as the organization's delegated Macie administrator in every region. */
  delegatedAdministrator?: boolean;
  memberRole?: { name: string; externalId: string };
  knobs?: Partial<FaultKnobs>;
  /** The emulator's clock: a test moves a fake one on instead of sleeping (invitation delays, expiries). */
  clock?: () => number;
  tableName?: string;
  /** The work queue's visibility timeout: longer than the worker's timeout. */
  workVisibilityTimeoutSeconds?: number;
  /** The name of the stack CloudFormation describes the sandbox as. */
  stackName?: string;
}

export interface SandboxEndpoints {
  macie2: string;
  sts: string;
  organizations: string;
  dynamodb: string;
  sqs: string;
  cloudformation: string;
}

/** One API call the sandbox answered, from any of its services. */
export interface SandboxCall {
  service: 'macie2' | 'sts' | 'organizations' | 'dynamodb' | 'sqs' | 'cloudformation';
  operation: string;
  /** The calling account where the service knows it (the emulated ones), else undefined. */
  accountId?: string;
  /** True when the caller used credentials from `AssumeRole` (a member role). */
  assumedRole: boolean;
}

export interface Sandbox {
  endpoints: SandboxEndpoints;
  regions: string[];
  homeRegion: string;
  administrator: { accountId: string; accessKeyId: string; secretAccessKey: string };
  accounts: SeedAccount[];
  memberRole: { name: string; externalId: string };
  tableName: string;
  requestQueueUrl: string;
  requestDeadLetterQueueUrl: string;
  deadLetterQueueUrl: string;
  /**
   * The fan-out's work queue (FIFO, grouped by region) and its dead-letter queue. Not in
   * `environment()`: a service pointed at it (`WORK_QUEUE_URL`) fans its scheduled run out, and
   * something must play the event source mapping (`sandbox/event-source-mapping.ts`).
   */
  workQueueUrl: string;
  workDeadLetterQueueUrl: string;
  /** A stack in the home region whose outputs are this sandbox's table, queues, regions... as serverless.yml declares them. */
  stackName: string;
  /** Registers more stacks (or replaces the sandbox's), e.g. a failed one. */
  cloudFormation: Pick<SandboxCloudFormation, 'putStack'>;
  emulator: AwsEmulator;
  /** Every call the sandbox answered since it started or since `clearCalls()`, in order. */
  calls(): SandboxCall[];
  clearCalls(): void;
  /** The environment the service, the CLI and any AWS SDK or CLI need to run against this sandbox. */
  environment(): Record<string, string>;
  close(): Promise<void>;
}

export const SANDBOX_DEFAULTS = {
  administratorAccountId: '111111111111',
  regions: ['us-east-1', 'eu-west-1'],
  memberRole: { name: 'MacieMembershipAcceptor', externalId: 'sandbox-external-id' },
  tableName: 'macie-desired-members',
  // What `osls deploy --stage sandbox` would name it.
  stackName: 'macie-membership-reconciler-sandbox',
  // Above the worker's timeout, as on the deployed queue (serverless.yml); a test of a worker that
  // dies picks a shorter one (with a shorter worker timeout) to see its unit come back sooner.
  workVisibilityTimeoutSeconds: 60,
} as const;

const LOOPBACK = '127.0.0.1';
// dynalite and local-aws-sqs accept any credentials; the emulator is the one that reads them.
const ANY_CREDENTIALS = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const administratorAccountId = options.administratorAccountId ?? SANDBOX_DEFAULTS.administratorAccountId;
  const regions = options.regions ?? [...SANDBOX_DEFAULTS.regions];
  const homeRegion = regions[0]!;
  const memberRole = options.memberRole ?? { ...SANDBOX_DEFAULTS.memberRole };
  const tableName = options.tableName ?? SANDBOX_DEFAULTS.tableName;
  const stackName = options.stackName ?? SANDBOX_DEFAULTS.stackName;
  const accounts = options.accounts ?? [];

  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    await Promise.allSettled([...closers].reverse().map((closeOne) => closeOne()));
  };
  try {
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => dynamo.once('error', reject).listen(0, LOOPBACK, () => resolve()));
    closers.push(() => closeServer(dynamo));
    // Calls to the services besides the emulator's (it keeps its own log).
    const localServiceCalls: SandboxCall[] = [];
    recordTargets(dynamo, 'dynamodb', localServiceCalls);

    const sqsServer = await createSqsServer({
      port: 0,
      hostname: LOOPBACK,
      region: homeRegion,
      accountId: administratorAccountId,
      emulateQueueCreationLifecycle: false,
    });
    closers.push(() => closeServer(sqsServer));
    recordTargets(sqsServer, 'sqs', localServiceCalls);

    const emulator = await startAwsEmulator({
      host: LOOPBACK,
      memberRole,
      accounts: [
        ...(options.managementAccount ? [options.managementAccount] : []),
        { accountId: administratorAccountId, email: 'security-admin@example.com', name: 'Security' },
        ...accounts,
      ],
      knobs: options.knobs,
      clock: options.clock,
    });
    closers.push(() => emulator.close());
    if (options.delegatedAdministrator) {
      for (const region of regions) emulator.control.designateMacieAdministrator(administratorAccountId, region);
    }

    const cloudFormation = await startCloudFormation({
      host: LOOPBACK,
      accountId: administratorAccountId,
      onCall: (operation) => localServiceCalls.push({ service: 'cloudformation', operation, assumedRole: false }),
    });
    closers.push(() => cloudFormation.close());

    const endpoints: SandboxEndpoints = {
      macie2: emulator.url,
      sts: emulator.url,
      organizations: emulator.url,
      dynamodb: `http://${LOOPBACK}:${(dynamo.address() as AddressInfo).port}`,
      sqs: `http://${LOOPBACK}:${(sqsServer.address() as AddressInfo).port}`,
      cloudformation: cloudFormation.url,
    };

    const ddb = new DynamoDBClient({ region: homeRegion, endpoint: endpoints.dynamodb, credentials: ANY_CREDENTIALS });
    await ddb.send(new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', ...DESIRED_MEMBERS_KEY_SCHEMA }));
    ddb.destroy();

    const sqs = new SQSClient({ region: homeRegion, endpoint: endpoints.sqs, credentials: ANY_CREDENTIALS });
    const queueUrl = async (name: string, attributes?: Record<string, string>) =>
      (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
    const queueArn = async (url: string) =>
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const deadLetterQueueUrl = await queueUrl('macie-membership-dead-letters');
    const requestDeadLetterQueueUrl = await queueUrl('macie-membership-requests-dlq');
    const requestQueueUrl = await queueUrl('macie-membership-requests', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(requestDeadLetterQueueUrl), maxReceiveCount: 5 }),
    });
    const workDeadLetterQueueUrl = await queueUrl('macie-membership-work-dlq.fifo', { FifoQueue: 'true' });
    const workQueueUrl = await queueUrl('macie-membership-work.fifo', {
      FifoQueue: 'true',
      VisibilityTimeout: String(options.workVisibilityTimeoutSeconds ?? SANDBOX_DEFAULTS.workVisibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(workDeadLetterQueueUrl), maxReceiveCount: 5 }),
    });
    sqs.destroy();

    cloudFormation.putStack({
      name: stackName,
      region: homeRegion,
      status: 'CREATE_COMPLETE',
      outputs: {
        HomeRegion: homeRegion,
        AdministratorAccountId: administratorAccountId,
        ManagedRegions: regions.join(','),
        DesiredMembersTableName: tableName,
        RequestQueueUrl: requestQueueUrl,
        RequestDeadLetterQueueUrl: requestDeadLetterQueueUrl,
        DeadLetterQueueUrl: deadLetterQueueUrl,
        WorkQueueUrl: workQueueUrl,
        WorkDeadLetterQueueUrl: workDeadLetterQueueUrl,
        MemberRoleName: memberRole.name,
        MemberRoleExternalId: memberRole.externalId,
        // serverless.yml's defaults (no invitation message, autoEnable left alone, no sync scope: no such outputs).
        PruneUnmanaged: 'false',
        SendInvitationEmail: 'false',
        EventSource: 'macie-membership-reconciler',
        AdminConcurrency: '8',
        MemberConcurrency: '16',
        MembershipMode: 'auto',
        OrganizationSync: 'false',
      },
    });

    const administrator = { accountId: administratorAccountId, ...emulator.control.credentialsFor(administratorAccountId) };
    const environment = (): Record<string, string> => ({
      AWS_REGION: homeRegion,
      // The AWS CLI v1 reads only this one.
      AWS_DEFAULT_REGION: homeRegion,
      AWS_ACCESS_KEY_ID: administrator.accessKeyId,
      AWS_SECRET_ACCESS_KEY: administrator.secretAccessKey,
      AWS_ENDPOINT_URL_MACIE2: endpoints.macie2,
      AWS_ENDPOINT_URL_STS: endpoints.sts,
      AWS_ENDPOINT_URL_ORGANIZATIONS: endpoints.organizations,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: endpoints.sqs,
      AWS_ENDPOINT_URL_CLOUDFORMATION: endpoints.cloudformation,
      MACIE_ADMINISTRATOR_ACCOUNT_ID: administratorAccountId,
      MANAGED_REGIONS: regions.join(','),
      DESIRED_MEMBERS_TABLE: tableName,
      DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
      REQUEST_QUEUE_URL: requestQueueUrl,
      MEMBER_ROLE_NAME: memberRole.name,
      MEMBER_ROLE_EXTERNAL_ID: memberRole.externalId,
    });

    return {
      endpoints,
      regions,
      homeRegion,
      administrator,
      accounts,
      memberRole,
      tableName,
      requestQueueUrl,
      requestDeadLetterQueueUrl,
      deadLetterQueueUrl,
      workQueueUrl,
      workDeadLetterQueueUrl,
      stackName,
      cloudFormation: { putStack: (stack) => cloudFormation.putStack(stack) },
      emulator,
      calls: () => [
        ...emulator.control.calls().map(({ service, operation, accountId, assumedRole }) => ({ service, operation, accountId, assumedRole })),
        ...localServiceCalls,
      ],
      clearCalls: () => {
        emulator.control.clearCalls();
        localServiceCalls.length = 0;
      },
      environment,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Records the operation of every JSON-protocol call (`X-Amz-Target: DynamoDB_20120810.PutItem`). */
function recordTargets(server: Server, service: 'dynamodb' | 'sqs', calls: SandboxCall[]): void {
  server.on('request', (request: IncomingMessage) => {
    const target = request.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'Unknown';
    calls.push({ service, operation, assumedRole: false });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets from SDK clients would otherwise hold the server (and the process) open.
    server.closeAllConnections();
  });
}
