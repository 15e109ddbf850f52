import { describe, expect, it } from 'vitest';
import { describeError } from '#cli/errors';
import { layerSettings, settingsFromStack, STACK_OUTPUTS, type DeployedStack } from '#cli/stack-config';
import { parseConfig } from '#shared/config';

/** The pure part of `--stack`: which output fills which setting, the precedence, and every refusal. */

const OUTPUTS: Record<string, string> = {
  HomeRegion: 'eu-west-1',
  AdministratorAccountId: '111111111111',
  ManagedRegions: 'eu-west-1,us-east-1',
  DesiredMembersTableName: 'macie-membership-reconciler-prod-desired-members',
  DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/macie-membership-reconciler-prod-dead-letters',
  RequestQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/macie-membership-reconciler-prod-requests',
  RequestDeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/macie-membership-reconciler-prod-requests-dlq',
  FunctionRolePrefix: 'macie-membership-reconciler-prod',
  MemberRoleName: 'MacieAcceptor',
  MemberRoleExternalId: 'prod-external-id',
  PruneUnmanaged: 'true',
  InvitationMessage: 'Welcome to Macie',
  SendInvitationEmail: 'true',
  EventSource: 'acme.macie',
  AdminConcurrency: '4',
  MemberConcurrency: '12',
  MembershipMode: 'auto',
  OrganizationAutoEnable: 'true',
  OrganizationSync: 'true',
  SyncExcludeAccounts: '222222222201,222222222202',
};

const stack = (changes: Partial<DeployedStack> = {}): DeployedStack => ({
  name: 'macie-membership-reconciler-prod',
  status: 'UPDATE_COMPLETE',
  outputs: OUTPUTS,
  ...changes,
});

const lookup = (found: DeployedStack | undefined) => ({ name: 'macie-membership-reconciler-prod', region: 'eu-west-1', stack: found });

/** What the operator reads: the message and its hints, as the CLI prints them. */
function refusal(found: DeployedStack | undefined): string {
  try {
    settingsFromStack(lookup(found));
  } catch (error) {
    return describeError(error).join('\n');
  }
  throw new Error('the stack was accepted');
}

