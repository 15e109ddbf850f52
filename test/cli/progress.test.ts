import { describe, expect, it } from 'vitest';
import type { ExecutionOutcome } from '#shared/domain/outcomes';
import { createProgress } from '#cli/progress';
import { captureTerminal } from './support/cli-sandbox';

const outcome = (status: ExecutionOutcome['status']): ExecutionOutcome => ({
  item: { accountId: '222222222201', region: 'us-east-1', desiredState: 'member', observedStatus: 'NotListed', verdict: 'change', reason: 'r', actions: [] },
  status,
  completed: [],
});

describe('progress', () => {
  it('writes a plain line at every tenth of the work when stderr is not a terminal', () => {
    const { terminal, stderr } = captureTerminal();
    const progress = createProgress(terminal.stderr, 'apply');
    progress.start(1000);
    for (let index = 0; index < 1000; index++) progress.tick(outcome(index % 100 === 0 ? 'failed' : 'done'));
    progress.stop();

    const lines = stderr().trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('apply: 1000 account-regions to go through');
    expect(lines[1]).toBe('apply: 10% (100/1000) 99 changed, 1 failed');
    expect(lines[10]).toBe('apply: 100% (1000/1000) 990 changed, 10 failed');
  });

  it('draws a bar sized from the plan on an interactive terminal', () => {
    const { terminal, stderr } = captureTerminal({ tty: true });
    const progress = createProgress(terminal.stderr, 'apply');
    progress.start(4);
    for (let index = 0; index < 4; index++) progress.tick(outcome(index === 3 ? 'failed' : 'done'));
    progress.stop();

    expect(stderr()).toContain('apply [');
    expect(stderr()).toContain('100% | 4/4 account-regions | 3 changed, 1 failed');
  });

  it('draws no bar for an empty plan', () => {
    const { terminal, stderr } = captureTerminal({ tty: true });
    const progress = createProgress(terminal.stderr, 'apply');
    progress.start(0);
    progress.stop();
    expect(stderr()).toBe('');
  });
});
