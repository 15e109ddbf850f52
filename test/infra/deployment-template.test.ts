import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { settingsFromStack, STACK_OUTPUTS } from '#cli/stack-config';
import { parseConfig, parseTelemetryConfig } from '#shared/config';
import { serviceName } from '#shared/powertools';
import { asList, TemplateReader, TEST_STACK, type PolicyStatement } from './support/cloudformation';
import { FUNCTION_NAMES, PACKAGE_PARAMS, PACKAGE_STAGE, PROJECT_ROOT, packageService, type FunctionName } from './support/packaged-service';

/**
 * serverless.yml, as `osls package` compiles it (offline, no credentials): every resource the
 * service needs, with the settings docs/deployment.md promises.
 */

let cfn: TemplateReader;

const SERVICE = 'macie-membership-reconciler';
const MANAGED_REGIONS = PACKAGE_PARAMS.managedRegions!.split(',');
const LOGICAL = { reconcile: 'Reconcile', onboard: 'Onboard', requests: 'Requests', worker: 'Worker' } as const satisfies Record<FunctionName, string>;
const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

beforeAll(async () => {
  cfn = new TemplateReader((await packageService()).template);
}, 180_000);

const fn = (name: FunctionName) => cfn.resource(`${LOGICAL[name]}LambdaFunction`);
const environmentOf = (name: FunctionName) =>
  (cfn.resolve((fn(name).Properties!.Environment as { Variables: unknown }).Variables) as Record<string, string>);

