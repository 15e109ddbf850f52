import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOCKS, CONSOLE_KINDS, PAGES, REPOSITORY, SHELL_KINDS, checkStructure, commandsOf, name } from './support/blocks';

/**
 * Every shell block of README.md and docs/*.md says how it is checked, and is checked without
 * running it; run-alone.test.ts and run-in-order.test.ts run the runnable ones (the convention:
 * test/docs/support/blocks.ts, and the README's "Documentation" section for readers).
 */
/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(page: string): Set<string> {
  const text = readFileSync(join(REPOSITORY, page), 'utf8').replace(/^\s*```[\s\S]*?^\s*```/gm, '');
  const headings = [...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => match[1] ?? '');
  return new Set(headings.map((heading) => heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-')));
}

describe('links between the pages', () => {
  it.each(PAGES)('every relative link of %s names a file that exists, and a heading of it', (page) => {
    const text = readFileSync(join(REPOSITORY, page), 'utf8');
    const problems: string[] = [];
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      const file = path ? join(page, '..', path) : page;
      if (!existsSync(join(REPOSITORY, file))) problems.push(`${target}: no such file`);
      else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) problems.push(`${target}: no such heading in ${file}`);
    }
    expect(problems).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('documented commands: every shell block of README.md and docs/*.md', () => {
  it('finds the pages and their blocks, and each block says how it is checked', () => {
    expect(PAGES).toContain('README.md');
    expect(PAGES).toContain('docs/operations.md');
    expect(BLOCKS.length).toBeGreaterThan(10);
    const unknown = BLOCKS.filter((block) => !(block.language === 'console' ? CONSOLE_KINDS : SHELL_KINDS).includes(block.kind));
    expect(unknown.map(name), `say how each is checked: \`\`\`bash ${SHELL_KINDS.join('|')}, \`\`\`console [clean]`).toEqual([]);
  });

  it("runs the README's sandbox snippet as it stands (it starts `npm run sandbox` itself)", () => {
    const snippet = BLOCKS.find((block) => block.page === 'README.md' && block.body.includes('npm run --silent sandbox'));
    expect(snippet?.kind).toBe('standalone');
    expect(snippet?.body).toContain('kill %1; wait');
  });

  it.concurrent.each(BLOCKS.filter((block) => block.language !== 'console').map((block) => [name(block), block] as const))(
    'checks %s without running it: syntax, paths, scripts, CLI commands and options, parameters',
    async (_name, block) => {
      expect(await checkStructure(block)).toEqual([]);
    },
  );

  it.concurrent.each(BLOCKS.filter((block) => block.language === 'console').map((block) => [name(block), block] as const))(
    'checks the commands of %s without running them',
    async (_name, block) => {
      const problems = await checkStructure({ ...block, language: 'bash', body: commandsOf(block).join('\n') + '\n' });
      expect(problems.filter((problem) => !problem.startsWith('bash -n'))).toEqual([]);
    },
  );
});
