import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApply } from '#cli/commands/apply';
import { runPlan } from '#cli/commands/plan';
import { loadPlan } from '#cli/saved-plan';
import { captureTerminal, macieState, startCliSandbox, writeCalls, type CliSandbox } from './support/cli-sandbox';

/** `apply` asks first on a terminal, refuses to guess elsewhere, and applies a saved plan exactly or not at all. */

let cli: CliSandbox;
let directory: string;

beforeAll(async () => {
  cli = await startCliSandbox({ demo: true });
  directory = await mkdtemp(join(tmpdir(), 'macie-plans-'));
});

afterAll(async () => {
  await cli?.sandbox.close();
  if (directory) await rm(directory, { recursive: true });
});

describe('apply: confirmation', () => {
  it('refuses without --yes when stdin is not a terminal, and changes nothing', async () => {
    cli.sandbox.clearCalls();
    const run = runApply({ runtime: cli.runtime, terminal: captureTerminal().terminal, accountIds: ['222222222201'] });
    await expect(run).rejects.toThrow('apply changes Macie and asks first; stdin is not a terminal, so nothing was applied.');
    expect(writeCalls(cli.sandbox)).toEqual([]);
  });

  it('shows the plan and applies nothing unless the answer is "yes"', async () => {
    cli.sandbox.clearCalls();
    const { terminal, stdout, stderr } = captureTerminal({ answer: 'y' });
    expect(await runApply({ runtime: cli.runtime, terminal, accountIds: ['222222222201'] })).toBe(1);
    expect(stderr()).toContain('  + 222222222201 us-east-1, eu-west-1: NotListed -> member [invitation] (change)');
    expect(stderr()).toContain('Apply these changes to Macie? Only "yes" applies them: ');
    expect(stderr()).not.toContain('Run `macie-members apply');
    expect(stderr()).toContain('Apply cancelled: nothing changed.');
    expect(stdout()).toBe('');
    expect(writeCalls(cli.sandbox)).toEqual([]);
  });

  it('applies the plan shown once the answer is "yes"', async () => {
    const { terminal, stdout } = captureTerminal({ answer: 'yes' });
    expect(await runApply({ runtime: cli.runtime, terminal, accountIds: ['222222222201'] })).toBe(0);
    expect(stdout()).toContain('Outcomes: 2 done');
    expect(macieState(cli.sandbox).get('222222222201/us-east-1')).toBe('Enabled');
  });

  it('asks nothing when there is nothing to change', async () => {
    const { terminal, stderr } = captureTerminal({ answer: '' });
    expect(await runApply({ runtime: cli.runtime, terminal, accountIds: ['222222222201'] })).toBe(0);
    expect(stderr()).toContain('No changes: Macie matches the desired table.');
    expect(stderr()).not.toContain('Apply these changes');
  });
});

describe('plan --out and apply FILE', () => {
  it('applies exactly the saved plan, without asking', async () => {
    const file = join(directory, 'two.plan');
    const planned = captureTerminal();
    expect(await runPlan({ runtime: cli.runtime, terminal: planned.terminal, accountIds: ['222222222202', '222222222203'], out: file })).toBe(2);
    expect(planned.stdout()).toContain(`Saved the plan to ${file}.\nTo make exactly these changes, run \`macie-members apply ${file}\``);
    expect(planned.stdout()).not.toContain('Run `macie-members apply');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const saved = await loadPlan(file, cli.runtime.config);
    expect(saved.plan.items.map((item) => `${item.accountId} ${item.region} ${item.observedStatus}`)).toEqual([
      '222222222202 us-east-1 NotListed',
      '222222222202 eu-west-1 NotListed',
      '222222222203 us-east-1 NotListed',
      '222222222203 eu-west-1 NotListed',
    ]);
    const { terminal, stdout } = captureTerminal();
    expect(await runApply({ runtime: cli.runtime, terminal, saved })).toBe(0);
    expect(stdout()).toContain('4 account-regions of 2 accounts');
    expect(macieState(cli.sandbox).get('222222222203/eu-west-1')).toBe('Enabled');
  });

  it('refuses when Macie changed since the plan, naming what changed, and applies nothing', async () => {
    const file = join(directory, 'stale.plan');
    await runPlan({ runtime: cli.runtime, terminal: captureTerminal().terminal, accountIds: ['222222222204', '222222222205'], out: file });
    // Someone else reconciles one of the accounts in between.
    await cli.runtime.reconciler.reconcile({ trigger: 'test', accountIds: ['222222222204'] });
    cli.sandbox.clearCalls();

    const run = runApply({ runtime: cli.runtime, terminal: captureTerminal().terminal, saved: await loadPlan(file, cli.runtime.config) });
    await expect(run).rejects.toMatchObject({
      message: expect.stringContaining('Macie or the desired table changed since the saved plan of'),
      hints: expect.arrayContaining([
        '222222222204 us-east-1: Macie lists it as Enabled now, the plan saw NotListed',
        '222222222204 eu-west-1: Macie lists it as Enabled now, the plan saw NotListed',
      ]),
    });
    expect(writeCalls(cli.sandbox)).toEqual([]);
    expect(macieState(cli.sandbox).has('222222222205/us-east-1')).toBe(false);
  });

  it('refuses a plan made for another configuration, or something that is not a plan', async () => {
    const file = join(directory, 'other.plan');
    await runPlan({ runtime: cli.runtime, terminal: captureTerminal().terminal, accountIds: ['222222222205'], out: file });
    const saved = JSON.parse(await readFile(file, 'utf8')) as { plan: { administratorAccountId: string } };
    saved.plan.administratorAccountId = '999999999999';
    await writeFile(file, JSON.stringify(saved));
    await expect(loadPlan(file, cli.runtime.config)).rejects.toMatchObject({
      message: `${file} was made for another configuration: nothing applied.`,
      hints: ['administrator 999999999999 in the plan, 111111111111 here'],
    });
    await writeFile(file, '{"hello": 1}');
    await expect(loadPlan(file, cli.runtime.config)).rejects.toThrow(`${file} is not a saved plan of this version of macie-members.`);
  });

  it('does not save an incomplete plan', async () => {
    const file = join(directory, 'incomplete.plan');
    const { terminal, stdout } = captureTerminal();
    expect(await runPlan({ runtime: cli.runtime, terminal, accountIds: ['999999999999'], out: file })).toBe(1);
    expect(stdout()).toContain(`Not saved to ${file}: the plan is incomplete (see above).`);
    await expect(stat(file)).rejects.toThrow();
  });
});
