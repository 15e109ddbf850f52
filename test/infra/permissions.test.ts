import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent, ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sandbox, SandboxCall } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { isFleetPlanSummary } from '#shared/fleet-planner';
import type { DesiredMemberWrite } from '#shared/ports';
import { loadEvent, sqsEvent, startServiceSandbox } from '../support/service-sandbox';
import { allowedActions, asList, iamGlobMatches, TemplateReader, type CloudFormationTemplate } from './support/cloudformation';
import { actionsNeeded } from './support/iam-actions';
import { FUNCTION_NAMES, PACKAGE_PARAMS, PROJECT_ROOT, packageService, type FunctionName } from './support/packaged-service';
import { oneInvocation } from '../support/one-invocation';

/**
 * The IAM policies match the code: each real handler runs against the sandbox through scenarios
 * that make it call every operation it can, each call is mapped to the IAM action it is
 * authorised as, and then
 * - every action a function needed is allowed to its role (and the member role's to the member role),
 * - each role allows nothing beyond what was needed, except the actions listed in NOT_CALLED_BY_THE_HANDLER.
 */

/** Allowed actions no handler call makes, each with the reason it is needed anyway. */
const NOT_CALLED_BY_THE_HANDLER: Readonly<Record<FunctionName | 'member', Readonly<Record<string, string>>>> = {
  reconcile: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function logs with the function role',
    'logs:PutLogEvents': 'the Lambda runtime writes the function logs with the function role',
  },
  onboard: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function logs with the function role',
    'logs:PutLogEvents': 'the Lambda runtime writes the function logs with the function role',
  },
  requests: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function logs with the function role',
    'logs:PutLogEvents': 'the Lambda runtime writes the function logs with the function role',
    'sqs:ReceiveMessage': 'the SQS event source mapping polls the request queue with the function role',
    'sqs:DeleteMessage': 'the event source mapping deletes the messages the function handled',
    'sqs:GetQueueAttributes': 'the event source mapping reads the queue attributes with the function role',
  },
  worker: {
    'logs:CreateLogStream': 'the Lambda runtime writes the function logs with the function role',
    'logs:PutLogEvents': 'the Lambda runtime writes the function logs with the function role',
    'sqs:ReceiveMessage': 'the SQS event source mapping polls the work queue with the function role',
    'sqs:DeleteMessage': 'the event source mapping deletes the units the function finished',
    'sqs:GetQueueAttributes': 'the event source mapping reads the queue attributes with the function role',
  },
  member: {
    // The emulator enables Macie without a service-linked role; AWS creates it on the first
    // EnableMacie in an account, with the caller's permissions.
    'iam:CreateServiceLinkedRole': 'EnableMacie creates the Macie service-linked role in a new account',
    // Reached only when runs overlap (test/reliability/concurrency.test.ts); these scenarios run one at a time.
    'macie2:GetAdministratorAccount': 'settles an AcceptInvitation that raced another run',
  },
};

const REGIONS = PACKAGE_PARAMS.managedRegions!.split(',');
const LOGICAL = { reconcile: 'Reconcile', onboard: 'Onboard', requests: 'Requests', worker: 'Worker' } as const;

