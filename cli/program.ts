/**
 * The `macie-members` command line: commander wiring only. Each command's logic lives in
 * `cli/commands/*.ts` as a function of the runtime and the terminal, so tests call it directly.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { runApply } from '#cli/commands/apply';
import { DEFAULT_MAX_LETTERS, runDeadLetterShow, runDeadLetters } from '#cli/commands/dead-letters';
import { loadPlan } from '#cli/saved-plan';
import { runEnroll } from '#cli/commands/enroll';
import { runImport, type ImportSource } from '#cli/commands/import';
import { runPlan } from '#cli/commands/plan';
import { REDRIVE_SOURCES, checkRedriveSource, runRedrive } from '#cli/commands/redrive';
import { runRemove } from '#cli/commands/remove';
import { runStatus } from '#cli/commands/status';
import { CliError, ExitCode, reportError } from '#cli/errors';
import { paintFor, type Terminal } from '#cli/format';
import { describeValue } from '#shared/domain/rules';
import { currentUser, parseAccountIds, splitList, type EnrollmentOptions } from '#cli/requests';
import { openSession, type CliSession, type SessionOptions } from '#cli/session';

export interface CliDependencies {
  terminal: Terminal;
  /** How a command gets its runtime; tests may substitute one. */
  openSession?: (options: SessionOptions, terminal: Terminal) => Promise<CliSession>;
  user?: string;
  now?: () => Date;
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const ENVIRONMENT_HELP = `
Configuration comes from the same environment variables as the Lambda functions
(MACIE_ADMINISTRATOR_ACCOUNT_ID, MANAGED_REGIONS, DESIRED_MEMBERS_TABLE, DEAD_LETTER_QUEUE_URL,
REQUEST_QUEUE_URL, MEMBER_ROLE_NAME, MEMBER_ROLE_EXTERNAL_ID, ...) plus the standard AWS settings
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_*). --stack NAME takes the settings the deployment
decides from the stack's outputs instead (explicit flags > stack outputs > environment).
--local runs against an in-process sandbox instead.

Exit codes: 0 success (plan: no drift), 2 plan found drift, 1 error or something needs attention.`;

