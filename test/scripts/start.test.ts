import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * `npm start`, the quick start's main job, run as a user runs it: the mixed fleet converges in one
 * scheduled run, through Organizations for the organization's accounts and by invitation for the
 * others, and what cannot be done is dead-lettered.
 */

const REPOSITORY = new URL('../../', import.meta.url);

function npmStart(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // No AWS settings of this process: the demo brings its own sandbox.
    const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('POWERTOOLS_')));
    const child = spawn('npm', ['--silent', 'start'], { cwd: REPOSITORY, env: { ...environment, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('npm start', () => {
  it('reconciles the mixed demo fleet in one run: Organizations members and invited outsiders side by side', async () => {
    const { code, output } = await npmStart();
    expect(code, output).toBe(0);
    // An account of the organization: added through Organizations, Enabled at once.
    expect(output).toMatch(/444444444401 +us-east-1 +member +- +Enabled \* +organization +in the organization, never enrolled/);
    // An account outside it: invited and accepted from inside (Macie never enabled there).
    expect(output).toMatch(/222222222218 +us-east-1 +member +- +Enabled \* +invitation +Macie never enabled/);
    expect(output).toMatch(/Dead-letter queue: 6 message\(s\)/);
    expect(output).toMatch(/Run summary: 58 account-regions planned, 50 changed, 2 pending, 6 failed, 2 unmanaged, 6 dead-lettered, in \d+ ms\./);
  });
});