// One set of accounts per function, so that no scenario depends on another one's leftovers. The
// administrator is the organization's delegated one: accounts outside the organization take the
// invitation path (and the member role), `insider`s the Organizations path.
const account = (id: string, email: string, macieEnabled = true) => ({ accountId: id, email, macieEnabled, inOrganization: false });
const insider = (id: string, email: string) => ({ accountId: id, email, macieEnabled: false, inOrganization: true });
const scenarios = {
  reconcile: {
    newcomer: account('222222220001', 'newcomer@example.com', false),
    leaver: account('222222220002', 'leaver@example.com'),
    paused: account('222222220003', 'paused@example.com'),
    bounced: account('222222220004', 'bounced@example.com'),
    // Belongs to another administrator: Macie refuses its invitation and the executor asks GetMember why.
    poached: account('222222220005', 'poached@example.com'),
    otherAdministrator: account('333333333333', 'other-admin@example.com'),
    // The table sync adds it (SYNC_INCLUDE_ACCOUNTS names only it).
    insider: insider('222222220006', 'org-synced@example.com'),
  },
  onboard: {
    created: insider('222222221001', 'org-created@example.com'),
    requested: account('222222221004', 'requested@example.com', false),
    leaver: account('222222221002', 'org-leaver@example.com'),
    paused: account('222222221003', 'org-paused@example.com'),
  },
  requests: {
    vended: account('222222222001', 'vended@example.com', false),
    insider: insider('222222222004', 'vended-insider@example.com'),
    leaver: account('222222222002', 'vending-leaver@example.com'),
    paused: account('222222222003', 'vending-paused@example.com'),
  },
  // Planned by reconcile in fan-out mode, worked by the worker (the same cases as reconcile's).
  worker: {
    newcomer: account('222222223001', 'fanout-newcomer@example.com', false),
    leaver: account('222222223002', 'fanout-leaver@example.com'),
    paused: account('222222223003', 'fanout-paused@example.com'),
    bounced: account('222222223004', 'fanout-bounced@example.com'),
    poached: account('222222223005', 'fanout-poached@example.com'),
  },
};

type AnyEvent = EventBridgeEvent<string, unknown>;
let sandbox: Sandbox;
let reconciler: TemplateReader;
let memberRole: TemplateReader;
let runtime: ReturnType<typeof import('#shared/lambda/runtime').getLambdaRuntime>;
/** Every call each function made across its scenarios. */
const calls: Record<FunctionName, SandboxCall[]> = { reconcile: [], onboard: [], requests: [], worker: [] };
/** The regions of the administrator's own Macie calls, and of the calls made with the member role. */
const macieRegions = new Set<string>();
const memberMacieRegions = new Set<string>();

beforeAll(async () => {
  const [packaged] = await Promise.all([
    packageService(),
    (async () => {
      sandbox = await startServiceSandbox(
        {
          regions: REGIONS,
          managementAccount: { accountId: '999999999999', email: 'management@example.com' },
          delegatedAdministrator: true,
          accounts: Object.values(scenarios).flatMap((set) => Object.values(set)),
        },
        { ORGANIZATION_AUTO_ENABLE: 'true', ORGANIZATION_SYNC: 'true', SYNC_INCLUDE_ACCOUNTS: scenarios.reconcile.insider.accountId },
      );
    })(),
  ]);
  reconciler = new TemplateReader(packaged.template);
  const memberTemplate = load(await readFile(`${PROJECT_ROOT}infra/member-role.yml`, 'utf8')) as CloudFormationTemplate;
  memberRole = new TemplateReader(memberTemplate, {
    accountId: scenarios.reconcile.newcomer.accountId,
    region: REGIONS[0]!,
    partition: 'aws',
    parameters: { AdministratorAccountId: sandbox.administrator.accountId, ExternalId: sandbox.memberRole.externalId, ManagedRegions: REGIONS.join(',') },
  });
  runtime = (await import('#shared/lambda/runtime')).getLambdaRuntime();
}, 180_000);

afterAll(() => sandbox?.close());

/** Runs one invocation and files the calls it made under the function. */
async function recorded<T>(name: FunctionName, invoke: () => Promise<T>): Promise<T> {
  sandbox.clearCalls();
  const result = await invoke();
  calls[name].push(...sandbox.calls());
  for (const record of sandbox.emulator.control.calls()) {
    if (record.service === 'macie2') (record.assumedRole ? memberMacieRegions : macieRegions).add(record.region);
  }
  return result;
}