/** Parses `argv` (without `node` and the script), runs the command, and returns the exit code. */
export async function runCli(argv: readonly string[], deps: CliDependencies): Promise<number> {
  const { terminal } = deps;
  const open = deps.openSession ?? openSession;
  const now = deps.now ?? (() => new Date());
  let exitCode: number = ExitCode.ok;

  const program = new Command()
    .name('macie-members')
    .description('See and steer Amazon Macie multi-account membership: the desired table, the plan, the reconciler.')
    .version(version)
    .option('--local', 'run against an in-process sandbox seeded with the demo organization (discarded at exit)')
    .option('--profile <name>', 'AWS profile to use (sets AWS_PROFILE)')
    .option('--region <region>', 'home region of the table and queues (sets AWS_REGION; default: AWS_REGION, else the first managed region)')
    .option('--stack <name>', "take the configuration from this deployed CloudFormation stack's outputs (e.g. macie-membership-reconciler-prod), looked up in --region, else AWS_REGION or the profile's region")
    .addHelpText('after', ENVIRONMENT_HELP)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => terminal.stdout.write(text),
      writeErr: (text) => terminal.stderr.write(text),
      outputError: (text, write) => write(paintFor(terminal, 'stderr')('red', text)),
    });

  /** Opens the session for the global options, runs a command in it, and always closes it. */
  const inSession = async (run: (session: CliSession) => Promise<number>): Promise<void> => {
    const globals = program.opts<{ local?: boolean; profile?: string; region?: string; stack?: string }>();
    let session: CliSession | undefined;
    try {
      if (globals.region !== undefined && !REGION_PATTERN.test(globals.region)) {
        throw new CliError(`--region must be an AWS region name such as us-east-1, got ${describeValue(globals.region)}`);
      }
      session = await open({ local: globals.local, profile: globals.profile, region: globals.region, stack: globals.stack }, terminal);
      exitCode = await run(session);
    } catch (error) {
      exitCode = reportError(error, terminal);
    } finally {
      await session?.close();
    }
  };

  program
    .command('plan')
    .description('show what a reconciliation would change, per account and region, and why; changes nothing')
    .option('--account <ids...>', 'plan only these accounts')
    .option('--all', 'also list the account-regions that are in sync')
    .option('--json', 'machine-readable output on stdout')
    .option('--out <file>', 'save the plan (with what it observed) for `apply FILE`; an incomplete plan is not saved')
    .addHelpText('after', '\nExit codes: 0 no drift, 2 drift (like terraform plan -detailed-exitcode), 1 error or incomplete plan.')
    .action((options: { account?: string[]; all?: boolean; json?: boolean; out?: string }) => {
      const accountIds = parseAccountIds(options.account);
      return inSession(({ runtime }) =>
        runPlan({ runtime, terminal, json: options.json, all: options.all, accountIds, out: options.out, now: now() }),
      );
    });

  program
    .command('apply')
    .description('run a reconciliation now (what the schedule does), with progress and a summary; on a terminal it shows the plan and asks first')
    .argument('[plan-file]', 'a plan saved with `plan --out`: apply exactly it, and refuse if Macie or the table changed since')
    .option('--account <ids...>', 'reconcile only these accounts')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--json', 'print the summary as JSON on stdout (progress stays on stderr)')
    .addHelpText('after', '\nExit codes: 0 everything done or waiting, 1 something failed, was dead-lettered or could not be read, or the apply was refused or cancelled.')
    .action((planFile: string | undefined, options: { account?: string[]; json?: boolean; yes?: boolean }) => {
      const accountIds = parseAccountIds(options.account);
      if (planFile !== undefined && accountIds) throw new CliError('apply takes either a plan file or --account: the saved plan names its accounts.');
      return inSession(async ({ runtime }) => {
        const saved = planFile !== undefined ? await loadPlan(planFile, runtime.config) : undefined;
        return runApply({ runtime, terminal, json: options.json, accountIds, yes: options.yes, saved });
      });
    });

  program
    .command('status')
    .description('desired vs recorded vs live membership per account and region, counts, unmanaged members, queue depths')
    .option('--account <ids...>', 'show only these accounts')
    .option('--json', 'machine-readable output on stdout')
    .action((options: { account?: string[]; json?: boolean }) => {
      const accountIds = parseAccountIds(options.account);
      return inSession(({ runtime, queues }) => runStatus({ runtime, queues, terminal, json: options.json, accountIds }));
    });

  addEnrollmentOptions(
    program
      .command('enroll')
      .description('record an account as a desired member (validated like an SQS request); does not reconcile')
      .argument('<accountId>', '12-digit AWS account ID')
      .argument('<email>', "the account's root email address (Macie invites by email)"),
  ).action((accountId: string, email: string, options: EnrollmentOptions) =>
    inSession(({ runtime }) =>
      runEnroll({ ...pickEnrollment(options), runtime, terminal, accountId, email, user: deps.user ?? currentUser(), now: now() }),
    ),
  );

  program
    .command('remove')
    .description('record an account as desired absent in every managed region; does not reconcile')
    .argument('<accountId>', '12-digit AWS account ID')
    .option('--force', 'record it even when the table has no row for the account (to remove an unmanaged member with PRUNE_UNMANAGED off)')
    .action((accountId: string, options: { force?: boolean }) =>
      inSession(({ runtime }) =>
        runRemove({ runtime, terminal, accountId, force: options.force, user: deps.user ?? currentUser(), now: now() }),
      ),
    );

  addEnrollmentOptions(
    program
      .command('import')
      .description('enroll many accounts: from an accountId,email CSV, or every ACTIVE account of the organization')
      .option('--csv <file>', 'CSV of accountId,email lines (the format of AWS multi-account enablement scripts; header optional)')
      .option('--organizations', 'every ACTIVE account of the organization not yet in the table (administrator skipped)')
      .option('--dry-run', 'validate and show what would be recorded, write nothing')
      .option('--json', 'machine-readable result on stdout'),
  ).action((options: EnrollmentOptions & { csv?: string; organizations?: boolean; dryRun?: boolean; json?: boolean }) => {
    if (Boolean(options.csv) === Boolean(options.organizations)) {
      throw new CliError('import needs exactly one source: --csv <file> or --organizations');
    }
    const source: ImportSource = options.csv ? { kind: 'csv', path: options.csv } : { kind: 'organizations' };
    return inSession(({ runtime }) =>
      runImport({
        ...pickEnrollment(options),
        runtime,
        terminal,
        source,
        dryRun: options.dryRun,
        json: options.json,
        user: deps.user ?? currentUser(),
        now: now(),
      }),
    );
  });

  program
    .command('redrive')
    .description('move dead-letter messages back to the request queue (REQUEST_QUEUE_URL), to be taken in again')
    .option('--from <queue>', `${REDRIVE_SOURCES.join(' | ')} | a queue URL`, 'dead-letters')
    .option('--dry-run', 'only count the messages that would move')
    .option('--json', 'machine-readable result on stdout')
    .action((options: { from: string; dryRun?: boolean; json?: boolean }) => {
      checkRedriveSource(options.from);
      return inSession(({ runtime, queues }) =>
        runRedrive({ runtime, queues, terminal, from: options.from, dryRun: options.dryRun, json: options.json }),
      );
    });

  const deadLetters = program
    .command('dead-letters')
    .description('list the dead letters themselves (who, why, when) without removing them; `dead-letters show ID` for one');
  deadLetters
    .command('list', { isDefault: true })
    .description('list the dead letters (the default)')
    .option('--from <queue>', `${REDRIVE_SOURCES.join(' | ')} | a queue URL`, 'dead-letters')
    .option('--account <ids...>', 'only the letters of these accounts')
    .option('--reason <reasons>', 'only these reasons, comma-separated (unprocessed-account, action-failed, needs-operator, invalid-request, intake-failed, lambda-failure)')
    .option('--max <count>', 'read at most this many messages', parseCount, DEFAULT_MAX_LETTERS)
    .option('--json', 'machine-readable output on stdout (bodies unmasked)')
    .action((options: { from: string; account?: string[]; reason?: string; max: number; json?: boolean }) => {
      checkRedriveSource(options.from);
      const accountIds = parseAccountIds(options.account);
      const reasons = options.reason !== undefined ? splitList(options.reason) : undefined;
      return inSession(({ runtime, queues }) =>
        runDeadLetters({ runtime, queues, terminal, from: options.from, accountIds, reasons, max: options.max, json: options.json }),
      );
    });
  deadLetters
    .command('show')
    .description('print one dead letter in full (emails masked)')
    .argument('<id>', 'its message ID, or a unique prefix of it (the list shows 8 characters)')
    .option('--from <queue>', `${REDRIVE_SOURCES.join(' | ')} | a queue URL`, 'dead-letters')
    .option('--max <count>', 'read at most this many messages', parseCount, DEFAULT_MAX_LETTERS)
    .option('--json', 'machine-readable output on stdout (body unmasked)')
    .action((id: string, options: { from: string; max: number; json?: boolean }) => {
      checkRedriveSource(options.from);
      return inSession(({ runtime, queues }) =>
        runDeadLetterShow({ runtime, queues, terminal, id, from: options.from, max: options.max, json: options.json }),
      );
    });

  try {
    await program.parseAsync(separateTagArguments(argv), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" are successes; usage mistakes have already been printed.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.failure;
    }
    return reportError(error, terminal);
  }
  return exitCode;
}

