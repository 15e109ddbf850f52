/**
 * `remove <accountId>`: records the account as desired absent in every managed region. It writes
 * the desired row only, validated exactly as an SQS request is; Macie changes on the next
 * reconciliation (disassociate, then delete the member).
 */
import type { ServiceRuntime } from '#shared/runtime';
import { ExitCode } from '#cli/errors';
import { writeLine, writeLines, type Terminal } from '#cli/format';
import { formatIssue, recordFromCli, validateRequest } from '#cli/requests';

export interface RemoveCommandOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'store'>;
  terminal: Terminal;
  accountId: string;
  user: string;
  now: Date;
}

export async function runRemove({ runtime, terminal, accountId, user, now }: RemoveCommandOptions): Promise<number> {
  const parsed = validateRequest({ action: 'remove', accountId }, runtime.config);
  if (!parsed.ok) {
    writeLine(terminal.stderr, `macie-members: invalid remove request (${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}), nothing recorded:`);
    writeLines(terminal.stderr, parsed.issues.map((issue) => `  - ${formatIssue(issue)}`));
    return ExitCode.failure;
  }
  const { rows: [previous] } = await runtime.store.getMany([accountId]);
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