describe('settingsFromStack', () => {
  it('fills every setting the deployment decides from its output', () => {
    expect(settingsFromStack(lookup(stack()))).toEqual({
      AWS_REGION: 'eu-west-1',
      MACIE_ADMINISTRATOR_ACCOUNT_ID: '111111111111',
      MANAGED_REGIONS: 'eu-west-1,us-east-1',
      DESIRED_MEMBERS_TABLE: 'macie-membership-reconciler-prod-desired-members',
      DEAD_LETTER_QUEUE_URL: OUTPUTS.DeadLetterQueueUrl,
      REQUEST_QUEUE_URL: OUTPUTS.RequestQueueUrl,
      MEMBER_ROLE_NAME: 'MacieAcceptor',
      MEMBER_ROLE_EXTERNAL_ID: 'prod-external-id',
      PRUNE_UNMANAGED: 'true',
      INVITATION_MESSAGE: 'Welcome to Macie',
      SEND_INVITATION_EMAIL: 'true',
      EVENT_SOURCE: 'acme.macie',
      ADMIN_CONCURRENCY: '4',
      MEMBER_CONCURRENCY: '12',
      MEMBERSHIP_MODE: 'auto',
      ORGANIZATION_AUTO_ENABLE: 'true',
      ORGANIZATION_SYNC: 'true',
      // No SyncIncludeAccounts output: the sync adds any account.
      SYNC_INCLUDE_ACCOUNTS: '',
      SYNC_EXCLUDE_ACCOUNTS: '222222222201,222222222202',
    });
  });

  it('gives settings that shared/config.ts accepts, the home region being the stack region', () => {
    const config = parseConfig(settingsFromStack(lookup(stack())));
    expect(config).toMatchObject({
      homeRegion: 'eu-west-1',
      managedRegions: ['eu-west-1', 'us-east-1'],
      memberRole: { name: 'MacieAcceptor', externalId: 'prod-external-id' },
      pruneUnmanaged: true,
      invitation: { message: 'Welcome to Macie', sendEmail: true },
      concurrency: { administratorCallsPerRegion: 4, memberAccounts: 12 },
      membershipMode: 'auto',
      organizationAutoEnable: true,
      organizationSync: { enabled: true, includeAccounts: [], excludeAccounts: ['222222222201', '222222222202'] },
    });
  });

  it('reads a stack without an InvitationMessage output as "no message", over any INVITATION_MESSAGE of the environment', () => {
    const { InvitationMessage: _, ...withoutMessage } = OUTPUTS;
    const settings = settingsFromStack(lookup(stack({ outputs: withoutMessage })));
    expect(settings.INVITATION_MESSAGE).toBe('');
    const layered = layerSettings({ environment: { INVITATION_MESSAGE: 'From my shell' }, stack: settings, flags: {} });
    expect(parseConfig(layered).invitation.message).toBeUndefined();
  });

  it.each(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE'])(
    'uses a stack that is %s',
    (status) => {
      expect(settingsFromStack(lookup(stack({ status }))).DESIRED_MEMBERS_TABLE).toBe(OUTPUTS.DesiredMembersTableName);
    },
  );

  it('names the stack and the region when the stack does not exist', () => {
    expect(refusal(undefined)).toBe(
      [
        'macie-members: stack "macie-membership-reconciler-prod" does not exist in eu-west-1.',
        '  Check the name (osls deploy names the stack macie-membership-reconciler-STAGE (e.g. macie-membership-reconciler-prod)) ' +
          "and the region (--region, else AWS_REGION, else the profile's region).",
      ].join('\n'),
    );
  });

  it.each(['UPDATE_ROLLBACK_FAILED', 'UPDATE_ROLLBACK_IN_PROGRESS', 'ROLLBACK_COMPLETE', 'ROLLBACK_IN_PROGRESS', 'CREATE_FAILED', 'DELETE_IN_PROGRESS', 'DELETE_FAILED'])(
    'refuses a stack that is %s',
    (status) => {
      expect(refusal(stack({ status }))).toBe(
        [
          `macie-members: stack "macie-membership-reconciler-prod" in eu-west-1 is ${status}: its outputs cannot be trusted.`,
          "  Repair or redeploy the stack first (the stack's events in CloudFormation say what failed), then run the command again.",
        ].join('\n'),
      );
    },
  );

  it("says why a failed stack failed, when CloudFormation does", () => {
    expect(refusal(stack({ status: 'UPDATE_ROLLBACK_FAILED', statusReason: 'The following resource(s) failed to update: [RequestQueue].' }))).toContain(
      'is UPDATE_ROLLBACK_FAILED (The following resource(s) failed to update: [RequestQueue].): its outputs cannot be trusted.',
    );
  });

  it.each(['CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'REVIEW_IN_PROGRESS'])('asks to wait for a stack that is %s', (status) => {
    expect(refusal(stack({ status }))).toBe(
      [
        `macie-members: stack "macie-membership-reconciler-prod" in eu-west-1 is ${status}: its outputs may change until the deployment ends.`,
        '  Run the command again once the deployment has finished.',
      ].join('\n'),
    );
  });

  it('names each missing output and the release that declares it', () => {
    const { ManagedRegions: _regions, MemberRoleExternalId: _externalId, ...older } = OUTPUTS;
    expect(refusal(stack({ outputs: older }))).toBe(
      [
        'macie-members: stack "macie-membership-reconciler-prod" in eu-west-1 has no outputs ManagedRegions, MemberRoleExternalId: ' +
          '--stack needs a stack deployed from macie-membership-reconciler 0.1.0 or later.',
        '  Redeploy it from 0.1.0 or later (its serverless.yml declares these outputs), or leave out --stack and set the environment variables.',
      ].join('\n'),
    );
    const { EventSource: _eventSource, ...withoutOne } = OUTPUTS;
    expect(refusal(stack({ outputs: withoutOne }))).toContain('has no output EventSource: --stack needs');
  });

  it('asks whether a stack with none of the outputs is the right stack', () => {
    const message = refusal(stack({ name: 'network-prod', outputs: { VpcId: 'vpc-1' } }));
    expect(message).toContain(`has no outputs ${STACK_OUTPUTS.filter((entry) => entry.whenAbsent === undefined).map((entry) => entry.output).join(', ')}:`);
    expect(message).toContain('  It has none of the outputs the CLI reads: is it a macie-membership-reconciler stack? osls deploy names the stack');
  });
});

describe('layerSettings', () => {
  it('takes explicit flags over the stack outputs over the environment', () => {
    const layered = layerSettings({
      environment: { AWS_REGION: 'us-west-2', DESIRED_MEMBERS_TABLE: 'from-env', ACCEPT_POLL_ATTEMPTS: '5' },
      stack: { AWS_REGION: 'eu-west-1', DESIRED_MEMBERS_TABLE: 'from-stack' },
      flags: { AWS_REGION: 'eu-central-1' },
    });
    expect(layered).toEqual({ AWS_REGION: 'eu-central-1', DESIRED_MEMBERS_TABLE: 'from-stack', ACCEPT_POLL_ATTEMPTS: '5' });
  });

  it('lets an undefined flag or output leave the layer below it visible', () => {
    expect(layerSettings({ environment: { AWS_REGION: 'us-west-2' }, stack: { AWS_REGION: undefined }, flags: { AWS_REGION: undefined } })).toEqual({
      AWS_REGION: 'us-west-2',
    });
  });
});
