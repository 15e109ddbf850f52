import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApply } from '#cli/commands/apply';
import { drainQueue } from '../support/service-sandbox';
import { captureTerminal, macieState, startCliSandbox, type CliSandbox } from './support/cli-sandbox';

/** `apply` against the sandbox holding the demo organization. */

let cli: CliSandbox;

beforeAll(async () => {
  cli = await startCliSandbox({ demo: true });
});

afterAll(() => cli?.sandbox.close());

describe('apply', () => {
  it('reconciles every desired account, with progress lines on a non-interactive stderr, and a summary', async () => {
    const { terminal, stdout, stderr } = captureTerminal();
    const exitCode = await runApply({ runtime: cli.runtime, yes: true, terminal });

    // Some demo accounts cannot be enrolled (missing role, another administrator, suspended).
    expect(exitCode).toBe(1);

    const progress = stderr().trimEnd().split('\n');
    expect(progress[0]).toBe('apply: 48 account-regions to go through');
    expect(progress.at(-1)).toBe('apply: 100% (48/48) 40 changed, 6 failed');
    expect(progress.length).toBeLessThanOrEqual(11);

    const text = stdout();
    expect(text).toMatch(/^Reconciliation run \(trigger cli\) finished in \d+\.\d s: 48 account-regions of 24 accounts in 2 regions\./);
    expect(text).toMatch(/222222222201  us-east-1  NotListed  Enabled +createMember, invite, accept +done/);
    expect(text).toMatch(/222222222222  eu-west-1  Enabled +NotListed +disassociateMember, deleteMember +done/);
    expect(text).toMatch(/222222222221  us-east-1  NotListed  Invited +createMember, invite +failed at accept: AccessDenied/);
    expect(text).toContain('Outcomes: 40 done, 2 pending, 6 failed');
    expect(text).toContain('Actions: createMember 41 ok; invite 38 ok, 4 failed; accept 34 ok, 2 failed;');
    expect(text).toContain('Failures (6):');
    expect(text).toContain('  222222222223 us-east-1 invite: ClientError: The account 222222222223 is already associated with another Macie administrator account');
    expect(text).toContain('Unmanaged members: 2');
    expect(text).toContain(`Dead-lettered: 6 messages to ${cli.sandbox.deadLetterQueueUrl}`);
    expect(text).not.toMatch(/aws\+member|bounce@/);

    // What it changed: Macie, the table's recorded observations, the dead-letter queue.
    const macie = macieState(cli.sandbox);
    for (const region of cli.sandbox.regions) {
      expect(macie.get(`222222222201/${region}`)).toBe('Enabled');
      expect(macie.get(`222222222216/${region}`)).toBe('Enabled');
      expect(macie.has(`222222222222/${region}`)).toBe(false);
      expect(macie.get(`222222222219/${region}`)).toBe('Enabled');
    }
    const { rows: [row] } = await cli.runtime.store.getMany(['222222222201']);
    expect(row?.observed['us-east-1']).toMatchObject({ relationshipStatus: 'Enabled', lastAction: 'accept' });
    const letters = await drainQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl);
    expect(letters.map((letter) => `${letter.accountId} ${letter.reason}`).sort()).toEqual([
      '222222222221 action-failed',
      '222222222221 action-failed',
      '222222222223 unprocessed-account',
      '222222222223 unprocessed-account',
      '222222222225 unprocessed-account',
      '222222222225 unprocessed-account',
    ]);
  });

  it('reconciles only the --account accounts and prints just the JSON summary on stdout', async () => {
    await cli.runtime.store.recordDesired({
      accountId: '222222222202',
      email: 'aws+member02@example.com',
      desiredState: 'absent',
      tags: {},
      autoAccept: true,
      paused: false,
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
    });
    const { terminal, stdout, stderr } = captureTerminal();
    const exitCode = await runApply({ runtime: cli.runtime, yes: true, terminal, json: true, accountIds: ['222222222202'] });

    expect(exitCode).toBe(0);
    expect(stderr()).toContain('apply: 100% (2/2) 2 changed, 0 failed');
    const document = JSON.parse(stdout()) as { schemaVersion: number; summary: Record<string, unknown>; outcomes: unknown[] };
    expect(Object.keys(document)).toEqual(['schemaVersion', 'summary', 'outcomes', 'deadLetterQueueUrl']);
    expect(document.summary).toMatchObject({
      trigger: 'cli',
      accounts: 1,
      planned: 2,
      byOutcome: { done: 2, failed: 0 },
      byAction: { disassociateMember: { succeeded: 2 }, deleteMember: { succeeded: 2 } },
      deadLettered: 0,
      failures: [],
    });
    expect(document.outcomes).toEqual(
      cli.sandbox.regions.map((region) => ({
        accountId: '222222222202',
        region,
        unmanaged: false,
        verdict: 'change',
        before: 'Enabled',
        after: 'NotListed',
        status: 'done',
        completed: ['disassociateMember', 'deleteMember'],
        failure: null,
        note: null,
      })),
    );
    const macie = macieState(cli.sandbox);
    for (const region of cli.sandbox.regions) {
      expect(macie.has(`222222222202/${region}`)).toBe(false);
      expect(macie.get(`222222222203/${region}`)).toBe('Enabled');
    }
  });
});
