import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyOnboardingEvent } from '#shared/domain/events';
import { parseMembershipRequestBody } from '#shared/domain/requests';

const ctx = { administratorAccountId: '111111111111', managedRegions: ['us-east-1'], eventSource: 'macie-membership-reconciler' };

function sample<T = Record<string, any>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../events/${name}`, import.meta.url), 'utf8')) as T;
}

/** A deep copy of a sample with `change` applied. */
function variant(name: string, change: (event: Record<string, any>) => void): Record<string, any> {
  const event = sample(name);
  change(event);
  return event;
}

describe('classifyOnboardingEvent: the sample events', () => {
  it('ignores the scheduled event (it drives the full reconcile)', () => {
    expect(classifyOnboardingEvent(sample('schedule.json'), ctx)).toEqual({
      kind: 'ignore',
      reason: expect.stringMatching(/scheduled event/),
    });
  });

  it('enrolls the account of a successful Organizations CreateAccountResult, without an email', () => {
    expect(classifyOnboardingEvent(sample('organizations-create-account-result.json'), ctx)).toStrictEqual({
      kind: 'enroll',
      accountId: '222222222201',
      source: 'aws.organizations',
    });
  });

  it('enrolls the account of a successful Control Tower CreateManagedAccount', () => {
    expect(classifyOnboardingEvent(sample('controltower-create-managed-account.json'), ctx)).toStrictEqual({
      kind: 'enroll',
      accountId: '222222222202',
      source: 'aws.controltower',
    });
  });

  it('enrolls from a Member Enrollment Requested event, carrying the validated request', () => {
    const intent = classifyOnboardingEvent(sample('member-enrollment-requested.json'), ctx);
    expect(intent).toEqual({
      kind: 'enroll',
      accountId: '222222222203',
      email: 'security+payments-dev@example.com',
      source: 'macie-membership-reconciler',
      request: {
        action: 'enroll',
        accountId: '222222222203',
        email: 'security+payments-dev@example.com',
        regions: ['us-east-1'],
        tags: { Owner: 'payments', CostCenter: 'cc-1234' },
        requestId: 'avp-2025-06-02-0003',
        autoAccept: true,
        paused: false,
        invitationMessage: 'Welcome to Macie',
      },
    });
  });

  it('removes from a Member Removal Requested event', () => {
    expect(classifyOnboardingEvent(sample('member-removal-requested.json'), ctx)).toEqual({
      kind: 'remove',
      accountId: '222222222204',
      source: 'macie-membership-reconciler',
      request: { action: 'remove', accountId: '222222222204', requestId: 'avp-2025-06-02-0004' },
    });
  });

  it('parses the SQS sample: two valid requests and one invalid one', () => {
    const event = sample<{ Records: { messageId: string; body: string; eventSource: string }[] }>('sqs-requests.json');
    expect(event.Records).toHaveLength(3);
    expect(event.Records.every((record) => record.eventSource === 'aws:sqs')).toBe(true);
    const results = event.Records.map((record) => parseMembershipRequestBody(record.body, ctx));
    expect(results[0]).toMatchObject({ ok: true, request: { action: 'enroll', accountId: '222222222205' } });
    expect(results[1]).toMatchObject({ ok: true, request: { action: 'remove', accountId: '222222222206' } });
    expect(results[2]!.ok).toBe(false);
    expect(!results[2]!.ok && results[2]!.issues.map((issue) => `${issue.field}:${issue.rule}`)).toEqual([
      'accountId:pattern',
      'email:format',
    ]);
  });
});

describe('classifyOnboardingEvent: Organizations', () => {
  const name = 'organizations-create-account-result.json';

  it('ignores a FAILED account creation, naming the failure reason', () => {
    const event = variant(name, (e) => {
      const status = e.detail.serviceEventDetails.createAccountStatus;
      status.state = 'FAILED';
      status.failureReason = 'EMAIL_ALREADY_EXISTS';
      delete status.accountId;
    });
    const intent = classifyOnboardingEvent(event, ctx);
    expect(intent.kind).toBe('ignore');
    expect(intent.kind === 'ignore' && intent.reason).toMatch(/FAILED \(EMAIL_ALREADY_EXISTS\)/);
  });

  it("cuts a failure reason of a sender's own length, masking its addresses", () => {
    const event = variant(name, (e) => {
      const status = e.detail.serviceEventDetails.createAccountStatus;
      status.state = 'FAILED';
      status.failureReason = `owner@example.com ${'x'.repeat(100_000)}`;
      delete status.accountId;
    });
    const intent = classifyOnboardingEvent(event, ctx);
    expect(intent.kind === 'ignore' && intent.reason.length).toBeLessThan(200);
    expect(intent.kind === 'ignore' && intent.reason).not.toContain('owner@');
  });

  it('ignores an IN_PROGRESS account creation', () => {
    const event = variant(name, (e) => (e.detail.serviceEventDetails.createAccountStatus.state = 'IN_PROGRESS'));
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/IN_PROGRESS/) });
  });

  it('ignores other Organizations events', () => {
    const event = variant(name, (e) => (e.detail.eventName = 'InviteAccountToOrganization'));
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/InviteAccountToOrganization/) });
  });

  it('ignores Organizations API calls (a different detail-type)', () => {
    const event = variant(name, (e) => (e['detail-type'] = 'AWS API Call via CloudTrail'));
    expect(classifyOnboardingEvent(event, ctx).kind).toBe('ignore');
  });

  it('rejects a SUCCEEDED event whose account id is malformed', () => {
    const event = variant(name, (e) => (e.detail.serviceEventDetails.createAccountStatus.accountId = '2222'));
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({
      kind: 'invalid',
      issues: [{ field: 'detail.serviceEventDetails.createAccountStatus.accountId', rule: 'pattern' }],
    });
  });

  it('rejects a SUCCEEDED event without an account id', () => {
    const event = variant(name, (e) => delete e.detail.serviceEventDetails.createAccountStatus.accountId);
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({ kind: 'invalid', issues: [{ rule: 'required' }] });
  });

  it('reads serviceEventDetails delivered as a JSON string', () => {
    const event = variant(name, (e) => (e.detail.serviceEventDetails = JSON.stringify(e.detail.serviceEventDetails)));
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({ kind: 'enroll', accountId: '222222222201' });
  });

  it("ignores the administrator's own account", () => {
    const event = variant(name, (e) => (e.detail.serviceEventDetails.createAccountStatus.accountId = '111111111111'));
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/administrator/) });
  });
});

describe('classifyOnboardingEvent: Control Tower', () => {
  const name = 'controltower-create-managed-account.json';

  it('ignores a FAILED CreateManagedAccount', () => {
    const event = variant(name, (e) => {
      e.detail.serviceEventDetails.createManagedAccountStatus.state = 'FAILED';
      e.detail.serviceEventDetails.createManagedAccountStatus.message = 'AWS Control Tower failed to create a managed account.';
    });
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/"FAILED"/) });
  });

  it('ignores UpdateManagedAccount so that an update cannot undo a removal', () => {
    const event = variant(name, (e) => {
      e.detail.eventName = 'UpdateManagedAccount';
      e.detail.serviceEventDetails = { updateManagedAccountStatus: e.detail.serviceEventDetails.createManagedAccountStatus };
    });
    expect(classifyOnboardingEvent(event, ctx).kind).toBe('ignore');
  });

  it('rejects a SUCCEEDED event without the account', () => {
    const event = variant(name, (e) => delete e.detail.serviceEventDetails.createManagedAccountStatus.account);
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({
      kind: 'invalid',
      issues: [{ field: 'detail.serviceEventDetails.createManagedAccountStatus.account.accountId', rule: 'required' }],
    });
  });
});

describe("classifyOnboardingEvent: the project's own events", () => {
  it('takes the action from the detail-type when the detail has none', () => {
    const intent = classifyOnboardingEvent(sample('member-enrollment-requested.json'), ctx);
    expect(intent.kind === 'enroll' && intent.request?.action).toBe('enroll');
  });

  it('accepts a detail whose action agrees with the detail-type', () => {
    const event = variant('member-removal-requested.json', (e) => (e.detail.action = 'remove'));
    expect(classifyOnboardingEvent(event, ctx).kind).toBe('remove');
  });

  it('rejects a detail whose action contradicts the detail-type', () => {
    const event = variant('member-removal-requested.json', (e) => (e.detail.action = 'enroll'));
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({
      kind: 'invalid',
      issues: [{ field: 'detail.action', rule: 'matchesDetailType' }],
    });
  });

  it('reports request problems with detail-prefixed fields', () => {
    const event = variant('member-enrollment-requested.json', (e) => {
      e.detail.accountId = '12345';
      delete e.detail.email;
    });
    const intent = classifyOnboardingEvent(event, ctx);
    expect(intent.kind).toBe('invalid');
    if (intent.kind !== 'invalid') return;
    expect(intent.issues.map((issue) => `${issue.field}:${issue.rule}`)).toEqual(['detail.accountId:pattern', 'detail.email:required']);
    expect(intent.issues[0]!.message).toBe('detail.accountId must be exactly 12 digits, got "12345"');
    expect(intent.summary).toContain('Member Enrollment Requested');
  });

  it('rejects a detail that is not an object', () => {
    const event = variant('member-enrollment-requested.json', (e) => (e.detail = 'enroll 222222222203'));
    expect(classifyOnboardingEvent(event, ctx)).toMatchObject({ kind: 'invalid', issues: [{ field: 'detail', rule: 'type' }] });
  });

  it('ignores its own events of other types', () => {
    const event = variant('member-enrollment-requested.json', (e) => (e['detail-type'] = 'Reconcile Completed'));
    expect(classifyOnboardingEvent(event, ctx).kind).toBe('ignore');
  });

  it('does not trust request events from another source', () => {
    const event = variant('member-enrollment-requested.json', (e) => (e.source = 'someone-else'));
    expect(classifyOnboardingEvent(event, ctx).kind).toBe('ignore');
  });
});

describe('classifyOnboardingEvent: anything else', () => {
  it.each([
    ['null', null],
    ['a string', 'CreateAccountResult'],
    ['an object without source', { 'detail-type': 'Scheduled Event' }],
    ['an S3 event', { source: 'aws.s3', 'detail-type': 'Object Created', detail: {} }],
  ])('ignores %s with a reason', (_name, event) => {
    const intent = classifyOnboardingEvent(event, ctx);
    expect(intent.kind).toBe('ignore');
    expect(intent.kind === 'ignore' && intent.reason.length).toBeGreaterThan(10);
  });
});

describe('classifyOnboardingEvent: the event time', () => {
  it.each([
    ['not a time', 'yesterday', /time must be an ISO-8601 time, got "yesterday"/],
    ['a number', 1_748_858_400, /time must be an ISO-8601 time, got 1748858400 \(a number\)/],
    ['an object whose toString is a string', { toString: 'x' }, /time must be an ISO-8601 time, got an object with 1 key/],
    ['an array nested 20,000 deep', JSON.parse(`${'['.repeat(20_000)}${']'.repeat(20_000)}`) as unknown, /time must be an ISO-8601 time, got an array of 1 item/],
  ])('rejects a membership event whose time is %s, naming the field and the rule', (_name, time, message) => {
    for (const name of ['member-enrollment-requested.json', 'organizations-create-account-result.json', 'controltower-create-managed-account.json']) {
      const intent = classifyOnboardingEvent({ ...sample<Record<string, unknown>>(name), time }, ctx);
      expect(intent, name).toMatchObject({ kind: 'invalid', issues: [{ field: 'time', rule: 'format' }], summary: expect.stringMatching(message) });
    }
  });

  it.each([['left out', undefined], ['null', null], ['empty', '']])('takes a membership event whose time is %s (the time of receipt stands in)', (_name, time) => {
    const intent = classifyOnboardingEvent({ ...sample<Record<string, unknown>>('member-removal-requested.json'), time }, ctx);
    expect(intent).toMatchObject({ kind: 'remove', accountId: '222222222204' });
  });

  it('does not read the time of an event that does not concern membership', () => {
    expect(classifyOnboardingEvent({ ...sample<Record<string, unknown>>('schedule.json'), time: 'yesterday' }, ctx).kind).toBe('ignore');
  });
});

describe('classifyOnboardingEvent: the organization lifecycle (Organizations API calls)', () => {
  it('enrolls the account that accepted an invitation to the organization', () => {
    expect(classifyOnboardingEvent(sample('organizations-accept-handshake.json'), ctx)).toStrictEqual({
      kind: 'enroll',
      accountId: '222222222203',
      source: 'aws.organizations',
    });
  });

  it('ignores an accepted handshake that is not an invitation to join (enabling all features)', () => {
    const event = variant('organizations-accept-handshake.json', (e) => (e.detail.responseElements.handshake.action = 'ENABLE_ALL_FEATURES'));
    expect(classifyOnboardingEvent(event, ctx)).toEqual({ kind: 'ignore', reason: expect.stringContaining('"ENABLE_ALL_FEATURES" handshake') });
  });

  it('reads a removal and a departure as the account leaving, decided by its row', () => {
    expect(classifyOnboardingEvent(sample('organizations-remove-account.json'), ctx)).toStrictEqual({ kind: 'leave', accountId: '222222222204', source: 'aws.organizations' });
    expect(classifyOnboardingEvent(sample('organizations-leave-organization.json'), ctx)).toStrictEqual({ kind: 'leave', accountId: '222222222205', source: 'aws.organizations' });
  });

  it('removes a closed account: it cannot be a member anywhere', () => {
    expect(classifyOnboardingEvent(sample('organizations-close-account.json'), ctx)).toStrictEqual({ kind: 'remove', accountId: '222222222206', source: 'aws.organizations' });
  });

  it('ignores a call that failed, and calls that change no account', () => {
    const failed = variant('organizations-close-account.json', (e) => (e.detail.errorCode = 'ConstraintViolationException'));
    expect(classifyOnboardingEvent(failed, ctx)).toEqual({ kind: 'ignore', reason: expect.stringContaining('CloseAccount failed') });
    const other = variant('organizations-close-account.json', (e) => (e.detail.eventName = 'TagResource'));
    expect(classifyOnboardingEvent(other, ctx)).toEqual({ kind: 'ignore', reason: expect.stringContaining('"TagResource" does not change') });
  });

  it('names the field and the rule for a malformed account id, and never treats the administrator as a member', () => {
    const malformed = variant('organizations-remove-account.json', (e) => (e.detail.requestParameters.accountId = '12345'));
    expect(classifyOnboardingEvent(malformed, ctx)).toMatchObject({
      kind: 'invalid',
      issues: [{ field: 'detail.requestParameters.accountId', rule: 'pattern' }],
    });
    const administrator = variant('organizations-leave-organization.json', (e) => (e.detail.userIdentity.accountId = ctx.administratorAccountId));
    expect(classifyOnboardingEvent(administrator, ctx)).toMatchObject({ kind: 'ignore', reason: expect.stringContaining('Macie administrator') });
  });
});
