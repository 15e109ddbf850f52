import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/**
 * The README's sandbox snippet, run as it stands: copied from the README at test time, so the
 * README cannot drift from what works. It starts `npm run sandbox` on loopback ports, points the
 * AWS CLI and the operator CLI at it, and stops it.
 */

const REPOSITORY = new URL('../../', import.meta.url);

async function sandboxSnippet(): Promise<string> {
  const readme = await readFile(new URL('README.md', REPOSITORY), 'utf8');
  const section = readme.slice(readme.indexOf('## The local sandbox'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no bash block under "The local sandbox"');
  return block;
}

function runBash(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // Only what a fresh shell has: no AWS settings of this process (the snippet exports its own).
    const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('POWERTOOLS_')));
    const child = spawn('bash', ['-e', '-c', script], { cwd: REPOSITORY, env: { ...environment, NO_COLOR: '1' }, detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe("the README's sandbox snippet", () => {
  it('runs as it stands: the sandbox starts, the AWS CLI and the operator CLI reach it, and it stops', async () => {
    const snippet = await sandboxSnippet();
    expect(snippet).toContain('npm run --silent sandbox');
    const { code, output } = await runBash(snippet);

    expect(output, output).toContain('"accountId": "222222222215"');
    expect(output).toMatch(/"Account": "111111111111"/);
    expect(output).toContain('Macie membership status for administrator 111111111111');
    expect(code, output).toBe(0);
  });
});
