import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGES, RUNNABLE, name, runShellBlock, runTranscript, startSandbox, stopSandbox, usesPageSandbox } from './support/blocks';

/**
 * The runnable blocks of each page that share the page's sandbox (`npm run sandbox`, its
 * environment exported): `run` blocks and transcripts with commands that are not `--local`, in page
 * order, as a reader runs them one after the other.
 */
for (const page of PAGES) {
  const blocks = RUNNABLE.filter((block) => block.page === page && usesPageSandbox(block));
  if (blocks.length === 0) continue;
  describe.sequential(`${page}: the blocks that share its sandbox, in page order`, () => {
    let sandbox: { child: ChildProcess; environment: Record<string, string> } | undefined;
    beforeAll(async () => {
      sandbox = await startSandbox();
    });
    afterAll(async () => {
      await stopSandbox(sandbox?.child);
    });
    for (const block of blocks) {
      it(`runs ${name(block)}`, async () => {
        const environment = sandbox!.environment;
        const problems = block.language === 'console' ? await runTranscript(block, environment) : await runShellBlock(block, environment);
        expect(problems.join('\n')).toBe('');
      });
    }
  });
}
