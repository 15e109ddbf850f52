/**
 * `enroll <accountId> <email>`: records the account as a desired member. It writes the desired
 * row only, validated exactly as an SQS request is; Macie changes on the next reconciliation.
 */
import type { ServiceRuntime } from '#shared/runtime';
import { ExitCode } from '#cli/errors';
import { maskedEmail, writeLine, writeLines, type Terminal } from '#cli/format';
import { enrollmentFields, formatIssue, recordFromCli, validateRequest, type EnrollmentOptions } from '#cli/requests';

export interface EnrollCommandOptions extends EnrollmentOptions {
  runtime: Pick<ServiceRuntime, 'config' | 'store'>;
  terminal: Terminal;
  accountId: string;
  email: string;
  user: string;
  now: Date;
}

export async function runEnroll(options: EnrollCommandOptions): Promise<number> {
  const { runtime, terminal, accountId, email } = options;
  const { fields, issues } = enrollmentFields(options);
  const parsed = validateRequest({ action: 'enroll', accountId, email, ...fields }, runtime.config, issues);
  if (!parsed.ok) {
    writeLine(terminal.stderr, `macie-members: invalid enroll request (${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}), nothing recorded:`);
    writeLines(terminal.stderr, parsed.issues.map((issue) => `  - ${formatIssue(issue)}`));
    return ExitCode.failure;
  }

  const { row, result } = await recordFromCli(parsed.request, { store: runtime.store, user: options.user, now: options.now });
  if (result === 'superseded') {
    writeLine(terminal.stdout, `Not recorded: the table already holds this request or a newer one for ${row.accountId}.`);
    return ExitCode.ok;
  }
  const regions = row.regions ? row.regions.join(', ') : `every managed region (${runtime.config.managedRegions.join(', ')})`;
  const tags = Object.entries(row.tags).map(([key, value]) => `${key}=${value}`);
  writeLines(terminal.stdout, [
    `Recorded: ${row.accountId} (${maskedEmail(row.email)}) is a desired member in ${regions}.`,
    `  tags: ${tags.length > 0 ? tags.join(', ') : 'none'}; ` +
      `invitation accepted ${row.autoAccept ? 'by the reconciler (member role)' : 'by the member account itself'}; ` +
      `session ${row.paused ? 'paused' : 'running'}` +
      (row.invitationMessage ? `; invitation message "${row.invitationMessage}"` : ''),
    `  requested by ${row.requestedBy} at ${row.requestedAt} (request ${row.requestId})`,
    `Macie is not changed yet: run \`macie-members apply --account ${row.accountId}\` or wait for the schedule.`,
  ]);
  return ExitCode.ok;
}
