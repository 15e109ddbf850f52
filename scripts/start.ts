/**
 * `npm start`: the main job on the local sandbox, with no set-up. Seeds a mixed fleet (accounts of
 * the organization, added through Organizations by the delegated administrator, and accounts
 * outside it in awkward states, invited), fills the desired-membership table, invokes the real
 * `reconcile` handler with a scheduled event, and prints what changed per account and region plus
 * the dead-letter messages.
 */
import { isFleetPlanSummary } from '#shared/fleet-planner';
import { readFile } from 'node:fs/promises';
import type { ScheduledEvent } from 'aws-lambda';
import { renderTable } from '#shared/text/table';
import { maskEmailsIn } from '#shared/domain/rules';
import { DEMO_KNOBS, DEMO_MANAGEMENT_ACCOUNT, demoMixedFleet, seedDemoOrganization } from '#sandbox/demo-organization';
import type { MemberView } from '#sandbox/emulator/index';
import { startSandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';

const fleet = demoMixedFleet();
const sandbox = await startSandbox({ accounts: fleet, managementAccount: DEMO_MANAGEMENT_ACCOUNT, delegatedAdministrator: true, knobs: DEMO_KNOBS });
try {
  // Point the service at the sandbox before its modules read the configuration.
  Object.assign(process.env, sandbox.environment(), {
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ACCEPT_POLL_INTERVAL_MS: '200',
  });
  const { getLambdaRuntime } = await import('#shared/lambda/runtime');
  const { handler } = await import('#functions/reconcile/handler');
  const { QueueAdmin } = await import('#shared/deadletter/queue-admin');
  const runtime = getLambdaRuntime();

  const accounts = await seedDemoOrganization(sandbox, (row) => runtime.store.recordDesired(row), undefined, { accounts: fleet });
  const control = sandbox.emulator.control;
  const administrator = sandbox.administrator.accountId;
  const snapshot = () =>
    new Map<string, MemberView>(
      sandbox.regions.flatMap((region) =>
        control.members(administrator, region).map((member) => [`${member.accountId}/${region}`, member] as const),
      ),
    );

  const before = snapshot();
  const event = JSON.parse(await readFile(new URL('../events/schedule.json', import.meta.url), 'utf8')) as ScheduledEvent;
  const summary = await handler(event, lambdaContext('reconcile'));
  if (isFleetPlanSummary(summary)) throw new Error('this script runs the scheduled run in one invocation: unset WORK_QUEUE_URL');
  const after = snapshot();

  const rows = [['account', 'region', 'desired', 'before', 'after', 'type', 'story']];
  for (const account of accounts) {
    if (account.accountId === '333333333333') continue;
    for (const region of sandbox.regions) {
      const key = `${account.accountId}/${region}`;
      const was = before.get(key)?.relationshipStatus ?? '-';
      const now = after.get(key)?.relationshipStatus ?? '-';
      rows.push([
        account.accountId,
        region,
        account.desired?.desiredState ?? 'unmanaged',
        was,
        now === was ? now : `${now} *`,
        after.get(key)?.via ?? '-',
        account.story,
      ]);
    }
  }
  console.log(`\nMacie membership of administrator ${administrator}, before and after one scheduled run (* = changed)\n`);
  console.log(renderTable(rows));

  const queues = new QueueAdmin({ region: sandbox.homeRegion, maxAttempts: 3 });
  const letters = (await queues.receive(sandbox.deadLetterQueueUrl, 1000)).map((message) => JSON.parse(message.body) as Record<string, string>);
  console.log(`\nDead-letter queue: ${letters.length} message(s)\n`);
  console.log(
    renderTable([
      ['account', 'region', 'reason', 'operation', 'error'],
      ...letters.map((letter) => [
        String(letter.accountId),
        String(letter.region ?? '-'),
        String(letter.reason),
        String(letter.operation),
        `${letter.errorCode}: ${maskEmailsIn(String(letter.errorMessage)).slice(0, 70)}`,
      ]),
    ]),
  );
  console.log(
    `\nRun summary: ${summary.planned} account-regions planned, ${summary.byOutcome.done} changed, ` +
      `${summary.byOutcome.pending + summary.byVerdict.pending} pending, ${summary.byOutcome.failed} failed, ` +
      `${summary.unmanaged} unmanaged, ${summary.deadLettered} dead-lettered, in ${summary.durationMs} ms.`,
  );
} finally {
  await sandbox.close();
}