describe('functions', () => {
  it.each(FUNCTION_NAMES)('%s runs on nodejs22.x, arm64, from its ESM bundle, with its own role', (name) => {
    const properties = fn(name).Properties!;
    expect(properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: `functions/${name}/handler.handler`,
      FunctionName: `${SERVICE}-${PACKAGE_STAGE}-${name}`,
      Role: { 'Fn::Sub': `\${${LOGICAL[name]}Role.Arn}` },
    });
    expect(cfn.resolve(properties.Role)).toBe(`arn:aws:iam::${TEST_STACK.accountId}:role/${SERVICE}-${PACKAGE_STAGE}-${name}`);
  });

  it('creates no shared execution role', () => {
    expect(cfn.resourcesOfType('AWS::IAM::Role').map(([id]) => id).sort()).toEqual(['OnboardRole', 'ReconcileRole', 'RequestsRole', 'WorkerRole']);
  });

  it.each(FUNCTION_NAMES)('%s has a configuration that shared/config.ts accepts, naming the stack resources', (name) => {
    const environment = environmentOf(name);
    // Lambda sets AWS_REGION itself; it cannot be part of the function configuration.
    expect(environment).not.toHaveProperty('AWS_REGION');
    const config = parseConfig({ ...environment, AWS_REGION: TEST_STACK.region });
    expect(config).toMatchObject({
      administratorAccountId: TEST_STACK.accountId,
      managedRegions: MANAGED_REGIONS,
      desiredMembersTable: cfn.resolve({ Ref: 'DesiredMembersTable' }),
      deadLetterQueueUrl: cfn.resolve({ Ref: 'DeadLetterQueue' }),
      requestQueueUrl: cfn.resolve({ Ref: 'RequestQueue' }),
      memberRole: { name: 'MacieMembershipAcceptor', externalId: 'macie-membership-reconciler' },
      pruneUnmanaged: false,
      invitation: { message: undefined, sendEmail: false },
      eventSource: SERVICE,
    });
    expect(environment.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(parseTelemetryConfig({ ...environment, AWS_LAMBDA_FUNCTION_NAME: String(fn(name).Properties!.FunctionName) })).toEqual({
      metricsNamespace: 'MacieMembershipReconciler',
      functionName: `${SERVICE}-${PACKAGE_STAGE}-${name}`,
    });
  });

  it('sets only variables that shared/config.ts (or Node and Powertools) read', async () => {
    const source = await readFile(`${PROJECT_ROOT}shared/config.ts`, 'utf8');
    const schema = source.slice(source.indexOf('const environmentSchema'), source.indexOf('export interface ServiceConfig'));
    const configKeys = new Set([...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((match) => match[1]!));
    expect(configKeys).toContain('MEMBER_ROLE_EXTERNAL_ID');
    const known = new Set([...configKeys, 'NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL']);
    for (const name of FUNCTION_NAMES) {
      const unknown = Object.keys(environmentOf(name)).filter((key) => !known.has(key));
      expect(unknown, name).toEqual([]);
    }
  });

  it.each(FUNCTION_NAMES)('%s stops starting work early enough to finish within its timeout', (name) => {
    const timeoutMs = Number(fn(name).Properties!.Timeout) * 1000;
    const safetyMs = Number(environmentOf(name).DEADLINE_SAFETY_MS);
    expect(safetyMs).toBeGreaterThanOrEqual(20_000);
    // At least half of every invocation is working time, the rest is margin to record and report.
    expect(timeoutMs - safetyMs).toBeGreaterThanOrEqual(timeoutMs / 2);
  });

  it('gives the scheduled full reconciliation the longest timeout Lambda allows', () => {
    expect(fn('reconcile').Properties).toMatchObject({ Timeout: 900, MemorySize: 512 });
    expect(Number(environmentOf('reconcile').DEADLINE_SAFETY_MS)).toBe(120_000);
  });

  it('fans the scheduled run out to the worker over the work queue, which the worker re-queues remainders to', () => {
    const workQueueUrl = cfn.resolve({ Ref: 'WorkQueue' });
    expect(parseConfig({ ...environmentOf('reconcile'), AWS_REGION: TEST_STACK.region }).fanOut.workQueueUrl).toBe(workQueueUrl);
    expect(parseConfig({ ...environmentOf('worker'), AWS_REGION: TEST_STACK.region }).fanOut.workQueueUrl).toBe(workQueueUrl);
    // The event-driven functions reconcile their accounts themselves.
    for (const name of ['onboard', 'requests'] as const) expect(environmentOf(name)).not.toHaveProperty('WORK_QUEUE_URL');
  });

  it.each(FUNCTION_NAMES)('%s writes to its own log group, with a retention', (name) => {
    const logGroup = cfn.resource(`${LOGICAL[name]}LogGroup`);
    expect(logGroup.Properties).toEqual({ LogGroupName: `/aws/lambda/${SERVICE}-${PACKAGE_STAGE}-${name}`, RetentionInDays: 30 });
    expect(asList(fn(name).DependsOn)).toContain(`${LOGICAL[name]}LogGroup`);
  });
});

describe('outputs', () => {
  /** The outputs a stack deployed from this template would have, as DescribeStacks lists them. */
  const outputsOf = (reader: TemplateReader) =>
    Object.fromEntries(
      Object.entries(reader.template.Outputs ?? {})
        .filter(([, output]) => output.Condition === undefined || reader.condition(output.Condition))
        .map(([key, output]) => [key, String(reader.resolve(output.Value))]),
    );
  const configFromOutputs = (reader: TemplateReader) =>
    parseConfig(settingsFromStack({ name: 'stack', region: TEST_STACK.region, stack: { name: 'stack', status: 'CREATE_COMPLETE', outputs: outputsOf(reader) } }));
  const functionConfig = (reader: TemplateReader, name: FunctionName) => {
    const variables = reader.resolve((fn(name).Properties!.Environment as { Variables: unknown }).Variables) as Record<string, string>;
    // Each function has its own deadline margin, and the fan-out is the scheduled run's (an `apply`
    // works in one process): neither is a setting of the CLI's.
    const { deadlineSafetyMs: _, fanOut: __, ...config } = parseConfig({ ...variables, AWS_REGION: TEST_STACK.region });
    return config;
  };

  it('declare every output `--stack` reads, described', () => {
    const outputs = cfn.template.Outputs!;
    for (const { output } of STACK_OUTPUTS) {
      expect(outputs, output).toHaveProperty(output);
      expect(outputs[output]!.Description, output).toMatch(/\w/);
    }
    for (const queue of ['RequestDeadLetterQueueUrl', 'WorkQueueUrl', 'WorkDeadLetterQueueUrl']) expect(outputs, queue).toHaveProperty(queue);
    expect(outputs).toHaveProperty('FunctionRolePrefix');
  });

  it.each(FUNCTION_NAMES)('give `--stack` the configuration %s runs with', (name) => {
    expect(configFromOutputs(cfn)).toMatchObject(functionConfig(cfn, name));
  });

  it('carry the invitation message exactly when there is one (CloudFormation has no empty output)', () => {
    expect(outputsOf(cfn)).not.toHaveProperty('InvitationMessage');
    const withMessage = new TemplateReader(cfn.template, { ...TEST_STACK, parameters: { InvitationMessage: 'Welcome to Macie' } });
    expect(outputsOf(withMessage)).toMatchObject({ InvitationMessage: 'Welcome to Macie' });
    expect(configFromOutputs(withMessage).invitation.message).toBe('Welcome to Macie');
    for (const name of FUNCTION_NAMES) expect(configFromOutputs(withMessage)).toMatchObject(functionConfig(withMessage, name));
  });
});

describe('triggers', () => {
  const targetsOf = (id: string) => (cfn.resource(id).Properties!.Targets as Array<{ Arn: unknown }>).map((target) => target.Arn);
  const rules = () => cfn.resourcesOfType('AWS::Events::Rule');

  it('runs reconcile on the schedule parameter (rate(1 hour) by default)', () => {
    const scheduled = rules().filter(([, rule]) => rule.Properties!.ScheduleExpression !== undefined);
    expect(scheduled).toHaveLength(1);
    const [id, rule] = scheduled[0]!;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
    expect(targetsOf(id)).toEqual([{ 'Fn::GetAtt': ['ReconcileLambdaFunction', 'Arn'] }]);
  });

  it('sends Organizations, Control Tower and the project events to onboard', () => {
    const patterns = rules()
      .filter(([, rule]) => rule.Properties!.EventPattern !== undefined)
      .map(([id, rule]) => {
        expect(targetsOf(id)).toEqual([{ 'Fn::GetAtt': ['OnboardLambdaFunction', 'Arn'] }]);
        return rule.Properties!.EventPattern;
      });
    expect(patterns).toEqual(
      expect.arrayContaining([
        {
          source: ['aws.organizations'],
          'detail-type': ['AWS Service Event via CloudTrail'],
          detail: { eventName: ['CreateAccountResult'] },
        },
        {
          source: ['aws.organizations'],
          'detail-type': ['AWS API Call via CloudTrail'],
          detail: {
            eventSource: ['organizations.amazonaws.com'],
            eventName: ['AcceptHandshake', 'RemoveAccountFromOrganization', 'LeaveOrganization', 'CloseAccount'],
          },
        },
        {
          source: ['aws.controltower'],
          'detail-type': ['AWS Service Event via CloudTrail'],
          detail: { eventName: ['CreateManagedAccount'] },
        },
        {
          source: [environmentOf('onboard').EVENT_SOURCE],
          'detail-type': ['Member Enrollment Requested', 'Member Removal Requested'],
        },
      ]),
    );
    expect(patterns).toHaveLength(4);
  });

  it('sends an onboarding event that still fails after Lambda retries it to the dead-letter queue', () => {
    const configs = cfn.resourcesOfType('AWS::Lambda::EventInvokeConfig').map(([, config]) => config.Properties!);
    expect(configs).toEqual([
      expect.objectContaining({
        FunctionName: { Ref: 'OnboardLambdaFunction' },
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } } },
      }),
    ]);
  });

  it('lets EventBridge invoke each target function and nothing else', () => {
    const permissions = cfn.resourcesOfType('AWS::Lambda::Permission').map(([, permission]) => permission.Properties!);
    expect(permissions).toHaveLength(5);
    for (const permission of permissions) {
      expect(permission).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' });
    }
  });

  const mappingOf = (queue: string) => {
    const mappings = cfn.resourcesOfType('AWS::Lambda::EventSourceMapping').filter(([, mapping]) => (mapping.Properties!.EventSourceArn as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt']?.[0] === queue);
    expect(mappings).toHaveLength(1);
    return mappings[0]![1];
  };

  it('maps exactly the request and work queues to functions', () => {
    expect(cfn.resourcesOfType('AWS::Lambda::EventSourceMapping')).toHaveLength(2);
  });

  it('feeds the request queue to requests with partial batch failures', () => {
    expect(mappingOf('RequestQueue').Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['RequestQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['RequestsLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      Enabled: true,
    });
  });

  it('hides a request from other consumers for at least six times the requests timeout', () => {
    const visibility = Number(cfn.resource('RequestQueue').Properties!.VisibilityTimeout);
    expect(visibility).toBeGreaterThanOrEqual(6 * Number(fn('requests').Properties!.Timeout));
  });

  it('feeds the work queue to the worker one unit per invocation, with partial batch failures and a bounded concurrency', () => {
    expect(mappingOf('WorkQueue').Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['WorkerLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 20 },
      Enabled: true,
    });
    expect(fn('worker').Properties).toMatchObject({ MemorySize: 512, Timeout: 300 });
  });

  it('hides a work unit from other workers for at least six times the worker timeout', () => {
    const visibility = Number(cfn.resource('WorkQueue').Properties!.VisibilityTimeout);
    expect(visibility).toBeGreaterThanOrEqual(6 * Number(fn('worker').Properties!.Timeout));
  });
});