function desired(member: { accountId: string; email: string }, fields: Partial<DesiredMemberWrite> = {}): DesiredMemberWrite {
  return {
    ...member,
    desiredState: 'member',
    tags: {},
    autoAccept: true,
    paused: false,
    requestedBy: 'test',
    requestedAt: new Date().toISOString(),
    ...fields,
  };
}

function seed(accountId: string, relationshipStatus: 'Enabled' | 'Paused' | 'EmailVerificationFailed', tags?: Record<string, string>) {
  for (const region of REGIONS) {
    sandbox.emulator.control.seedMembership({ administratorAccountId: sandbox.administrator.accountId, accountId, region, relationshipStatus, tags });
  }
}

describe('the handlers call every operation their roles allow', () => {
  it('reconcile: sync the table, set autoEnable; create, invite, enable Macie and accept; remove; resume and retag; dead-letter', async () => {
    const { newcomer, leaver, paused, bounced, poached, otherAdministrator, insider } = scenarios.reconcile;
    for (const region of REGIONS) {
      sandbox.emulator.control.seedMembership({ administratorAccountId: otherAdministrator.accountId, accountId: poached.accountId, region, relationshipStatus: 'Enabled' });
    }
    await runtime.store.recordDesired(desired(poached));
    seed(leaver.accountId, 'Enabled');
    seed(paused.accountId, 'Paused', { Old: 'tag' });
    seed(bounced.accountId, 'EmailVerificationFailed');
    await runtime.store.recordDesired(desired(newcomer, { tags: { Team: 'security' } }));
    await runtime.store.recordDesired(desired(leaver, { desiredState: 'absent' }));
    await runtime.store.recordDesired(desired(paused, { tags: { Team: 'security' } }));
    await runtime.store.recordDesired(desired(bounced));
    const { handler } = await import('#functions/reconcile/handler');

    const summary = await recorded('reconcile', async () => oneInvocation(handler(await loadEvent<ScheduledEvent>('schedule.json'), lambdaContext('reconcile'))));

    expect(summary.byAction).toMatchObject({
      // The newcomer and the poached account by invitation, the synced insider through Organizations.
      createMember: { succeeded: 6 },
      accept: { succeeded: 2 },
      disassociateMember: { succeeded: 2 },
      deleteMember: { succeeded: 2 },
      updateMemberSession: { succeeded: 2 },
      updateTags: { succeeded: 2 },
    });
    // The bounced email, and the poached account's refused invitation, in both regions.
    expect(summary.deadLettered).toBe(4);
    expect(summary.organizationSettings.map((setting) => setting.status)).toEqual(['done', 'done']);
    for (const region of REGIONS) {
      expect(sandbox.emulator.control.macieEnabled(newcomer.accountId, region)).toBe(true);
      const members = sandbox.emulator.control.members(sandbox.administrator.accountId, region);
      expect(members.find((member) => member.accountId === insider.accountId)).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
    }
  });

  it('onboard: a new Organizations account (email looked up), an enrollment by request, a removal, an enrollment of a paused member, an invalid event', async () => {
    const { created, requested, leaver, paused } = scenarios.onboard;
    seed(leaver.accountId, 'Enabled');
    seed(paused.accountId, 'Paused', { Old: 'tag' });
    const { handler } = await import('#functions/onboard/handler');
    const invoke = (event: AnyEvent) => recorded('onboard', () => handler(event, lambdaContext('onboard')));

    const organizations = await loadEvent<AnyEvent>('organizations-create-account-result.json');
    const status = (organizations.detail as { serviceEventDetails: { createAccountStatus: { accountId: string } } }).serviceEventDetails.createAccountStatus;
    status.accountId = created.accountId;
    expect(await invoke(organizations)).toMatchObject({ outcome: 'reconciled', accountId: created.accountId });

    const removal = await loadEvent<AnyEvent>('member-removal-requested.json');
    expect(await invoke({ ...removal, detail: { accountId: leaver.accountId, requestId: 'onboard-remove-1' } })).toMatchObject({ outcome: 'reconciled' });

    const enrollment = await loadEvent<AnyEvent>('member-enrollment-requested.json');
    const enrollRequested = { ...enrollment, detail: { accountId: requested.accountId, email: requested.email, requestId: 'onboard-enroll-0' } };
    expect(await invoke(enrollRequested)).toMatchObject({ outcome: 'reconciled', summary: { byAction: { accept: { succeeded: 2 } } } });
    const enrollPaused = { ...enrollment, detail: { accountId: paused.accountId, email: paused.email, tags: { Team: 'security' }, requestId: 'onboard-enroll-1' } };
    const result = await invoke(enrollPaused);
    expect(result).toMatchObject({ outcome: 'reconciled', summary: { byAction: { updateMemberSession: { succeeded: 2 }, updateTags: { succeeded: 2 } } } });

    expect(await invoke({ ...enrollment, detail: { accountId: '12345', email: 'nope' } })).toMatchObject({ outcome: 'invalid' });
  });

  it('requests: an enrollment of a new account, a removal, an enrollment of a paused member, an invalid body', async () => {
    const { vended, insider, leaver, paused } = scenarios.requests;
    seed(leaver.accountId, 'Enabled');
    seed(paused.accountId, 'Paused', { Old: 'tag' });
    const { handler } = await import('#functions/requests/handler');
    const event = sqsEvent([
      JSON.stringify({ action: 'enroll', accountId: vended.accountId, email: vended.email, tags: { Team: 'security' } }),
      JSON.stringify({ action: 'enroll', accountId: insider.accountId, email: insider.email }),
      JSON.stringify({ action: 'remove', accountId: leaver.accountId }),
      JSON.stringify({ action: 'enroll', accountId: paused.accountId, email: paused.email, tags: { Team: 'security' } }),
      JSON.stringify({ action: 'enroll', accountId: '12345', email: 'nope' }),
    ]);

    const response = await recorded('requests', () => handler(event, lambdaContext('requests')));

    expect(response.batchItemFailures).toEqual([]);
    for (const region of REGIONS) {
      const members = new Map(sandbox.emulator.control.members(sandbox.administrator.accountId, region).map((member) => [member.accountId, member]));
      expect(members.get(vended.accountId)?.relationshipStatus).toBe('Enabled');
      expect(members.get(insider.accountId)).toMatchObject({ relationshipStatus: 'Enabled', via: 'organization' });
      expect(members.has(leaver.accountId)).toBe(false);
      expect(members.get(paused.accountId)).toMatchObject({ relationshipStatus: 'Enabled', tags: { Team: 'security' } });
    }
  });
});

