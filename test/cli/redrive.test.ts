import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRedrive } from '#cli/commands/redrive';
import { CliError } from '#cli/errors';
import { parseMembershipRequest } from '#shared/domain/requests';
import { drainQueue, loadEvent, sendToQueue } from '../support/service-sandbox';
import { captureTerminal, startCliSandbox, type CliSandbox } from './support/cli-sandbox';

/** `redrive`: dead letters back to the request queue. */

let cli: CliSandbox;

const letter = (accountId: string) =>
  JSON.stringify({ action: 'enroll', accountId, email: `owner-${accountId}@example.com`, reason: 'action-failed', at: '2025-03-01T10:00:00.000Z' });

beforeAll(async () => {
  cli = await startCliSandbox({ demo: true });
});

afterAll(() => cli?.sandbox.close());

describe('redrive', () => {
  it('moves every dead letter to the request queue, unchanged, and reports the count', async () => {
    const bodies = ['222222222201', '222222222202', '222222222203'].map(letter);
    for (const body of bodies) await sendToQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl, body);

    const dryRun = captureTerminal();
    expect(await runRedrive({ runtime: cli.runtime, queues: cli.queues, terminal: dryRun.terminal, dryRun: true })).toBe(0);
    expect(dryRun.stdout()).toBe(
      `Dry run: 3 messages waiting in ${cli.sandbox.deadLetterQueueUrl} would move to ${cli.sandbox.requestQueueUrl}.\n`,
    );

    const { terminal, stdout } = captureTerminal();
    expect(await runRedrive({ runtime: cli.runtime, queues: cli.queues, terminal })).toBe(0);
    expect(stdout()).toContain(`Moved 3 messages from ${cli.sandbox.deadLetterQueueUrl} to ${cli.sandbox.requestQueueUrl}.`);

    expect(await cli.queues.admin.depth(cli.sandbox.deadLetterQueueUrl)).toBe(0);
    const moved = await drainQueue(cli.sandbox, cli.sandbox.requestQueueUrl);
    expect(moved.map((body) => JSON.stringify(body)).sort()).toEqual(bodies.sort());
  });

  it("redrives the request queue's own DLQ, found through its redrive policy, and reports JSON", async () => {
    await sendToQueue(cli.sandbox, cli.sandbox.requestDeadLetterQueueUrl, letter('222222222204'));
    const { terminal, stdout } = captureTerminal();
    expect(await runRedrive({ runtime: cli.runtime, queues: cli.queues, terminal, from: 'request-dlq', json: true })).toBe(0);
    expect(JSON.parse(stdout())).toEqual({
      schemaVersion: 1,
      from: cli.sandbox.requestDeadLetterQueueUrl,
      to: cli.sandbox.requestQueueUrl,
      dryRun: false,
      moved: 1,
      left: 0,
      waiting: null,
    });
    expect(await drainQueue(cli.sandbox, cli.sandbox.requestQueueUrl)).toEqual([JSON.parse(letter('222222222204'))]);
  });

  it('needs REQUEST_QUEUE_URL and says so', async () => {
    const runtime = { ...cli.runtime, config: { ...cli.runtime.config, requestQueueUrl: undefined } };
    const run = runRedrive({ runtime, queues: cli.queues, terminal: captureTerminal().terminal });
    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toThrow('REQUEST_QUEUE_URL is not set: redrive moves dead letters back to the request queue.');
  });

  it('refuses to move the request queue onto itself', async () => {
    const run = runRedrive({ runtime: cli.runtime, queues: cli.queues, terminal: captureTerminal().terminal, from: cli.sandbox.requestQueueUrl });
    await expect(run).rejects.toThrow('--from names the request queue itself');
  });

  it("replays Lambda's failure record of an onboarding event as the request it asked for, the email looked up in the organization", async () => {
    const event = await loadEvent<Record<string, unknown>>('organizations-create-account-result.json');
    const record = {
      version: '1.0',
      timestamp: '2026-11-30T10:00:00.000Z',
      requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:onboard:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'ThrottlingException', errorMessage: 'Rate exceeded' },
    };
    await sendToQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl, JSON.stringify(record));
    const intakeFailed = { action: 'enroll', accountId: '222222222202', reason: 'intake-failed', operation: 'DescribeAccount', at: '2026-11-30T10:00:00.000Z' };
    await sendToQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl, JSON.stringify(intakeFailed));

    const { terminal, stdout, stderr } = captureTerminal();
    expect(await runRedrive({ runtime: cli.runtime, queues: cli.queues, terminal })).toBe(0);
    expect(stdout(), stderr()).toContain('Moved 2 messages');

    const moved = await drainQueue(cli.sandbox, cli.sandbox.requestQueueUrl);
    const emails = new Map((await cli.runtime.organization.listAccounts()).map((account) => [account.accountId, account.email]));
    expect(moved).toEqual(
      expect.arrayContaining([
        { action: 'enroll', accountId: '222222222201', email: emails.get('222222222201') },
        { ...intakeFailed, email: emails.get('222222222202') },
      ]),
    );
    const context = { administratorAccountId: cli.runtime.config.administratorAccountId, managedRegions: cli.runtime.config.managedRegions };
    for (const body of moved) expect(parseMembershipRequest(body, context).ok).toBe(true);
  });

  it("leaves Lambda's record of an event that asks for nothing in the queue, and says why", async () => {
    const record = { requestContext: { condition: 'RetriesExhausted' }, requestPayload: await loadEvent<Record<string, unknown>>('schedule.json') };
    await sendToQueue(cli.sandbox, cli.sandbox.deadLetterQueueUrl, JSON.stringify(record));
    const { terminal, stdout, stderr } = captureTerminal();
    expect(await runRedrive({ runtime: cli.runtime, queues: cli.queues, terminal })).toBe(0);
    expect(stdout()).toContain('Left 1 message in');
    expect(stderr()).toContain("redrive: left a message: Lambda's failure record of an event that asks for nothing");
    expect(await drainQueue(cli.sandbox, cli.sandbox.requestQueueUrl)).toEqual([]);
  });
});
