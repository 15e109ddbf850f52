/**
 * Just enough of CloudFormation to read the templates in tests: resolve the intrinsic functions
 * they use (Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Split, Fn::Join, conditions) against a made-up
 * account and region, and read IAM policy statements out of them.
 */

export interface CloudFormationResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Condition?: string;
}

export interface CloudFormationTemplate {
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CloudFormationResource>;
  Outputs?: Record<string, { Value: unknown; Condition?: string; Description?: string }>;
}

export interface StackContext {
  accountId: string;
  region: string;
  partition: string;
  /** Values for the template's Parameters (stack parameters, e.g. of infra/member-role.yml). */
  parameters?: Record<string, string>;
}

export const TEST_STACK: StackContext = { accountId: '123456789012', region: 'us-east-1', partition: 'aws' };

/** What `{ Ref: AWS::NoValue }` resolves to: removed from the enclosing object or list. */
const NO_VALUE = Symbol('AWS::NoValue');

export class TemplateReader {
  constructor(
    readonly template: CloudFormationTemplate,
    private readonly stack: StackContext = TEST_STACK,
  ) {}

  resource(logicalId: string): CloudFormationResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`template has no resource ${logicalId}`);
    return resource;
  }

  resourcesOfType(type: string): Array<[string, CloudFormationResource]> {
    return Object.entries(this.template.Resources).filter(([, resource]) => resource.Type === type);
  }

  /** The value with every intrinsic function resolved. */
  resolve(value: unknown): unknown {
    const resolved = this.resolveValue(value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  condition(name: string): boolean {
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`template has no condition ${name}`);
    return this.evaluateCondition(definition);
  }

  /** Every statement of every policy of an IAM role, resolved. */
  roleStatements(logicalId: string): PolicyStatement[] {
    const role = this.resource(logicalId);
    if (role.Type !== 'AWS::IAM::Role') throw new Error(`${logicalId} is a ${role.Type}, not an IAM role`);
    const policies = (role.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>;
    return policies.flatMap((policy) => policy.PolicyDocument.Statement.map((statement) => this.resolve(statement) as PolicyStatement));
  }

  /** Every IAM statement anywhere in the template: role policies, trust policies, resource policies. */
  allStatements(): Array<{ where: string; statement: PolicyStatement }> {
    const found: Array<{ where: string; statement: PolicyStatement }> = [];
    const visit = (value: unknown, where: string) => {
      if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${where}[${index}]`));
      else if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          if ((key === 'Statement' || key === 'statement') && Array.isArray(child)) {
            child.forEach((statement, index) => found.push({ where: `${where}.${key}[${index}]`, statement: statement as PolicyStatement }));
          }
          visit(child, `${where}.${key}`);
        }
      }
    };
    visit(this.template.Resources, 'Resources');
    return found;
  }

  private parameter(name: string): string | undefined {
    const given = this.stack.parameters?.[name];
    if (given !== undefined) return given;
    const declared = this.template.Parameters?.[name];
    return declared?.Default === undefined ? undefined : String(declared.Default);
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::AccountId':
        return this.stack.accountId;
      case 'AWS::Region':
        return this.stack.region;
      case 'AWS::Partition':
        return this.stack.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.parameter(name);
    if (parameter !== undefined) return this.template.Parameters?.[name]?.Type === 'CommaDelimitedList' ? parameter.split(',') : parameter;
    const resource = this.resource(name);
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return properties.TableName;
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.stack.region}.amazonaws.com/${this.stack.accountId}/${String(properties.QueueName)}`;
      case 'AWS::IAM::Role':
        return properties.RoleName;
      case 'AWS::Lambda::Function':
        return properties.FunctionName;
      default:
        return name;
    }
  }

  private getAtt(logicalId: string, attribute: string): unknown {
    const resource = this.resource(logicalId);
    const properties = resource.Properties ?? {};
    const { partition, region, accountId } = this.stack;
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:${partition}:dynamodb:${region}:${accountId}:table/${String(properties.TableName)}`;
      case 'AWS::SQS::Queue.Arn':
        return `arn:${partition}:sqs:${region}:${accountId}:${String(properties.QueueName)}`;
      case 'AWS::SQS::Queue.QueueName':
        return properties.QueueName;
      case 'AWS::IAM::Role.Arn':
        return `arn:${partition}:iam::${accountId}:role/${String(this.resolve(properties.RoleName))}`;
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:${partition}:logs:${region}:${accountId}:log-group:${String(properties.LogGroupName)}:*`;
      case 'AWS::Lambda::Function.Arn':
        return `arn:${partition}:lambda:${region}:${accountId}:function:${String(properties.FunctionName)}`;
      default:
        throw new Error(`cannot resolve Fn::GetAtt ${logicalId}.${attribute} (${resource.Type})`);
    }
  }

  private sub(template: string, variables: Record<string, unknown>): string {
    return template.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (name in variables) return String(this.resolve(variables[name]));
      const [logicalId, attribute] = name.split('.');
      return String(attribute ? this.getAtt(logicalId!, attribute) : this.ref(logicalId!));
    });
  }

  private evaluateCondition(definition: unknown): boolean {
    const node = definition as Record<string, unknown>;
    if ('Condition' in node) return this.condition(String(node.Condition));
    if ('Fn::Equals' in node) {
      const [left, right] = node['Fn::Equals'] as [unknown, unknown];
      return this.resolve(left) === this.resolve(right);
    }
    if ('Fn::Not' in node) return !this.evaluateCondition((node['Fn::Not'] as unknown[])[0]);
    if ('Fn::And' in node) return (node['Fn::And'] as unknown[]).every((item) => this.evaluateCondition(item));
    if ('Fn::Or' in node) return (node['Fn::Or'] as unknown[]).some((item) => this.evaluateCondition(item));
    throw new Error(`unsupported condition ${JSON.stringify(definition)}`);
  }

  private resolveValue(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolveValue(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const node = value as Record<string, unknown>;
    const keys = Object.keys(node);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const argument = node[key];
      switch (key) {
        case 'Ref':
          return this.ref(String(argument));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
          return this.getAtt(String(logicalId), String(attribute));
        }
        case 'Fn::Sub':
          return Array.isArray(argument)
            ? this.sub(String(argument[0]), argument[1] as Record<string, unknown>)
            : this.sub(String(argument), {});
        case 'Fn::If': {
          const [name, whenTrue, whenFalse] = argument as [string, unknown, unknown];
          return this.resolveValue(this.condition(name) ? whenTrue : whenFalse);
        }
        case 'Fn::Split': {
          const [delimiter, source] = argument as [string, unknown];
          return String(this.resolve(source)).split(delimiter);
        }
        case 'Fn::Join': {
          const [delimiter, parts] = argument as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).map(String).join(delimiter);
        }
        case 'Fn::Select': {
          const [index, list] = argument as [number, unknown];
          return (this.resolve(list) as unknown[])[Number(index)];
        }
      }
    }
    const resolved: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      const result = this.resolveValue(child);
      if (result !== NO_VALUE) resolved[key] = result;
    }
    return resolved;
  }
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** The actions the Allow statements grant, as written (wildcards are checked separately). */
export function allowedActions(statements: readonly PolicyStatement[]): Set<string> {
  return new Set(statements.filter((statement) => statement.Effect === 'Allow').flatMap((statement) => asList(statement.Action)));
}

/** IAM's glob: `*` any run of characters, `?` one character, case-sensitive like ARNs. */
export function iamGlobMatches(pattern: string, value: string): boolean {
  const expression = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${expression}$`).test(value);
}
