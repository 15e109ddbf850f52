import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runEnroll } from '#cli/commands/enroll';
import { runRemove } from '#cli/commands/remove';
import { captureTerminal, macieState, startCliSandbox, type CliSandbox } from './support/cli-sandbox';

/** `enroll` and `remove`: they write the desired row, validated like an SQS request, and never touch Macie. */

const NEW = { accountId: '222222222201', email: 'new.owner@example.com' };
const LEAVING = { accountId: '222222222202', email: 'leaving@example.com' };
const now = new Date('2025-03-01T10:00:00.000Z');

let cli: CliSandbox;

beforeAll(async () => {
  cli = await startCliSandbox({ sandbox: { accounts: [NEW, LEAVING] } });
  for (const region of cli.sandbox.regions) {
    cli.sandbox.emulator.control.seedMembership({
      administratorAccountId: cli.sandbox.administrator.accountId,
      accountId: LEAVING.accountId,
      region,
      relationshipStatus: 'Enabled',
    });
  }
});

afterAll(() => cli?.sandbox.close());

beforeEach(() => cli.sandbox.clearCalls());

const macieCalls = () => cli.sandbox.calls().filter((call) => call.service !== 'dynamodb');

describe('enroll', () => {
  it('records the desired row with the given regions, tags and flags, and leaves Macie alone', async () => {
    const { terminal, stdout, stderr } = captureTerminal();
    const exitCode = await runEnroll({
      runtime: cli.runtime,
      terminal,
      ...NEW,
      regions: 'us-east-1',
      tags: ['Owner=security', 'CostCenter = cc-42'],
      autoAccept: false,
      paused: true,
      message: 'Welcome to Macie',
      user: 'alice',
      now,
    });

    expect(exitCode).toBe(0);
    expect(stderr()).toBe('');
    expect(stdout()).toContain('Recorded: 222222222201 (n***@example.com) is a desired member in us-east-1.');
    expect(stdout()).toContain('  tags: Owner=security, CostCenter=cc-42; invitation accepted by the member account itself; session paused; invitation message "Welcome to Macie"');
    expect(stdout()).toMatch(/requested by cli:alice at 2025-03-01T10:00:00.000Z \(request cli-[0-9a-f-]{36}\)/);
    expect(stdout()).toContain('Macie is not changed yet: run `macie-members apply --account 222222222201` or wait for the schedule.');
    expect(stdout()).not.toContain(NEW.email);

    const { rows: [row] } = await cli.runtime.store.getMany([NEW.accountId]);
    expect(row).toMatchObject({
      accountId: NEW.accountId,
      desiredState: 'member',
      email: NEW.email,
      regions: ['us-east-1'],
      tags: { Owner: 'security', CostCenter: 'cc-42' },
      autoAccept: false,
      paused: true,
      invitationMessage: 'Welcome to Macie',
      requestedBy: 'cli:alice',
      requestedAt: now.toISOString(),
      version: 1,
    });
    expect(macieCalls()).toEqual([]);
    expect(macieState(cli.sandbox).has(`${NEW.accountId}/us-east-1`)).toBe(false);
  });

  it('keeps what an enroll does not name, as an SQS request would', async () => {
    const later = new Date(now.getTime() + 60_000);
    const { terminal } = captureTerminal();
    expect(await runEnroll({ runtime: cli.runtime, terminal, ...NEW, autoAccept: true, user: 'bob', now: later })).toBe(0);

    const { rows: [row] } = await cli.runtime.store.getMany([NEW.accountId]);
    expect(row).toMatchObject({ regions: ['us-east-1'], tags: { Owner: 'security', CostCenter: 'cc-42' }, autoAccept: true, paused: true, requestedBy: 'cli:bob' });
  });

  it('rejects invalid input with every problem, its field and its rule, and records nothing', async () => {
    const { terminal, stdout, stderr } = captureTerminal();
    const exitCode = await runEnroll({
      runtime: cli.runtime,
      terminal,
      accountId: '12345',
      email: 'someone@invalid',
      regions: 'us-east-1,mars-1',
      tags: ['aws:owner=x', 'novalue'],
      message: 'Hello, world!',
      user: 'alice',
      now,
    });

    expect(exitCode).toBe(1);
    expect(stdout()).toBe('');
    expect(stderr().split('\n')).toEqual([
      'macie-members: invalid enroll request (6 problems), nothing recorded:',
      '  - tags [keyValue]: tags must be given as key=value, got "novalue"',
      '  - accountId [pattern]: accountId must be exactly 12 digits, got "12345"',
      '  - email [format]: email must be a plausible email address such as name@example.com, got "s***@invalid"',
      '  - regions[1] [managedRegion]: regions[1] must be one of the managed regions (us-east-1, eu-west-1), got "mars-1"',
      '  - tags["aws:owner"] [reservedPrefix]: tags["aws:owner"] key must not start with "aws:" (reserved for AWS), got "aws:owner"',
      '  - invitationMessage [charset]: invitationMessage must contain letters, digits and spaces only (Macie\'s rule), got "Hello, world!"',
      '',
    ]);
    expect((await cli.runtime.store.listAll()).rows).toHaveLength(1);
    expect(cli.sandbox.calls().filter((call) => call.operation === 'UpdateItem')).toEqual([]);
  });

  it("refuses the administrator's own account", async () => {
    const { terminal, stderr } = captureTerminal();
    expect(await runEnroll({ runtime: cli.runtime, terminal, accountId: '111111111111', email: 'admin@example.com', user: 'alice', now })).toBe(1);
    expect(stderr()).toContain('  - accountId [notAdministrator]: accountId must not be the administrator\'s own account (111111111111)');
  });
});

