import { describe, expect, it } from 'vitest';
import { RUNNABLE, name, runShellBlock, runTranscript, usesPageSandbox } from './support/blocks';

/**
 * The runnable blocks of README.md and docs/*.md that need no shared state: `standalone` blocks and
 * transcripts whose commands are all `--local` (or `console clean`). Each runs on its own, a few at
 * once: they are child processes, and a 2-core machine runs this file's worker on one core.
 */
describe('documented commands that run on their own', () => {
  it.concurrent.each(RUNNABLE.filter((block) => !usesPageSandbox(block)).map((block) => [name(block), block] as const))('runs %s', async (_name, block) => {
    const problems = block.language === 'console' ? await runTranscript(block, {}) : await runShellBlock(block, undefined);
    expect(problems.join('\n')).toBe('');
  });
});