describe('the fan-out: reconcile plans and queues, the worker takes the units', () => {
  it('reconcile queues the units of every region, and the worker creates, invites, enables Macie and accepts; removes; resumes and retags; dead-letters', async () => {
    const { newcomer, leaver, paused, bounced, poached } = scenarios.worker;
    const { otherAdministrator } = scenarios.reconcile;
    for (const region of REGIONS) {
      sandbox.emulator.control.seedMembership({ administratorAccountId: otherAdministrator.accountId, accountId: poached.accountId, region, relationshipStatus: 'Enabled' });
    }
    seed(leaver.accountId, 'Enabled');
    seed(paused.accountId, 'Paused', { Old: 'tag' });
    seed(bounced.accountId, 'EmailVerificationFailed');
    await runtime.store.recordDesired(desired(poached));
    await runtime.store.recordDesired(desired(newcomer, { tags: { Team: 'security' } }));
    await runtime.store.recordDesired(desired(leaver, { desiredState: 'absent' }));
    await runtime.store.recordDesired(desired(paused, { tags: { Team: 'security' } }));
    await runtime.store.recordDesired(desired(bounced));
    // The functions' runtime is built once per process from the environment: a fresh one, as in
    // the deployed stack, where both functions have WORK_QUEUE_URL.
    process.env.WORK_QUEUE_URL = sandbox.workQueueUrl;
    vi.resetModules();
    const { handler: reconcile } = await import('#functions/reconcile/handler');
    const { handler: worker } = await import('#functions/worker/handler');

    const plan = await recorded('reconcile', async () => reconcile(await loadEvent<ScheduledEvent>('schedule.json'), lambdaContext('reconcile')));
    if (!isFleetPlanSummary(plan)) throw new Error('expected the scheduled run to fan out');
    expect(plan.unitsNotQueued).toEqual([]);
    expect(plan.unitsQueued).toBeGreaterThanOrEqual(REGIONS.length);

    // The event source mapping, by hand (test/functions/worker.test.ts): receive, invoke, delete.
    const sqs = new SQSClient({ region: sandbox.homeRegion, endpoint: sandbox.endpoints.sqs, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    try {
      for (let units = 0; ; units += 1) {
        expect(units).toBeLessThan(20);
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: sandbox.workQueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
        const [message] = Messages;
        if (!message) break;
        const event = sqsEvent([message.Body!], 'arn:aws:sqs:us-east-1:111111111111:macie-membership-work.fifo');
        const response = await recorded('worker', () => worker(event, lambdaContext('worker')));
        expect(response.batchItemFailures).toEqual([]);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: sandbox.workQueueUrl, ReceiptHandle: message.ReceiptHandle! }));
      }
    } finally {
      sqs.destroy();
    }

    for (const region of REGIONS) {
      expect(sandbox.emulator.control.macieEnabled(newcomer.accountId, region)).toBe(true);
      const members = new Map(sandbox.emulator.control.members(sandbox.administrator.accountId, region).map((member) => [member.accountId, member]));
      expect(members.get(newcomer.accountId)).toMatchObject({ relationshipStatus: 'Enabled', tags: { Team: 'security' } });
      expect(members.has(leaver.accountId)).toBe(false);
      expect(members.get(paused.accountId)).toMatchObject({ relationshipStatus: 'Enabled', tags: { Team: 'security' } });
    }
  });
});

