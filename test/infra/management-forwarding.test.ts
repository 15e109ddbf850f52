import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { allowedActions, asList, TemplateReader, TEST_STACK, type CloudFormationTemplate } from './support/cloudformation';
import { PROJECT_ROOT, packageService } from './support/packaged-service';

/**
 * infra/management-forwarding.yml: the management account's rules that forward the account events
 * to the administrator's bus, and the administrator's side of it in serverless.yml (the bus
 * permission). cfn-lint checks the template in CI (.ci/run, scripts/lint-templates.sh).
 */

const MANAGEMENT = '999999999999';
const ADMINISTRATOR = '111111111111';
const STACK_PARAMETERS = { AdministratorAccountId: ADMINISTRATOR, AdministratorRegion: 'eu-west-1' };
const ADMINISTRATOR_BUS = `arn:aws:events:eu-west-1:${ADMINISTRATOR}:event-bus/default`;

let source: string;
let forwarding: TemplateReader;
let reconciler: TemplateReader;

beforeAll(async () => {
  source = await readFile(`${PROJECT_ROOT}infra/management-forwarding.yml`, 'utf8');
  forwarding = new TemplateReader(load(source) as CloudFormationTemplate, { accountId: MANAGEMENT, region: 'us-east-1', partition: 'aws', parameters: STACK_PARAMETERS });
  reconciler = new TemplateReader((await packageService()).template);
}, 180_000);

type EventPattern = Record<string, unknown>;
type Rule = { EventPattern: EventPattern; State: string; Targets: Array<{ Arn: string; RoleArn: string }> };

const rules = () => forwarding.resourcesOfType('AWS::Events::Rule').map(([id, rule]) => [id, forwarding.resolve(rule.Properties) as Rule] as const);

/** EventBridge's matching, for the pattern forms these templates use: lists of values, nested objects. */
function matches(pattern: EventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) return expected.includes(actual);
    return actual !== null && typeof actual === 'object' && matches(expected as EventPattern, actual as Record<string, unknown>);
  });
}

const sampleEvent = async (name: string) => JSON.parse(await readFile(`${PROJECT_ROOT}events/${name}`, 'utf8')) as Record<string, unknown>;
const withEventName = (event: Record<string, unknown>, eventName: string, detailType: string) => ({
  ...event,
  'detail-type': detailType,
  detail: { ...(event.detail as object), eventName },
});