describe('the desired-membership table', () => {
  const table = () => cfn.resource('DesiredMembersTable');

  it('is keyed by the account id, on demand, encrypted, with point-in-time recovery', () => {
    expect(table().Properties).toMatchObject({
      TableName: `${SERVICE}-${PACKAGE_STAGE}-desired-members`,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'accountId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'accountId', KeyType: 'HASH' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('has deletion protection exactly in the prod stage', async () => {
    expect(table().Properties!.DeletionProtectionEnabled).toBe(false);
    const serverlessYml = load(await readFile(`${PROJECT_ROOT}serverless.yml`, 'utf8')) as { params: Record<string, Record<string, unknown>> };
    expect(serverlessYml.params.default).toMatchObject({ tableDeletionProtection: false });
    expect(serverlessYml.params.prod).toMatchObject({ tableDeletionProtection: true });
  });

  it('is deleted with a dev stack, and retained by the prod stage', async () => {
    expect(table()).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    const serverlessYml = load(await readFile(`${PROJECT_ROOT}serverless.yml`, 'utf8')) as { params: Record<string, Record<string, unknown>> };
    expect(serverlessYml.params.prod).toMatchObject({ tableDeletionPolicy: 'Retain' });
  });
});

describe('queues', () => {
  const queue = (id: string) => cfn.resource(id).Properties!;

  it.each(['RequestQueue', 'RequestDeadLetterQueue', 'DeadLetterQueue', 'WorkQueue', 'WorkDeadLetterQueue'])('%s is encrypted at rest', (id) => {
    expect(queue(id).SqsManagedSseEnabled).toBe(true);
  });

  it('redrives a request that fails five times to its own dead-letter queue', () => {
    expect(queue('RequestQueue').RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['RequestDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(cfn.resolve(queue('RequestDeadLetterQueue').RedriveAllowPolicy)).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [cfn.resolve({ 'Fn::GetAtt': ['RequestQueue', 'Arn'] })],
    });
  });

  it('queues work units FIFO, per region (message group), with deduplication and throughput per group', () => {
    expect(queue('WorkQueue')).toMatchObject({
      QueueName: `${SERVICE}-${PACKAGE_STAGE}-work.fifo`,
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
    });
    expect(queue('WorkDeadLetterQueue')).toMatchObject({ QueueName: `${SERVICE}-${PACKAGE_STAGE}-work-dlq.fifo`, FifoQueue: true });
    // What shared/config.ts requires of WORK_QUEUE_URL.
    expect(String(cfn.resolve({ Ref: 'WorkQueue' }))).toMatch(/\.fifo$/);
  });

  it('redrives a work unit whose worker fails five times to its own dead-letter queue', () => {
    expect(queue('WorkQueue').RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['WorkDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(cfn.resolve(queue('WorkDeadLetterQueue').RedriveAllowPolicy)).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [cfn.resolve({ 'Fn::GetAtt': ['WorkQueue', 'Arn'] })],
    });
  });

  it.each(['RequestDeadLetterQueue', 'DeadLetterQueue', 'WorkDeadLetterQueue'])('%s keeps messages for 14 days', (id) => {
    expect(queue(id).MessageRetentionPeriod).toBe(FOURTEEN_DAYS);
  });

  it('keeps dead letters longer than requests, so a redriven request cannot expire in its DLQ first', () => {
    expect(Number(queue('RequestQueue').MessageRetentionPeriod)).toBeLessThan(FOURTEEN_DAYS);
  });
});

const alarms = () => cfn.resourcesOfType('AWS::CloudWatch::Alarm');
const NAMESPACE = 'MacieMembershipReconciler';
const functionName = (name: FunctionName) => `${SERVICE}-${PACKAGE_STAGE}-${name}`;

describe('alarms', () => {
  const alarmsOn = (namespace: string) => alarms().filter(([, alarm]) => alarm.Properties!.Namespace === namespace);

  it('watches the depth of the dead-letter queues', () => {
    const watched = alarmsOn('AWS/SQS').map(([, alarm]) => {
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
      });
      const [dimension] = alarm.Properties!.Dimensions as Array<{ Name: string; Value: unknown }>;
      expect(dimension!.Name).toBe('QueueName');
      return cfn.resolve(dimension!.Value);
    });
    expect(watched.sort()).toEqual([
      `${SERVICE}-${PACKAGE_STAGE}-dead-letters`,
      `${SERVICE}-${PACKAGE_STAGE}-requests-dlq`,
      `${SERVICE}-${PACKAGE_STAGE}-work-dlq.fifo`,
    ]);
  });

  it.each(FUNCTION_NAMES)("watches the %s function's errors and throttles", (name) => {
    const watched = alarmsOn('AWS/Lambda')
      .map(([, alarm]) => cfn.resolve(alarm.Properties) as Record<string, unknown>)
      .filter((alarm) => (alarm.Dimensions as Array<{ Value: unknown }>)[0]!.Value === functionName(name));
    expect(watched.map((alarm) => alarm.MetricName).sort()).toEqual(['Errors', 'Throttles']);
    for (const alarm of watched) {
      expect(alarm).toMatchObject({
        Dimensions: [{ Name: 'FunctionName', Value: functionName(name) }],
        Statistic: 'Sum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  /** The dimensions a function's metrics carry in Lambda (shared/powertools.ts, configured as the template configures it). */
  const emittedDimensions = (name: FunctionName) => {
    const telemetry = parseTelemetryConfig({ ...environmentOf(name), AWS_LAMBDA_FUNCTION_NAME: String(fn(name).Properties!.FunctionName) });
    expect(telemetry.metricsNamespace).toBe(NAMESPACE);
    return [
      { Name: 'service', Value: serviceName },
      { Name: 'function', Value: telemetry.functionName },
    ];
  };

  // The worker reports per unit what it did (shared/lambda/runtime.ts reportUnitWithPowertools);
  // which regions or accounts Macie would not list is the planner's, in reconcile.
  const ALL: readonly FunctionName[] = FUNCTION_NAMES;
  const NOT_WORKER: readonly FunctionName[] = ['reconcile', 'onboard', 'requests'];
  it.each([
    ['FailuresNew', 'account-regions-failing', ALL],
    ['Unobserved', 'memberships-unobserved', NOT_WORKER],
    ['DeadLettersUnsent', 'dead-letters-unsent', ALL],
  ] as const)("alarms on any %s, summed over the emitting functions' own metrics", (metricName, alarmName, emitters) => {
    const [alarm, ...others] = alarms()
      .map(([, candidate]) => cfn.resolve(candidate.Properties) as { AlarmName: string; Metrics?: Array<Record<string, unknown>> })
      .filter((candidate) => candidate.Metrics?.some((query) => (query.MetricStat as { Metric: { MetricName: string } } | undefined)?.Metric.MetricName === metricName));
    expect(others).toEqual([]);
    expect(alarm).toMatchObject({ AlarmName: `${SERVICE}-${PACKAGE_STAGE}-${alarmName}`, ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, TreatMissingData: 'notBreaching' });
    const queries = alarm!.Metrics!;
    expect(queries.filter((query) => query.ReturnData)).toEqual([expect.objectContaining({ Expression: `SUM([${emitters.join(', ')}])` })]);
    expect(queries.filter((query) => !query.ReturnData)).toHaveLength(emitters.length);
    for (const name of emitters) {
      expect(queries).toContainEqual({
        Id: name,
        ReturnData: false,
        MetricStat: { Stat: 'Sum', Period: 300, Metric: { Namespace: NAMESPACE, MetricName: metricName, Dimensions: emittedDimensions(name) } },
      });
    }
  });

  it("alarms on the scheduled run's organization work failing: the table sync and autoEnable updates, from reconcile", () => {
    const [alarm, ...others] = alarms()
      .map(([, candidate]) => cfn.resolve(candidate.Properties) as { AlarmName: string; Metrics?: Array<Record<string, unknown>> })
      .filter((candidate) => candidate.Metrics?.some((query) => (query.MetricStat as { Metric: { MetricName: string } } | undefined)?.Metric.MetricName === 'SyncFailures'));
    expect(others).toEqual([]);
    expect(alarm).toMatchObject({ AlarmName: `${SERVICE}-${PACKAGE_STAGE}-organization-work-failing`, ComparisonOperator: 'GreaterThanThreshold', Threshold: 0 });
    const queries = alarm!.Metrics!;
    expect(queries.filter((query) => query.ReturnData)).toEqual([expect.objectContaining({ Expression: 'SUM([sync, settings])' })]);
    for (const [id, metricName] of [['sync', 'SyncFailures'], ['settings', 'OrganizationSettingsFailed']] as const) {
      expect(queries).toContainEqual({
        Id: id,
        ReturnData: false,
        MetricStat: { Stat: 'Sum', Period: 300, Metric: { Namespace: NAMESPACE, MetricName: metricName, Dimensions: emittedDimensions('reconcile') } },
      });
    }
  });

  it('alarms on metrics the functions emit', async () => {
    const runtime = await readFile(`${PROJECT_ROOT}shared/lambda/runtime.ts`, 'utf8');
    const emitted = new Set([...runtime.matchAll(/addMetric\('(\w+)'/g)].map((match) => match[1]));
    for (const metricName of ['FailuresNew', 'Unobserved', 'DeadLettersUnsent', 'SyncFailures', 'OrganizationSettingsFailed']) expect(emitted).toContain(metricName);
    // The worker's alarmed metrics come from its own reporter.
    const unitReporter = runtime.slice(runtime.indexOf('export function reportUnitWithPowertools'), runtime.indexOf('export function lambdaWorkerPorts'));
    const workerEmits = new Set([...unitReporter.matchAll(/addMetric\('(\w+)'/g)].map((match) => match[1]));
    for (const metricName of ['FailuresNew', 'DeadLettersUnsent']) expect(workerEmits).toContain(metricName);
    expect(workerEmits).not.toContain('Unobserved');
  });
});

describe('the dashboard', () => {
  type Widget = { properties: { title: string; region: string; metrics: unknown[][] } };
  const widgets = () => {
    const dashboards = cfn.resourcesOfType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const properties = cfn.resolve(dashboards[0]![1].Properties) as { DashboardName: string; DashboardBody: string };
    expect(properties.DashboardName).toBe(`${SERVICE}-${PACKAGE_STAGE}`);
    return (JSON.parse(properties.DashboardBody) as { widgets: Widget[] }).widgets;
  };

  it('shows runs, convergence, dead letters and throttling, in the stack region', () => {
    const titles = widgets().map((widget) => widget.properties.title.split(':')[0]);
    expect(titles).toEqual(['Runs', 'Convergence', 'Dead letters', 'Throttling and errors per function']);
    for (const widget of widgets()) expect(widget.properties.region).toBe(TEST_STACK.region);
  });

  it.each(FUNCTION_NAMES)("graphs the %s function's invocations, throttles and errors", (name) => {
    const lambdaMetrics = widgets()
      .flatMap((widget) => widget.properties.metrics)
      .filter((row) => row[0] === 'AWS/Lambda' && row[3] === functionName(name))
      .map((row) => row[1]);
    expect(lambdaMetrics.sort()).toEqual(['Errors', 'Invocations', 'Throttles']);
  });

  it("graphs the service's metrics with the dimensions they are emitted with, and the stack's functions and queues", async () => {
    const runtime = await readFile(`${PROJECT_ROOT}shared/lambda/runtime.ts`, 'utf8');
    const emitted = new Set([...runtime.matchAll(/addMetric\('(\w+)'/g)].map((match) => match[1]));
    const functions = new Set(FUNCTION_NAMES.map(functionName));
    const queues = new Set(['DeadLetterQueue', 'RequestDeadLetterQueue', 'WorkDeadLetterQueue'].map((id) => cfn.resolve({ 'Fn::GetAtt': [id, 'QueueName'] })));
    const graphed = widgets().flatMap((widget) => widget.properties.metrics);
    expect(graphed.length).toBeGreaterThan(0);
    for (const row of graphed) {
      const [namespace, metricName, ...rest] = row as string[];
      const dimensions = rest.filter((item) => typeof item === 'string');
      if (namespace === NAMESPACE) {
        expect(emitted, metricName).toContain(metricName);
        expect(dimensions.slice(0, 3)).toEqual(['service', serviceName, 'function']);
        expect(functions).toContain(dimensions[3]);
      } else if (namespace === 'AWS/Lambda') {
        expect(dimensions[0]).toBe('FunctionName');
        expect(functions).toContain(dimensions[1]);
      } else {
        expect(namespace).toBe('AWS/SQS');
        expect(queues).toContain(dimensions[1]);
      }
    }
  });

  it('notifies the alarm topic parameter, and nobody when it is empty', () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:security-alerts';
    const withTopic = new TemplateReader(cfn.template, { ...TEST_STACK, parameters: { AlarmTopicArn: topic } });
    expect(cfn.template.Parameters!.AlarmTopicArn).toMatchObject({ Type: 'String', Default: '' });
    for (const [, alarm] of alarms()) {
      for (const key of ['AlarmActions', 'OKActions']) {
        expect(alarm.Properties![key]).toEqual({ 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] });
      }
      // Packaged with the default (empty) topic: the resolved alarm has no actions at all.
      const resolved = cfn.resolve(alarm.Properties) as Record<string, unknown>;
      expect(resolved).not.toHaveProperty('AlarmActions');
      expect(resolved).not.toHaveProperty('OKActions');
      expect(withTopic.resolve(alarm.Properties)).toMatchObject({ AlarmActions: [topic], OKActions: [topic] });
    }
  });
});

describe('IAM', () => {
  const MEMBER_ARN_PATTERN = `arn:aws:macie2:*:${TEST_STACK.accountId}:member/*`;
  const arn = (logicalId: string) => cfn.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] }) as string;

  /** Where each action the functions may call is allowed: the exact resources, or "*" where IAM knows no resource type. */
  const expectedResources = (name: FunctionName, action: string): string[] => {
    if (action.startsWith('logs:')) return [arn(`${LOGICAL[name]}LogGroup`)];
    if (action.startsWith('dynamodb:')) return [arn('DesiredMembersTable')];
    // Dead letters from every function; work units queued by the planner, remainders by the worker.
    if (action === 'sqs:SendMessage') return name === 'reconcile' || name === 'worker' ? [arn('DeadLetterQueue'), arn('WorkQueue')] : [arn('DeadLetterQueue')];
    // The event source mappings poll with the function role.
    if (action.startsWith('sqs:')) return [arn(name === 'worker' ? 'WorkQueue' : 'RequestQueue')];
    if (action === 'sts:AssumeRole') return ['arn:aws:iam::*:role/MacieMembershipAcceptor'];
    if (action === 'organizations:DescribeAccount') return ['arn:aws:organizations::*:account/o-*/*'];
    // These have no resource type in IAM.
    const typeless = [
      'macie2:ListMembers',
      'macie2:CreateInvitations',
      'macie2:UpdateMemberSession',
      'macie2:DescribeOrganizationConfiguration',
      'macie2:UpdateOrganizationConfiguration',
      'organizations:ListAccounts',
      'organizations:DescribeOrganization',
    ];
    if (typeless.includes(action)) return ['*'];
    if (action.startsWith('macie2:')) return [MEMBER_ARN_PATTERN];
    throw new Error(`no expectation for ${action}`);
  };

  it('grants no wildcard action anywhere; the only wildcard denies non-TLS access to the deployment bucket', () => {
    const wildcards: Array<{ where: string; statement: PolicyStatement }> = [];
    for (const { where, statement } of cfn.allStatements()) {
      expect(statement, where).not.toHaveProperty('NotAction');
      if (statement.Effect === 'Allow') expect(statement, where).not.toHaveProperty('NotResource');
      const actions = asList(cfn.resolve(statement.Action) as string | string[]);
      expect(actions.length, where).toBeGreaterThan(0);
      if (actions.some((action) => action.includes('*'))) wildcards.push({ where, statement });
    }
    // osls's own bucket policy: the "deny s3:* unless aws:SecureTransport" form AWS Config and
    // Security Hub (S3.5) look for. It takes rights away; it grants nothing.
    expect(wildcards.map(({ where }) => where)).toEqual(['Resources.ServerlessDeploymentBucketPolicy.Properties.PolicyDocument.Statement[0]']);
    expect(wildcards[0]!.statement).toMatchObject({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': false } } });
  });

  it.each(FUNCTION_NAMES)('the %s role can be assumed by Lambda only', (name) => {
    const trust = cfn.resolve(cfn.resource(`${LOGICAL[name]}Role`).Properties!.AssumeRolePolicyDocument);
    expect(trust).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
  });

  it.each(FUNCTION_NAMES)('the %s role allows each action on exactly the resources it touches', (name) => {
    const statements = cfn.roleStatements(`${LOGICAL[name]}Role`);
    const actions = new Set(statements.flatMap((statement) => asList(statement.Action)));
    for (const action of actions) {
      const resources = statements
        .filter((statement) => statement.Effect === 'Allow' && asList(statement.Action).includes(action))
        .flatMap((statement) => asList(statement.Resource));
      expect(resources, action).toEqual(expectedResources(name, action));
    }
  });

  const assumeStatements = (reader: TemplateReader, name: FunctionName) =>
    reader.roleStatements(`${LOGICAL[name]}Role`).filter((statement) => asList(statement.Action).includes('sts:AssumeRole'));

  it.each(FUNCTION_NAMES)("the %s role may assume member roles only in the organization's accounts, when organizationId is set", (name) => {
    expect(cfn.template.Parameters!.OrganizationId).toMatchObject({ Type: 'String', Default: '' });
    // Packaged with the default (empty) organization: no condition, any account's role of that name.
    expect(assumeStatements(cfn, name)).toEqual([expect.not.objectContaining({ Condition: expect.anything() })]);
    const inOrganization = new TemplateReader(cfn.template, { ...TEST_STACK, parameters: { OrganizationId: 'o-a1b2c3d4e5' } });
    expect(assumeStatements(inOrganization, name)).toEqual([
      {
        Sid: 'AssumeMemberRole',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Resource: 'arn:aws:iam::*:role/MacieMembershipAcceptor',
        Condition: { StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } },
      },
    ]);
  });

  it.each(FUNCTION_NAMES)('the %s role may call Macie only in the managed regions', (name) => {
    for (const statement of cfn.roleStatements(`${LOGICAL[name]}Role`)) {
      const macie = asList(statement.Action).some((action) => action.startsWith('macie2:'));
      const anyResource = asList(statement.Resource).includes('*');
      // Organizations is global: its calls go to one region whatever the managed ones are.
      const organizationsOnly = asList(statement.Action).every((action) => action.startsWith('organizations:'));
      if ((!macie && !anyResource) || organizationsOnly) continue;
      expect(statement.Condition, statement.Sid).toEqual({ StringEquals: { 'aws:RequestedRegion': MANAGED_REGIONS } });
    }
  });
});
