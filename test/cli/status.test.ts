import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus, type StatusDocument } from '#cli/commands/status';
import { sendToQueue } from '../support/service-sandbox';
import { captureTerminal, putRawRow, startCliSandbox, writeCalls, type CliSandbox } from './support/cli-sandbox';

/** `status` against the demo organization after one reconciliation run. */

let cli: CliSandbox;

beforeAll(async () => {
  cli = await startCliSandbox({ demo: true });
  await cli.runtime.reconciler.reconcile({ trigger: 'test' });
  await sendToQueue(cli.sandbox, cli.sandbox.requestDeadLetterQueueUrl, JSON.stringify({ action: 'enroll', accountId: '222222222299' }));
});

afterAll(() => cli?.sandbox.close());

describe('status', () => {
  it('shows desired, recorded and live state per account and region, counts, unmanaged members and queue depths', async () => {
    const { terminal, stdout, stderr } = captureTerminal();
    expect(await runStatus({ runtime: cli.runtime, queues: cli.queues, terminal })).toBe(0);
    expect(stderr()).toBe('');

    const text = stdout();
    expect(text).toContain('Macie membership status for administrator 111111111111, regions us-east-1, eu-west-1');
    expect(text).toContain('Desired table macie-desired-members: 24 accounts (23 member, 1 absent)');
    expect(text).toMatch(/222222222201 +a\*\*\*@example\.com +us-east-1 +member +Enabled +invitation +Enabled +accept +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +in sync/);
    expect(text).toMatch(/222222222217 +b\*\*\*@bouncing\.example\.com +us-east-1 +member +EmailVerificationFailed +invitation +Invited +invite +\S+ +needs operator/);
    expect(text).toMatch(/222222222222 +a\*\*\*@example\.com +eu-west-1 +absent +NotListed +- +NotListed +deleteMember +\S+ +in sync/);
    expect(text).toContain('Last errors recorded by the reconciler:');
    expect(text).toMatch(/ {2}222222222221 us-east-1 accept: AccessDenied: User: arn:aws:iam::111111111111:root is not authorized/);

    expect(text).toMatch(/STATUS +us-east-1 +eu-west-1 +TOTAL\n[- ]+\nEnabled +20 +20 +40\nInvited +1 +1 +2\nCreated +1 +1 +2\nEmailVerificationFailed +1 +1 +2\nAccountSuspended +1 +1 +2\n/);
    expect(text).toMatch(/Unmanaged members \(listed in Macie, not in the table\):\n.*\n.*\n222222222219 +us-east-1 +Enabled +invitation\n222222222219 +eu-west-1 +Enabled +invitation/);
    expect(text).toMatch(new RegExp(`dead letters \\(DEAD_LETTER_QUEUE_URL\\) +6 +${escape(cli.sandbox.deadLetterQueueUrl)}`));
    expect(text).toMatch(new RegExp(`requests \\(REQUEST_QUEUE_URL\\) +0 +${escape(cli.sandbox.requestQueueUrl)}`));
    expect(text).toMatch(new RegExp(`requests' DLQ \\(redrive policy\\) +1 +${escape(cli.sandbox.requestDeadLetterQueueUrl)}`));
    expect(text).toContain('Dead letters are waiting: fix their cause, then `macie-members redrive` replays them.');
    expect(text).not.toMatch(/aws\+member|bounce@/);
  });

  it('prints one JSON document under --json, and only reads', async () => {
    cli.sandbox.clearCalls();
    const { terminal, stdout, stderr } = captureTerminal();
    expect(await runStatus({ runtime: cli.runtime, queues: cli.queues, terminal, json: true })).toBe(0);
    expect(writeCalls(cli.sandbox)).toEqual([]);
    expect(stderr()).toBe('');

    const document = JSON.parse(stdout()) as StatusDocument;
    expect(Object.keys(document)).toEqual([
      'schemaVersion',
      'administratorAccountId',
      'managedRegions',
      'desiredMembersTable',
      'accounts',
      'countsByStatus',
      'unmanaged',
      'unobserved',
      'corruptRows',
      'fleetRun',
      'queues',
    ]);
    expect(document.accounts).toHaveLength(24);
    const drifted = document.accounts.find((account) => account.accountId === '222222222224');
    expect(drifted).toMatchObject({ email: 'aws+member24@example.com', desiredState: 'member', regions: null, tags: { Owner: 'security' } });
    expect(drifted?.regionStates[0]).toMatchObject({
      region: 'us-east-1',
      desired: 'member',
      live: 'Enabled',
      recorded: { relationshipStatus: 'Enabled', lastAction: 'updateTags', lastError: null },
      verdict: 'inSync',
    });
    expect(document.countsByStatus['us-east-1']).toEqual({ Enabled: 20, Invited: 1, Created: 1, EmailVerificationFailed: 1, AccountSuspended: 1 });
    expect(document.unmanaged).toEqual([
      { accountId: '222222222219', region: 'us-east-1', relationshipStatus: 'Enabled', membershipType: 'invitation' },
      { accountId: '222222222219', region: 'eu-west-1', relationshipStatus: 'Enabled', membershipType: 'invitation' },
    ]);
    expect(document.queues).toEqual([
      { queue: 'deadLetters', url: cli.sandbox.deadLetterQueueUrl, messages: 6, error: null },
      { queue: 'requests', url: cli.sandbox.requestQueueUrl, messages: 0, error: null },
      { queue: 'requestDeadLetters', url: cli.sandbox.requestDeadLetterQueueUrl, messages: 1, error: null },
    ]);
  });

  it('narrows to --account and exits 1 when Macie cannot be read', async () => {
    cli.sandbox.emulator.control.setKnobs({
      failingCalls: [{ operation: 'GetMember', errorType: 'AccessDeniedException', statusCode: 403, message: 'denied' }],
    });
    try {
      const { terminal, stdout } = captureTerminal();
      expect(await runStatus({ runtime: cli.runtime, queues: cli.queues, terminal, accountIds: ['222222222201'] })).toBe(1);
      expect(stdout()).toMatch(/222222222201 +a\*\*\*@example\.com +us-east-1 +member +\? +- +Enabled +accept +\S+ +\?/);
      expect(stdout()).toContain('  us-east-1 222222222201: GetMember AccessDeniedException: denied');
    } finally {
      cli.sandbox.emulator.control.setKnobs({ failingCalls: [] });
    }
  });

  it('reports a corrupt row in one line and exits 1', async () => {
    const removeRow = await putRawRow(cli, { accountId: '222222222298', desiredState: 'member', autoAccept: 'yes', email: 'a@example.com', requestedAt: 't' });
    try {
      const { terminal, stdout } = captureTerminal();
      expect(await runStatus({ runtime: cli.runtime, queues: cli.queues, terminal })).toBe(1);
      expect(stdout()).toContain('Corrupt rows (not reconciled until fixed in the table):\n  222222222298: autoAccept must be true or false, got "yes"\n');

      const json = captureTerminal();
      expect(await runStatus({ runtime: cli.runtime, queues: cli.queues, terminal: json.terminal, json: true })).toBe(1);
      const document = JSON.parse(json.stdout()) as StatusDocument;
      expect(document.corruptRows).toEqual([
        { accountId: '222222222298', problems: [{ field: 'autoAccept', rule: 'type', message: 'autoAccept must be true or false, got "yes"' }] },
      ]);
      expect(document.accounts.map((account) => account.accountId)).not.toContain('222222222298');
    } finally {
      await removeRow();
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