describe('the management account forwarding template', () => {
  it('takes the administrator account, region and bus as parameters, and names no account or region itself', () => {
    const template = load(source) as CloudFormationTemplate;
    expect(Object.keys(template.Parameters ?? {}).sort()).toEqual(['AdministratorAccountId', 'AdministratorEventBusName', 'AdministratorRegion']);
    expect(template.Parameters!.AdministratorEventBusName!.Default).toBe('default');
    // What the stack creates (the description tells where to deploy it, in words).
    const created = JSON.stringify({ resources: template.Resources, outputs: template.Outputs });
    expect(created).not.toMatch(/\d{12}/);
    expect(created).not.toMatch(/\b[a-z]{2}-(north|south|east|west|central|northeast|southeast)-\d\b/);
  });

  it('is a CloudFormation template, so scripts/lint-templates.sh runs cfn-lint on it', async () => {
    expect(source.startsWith("AWSTemplateFormatVersion: '2010-09-09'")).toBe(true);
    const script = await readFile(`${PROJECT_ROOT}scripts/lint-templates.sh`, 'utf8');
    expect(script).toContain("grep -q '^AWSTemplateFormatVersion:'");
    expect(await readFile(`${PROJECT_ROOT}.ci/run`, 'utf8')).toContain('scripts/lint-templates.sh');
  });

  it('forwards every event the onboard function listens for from AWS, as it is, to the administrator bus', async () => {
    const onboardPatterns = reconciler
      .resourcesOfType('AWS::Events::Rule')
      .map(([, rule]) => rule.Properties!)
      .filter((rule) => JSON.stringify(rule.Targets).includes('OnboardLambdaFunction'))
      .map((rule) => rule.EventPattern as EventPattern)
      .filter((pattern) => asList(pattern.source as string[]).every((name) => name.startsWith('aws.')));
    expect(onboardPatterns).toHaveLength(3);
    const samples = [
      'organizations-create-account-result.json',
      'controltower-create-managed-account.json',
      'organizations-accept-handshake.json',
      'organizations-remove-account.json',
      'organizations-leave-organization.json',
      'organizations-close-account.json',
    ];
    for (const name of samples) {
      const event = await sampleEvent(name);
      // The sample is an event onboard acts on, and one forwarding rule sends it on.
      expect(onboardPatterns.some((pattern) => matches(pattern, event)), name).toBe(true);
      expect(rules().filter(([, rule]) => matches(rule.EventPattern, event)), name).toHaveLength(1);
    }
    for (const [id, rule] of rules()) {
      expect(rule.State, id).toBe('ENABLED');
      expect(rule.Targets, id).toEqual([expect.objectContaining({ Arn: ADMINISTRATOR_BUS, RoleArn: forwarding.resolve({ 'Fn::GetAtt': ['ForwardingRole', 'Arn'] }) })]);
      // No InputTransformer or Input: the event arrives unchanged, so serverless.yml's patterns match it.
      expect(Object.keys(rule.Targets[0]!).sort(), id).toEqual(['Arn', 'Id', 'RoleArn']);
    }
  });

  it.each([
    ['CreateAccountResult', 'AWS Service Event via CloudTrail'],
    ['AcceptHandshake', 'AWS API Call via CloudTrail'],
    ['RemoveAccountFromOrganization', 'AWS API Call via CloudTrail'],
    ['LeaveOrganization', 'AWS API Call via CloudTrail'],
    ['CloseAccount', 'AWS API Call via CloudTrail'],
  ])('forwards Organizations %s', async (eventName, detailType) => {
    const event = withEventName(await sampleEvent('organizations-create-account-result.json'), eventName, detailType);
    expect(rules().filter(([, rule]) => matches(rule.EventPattern, event)).map(([id]) => id)).toEqual(['OrganizationsAccountEventsRule']);
  });

  it('forwards no other Organizations or Control Tower event', async () => {
    const organizations = withEventName(await sampleEvent('organizations-create-account-result.json'), 'InviteAccountToOrganization', 'AWS API Call via CloudTrail');
    const controlTower = withEventName(await sampleEvent('controltower-create-managed-account.json'), 'UpdateLandingZone', 'AWS Service Event via CloudTrail');
    for (const event of [organizations, controlTower]) expect(rules().filter(([, rule]) => matches(rule.EventPattern, event))).toEqual([]);
  });

  it('gives EventBridge a role that may only put events on the administrator bus', () => {
    const role = forwarding.resource('ForwardingRole');
    // Unnamed: the stack goes to two regions of one account, and IAM names are global.
    expect(role.Properties).not.toHaveProperty('RoleName');
    expect(forwarding.resolve(role.Properties!.AssumeRolePolicyDocument)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': MANAGEMENT } },
        },
      ],
    });
    const statements = forwarding.roleStatements('ForwardingRole');
    expect(allowedActions(statements)).toEqual(new Set(['events:PutEvents']));
    expect(statements).toEqual([{ Sid: 'AdministratorBusOnly', Effect: 'Allow', Action: 'events:PutEvents', Resource: ADMINISTRATOR_BUS }]);
    expect(forwarding.resourcesOfType('AWS::IAM::Role')).toHaveLength(1);
  });
});

describe("the administrator's bus permission (serverless.yml)", () => {
  const policy = () => reconciler.resource('ManagementAccountEventsPolicy');

  it('is created only when the managementAccountId parameter is given', () => {
    expect(policy().Condition).toBe('HasManagementAccount');
    expect(reconciler.template.Parameters!.ManagementAccountId).toMatchObject({ Type: 'String', Default: '' });
    expect(reconciler.condition('HasManagementAccount')).toBe(false);
    const given = new TemplateReader(reconciler.template, { ...TEST_STACK, parameters: { ManagementAccountId: MANAGEMENT } });
    expect(given.condition('HasManagementAccount')).toBe(true);
  });

  it("lets the management account put only Organizations and Control Tower events on the reconciler's bus", () => {
    const given = new TemplateReader(reconciler.template, { ...TEST_STACK, parameters: { ManagementAccountId: MANAGEMENT } });
    expect(given.resolve(policy().Properties)).toMatchObject({
      EventBusName: 'default',
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${MANAGEMENT}:root` },
        Action: 'events:PutEvents',
        Resource: `arn:aws:events:${TEST_STACK.region}:${TEST_STACK.accountId}:event-bus/default`,
        Condition: { StringEquals: { 'events:source': ['aws.organizations', 'aws.controltower'] } },
      },
    });
  });

  it('is the bus the forwarding template targets, given the stack account and region', () => {
    const pointed = new TemplateReader(load(source) as CloudFormationTemplate, {
      accountId: MANAGEMENT,
      region: 'us-east-1',
      partition: 'aws',
      parameters: { AdministratorAccountId: TEST_STACK.accountId, AdministratorRegion: TEST_STACK.region },
    });
    const given = new TemplateReader(reconciler.template, { ...TEST_STACK, parameters: { ManagementAccountId: MANAGEMENT } });
    const bus = (given.resolve(policy().Properties) as { Statement: { Resource: string } }).Statement.Resource;
    for (const [, rule] of pointed.resourcesOfType('AWS::Events::Rule')) {
      expect((pointed.resolve(rule.Properties) as Rule).Targets[0]!.Arn).toBe(bus);
    }
  });
});
