import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The shell blocks of README.md and docs/*.md, and how each is run or checked (test/docs/*.test.ts).
 * Every shell block is run or checked, so the pages stay true (the
 * README's "Documentation" section states the convention for readers).
 *
 * A fenced block in bash, sh or console says how it is checked by the word after the language:
 *
 *   ```bash run         run for real (bash -e -o pipefail, in the clone) with a sandbox's environment
 *                       exported; the blocks of one page share one sandbox, in page order. Each
 *                       `# -> TEXT` comment is an expectation: the block's output contains TEXT.
 *   ```bash standalone  run for real in a fresh shell without AWS settings: the block starts what it
 *                       needs itself. Expectations as for `run`.
 *   ```bash aws         needs a real AWS account: never run, checked (below).
 *   ```bash norun       local, but not run by `npm test` (installs, `npm test` itself, benchmarks):
 *                       checked (below).
 *   ```console          a transcript: each `$ command` runs in page order (with the page's sandbox, in
 *                       a scratch directory, `npx macie-members` meaning this clone's CLI); each line it
 *                       shows must be in the real output (ports, times, durations and ids aside; `…`
 *                       stands for lines left out), and its exit status must be 0 unless a following
 *                       `$ echo $?` shows it.
 *   ```console clean    the same without any AWS settings or sandbox.
 *
 * Every shell block, run or not, is also checked: `bash -n`, every repository path it names exists,
 * every `npm run` script exists, every `macie-members` subcommand and option exists (its `--help`),
 * every `--param` is a serverless.yml parameter, and every CloudFormation parameter it passes is
 * declared by the template it names. A shell block with no known word fails.
 */

export const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
export const PAGES = ['README.md', ...readdirSync(join(REPOSITORY, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
export const SHELL_KINDS = ['run', 'standalone', 'aws', 'norun'];
export const CONSOLE_KINDS = ['', 'clean'];

export interface Block {
  page: string;
  line: number;
  language: 'bash' | 'sh' | 'console';
  kind: string;
  body: string;
}

export function blocksOf(page: string): Block[] {
  const lines = readFileSync(join(REPOSITORY, page), 'utf8').split('\n');
  const at = (index: number) => lines[index] ?? '';
  const blocks: Block[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,})(\S*)\s*(.*)$/.exec(at(index));
    if (!open) continue;
    const [, indent = '', fence = '', language = '', rest = ''] = open;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !(at(end).startsWith(indent + fence) && at(end).trim() === fence)) body.push(at(end++).slice(indent.length));
    if (['bash', 'sh', 'console'].includes(language))
      blocks.push({ page, line: index + 1, language: language as Block['language'], kind: rest.trim(), body: body.join('\n') + '\n' });
    index = end;
  }
  return blocks;
}

export const BLOCKS = PAGES.flatMap(blocksOf);

/**
 * Whether a block runs against its page's shared sandbox, in page order: `run` blocks, and
 * transcripts with a command that is not `--local`. The others run on their own, side by side.
 */
export function usesPageSandbox(block: Block): boolean {
  if (block.kind === 'run') return true;
  if (block.language !== 'console' || block.kind !== '') return false;
  return commandsOf(block).some((command) => /\bmacie-members\b/.test(command) && !/\s--local\b/.test(command));
}
export const RUNNABLE = BLOCKS.filter((block) => ['run', 'standalone'].includes(block.kind) || block.language === 'console');
export const name = (block: Block) => `${block.page}:${block.line} (${block.language}${block.kind ? ` ${block.kind}` : ''})`;

/** The commands of a block: shell lines, or a transcript's `$ ` lines. */
export function commandsOf(block: Block): string[] {
  if (block.language === 'console')
    return block.body
      .split('\n')
      .filter((line) => line.startsWith('$ '))
      .map((line) => line.slice(2));
  return block.body.replace(/\\\n/g, ' ').split('\n');
}

// ---------------------------------------------------------------------------------------------
// Running

/** A shell's environment without this process's AWS settings, as a fresh terminal has. */
export function cleanEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('POWERTOOLS_'));
  return { ...Object.fromEntries(inherited), NO_COLOR: '1', ...extra };
}

export function runBash(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** `npm run sandbox` as the README starts it; resolves with its environment once it prints its line. */
export function startSandbox(): Promise<{ child: ChildProcess; environment: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'sandbox'], { cwd: REPOSITORY, env: cleanEnvironment(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve({ child, environment: JSON.parse(stdout.slice(0, stdout.indexOf('\n'))).environment });
    });
    child.on('exit', (code) => reject(new Error(`the sandbox exited (${code}) before printing its environment: ${stderr}`)));
  });
}

