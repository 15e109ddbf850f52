import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PlanDocument } from '#cli/commands/plan';

/** The real executable, as `npx macie-members` runs it: node + the tsx shim, in a child process. */

const BIN = fileURLToPath(new URL('../../bin/macie-members.mjs', import.meta.url));
const CONFIGURATION = /^(MACIE_|MANAGED_REGIONS|DESIRED_MEMBERS_TABLE|DEAD_LETTER_QUEUE_URL|REQUEST_QUEUE_URL|MEMBER_ROLE_|AWS_|POWERTOOLS_)/;

function runBin(args: string[], { cwd, script = BIN }: { cwd?: string; script?: string } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  // A clean environment: nothing from this test process's configuration or credentials.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CONFIGURATION.test(name)));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, ...args], { env, cwd, timeout: 25_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ exitCode: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

describe('bin/macie-members.mjs', () => {
  it('runs from any directory, directly and through a symlink as `npm link` installs it, whatever package.json and tsconfig.json are there', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'operator-'));
    try {
      // A directory that is some other project: its own package, imports map and tsconfig must not matter.
      await writeFile(join(elsewhere, 'package.json'), JSON.stringify({ name: 'macie-members', type: 'commonjs', imports: { '#cli/*': './nothing/*.js' } }));
      await writeFile(join(elsewhere, 'tsconfig.json'), JSON.stringify({ compilerOptions: { verbatimModuleSyntax: false, jsx: 'react' } }));
      await mkdir(join(elsewhere, 'bin'));
      await symlink(BIN, join(elsewhere, 'bin', 'macie-members'));

      for (const script of [BIN, join(elsewhere, 'bin', 'macie-members')]) {
        const { exitCode, stdout, stderr } = await runBin(['--help'], { cwd: elsewhere, script });
        expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' });
        expect(stdout).toContain('Usage: macie-members [options] [command]');
        expect(stdout).toContain('dead-letters');
        expect(stdout).not.toMatch(/\x1b\[/);
      }
    } finally {
      await rm(elsewhere, { recursive: true });
    }
  });

  it('plans the demo organization on --local: exit code 2 (drift) and one JSON document on stdout', async () => {
    const { exitCode, stdout, stderr } = await runBin(['plan', '--local', '--json']);

    expect(exitCode).toBe(2);
    const document = JSON.parse(stdout) as PlanDocument;
    expect(document).toMatchObject({ administratorAccountId: '111111111111', drift: true, complete: true, summary: { items: 48, unmanaged: 2 } });
    // Only the sandbox notice: no SDK or Powertools noise.
    expect(stderr).toMatch(/^local sandbox: demo organization of 26 accounts, administrator 111111111111, regions us-east-1, eu-west-1; discarded when the command ends\n$/);
  });

  it('ends with exit code 1 and names the missing variables when not configured', async () => {
    const { exitCode, stdout, stderr } = await runBin(['status']);
    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('macie-members: the configuration is invalid:');
    expect(stderr).toContain('  - MACIE_ADMINISTRATOR_ACCOUNT_ID is required');
    expect(stderr).toContain('  - DEAD_LETTER_QUEUE_URL is required and must be an SQS queue URL');
  });
});
