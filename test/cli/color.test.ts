import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApply } from '#cli/commands/apply';
import { runPlan } from '#cli/commands/plan';
import { reportError, CliError } from '#cli/errors';
import { colorFor } from '#cli/format';
import { captureTerminal, startCliSandbox, type CliSandbox } from './support/cli-sandbox';

/** Colour on a terminal, plain text in a pipe: same words either way. */

const ESCAPE = /\x1b\[/;

let cli: CliSandbox;

beforeAll(async () => {
  cli = await startCliSandbox({ demo: true });
});

afterAll(() => cli?.sandbox.close());

function stream(tty: boolean): NodeJS.WritableStream {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  return tty ? Object.assign(sink, { isTTY: true }) : sink;
}

describe('colour', () => {
  it('is on for a terminal, off for a pipe, off with NO_COLOR or TERM=dumb, on with FORCE_COLOR', () => {
    expect(colorFor(stream(true), {})).toBe(true);
    expect(colorFor(stream(false), {})).toBe(false);
    expect(colorFor(stream(true), { NO_COLOR: '1' })).toBe(false);
    expect(colorFor(stream(true), { TERM: 'dumb' })).toBe(false);
    expect(colorFor(stream(false), { FORCE_COLOR: '1' })).toBe(true);
    expect(colorFor(stream(true), { FORCE_COLOR: '0' })).toBe(false);
    expect(colorFor(stream(true), { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
  });

  it('paints plan markers and verdicts on a terminal, and the words are those a pipe gets', async () => {
    const piped = captureTerminal();
    await runPlan({ runtime: cli.runtime, terminal: piped.terminal });
    expect(piped.stdout()).not.toMatch(ESCAPE);

    const colored = captureTerminal({ color: true });
    await runPlan({ runtime: cli.runtime, terminal: colored.terminal });
    const text = colored.stdout();
    expect(text).toContain('\x1b[32m+\x1b[39m 222222222201 us-east-1, eu-west-1');
    expect(text).toContain('\x1b[31m-\x1b[39m 222222222222');
    expect(text).toContain('(\x1b[33mchange\x1b[39m)');
    expect(stripVTControlCharacters(text)).toBe(piped.stdout());
  });

  it('shows failures in red after apply, with the table still aligned', async () => {
    const colored = captureTerminal({ color: true });
    expect(await runApply({ runtime: cli.runtime, yes: true, terminal: colored.terminal, accountIds: ['222222222221', '222222222201'] })).toBe(1);
    const text = colored.stdout();
    expect(text).toMatch(/\x1b\[31mfailed at accept: AccessDenied\x1b\[39m/);
    expect(text).toContain('\x1b[31mFailures (2):\x1b[39m');
    expect(stripVTControlCharacters(text)).toMatch(/222222222201  us-east-1  NotListed  Enabled  createMember, invite, accept  done\n/);
  });

  it('writes an error in red on a terminal stderr, plain in a pipe', () => {
    const colored = captureTerminal({ color: true });
    reportError(new CliError('no such thing', ['a hint']), colored.terminal);
    expect(colored.stderr()).toBe('\x1b[31mmacie-members: no such thing\x1b[39m\n  a hint\n');
    const piped = captureTerminal();
    reportError(new CliError('no such thing', ['a hint']), piped.terminal);
    expect(piped.stderr()).toBe('macie-members: no such thing\n  a hint\n');
  });
});