describe('remove', () => {
  it('refuses an account the table has no row for, and records nothing', async () => {
    const run = runRemove({ runtime: cli.runtime, terminal: captureTerminal().terminal, accountId: LEAVING.accountId, user: 'alice', now });
    await expect(run).rejects.toThrow('222222222202 is not in the desired table: nothing recorded.');
    expect((await cli.runtime.store.getMany([LEAVING.accountId])).rows).toEqual([]);
  });

  it('with --force, records an unmanaged member as desired absent and leaves it in Macie until a reconciliation', async () => {
    const { terminal, stdout } = captureTerminal();
    expect(await runRemove({ runtime: cli.runtime, terminal, accountId: LEAVING.accountId, force: true, user: 'alice', now })).toBe(0);

    expect(stdout()).toBe(
      [
        'Recorded: 222222222202 is desired absent in every managed region (us-east-1, eu-west-1).',
        '  the table had no row for it; requested by cli:alice at 2025-03-01T10:00:00.000Z',
        'Macie is not changed yet: run `macie-members apply --account 222222222202` or wait for the schedule.',
        '',
      ].join('\n'),
    );
    const { rows: [row] } = await cli.runtime.store.getMany([LEAVING.accountId]);
    expect(row).toMatchObject({ desiredState: 'absent', email: '', requestedBy: 'cli:alice' });
    expect(macieCalls()).toEqual([]);
    for (const region of cli.sandbox.regions) expect(macieState(cli.sandbox).get(`${LEAVING.accountId}/${region}`)).toBe('Enabled');
  });

  it('turns an enrolled account absent, keeping its email', async () => {
    const { terminal, stdout } = captureTerminal();
    const later = new Date(now.getTime() + 120_000);
    expect(await runRemove({ runtime: cli.runtime, terminal, accountId: NEW.accountId, user: 'alice', now: later })).toBe(0);
    expect(stdout()).toContain('  it was desired a member; requested by cli:alice');
    const { rows: [row] } = await cli.runtime.store.getMany([NEW.accountId]);
    expect(row).toMatchObject({ desiredState: 'absent', email: NEW.email, regions: ['us-east-1'] });
  });

  it('rejects an invalid account ID', async () => {
    const { terminal, stderr } = captureTerminal();
    expect(await runRemove({ runtime: cli.runtime, terminal, accountId: 'abc', user: 'alice', now })).toBe(1);
    expect(stderr()).toContain('  - accountId [pattern]: accountId must be exactly 12 digits, got "abc"');
  });
});
