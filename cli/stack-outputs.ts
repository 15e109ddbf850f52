/**
 * Reads a deployed stack with CloudFormation `DescribeStacks`, for `--stack`: translation only
 * (what the stack means to the CLI is cli/stack-config.ts). The CLI's alone: no Lambda function
 * imports it, so the CloudFormation client stays out of their bundles.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { DeployedStack } from '#cli/stack-config';
import { awsClientOptions } from '#shared/aws/client-options';
import { toAwsCallError } from '#shared/errors';

export class CloudFormationStacks {
  private readonly client: CloudFormationClient;

  /** `region` undefined: the SDK's own (AWS_REGION, else the profile's region). */
  constructor(options: { region: string | undefined; maxAttempts: number }) {
    this.client = new CloudFormationClient(awsClientOptions(options));
  }

  /** The region the stack is looked up in, or undefined when nothing names one. */
  async region(): Promise<string | undefined> {
    try {
      return await this.client.config.region();
    } catch (error) {
      // The SDK's region chain ends in this plain Error when neither the environment nor the profile has a region.
      if (error instanceof Error && error.message === 'Region is missing') return undefined;
      throw error;
    }
  }

  /** The stack of that name (or stack ID), or undefined when CloudFormation knows none. */
  async describe(name: string): Promise<DeployedStack | undefined> {
    try {
      const { Stacks: stacks = [] } = await this.client.send(new DescribeStacksCommand({ StackName: name }));
      const stack = stacks[0];
      if (!stack) return undefined;
      const outputs = (stack.Outputs ?? []).flatMap(({ OutputKey: key, OutputValue: value }) => (key && value !== undefined ? [[key, value] as const] : []));
      return {
        name: stack.StackName ?? name,
        // The model requires a status; an answer without one is no usable stack either.
        status: stack.StackStatus ?? 'UNKNOWN',
        ...(stack.StackStatusReason ? { statusReason: stack.StackStatusReason } : {}),
        outputs: Object.fromEntries(outputs),
      };
    } catch (error) {
      if (isNoSuchStack(error)) return undefined;
      throw toAwsCallError('DescribeStacks', error);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

// CloudFormation has no "not found" error code: an unknown stack is a 400 ValidationError
// "Stack with id NAME does not exist".
function isNoSuchStack(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationError' && / does not exist$/.test(error.message);
}