/** What every function needs to change a membership: the administrator's Macie writes and the member role. */
const MEMBERSHIP_CHANGES = [
  'macie2:CreateMember',
  'macie2:TagResource',
  'macie2:UntagResource',
  'macie2:CreateInvitations',
  'macie2:DisassociateMember',
  'macie2:DeleteMember',
  'macie2:UpdateMemberSession',
  'sts:AssumeRole',
];

describe('the IAM policies match the calls', () => {
  const functionAllows = (name: FunctionName) => allowedActions(reconciler.roleStatements(`${LOGICAL[name]}Role`));
  const memberAllows = () => allowedActions(memberRole.roleStatements('MemberRole'));
  const sorted = (actions: Iterable<string>) => [...actions].sort();

  it.each(FUNCTION_NAMES)('%s exercised the whole acceptance path in a member account', (name) => {
    expect(sorted(actionsNeeded(calls[name]).memberRole)).toEqual(
      sorted(['macie2:EnableMacie', 'macie2:ListInvitations', 'macie2:AcceptInvitation']),
    );
  });

  it('reconcile needed exactly these actions', () => {
    expect(sorted(actionsNeeded(calls.reconcile).functionRole)).toEqual(
      sorted([
        'dynamodb:Scan',
        // The table sync records its changes as requests are recorded: read, merge, conditional write.
        'dynamodb:BatchGetItem',
        'dynamodb:UpdateItem',
        // The fan-out's run record, started whole.
        'dynamodb:PutItem',
        'sqs:SendMessage',
        'macie2:ListMembers',
        'macie2:GetMember',
        'macie2:DescribeOrganizationConfiguration',
        'macie2:UpdateOrganizationConfiguration',
        'organizations:ListAccounts',
        'organizations:DescribeOrganization',
        ...MEMBERSHIP_CHANGES,
      ]),
    );
  });

  it('onboard and requests needed the targeted variant: the named accounts looked up in the organization', () => {
    const targeted = [
      'dynamodb:BatchGetItem',
      'dynamodb:UpdateItem',
      'sqs:SendMessage',
      'macie2:GetMember',
      'macie2:DescribeOrganizationConfiguration',
      'organizations:DescribeAccount',
      ...MEMBERSHIP_CHANGES,
    ];
    expect(sorted(actionsNeeded(calls.requests).functionRole)).toEqual(sorted(targeted));
    expect(sorted(actionsNeeded(calls.onboard).functionRole)).toEqual(sorted(targeted));
  });

  it('worker needed exactly these actions: the membership changes, leases, observations and run progress, dead letters and remainders', () => {
    expect(sorted(actionsNeeded(calls.worker).functionRole)).toEqual(
      sorted(['dynamodb:UpdateItem', 'sqs:SendMessage', 'macie2:GetMember', ...MEMBERSHIP_CHANGES]),
    );
  });

  it.each(FUNCTION_NAMES)('the %s role allows every action the function needed', (name) => {
    const allowed = functionAllows(name);
    const missing = sorted(actionsNeeded(calls[name]).functionRole).filter((action) => !allowed.has(action));
    expect(missing).toEqual([]);
  });

  it.each(FUNCTION_NAMES)('the %s role allows nothing the function did not need', (name) => {
    const needed = actionsNeeded(calls[name]).functionRole;
    const excess = sorted(functionAllows(name)).filter((action) => !needed.has(action));
    expect(excess).toEqual(sorted(Object.keys(NOT_CALLED_BY_THE_HANDLER[name])));
  });

  it('the member role allows every action the acceptance path needed, and nothing else', () => {
    const needed = new Set(FUNCTION_NAMES.flatMap((name) => [...actionsNeeded(calls[name]).memberRole]));
    const allowed = memberAllows();
    expect(sorted(needed).filter((action) => !allowed.has(action))).toEqual([]);
    expect(sorted(allowed).filter((action) => !needed.has(action))).toEqual(sorted(Object.keys(NOT_CALLED_BY_THE_HANDLER.member)));
  });

  it("the administrator's Macie calls all went to regions the roles' region condition allows", () => {
    expect(macieRegions.size).toBeGreaterThan(0);
    for (const name of FUNCTION_NAMES) {
      for (const statement of reconciler.roleStatements(`${LOGICAL[name]}Role`)) {
        if (!asList(statement.Action).some((action) => action.startsWith('macie2:'))) continue;
        const regions = asList(statement.Condition?.StringEquals?.['aws:RequestedRegion'] as string | string[] | undefined);
        for (const region of macieRegions) expect(regions, `${name} ${statement.Sid}`).toContain(region);
      }
    }
  });

  it("the member role's Macie calls all went to regions its region condition allows", () => {
    expect(memberMacieRegions.size).toBeGreaterThan(0);
    for (const statement of memberRole.roleStatements('MemberRole')) {
      if (!asList(statement.Action).some((action) => action.startsWith('macie2:'))) continue;
      const regions = asList(statement.Condition?.StringEquals?.['aws:RequestedRegion'] as string | string[] | undefined);
      for (const region of memberMacieRegions) expect(regions, statement.Sid).toContain(region);
    }
  });

  it('the functions assume the member role by an ARN their sts:AssumeRole statement covers', () => {
    const roleArn = `arn:aws:iam::${scenarios.reconcile.newcomer.accountId}:role/${runtime.config.memberRole.name}`;
    for (const name of FUNCTION_NAMES) {
      const resources = reconciler
        .roleStatements(`${LOGICAL[name]}Role`)
        .filter((statement) => asList(statement.Action).includes('sts:AssumeRole'))
        .flatMap((statement) => asList(statement.Resource));
      expect(resources.some((pattern) => iamGlobMatches(pattern, roleArn)), name).toBe(true);
    }
  });
});
