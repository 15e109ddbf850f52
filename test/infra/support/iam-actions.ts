import type { SandboxCall } from '#sandbox/index';

/**
 * The IAM actions an API call is authorised as (Service Authorization Reference). Most calls are
 * authorised by the action of the same name; the exceptions are listed here.
 */
const AUTHORISED_AS: Readonly<Record<string, readonly string[]>> = {
  // SQS batch APIs are authorised by the single-message action.
  'sqs:SendMessageBatch': ['sqs:SendMessage'],
  'sqs:DeleteMessageBatch': ['sqs:DeleteMessage'],
  'sqs:ChangeMessageVisibilityBatch': ['sqs:ChangeMessageVisibility'],
  // CreateMember with tags is also authorised as TagResource (the service reference lists it as
  // a second action of the CreateMember operation); the service always sends the desired tags.
  'macie2:CreateMember': ['macie2:CreateMember', 'macie2:TagResource'],
};

const IAM_PREFIX: Readonly<Record<SandboxCall['service'], string>> = {
  macie2: 'macie2',
  sts: 'sts',
  organizations: 'organizations',
  dynamodb: 'dynamodb',
  sqs: 'sqs',
  cloudformation: 'cloudformation',
};

export function iamActionsOf(call: Pick<SandboxCall, 'service' | 'operation'>): readonly string[] {
  const operation = `${IAM_PREFIX[call.service]}:${call.operation}`;
  return AUTHORISED_AS[operation] ?? [operation];
}

/** The actions a set of calls needs, split by whose credentials made them. */
export function actionsNeeded(calls: readonly SandboxCall[]): { functionRole: Set<string>; memberRole: Set<string> } {
  const functionRole = new Set<string>();
  const memberRole = new Set<string>();
  for (const call of calls) {
    for (const action of iamActionsOf(call)) (call.assumedRole ? memberRole : functionRole).add(action);
  }
  return { functionRole, memberRole };
}
