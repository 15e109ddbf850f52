/**
 * The `macie-members` entry point (see bin/macie-members.mjs, which registers tsx and sets the
 * quiet-output environment before anything here loads the AWS SDK).
 */
import { processTerminal } from '#cli/format';
import { runCli } from '#cli/program';

const exitCode = await runCli(process.argv.slice(2), { terminal: processTerminal() });
// Exit as soon as stdout is flushed, so that nothing left behind (an SDK socket or retry timer)
// can hold the process open after the answer is printed.
process.stdout.write('', () => process.exit(exitCode));
