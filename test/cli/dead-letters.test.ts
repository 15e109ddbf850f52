import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDeadLetterShow, runDeadLetters } from '#cli/commands/dead-letters';
import { drainQueue, loadEvent, sendToQueue } from '../support/service-sandbox';
import { captureTerminal, startCliSandbox, type CliSandbox } from './support/cli-sandbox';

/** `dead-letters`: the letters themselves, read without removing them. */

let cli: CliSandbox;

const letter = (accountId: string, reason: string, at: string) =>
  JSON.stringify({
    action: 'enroll',
    accountId,
    email: `owner-${accountId}@example.com`,
    tags: {},
    reason,
    operation: 'CreateInvitations',
    errorCode: 'ClientError',
    errorMessage: `The account ${accountId} is suspended`,
    region: 'us-east-1',
    attempts: 1,
    at,
  });

beforeAll(async () => {
  cli = await startCliSandbox({ demo: true });
  await sendToQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl, letter('222222222225', 'unprocessed-account', '2026-11-30T10:00:01.000Z'));
  await sendToQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl, letter('222222222221', 'action-failed', '2026-11-30T10:00:02.000Z'));
  await sendToQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl, letter('222222222221', 'action-failed', '2026-11-30T10:00:03.000Z'));
  const event = await loadEvent<Record<string, unknown>>('organizations-create-account-result.json');
  await sendToQueue(
    cli.sandbox,
    cli.sandbox.deadLetterQueueUrl,
    JSON.stringify({
      timestamp: '2026-11-30T10:00:04.000Z',
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: event,
      responsePayload: { errorType: 'ThrottlingException', errorMessage: 'Rate exceeded' },
    }),
  );
});

afterAll(() => cli?.sandbox.close());

const queues = () => cli.queues;

describe('dead-letters', () => {
  it('lists every letter with its account, reason and failed operation, emails masked, and leaves them in the queue', async () => {
    const { terminal, stdout, stderr } = captureTerminal();
    expect(await runDeadLetters({ runtime: cli.runtime, queues: queues(), terminal })).toBe(0);
    expect(stderr()).toBe('');
    const text = stdout();
    expect(text).toContain(`4 dead letters read from ${cli.sandbox.deadLetterQueueUrl} (4 waiting, in flight included).`);
    expect(text).toMatch(/^[0-9a-f-]{8} +222222222225 +enroll +unprocessed-account +CreateInvitations +us-east-1 +ClientError +2026-11-30T10:00:01Z$/m);
    expect(text).toMatch(/^[0-9a-f-]{8} +222222222201 +enroll +lambda-failure +RetriesExhausted +- +ThrottlingException +2026-11-30T10:00:04Z$/m);
    expect(text).not.toContain('owner-');

    // Visible again at once: a second listing sees them all, and the queue still holds them.
    const again = captureTerminal();
    await runDeadLetters({ runtime: cli.runtime, queues: queues(), terminal: again.terminal });
    expect(again.stdout()).toContain('4 dead letters read');
    expect(await cli.queues.admin.depth(cli.sandbox.deadLetterQueueUrl)).toBe(4);
  });

  it('filters by --account and --reason', async () => {
    const { terminal, stdout } = captureTerminal();
    await runDeadLetters({ runtime: cli.runtime, queues: queues(), terminal, accountIds: ['222222222221'], reasons: ['action-failed', 'needs-operator'] });
    expect(stdout()).toContain('4 dead letters read from');
    expect(stdout()).toContain(', 2 matching (');
    expect(stdout().match(/^\S{8} +222222222221 /gm)).toHaveLength(2);
    expect(stdout()).not.toContain('222222222225');

    const none = captureTerminal();
    await runDeadLetters({ runtime: cli.runtime, queues: queues(), terminal: none.terminal, reasons: ['invalid-request'] });
    expect(none.stdout()).toContain(', 0 matching (');
    expect(none.stdout()).not.toContain('ACCOUNT');
  });

  it('prints one JSON document with the bodies as they are under --json', async () => {
    const { terminal, stdout } = captureTerminal();
    await runDeadLetters({ runtime: cli.runtime, queues: queues(), terminal, json: true, accountIds: ['222222222225'] });
    const document = JSON.parse(stdout()) as { letters: Array<Record<string, unknown>> };
    expect(document).toMatchObject({ schemaVersion: 1, queueUrl: cli.sandbox.deadLetterQueueUrl, waiting: 4, read: 4, complete: true });
    expect(document.letters).toEqual([
      expect.objectContaining({
        kind: 'letter',
        accountId: '222222222225',
        reason: 'unprocessed-account',
        operation: 'CreateInvitations',
        body: expect.objectContaining({ email: 'owner-222222222225@example.com' }),
      }),
    ]);
  });

  it('shows one letter in full by its ID or a prefix of it, and says so when there is none', async () => {
    const list = captureTerminal();
    await runDeadLetters({ runtime: cli.runtime, queues: queues(), terminal: list.terminal, json: true, accountIds: ['222222222225'] });
    const [{ messageId }] = (JSON.parse(list.stdout()) as { letters: Array<{ messageId: string }> }).letters as [{ messageId: string }];

    const { terminal, stdout } = captureTerminal();
    expect(await runDeadLetterShow({ runtime: cli.runtime, queues: queues(), terminal, id: messageId.slice(0, 8) })).toBe(0);
    expect(stdout()).toContain(`id         ${messageId}`);
    expect(stdout()).toContain('account    222222222225');
    expect(stdout()).toContain('email      o***@example.com');
    expect(stdout()).toContain('error      ClientError: The account 222222222225 is suspended');
    expect(stdout()).toContain('"reason": "unprocessed-account"');
    expect(stdout()).not.toContain('owner-');

    const json = captureTerminal();
    await runDeadLetterShow({ runtime: cli.runtime, queues: queues(), terminal: json.terminal, id: messageId, json: true });
    expect(JSON.parse(json.stdout())).toMatchObject({ letter: { messageId, body: { email: 'owner-222222222225@example.com' } } });

    await expect(runDeadLetterShow({ runtime: cli.runtime, queues: queues(), terminal: captureTerminal().terminal, id: 'nosuchid' })).rejects.toThrow(
      `no dead letter with ID nosuchid in ${cli.sandbox.deadLetterQueueUrl}.`,
    );
    expect(await drainQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl)).toHaveLength(4);
  });
});
