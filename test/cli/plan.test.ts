import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan, type PlanDocument } from '#cli/commands/plan';
import { captureTerminal, macieState, putRawRow, startCliSandbox, writeCalls, type CliSandbox } from './support/cli-sandbox';

/** `plan` against the sandbox holding the demo organization. */

let cli: CliSandbox;

beforeAll(async () => {
  cli = await startCliSandbox({ demo: true });
});

afterAll(() => cli?.sandbox.close());

describe('plan', () => {
  it('shows what would change per account and region, with the reason and the actions, and exits 2 on drift', async () => {
    const { terminal, stdout, stderr } = captureTerminal();
    const exitCode = await runPlan({ runtime: cli.runtime, terminal });

    expect(exitCode).toBe(2);
    const text = stdout();
    expect(text).toContain('Macie membership plan for administrator 111111111111, every desired account, regions us-east-1, eu-west-1');
    expect(text).toContain('24 accounts in the table, 48 account-regions: 48 change');
    expect(text).toContain('  + 222222222201 us-east-1, eu-west-1: NotListed -> member [invitation] (change)');
    expect(text).toContain('      not a Macie member yet: create the member, invite it, accept it from the member account');
    expect(text).toContain('      1. create the member with email a***@example.com and 1 tag');
    expect(text).toContain('  ~ 222222222215 us-east-1: Resigned -> member [invitation] (change)');
    expect(text).toContain('-/+ 222222222220 eu-west-1: Removed -> member [invitation] (change)');
    expect(text).toContain('  - 222222222222 us-east-1, eu-west-1: Enabled -> absent [invitation] (change)');
    expect(text).toContain('  ~ 222222222224 us-east-1, eu-west-1: Enabled -> member [invitation] (change)');
    expect(text).toContain('      1. update member tags: set Owner; remove Stale');
    expect(text).toMatch(/Unmanaged members .*left alone \(PRUNE_UNMANAGED is off\)\n.*\n.*\n222222222219  us-east-1  Enabled  none\n222222222219  eu-west-1  Enabled  none/);
    expect(text).toContain('Plan: 48 account-regions to change (actions: 2 disassociateMember, 3 deleteMember, 41 createMember, 42 invite, 42 accept, 2 updateMemberSession, 2 updateTags).');
    expect(text).toContain('Run `macie-members apply` to make these changes now, or wait for the schedule.');
    // Emails are masked in human output.
    expect(text).not.toMatch(/aws\+member|bounce@/);
    expect(stderr()).toBe('');
  });

  it('changes nothing: only reads, and Macie and the table are exactly as before', async () => {
    const macieBefore = macieState(cli.sandbox);
    const { rows: rowsBefore } = await cli.runtime.store.listAll();
    cli.sandbox.clearCalls();

    await runPlan({ runtime: cli.runtime, terminal: captureTerminal().terminal });
    await runPlan({ runtime: cli.runtime, terminal: captureTerminal().terminal, json: true });

    const operations = new Set(cli.sandbox.calls().map((call) => call.operation));
    // Whether the administrator is the delegated one is a read too (it is not, here).
    expect([...operations].sort()).toEqual(['DescribeOrganizationConfiguration', 'ListMembers', 'Scan']);
    expect(writeCalls(cli.sandbox)).toEqual([]);
    expect(macieState(cli.sandbox)).toEqual(macieBefore);
    expect((await cli.runtime.store.listAll()).rows).toEqual(rowsBefore);
  });

  it('prints only a JSON document with stable keys under --json', async () => {
    const { terminal, stdout, stderr } = captureTerminal();
    const exitCode = await runPlan({ runtime: cli.runtime, terminal, json: true });

    expect(exitCode).toBe(2);
    expect(stderr()).toBe('');
    const document = JSON.parse(stdout()) as PlanDocument;
    expect(Object.keys(document)).toEqual([
      'schemaVersion',
      'administratorAccountId',
      'managedRegions',
      'accountIds',
      'complete',
      'drift',
      'summary',
      'items',
      'unmanaged',
      'organizationSettings',
      'tableSync',
      'unobserved',
      'corruptRows',
      'notPlanned',
      'notInTable',
    ]);
    expect(document).toMatchObject({
      schemaVersion: 1,
      administratorAccountId: '111111111111',
      managedRegions: ['us-east-1', 'eu-west-1'],
      accountIds: null,
      complete: true,
      drift: true,
      summary: { items: 48, unmanaged: 2, byVerdict: { change: 48 } },
      unobserved: [],
    });
    expect(document.items).toHaveLength(48);
    expect(document.items.find((item) => item.accountId === '222222222220' && item.region === 'eu-west-1')).toEqual({
      accountId: '222222222220',
      region: 'eu-west-1',
      desiredState: 'member',
      observedStatus: 'Removed',
      verdict: 'change',
      reason: 'the association was removed: delete it, create the member, invite it, accept it from the member account',
      membershipType: 'invitation',
      actions: [
        { kind: 'deleteMember', leaves: 'NotListed' },
        { kind: 'createMember', email: 'aws+member20@example.com', tags: {}, via: 'invitation', leaves: 'Created' },
        { kind: 'invite', leaves: 'Invited' },
        { kind: 'accept', leaves: 'Enabled' },
      ],
    });
    expect(document.unmanaged).toEqual([
      { accountId: '222222222219', region: 'us-east-1', relationshipStatus: 'Enabled', membershipType: 'invitation', actions: [] },
      { accountId: '222222222219', region: 'eu-west-1', relationshipStatus: 'Enabled', membershipType: 'invitation', actions: [] },
    ]);
  });

  it('exits 0 with "No changes" for an account that Macie already matches, and lists it only with --all', async () => {
    await cli.runtime.reconciler.reconcile({ trigger: 'test', accountIds: ['222222222201'] });

    const { terminal, stdout } = captureTerminal();
    expect(await runPlan({ runtime: cli.runtime, terminal, accountIds: ['222222222201'] })).toBe(0);
    expect(stdout()).toContain('Macie membership plan for administrator 111111111111, account 222222222201, regions us-east-1, eu-west-1');
    expect(stdout()).toContain('1 account in the table, 2 account-regions: 2 in sync');
    expect(stdout()).toContain('No changes: Macie matches the desired table.');
    expect(stdout()).not.toContain('222222222201 us-east-1');

    const all = captureTerminal();
    expect(await runPlan({ runtime: cli.runtime, terminal: all.terminal, accountIds: ['222222222201'], all: true })).toBe(0);
    expect(all.stdout()).toContain('  = 222222222201 us-east-1, eu-west-1: Enabled -> member [invitation] (in sync)');
  });

  it('says so for an --account the table does not have, instead of "No changes", and exits 1', async () => {
    const { terminal, stdout } = captureTerminal();
    expect(await runPlan({ runtime: cli.runtime, terminal, accountIds: ['999999999999'] })).toBe(1);
    expect(stdout()).toContain('Not in the desired table, so nothing is planned for it: 999999999999');
    expect(stdout()).toContain('Nothing planned: none of the accounts asked for is in the desired table.');
    expect(stdout()).not.toContain('No changes');

    const mixed = captureTerminal();
    expect(await runPlan({ runtime: cli.runtime, terminal: mixed.terminal, accountIds: ['222222222201', '999999999999'], json: true })).toBe(1);
    const document = JSON.parse(mixed.stdout()) as PlanDocument;
    expect(document.notInTable).toEqual(['999999999999']);
    expect(document.items.map((item) => item.accountId)).toEqual(['222222222201', '222222222201']);
  });

  it('reports what it could not observe and exits 1: the plan is incomplete', async () => {
    cli.sandbox.emulator.control.setKnobs({
      failingCalls: [{ operation: 'ListMembers', errorType: 'AccessDeniedException', statusCode: 403, message: 'not allowed' }],
    });
    try {
      const { terminal, stdout } = captureTerminal();
      expect(await runPlan({ runtime: cli.runtime, terminal })).toBe(1);
      expect(stdout()).toContain('Not observed, so left out of this plan (the plan is incomplete):');
      expect(stdout()).toContain('  us-east-1 (every account): ListMembers AccessDeniedException: not allowed');
      expect(stdout()).toContain('  eu-west-1 (every account): ListMembers AccessDeniedException: not allowed');

      const json = captureTerminal();
      expect(await runPlan({ runtime: cli.runtime, terminal: json.terminal, json: true })).toBe(1);
      const document = JSON.parse(json.stdout()) as PlanDocument;
      expect(document.complete).toBe(false);
      expect(document.items).toEqual([]);
      expect(document.unobserved).toContainEqual({
        region: 'us-east-1',
        accountId: null,
        operation: 'ListMembers',
        code: 'AccessDeniedException',
        message: 'not allowed',
      });
    } finally {
      cli.sandbox.emulator.control.setKnobs({ failingCalls: [] });
    }
  });

  it('reports a corrupt row in one line, plans nothing for it and exits 1: the plan is incomplete', async () => {
    const removeRow = await putRawRow(cli, { accountId: '222222222298', desiredState: 'absnet', email: 'typo@example.com', requestedAt: 't' });
    try {
      const { terminal, stdout } = captureTerminal();
      expect(await runPlan({ runtime: cli.runtime, terminal })).toBe(1);
      expect(stdout()).toContain(
        'Corrupt rows, left out of this plan (the plan is incomplete; fix them in the table):\n' +
          '  222222222298: desiredState must be "member" or "absent", got "absnet"\n',
      );
      expect(stdout()).not.toMatch(/^.*222222222298 (us|eu)-/m);

      const json = captureTerminal();
      expect(await runPlan({ runtime: cli.runtime, terminal: json.terminal, json: true })).toBe(1);
      const document = JSON.parse(json.stdout()) as PlanDocument;
      expect(document.complete).toBe(false);
      expect(document.corruptRows).toEqual([
        { accountId: '222222222298', problems: [{ field: 'desiredState', rule: 'oneOf', message: 'desiredState must be "member" or "absent", got "absnet"' }] },
      ]);
    } finally {
      await removeRow();
    }
  });
});
