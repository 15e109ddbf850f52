/**
 * `--stack NAME`: how a deployed stack's CloudFormation outputs become the CLI's configuration.
 * Pure: the stack comes in as read by `cli/stack-outputs.ts`, the settings go out as the
 * variables `shared/config.ts` parses, so the same rules and messages apply as with environment
 * variables. Nothing here reads the environment or calls AWS.
 */
import { CliError } from '#cli/errors';

/** A stack as DescribeStacks describes it: only what the CLI reads. */
export interface DeployedStack {
  name: string;
  /** CloudFormation's stack status, e.g. `UPDATE_COMPLETE`. */
  status: string;
  /** Why the stack is in its status, when CloudFormation says (failures mostly). */
  statusReason?: string;
  /** Output key -> value. */
  outputs: Readonly<Record<string, string>>;
}

/** Configuration settings by the variable name `shared/config.ts` reads (`DESIRED_MEMBERS_TABLE`...). */
export type Settings = Record<string, string | undefined>;

/**
 * Which output of serverless.yml fills which setting. Every output here is declared by the stack
 * (test/infra/deployment-template.test.ts resolves each one to the value its functions run with),
 * except those with `whenAbsent`: CloudFormation has no empty output, so the stack declares them
 * only when they have a value, and their absence means that value.
 */
export const STACK_OUTPUTS: ReadonlyArray<{ output: string; variable: string; whenAbsent?: string }> = [
  // The stack's own region: where the table and queues are, whatever region the profile defaults to.
  { output: 'HomeRegion', variable: 'AWS_REGION' },
  { output: 'AdministratorAccountId', variable: 'MACIE_ADMINISTRATOR_ACCOUNT_ID' },
  { output: 'ManagedRegions', variable: 'MANAGED_REGIONS' },
  { output: 'DesiredMembersTableName', variable: 'DESIRED_MEMBERS_TABLE' },
  { output: 'DeadLetterQueueUrl', variable: 'DEAD_LETTER_QUEUE_URL' },
  { output: 'RequestQueueUrl', variable: 'REQUEST_QUEUE_URL' },
  { output: 'MemberRoleName', variable: 'MEMBER_ROLE_NAME' },
  { output: 'MemberRoleExternalId', variable: 'MEMBER_ROLE_EXTERNAL_ID' },
  // What the functions do differently by parameter: an `apply` must do what the schedule does.
  { output: 'PruneUnmanaged', variable: 'PRUNE_UNMANAGED' },
  // '' is "no message" to shared/config.ts, as the functions' template passes it.
  { output: 'InvitationMessage', variable: 'INVITATION_MESSAGE', whenAbsent: '' },
  { output: 'SendInvitationEmail', variable: 'SEND_INVITATION_EMAIL' },
  { output: 'EventSource', variable: 'EVENT_SOURCE' },
  { output: 'AdminConcurrency', variable: 'ADMIN_CONCURRENCY' },
  { output: 'MemberConcurrency', variable: 'MEMBER_CONCURRENCY' },
  { output: 'MembershipMode', variable: 'MEMBERSHIP_MODE' },
  { output: 'OrganizationAutoEnable', variable: 'ORGANIZATION_AUTO_ENABLE', whenAbsent: '' },
  { output: 'OrganizationSync', variable: 'ORGANIZATION_SYNC' },
  { output: 'SyncIncludeAccounts', variable: 'SYNC_INCLUDE_ACCOUNTS', whenAbsent: '' },
  { output: 'SyncExcludeAccounts', variable: 'SYNC_EXCLUDE_ACCOUNTS', whenAbsent: '' },
];

/** The first release of this project whose serverless.yml declares every output in STACK_OUTPUTS. */
export const STACK_OUTPUTS_RELEASE = '0.1.0';

/** The name `osls deploy` gives the stack of a stage. */
const STACK_NAME_HINT = 'osls deploy names the stack macie-membership-reconciler-STAGE (e.g. macie-membership-reconciler-prod)';

// The stack's resources are in place and its outputs describe them. After a failed update,
// UPDATE_ROLLBACK_COMPLETE is the stack back on its previous template, working; the cleanup
// states only delete resources the outputs no longer name.
const USABLE_STATUSES = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE',
]);

// A deployment under way: the outputs may still change. Any other status (failed, rolling back,
// rolled back after a failed creation, being deleted) is a stack whose outputs cannot be trusted.
const DEPLOYING_STATUSES = new Set(['CREATE_IN_PROGRESS', 'REVIEW_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'IMPORT_IN_PROGRESS']);

/**
 * The settings a deployed stack provides, or a CliError that says why it cannot: not found
 * (`stack` undefined), not in a usable state, or missing outputs.
 */
export function settingsFromStack(lookup: { name: string; region: string; stack: DeployedStack | undefined }): Settings {
  const { name, region, stack } = lookup;
  const where = `stack "${name}" in ${region}`;
  if (!stack) {
    throw new CliError(`stack "${name}" does not exist in ${region}.`, [
      `Check the name (${STACK_NAME_HINT}) and the region (--region, else AWS_REGION, else the profile's region).`,
    ]);
  }
  if (!USABLE_STATUSES.has(stack.status)) {
    const reason = stack.statusReason ? ` (${stack.statusReason})` : '';
    if (DEPLOYING_STATUSES.has(stack.status)) {
      throw new CliError(`${where} is ${stack.status}: its outputs may change until the deployment ends.`, [
        'Run the command again once the deployment has finished.',
      ]);
    }
    throw new CliError(`${where} is ${stack.status}${reason}: its outputs cannot be trusted.`, [
      "Repair or redeploy the stack first (the stack's events in CloudFormation say what failed), then run the command again.",
    ]);
  }

  const missing = STACK_OUTPUTS.filter(({ output, whenAbsent }) => whenAbsent === undefined && stack.outputs[output] === undefined);
  if (missing.length > 0) {
    const keys = missing.map(({ output }) => output);
    const noneOfThem = STACK_OUTPUTS.every(({ output }) => stack.outputs[output] === undefined);
    throw new CliError(
      `${where} has no output${keys.length > 1 ? 's' : ''} ${keys.join(', ')}: --stack needs a stack deployed from macie-membership-reconciler ${STACK_OUTPUTS_RELEASE} or later.`,
      [
        ...(noneOfThem ? [`It has none of the outputs the CLI reads: is it a macie-membership-reconciler stack? ${STACK_NAME_HINT}.`] : []),
        `Redeploy it from ${STACK_OUTPUTS_RELEASE} or later (its serverless.yml declares these outputs), or leave out --stack and set the environment variables.`,
      ],
    );
  }
  return Object.fromEntries(STACK_OUTPUTS.map(({ output, variable, whenAbsent }) => [variable, stack.outputs[output] ?? whenAbsent]));
}

/**
 * The settings the configuration is parsed from: explicit flags over the stack's outputs over the
 * environment. A flag or output left undefined does not hide the layer below it.
 */
export function layerSettings(layers: { environment: Settings; stack: Settings; flags: Settings }): Settings {
  const defined = (settings: Settings) => Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  return { ...layers.environment, ...defined(layers.stack), ...defined(layers.flags) };
}