export function stopSandbox(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    process.kill(-child.pid!, 'SIGTERM');
  });
}

/** What may differ between two runs of the same command. */
export function normalise(text: string): string {
  return text
    .replace(/\x1b\[[0-9;]*m/g, '')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
    .replace(/ in \d+(\.\d+)? s\b/g, ' in N s')
    .replace(/"durationMs": \d+/g, '"durationMs": N')
    .replace(/cli-[0-9a-f-]{36}/g, 'cli-ID')
    .replace(/cli:\S+ at/g, 'cli:USER at')
    .replace(/^[0-9a-f]{8}(?=  )/gm, 'ID')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

interface TranscriptStep {
  command: string;
  shown: string[];
}

function transcriptOf(block: Block): TranscriptStep[] {
  const steps: TranscriptStep[] = [];
  for (const line of block.body.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), shown: [] });
    else if (steps.length === 0) throw new Error(`${name(block)}: a transcript starts with a \`$ \` command`);
    else steps.at(-1)!.shown.push(line);
  }
  return steps;
}

export async function runTranscript(block: Block, environment: Record<string, string>): Promise<string[]> {
  const steps = transcriptOf(block);
  const scratch = await mkdtemp(join(tmpdir(), 'docs-transcript-'));
  try {
    // A transcript that opens with `cat FILE` shows the file it works on: write it first.
    const first = steps[0];
    const cat = first && /^cat ([\w.-]+)$/.exec(first.command)?.[1];
    if (first && cat) await writeFile(join(scratch, cat), first.shown.join('\n') + '\n');
    const script = [
      'exec 2>&1',
      // In the clone, `npx macie-members` is this clone's bin; nothing else may be fetched.
      `npx() { if [ "$1" = macie-members ]; then shift; node ${JSON.stringify(join(REPOSITORY, 'bin/macie-members.mjs'))} "$@"; else echo "docs test: only npx macie-members" >&2; return 127; fi; }`,
      '__status=0',
      // Each step is marked in the output; `$?` is the previous command's status again after the marks.
      ...steps.flatMap((step, index) => [`printf '\\n@@step ${index}@@\\n'; (exit "$__status")`, step.command, `__status=$?; printf '\\n@@status %d@@\\n' "$__status"`]),
    ].join('\n');
    const { output } = await runBash(['-c', script], { cwd: scratch, env: cleanEnvironment(environment) });
    const problems: string[] = [];
    const parts = output.split(/\n@@step \d+@@\n/).slice(1);
    steps.forEach((step, index) => {
      const part = parts[index] ?? '';
      const status = Number(/@@status (\d+)@@/.exec(part)?.[1] ?? NaN);
      const actual = normalise(part.replace(/\n@@status \d+@@\n?/, ''));
      const expectsStatus = steps[index + 1]?.command === 'echo $?';
      if (!expectsStatus && status !== 0) problems.push(`\`${step.command}\` exited ${status} (show it with \`$ echo $?\` if that is right)`);
      for (const line of step.shown.map((shown) => normalise(shown)).filter((shown) => shown.trim() !== '' && shown.trim() !== '…'))
        if (!actual.includes(line)) problems.push(`\`${step.command}\` did not print: ${line}`);
      if (problems.length > 0 && !problems.at(-1)!.endsWith('[output shown]')) problems.push(`output of \`${step.command}\`:\n${actual}\n[output shown]`);
    });
    return problems;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function runShellBlock(block: Block, environment: Record<string, string> | undefined): Promise<string[]> {
  const expectations = [...block.body.matchAll(/# -> (.+)$/gm)].map((match) => (match[1] ?? '').trim());
  if (expectations.length === 0) return [`a \`${block.kind}\` block says what its output shows with at least one \`# -> TEXT\` comment`];
  const { code, output } = await runBash(['-e', '-o', 'pipefail', '-c', block.body], { cwd: REPOSITORY, env: cleanEnvironment(environment ?? {}) });
  const problems = expectations.filter((text) => !output.includes(text)).map((text) => `the output does not contain "${text}"`);
  if (code !== 0) problems.push(`exited ${code}`);
  return problems.length > 0 ? [...problems, `output:\n${output}`] : [];
}

// ---------------------------------------------------------------------------------------------
// Checking without running

const execFileAsync = promisify(execFile);
const helpCache = new Map<string, Promise<string>>();
function cliHelp(subcommand: string): Promise<string> {
  if (!helpCache.has(subcommand)) {
    const args = [join(REPOSITORY, 'bin/macie-members.mjs'), ...subcommand.split(' ').filter(Boolean), '--help'];
    helpCache.set(subcommand, execFileAsync('node', args, { cwd: REPOSITORY, env: cleanEnvironment() }).then(({ stdout }) => stdout));
  }
  return helpCache.get(subcommand)!;
}

const PACKAGE = JSON.parse(readFileSync(join(REPOSITORY, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const SERVERLESS_PARAMS = (() => {
  const yaml = readFileSync(join(REPOSITORY, 'serverless.yml'), 'utf8');
  const section = /^params:\n((?:[ #].*\n|\n)*)/m.exec(yaml)?.[1] ?? '';
  return new Set([...section.matchAll(/^ {4}(\w+):/gm)].map((match) => match[1]));
})();
function templateParameters(path: string): Set<string> {
  const template = readFileSync(join(REPOSITORY, path), 'utf8');
  const section = /^Parameters:\n((?:[ #].*\n|\n)*)/m.exec(template)?.[1] ?? '';
  return new Set([...section.matchAll(/^ {2}(\w+):/gm)].map((match) => match[1] ?? ''));
}
export const REPOSITORY_PATH = /^(?:file:\/\/)?((?:bench|bin|cli|docs|events|functions|infra|sandbox|scripts|shared|test)\/[\w./-]*\w|serverless\.yml|package\.json)$/;

export async function checkStructure(block: Block): Promise<string[]> {
  const problems: string[] = [];
  const commands = commandsOf(block);
  const script = commands.join('\n');
  try {
    await execFileAsync('bash', ['-n', '-c', script]);
  } catch (error) {
    problems.push(`bash -n: ${(error as { stderr?: string }).stderr ?? error}`);
  }
  for (const command of commands) {
    const code = command.replace(/\s#.*$/, '');
    const words = code.split(/\s+/).map((word) => word.replace(/^["']|["';)]+$/g, ''));
    for (const word of words) {
      const path = REPOSITORY_PATH.exec(word)?.[1];
      if (path && !existsSync(join(REPOSITORY, path))) problems.push(`no such file in the repository: ${path}`);
    }
    for (const match of code.matchAll(/\bnpm (?:run(?: -s| --silent)? ([\w:-]+)|(start|test)\b)/g)) {
      const script = match[1] ?? match[2] ?? '';
      if (!(script in PACKAGE.scripts)) problems.push(`package.json has no script "${script}"`);
    }
    for (const match of code.matchAll(/--param="?(\w+)=/g))
      if (!SERVERLESS_PARAMS.has(match[1])) problems.push(`serverless.yml has no parameter "${match[1]}"`);
    const template = /--template-(?:file|body) (?:file:\/\/)?(\S+)/.exec(code)?.[1];
    const passed = [...code.matchAll(/ParameterKey=(\w+)/g)].map((match) => match[1] ?? '');
    const overrides = /--parameter-overrides((?:\s+\w+=\S+)+)/.exec(code)?.[1];
    if (overrides) passed.push(...[...overrides.matchAll(/(\w+)=/g)].map((match) => match[1] ?? ''));
    if (passed.length > 0 && template && existsSync(join(REPOSITORY, template))) {
      const declared = templateParameters(template);
      for (const parameter of passed) if (!declared.has(parameter)) problems.push(`${template} declares no parameter "${parameter}"`);
    }
    const cli = /(?:^|\s)(?:npx )?macie-members((?:\s+[^\s|;&#]+)*)/.exec(code);
    if (cli) {
      const args = (cli[1] ?? '').trim().split(/\s+/).filter(Boolean);
      let subcommand = args[0] && !args[0].startsWith('-') ? args[0] : '';
      if (subcommand && !new RegExp(`^\\s+${subcommand}\\b`, 'm').test(await cliHelp(''))) problems.push(`macie-members has no command "${subcommand}"`);
      // A command with commands of its own (dead-letters list|show): the one named, else the default.
      const nested = /^Commands:\n([\s\S]*)/m.exec(subcommand ? await cliHelp(subcommand) : '')?.[1] ?? '';
      const named = args[1] && new RegExp(`^\\s+${args[1]}\\b`, 'm').test(nested) ? args[1] : /^\s+(\w+).*\(the default\)/m.exec(nested)?.[1];
      if (named) subcommand = `${subcommand} ${named}`;
      const help = (await cliHelp(subcommand)) + (subcommand ? await cliHelp('') : '');
      for (const flag of args.filter((arg) => arg.startsWith('--')).map((arg) => arg.replace(/=.*$/, '')))
        if (!help.includes(flag)) problems.push(`\`macie-members ${subcommand}\` has no option ${flag}`);
    }
  }
  return problems;
}
