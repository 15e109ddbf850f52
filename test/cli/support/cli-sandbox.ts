import { Readable, Writable } from 'node:stream';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { parseConfig } from '#shared/config';
import type { Sandbox, SandboxOptions } from '#sandbox/index';
import { DEMO_KNOBS, demoAccounts, seedDemoOrganization } from '#sandbox/demo-organization';
import type { Terminal } from '#cli/format';
import { ServiceQueues } from '#cli/queues';
import { createRuntime, type ServiceRuntime } from '#shared/runtime';
import { startServiceSandbox } from '../../support/service-sandbox';

/**
 * CLI tests run the command functions against the sandbox with the same wiring the CLI uses:
 * `createRuntime(parseConfig(process.env))` once the environment points at the sandbox.
 */
export interface CliSandbox {
  sandbox: Sandbox;
  runtime: ServiceRuntime;
  queues: ServiceQueues;
}

export async function startCliSandbox(
  options: { demo?: boolean; sandbox?: SandboxOptions; environment?: Record<string, string> } = {},
): Promise<CliSandbox> {
  const sandboxOptions = options.demo ? { accounts: demoAccounts(), knobs: DEMO_KNOBS, ...options.sandbox } : options.sandbox;
  const sandbox = await startServiceSandbox(sandboxOptions, options.environment);
  const runtime = createRuntime(parseConfig(process.env));
  if (options.demo) await seedDemoOrganization(sandbox, (row) => runtime.store.recordDesired(row));
  return { sandbox, runtime, queues: new ServiceQueues(runtime.config) };
}

/** Writes an item to the table as an operator would by hand, bypassing the store; returns its removal. */
export async function putRawRow(cli: CliSandbox, item: Record<string, unknown> & { accountId: string }): Promise<() => Promise<void>> {
  const dynamo = new DynamoDBClient({ region: cli.sandbox.homeRegion, endpoint: cli.sandbox.endpoints.dynamodb });
  await dynamo.send(new PutItemCommand({ TableName: cli.sandbox.tableName, Item: marshall(item) }));
  return async () => {
    await dynamo.send(new DeleteItemCommand({ TableName: cli.sandbox.tableName, Key: marshall({ accountId: item.accountId }) }));
    dynamo.destroy();
  };
}

/** A terminal whose output the test reads back; `tty` makes stderr look interactive, `color` turns colour on for both streams. */
export interface CapturedTerminal {
  terminal: Terminal;
  stdout(): string;
  stderr(): string;
}

export function captureTerminal(options: { tty?: boolean; color?: boolean; answer?: string } = {}): CapturedTerminal {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (chunks: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
  const stderr = sink(err);
  if (options.tty) Object.assign(stderr, { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  const colors = options.color ? { colors: { stdout: true, stderr: true } } : {};
  // `answer`: stdin is a terminal on which the operator types this line.
  const stdin = options.answer !== undefined ? { stdin: Object.assign(Readable.from([`${options.answer}\n`]), { isTTY: true }) } : {};
  return { terminal: { stdout: sink(out), stderr, ...colors, ...stdin }, stdout: () => out.join(''), stderr: () => err.join('') };
}

const READ_OPERATIONS = new Set([
  'ListMembers',
  'GetMember',
  'DescribeOrganizationConfiguration',
  'DescribeOrganization',
  'Scan',
  'BatchGetItem',
  'GetItem',
  'Query',
  'GetQueueAttributes',
  'GetQueueUrl',
  'ListAccounts',
  'DescribeAccount',
  'DescribeStacks',
]);

/** Every call the sandbox answered that is not a read. */
export function writeCalls(sandbox: Sandbox): string[] {
  return sandbox
    .calls()
    .map((call) => `${call.service}:${call.operation}`)
    .filter((call) => !READ_OPERATIONS.has(call.slice(call.indexOf(':') + 1)));
}

/** The administrator's Macie membership in every region: `accountId/region -> status`. */
export function macieState(sandbox: Sandbox): Map<string, string> {
  return new Map(
    sandbox.regions.flatMap((region) =>
      sandbox.emulator.control
        .members(sandbox.administrator.accountId, region)
        .map((member) => [`${member.accountId}/${region}`, member.relationshipStatus] as const),
    ),
  );
}