function addEnrollmentOptions(command: Command): Command {
  return command
    .option('--regions <list>', 'comma-separated regions to be a member in (default: every managed region)')
    .option('--tags <pairs>', 'member tags as key=value,key=value; repeatable (replace the tags of an existing row)', collect)
    .addOption(new Option('--auto-accept', 'accept the invitation from the member account (the default for new rows)'))
    .addOption(new Option('--no-auto-accept', 'leave accepting the invitation to the member account'))
    .addOption(new Option('--paused', "keep the member's Macie session paused"))
    .addOption(new Option('--no-paused', "keep the member's Macie session running (the default for new rows)"))
    .option('--message <text>', 'invitation message (1-80 letters, digits, spaces; default: INVITATION_MESSAGE)');
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new CliError(`--max must be a whole number of at least 1, got ${describeValue(value)}`);
  return count;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * `--tags` takes one value. The older form `--tags a=1 b=2` still works: the `key=value`
 * arguments right after a `--tags` value become `--tags` values of their own, and the first
 * argument without `=` ends them, so `--tags a=1 111122223333 x@example.com` leaves the account
 * and the email as the command's arguments (a variadic option would have taken them as tags).
 */
export function separateTagArguments(argv: readonly string[]): string[] {
  const out: string[] = [];
  let inTags = false;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    if (arg === '--') {
      out.push(...argv.slice(index));
      break;
    }
    if (inTags && !arg.startsWith('-') && arg.includes('=')) {
      out.push('--tags', arg);
      continue;
    }
    inTags = false;
    out.push(arg);
    if (arg === '--tags' && index + 1 < argv.length) {
      out.push(argv[index + 1]!);
      index += 1;
      inTags = true;
    } else if (arg.startsWith('--tags=')) {
      inTags = true;
    }
  }
  return out;
}

/** Only the options the operator gave: an enroll leaves everything else as the existing row has it. */
function pickEnrollment(options: EnrollmentOptions): EnrollmentOptions {
  const { regions, tags, autoAccept, paused, message } = options;
  return Object.fromEntries(
    Object.entries({ regions, tags, autoAccept, paused, message }).filter(([, value]) => value !== undefined),
  ) as EnrollmentOptions;
}
