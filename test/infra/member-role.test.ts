import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#shared/config';
import { allowedActions, asList, TemplateReader, type CloudFormationTemplate } from './support/cloudformation';
import { FUNCTION_NAMES, PROJECT_ROOT, packageService } from './support/packaged-service';

/** infra/member-role.yml: the role the reconciler assumes in every member account. */

const ADMINISTRATOR = '111111111111';
const MEMBER = '222222222222';
const STACK_PARAMETERS = {
  AdministratorAccountId: ADMINISTRATOR,
  ReconcilerRolePrefix: 'macie-membership-reconciler-dev',
  ExternalId: 'an-external-id',
  ManagedRegions: 'us-east-1,eu-west-1',
};

let memberTemplate: CloudFormationTemplate;
let member: TemplateReader;
let reconciler: TemplateReader;

beforeAll(async () => {
  memberTemplate = load(await readFile(`${PROJECT_ROOT}infra/member-role.yml`, 'utf8')) as CloudFormationTemplate;
  member = new TemplateReader(memberTemplate, { accountId: MEMBER, region: 'us-east-1', partition: 'aws', parameters: STACK_PARAMETERS });
  reconciler = new TemplateReader((await packageService()).template, { accountId: ADMINISTRATOR, region: 'us-east-1', partition: 'aws' });
}, 180_000);

const role = () => member.resource('MemberRole');

describe('member-account role', () => {
  it('takes the administrator account, the reconciler role prefix, its own name and the ExternalId as parameters', () => {
    expect(Object.keys(memberTemplate.Parameters ?? {}).sort()).toEqual(['AdministratorAccountId', 'ExternalId', 'ManagedRegions', 'ReconcilerRolePrefix', 'RoleName']);
    expect(memberTemplate.Parameters!.RoleName!.Default).toBe('MacieMembershipAcceptor');
  });

  it("is named as the service expects by default (MEMBER_ROLE_NAME's default)", () => {
    const config = parseConfig({
      MACIE_ADMINISTRATOR_ACCOUNT_ID: ADMINISTRATOR,
      MANAGED_REGIONS: 'us-east-1',
      DESIRED_MEMBERS_TABLE: 'table',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111111111111/dlq',
      MEMBER_ROLE_EXTERNAL_ID: 'an-external-id',
    });
    expect(member.resolve(role().Properties!.RoleName)).toBe(config.memberRole.name);
  });

  it("trusts exactly the reconciler's function roles, and only with the ExternalId", () => {
    const trust = member.resolve(role().Properties!.AssumeRolePolicyDocument) as { Statement: unknown[] };
    expect(trust.Statement).toEqual([
      {
        Sid: 'ReconcilerFunctionsOnly',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ADMINISTRATOR}:root` },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'sts:ExternalId': 'an-external-id' },
          ArnEquals: {
            'aws:PrincipalArn': FUNCTION_NAMES.map((name) => `arn:aws:iam::${ADMINISTRATOR}:role/macie-membership-reconciler-dev-${name}`),
          },
        },
      },
    ]);
  });

  it('trusts the very roles serverless.yml creates, when given its FunctionRolePrefix output', () => {
    const prefix = reconciler.resolve(reconciler.template.Outputs!.FunctionRolePrefix!.Value);
    expect(prefix).toBe(STACK_PARAMETERS.ReconcilerRolePrefix);
    const functionRoles = reconciler.resourcesOfType('AWS::IAM::Role').map(([id]) => reconciler.resolve({ 'Fn::GetAtt': [id, 'Arn'] }));
    const trust = member.resolve(role().Properties!.AssumeRolePolicyDocument) as {
      Statement: Array<{ Condition: { ArnEquals: { 'aws:PrincipalArn': string[] } } }>;
    };
    expect([...trust.Statement[0]!.Condition.ArnEquals['aws:PrincipalArn']].sort()).toEqual([...functionRoles].sort());
  });

  it('lets the reconciler assume it for the one-hour sessions it asks for', () => {
    expect(Number(role().Properties!.MaxSessionDuration)).toBeGreaterThanOrEqual(3600);
  });

  it('allows the acceptance path and the Macie service-linked role, nothing else', () => {
    const statements = member.roleStatements('MemberRole');
    expect(allowedActions(statements)).toEqual(
      new Set(['macie2:EnableMacie', 'macie2:ListInvitations', 'macie2:AcceptInvitation', 'macie2:GetAdministratorAccount', 'iam:CreateServiceLinkedRole']),
    );
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      for (const action of asList(statement.Action)) expect(action).not.toContain('*');
    }
  });

  it('may call Macie only in the managed regions (its ManagedRegions parameter)', () => {
    expect(memberTemplate.Parameters!.ManagedRegions).toMatchObject({ Type: 'CommaDelimitedList' });
    expect(memberTemplate.Parameters!.ManagedRegions).not.toHaveProperty('Default');
    const macie = member.roleStatements('MemberRole').filter((statement) => asList(statement.Action).some((action) => action.startsWith('macie2:')));
    expect(macie).toHaveLength(1);
    expect(macie[0]!.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } });
  });

  it("is given the reconciler's own managed regions", () => {
    const environment = (reconciler.resolve(reconciler.resource('ReconcileLambdaFunction').Properties!.Environment) as { Variables: Record<string, string> }).Variables;
    expect(environment.MANAGED_REGIONS).toBe(STACK_PARAMETERS.ManagedRegions);
  });

  it('may create only the Macie service-linked role', () => {
    const [statement] = member.roleStatements('MemberRole').filter((candidate) => asList(candidate.Action).includes('iam:CreateServiceLinkedRole'));
    expect(statement).toEqual({
      Sid: 'MacieServiceLinkedRole',
      Effect: 'Allow',
      Action: 'iam:CreateServiceLinkedRole',
      Resource: `arn:aws:iam::${MEMBER}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`,
      Condition: { StringEquals: { 'iam:AWSServiceName': 'macie.amazonaws.com' } },
    });
  });

  it('has no statement with a wildcard action', () => {
    for (const { where, statement } of member.allStatements()) {
      expect(statement, where).not.toHaveProperty('NotAction');
      for (const action of asList(statement.Action)) expect(action, where).not.toContain('*');
    }
  });
});
