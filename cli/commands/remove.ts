/**
 * `remove <accountId>`: records the account as desired absent in every managed region. It writes
 * the desired row only, validated exactly as an SQS request is; Macie changes on the next
 * reconciliation (disassociate, then delete the member).
 */
import type { ServiceRuntime } from '#shared/runtime';
import { CliError, ExitCode } from '#cli/errors';
import { writeLine, writeLines, type Terminal } from '#cli/format';
import { formatIssue, recordFromCli, validateRequest } from '#cli/requests';

export interface RemoveCommandOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'store'>;
  terminal: Terminal;
  accountId: string;
  /** Record it even when the table has no row for the account. */
  force?: boolean;
  user: string;
  now: Date;
}

export async function runRemove({ runtime, terminal, accountId, force = false, user, now }: RemoveCommandOptions): Promise<number> {
  const parsed = validateRequest({ action: 'remove', accountId }, runtime.config);
  if (!parsed.ok) {
    writeLine(terminal.stderr, `macie-members: invalid remove request (${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}), nothing recorded:`);
    writeLines(terminal.stderr, parsed.issues.map((issue) => `  - ${formatIssue(issue)}`));
    return ExitCode.failure;
  }
  const { rows: [previous], corrupt } = await runtime.store.getMany([accountId]);
  // A typo in the account ID would otherwise write a new "absent" row and report success.
  if (!previous && corrupt.length === 0 && !force) {
    throw new CliError(`${accountId} is not in the desired table: nothing recorded.`, [
      'Check the account ID (`macie-members status` lists the table).',
      'To remove a member the table does not know (an unmanaged member), add --force: it records the account as desired absent.',
    ]);
  }
  const { row, result } = await recordFromCli(parsed.request, { store: runtime.store, user, now });
  if (result === 'superseded') {
    writeLine(terminal.stdout, `Not recorded: the table already holds this request or a newer one for ${row.accountId}.`);
    return ExitCode.ok;
  }
  writeLines(terminal.stdout, [
    `Recorded: ${row.accountId} is desired absent in every managed region (${runtime.config.managedRegions.join(', ')}).`,
    previous
      ? `  it was desired ${previous.desiredState === 'member' ? 'a member' : 'absent already'}; requested by ${row.requestedBy} at ${row.requestedAt}`
      : `  the table had no row for it; requested by ${row.requestedBy} at ${row.requestedAt}`,
    `Macie is not changed yet: run \`macie-members apply --account ${row.accountId}\` or wait for the schedule.`,
  ]);
  return ExitCode.ok;
}
