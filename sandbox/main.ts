/**
 * `npm run sandbox`: starts the local sandbox in the foreground, prints ONE line of JSON with
 * everything a client needs (endpoints, regions, the administrator's credentials, the seeded
 * accounts, the member role, the stack that describes it for `macie-members --stack`), then
 * serves until SIGINT or SIGTERM. The demo organization is seeded in Macie and in the
 * desired-membership table.
 */
import { DEMO_KNOBS, demoAccounts, seedDemoOrganization } from '#sandbox/demo-organization';
import { DynamoDesiredMembershipStore } from '#shared/store/desired-members';
import { startSandbox, type Sandbox } from '#sandbox/index';

let sandbox: Sandbox | undefined;
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`sandbox: ${signal} received, closing\n`);
  await sandbox?.close();
  process.exit(0);
};
// Registered before the JSON line is printed: a supervisor may signal as soon as it reads it.
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

sandbox = await startSandbox({ accounts: demoAccounts(), knobs: DEMO_KNOBS });
if (stopping) {
  await sandbox.close();
  process.exit(0);
}
// The same starting state as `npm start` and the CLI's --local: Macie in awkward states, the table filled.
Object.assign(process.env, sandbox.environment());
const store = new DynamoDesiredMembershipStore(sandbox.tableName, { region: sandbox.homeRegion, maxAttempts: 3 });
await seedDemoOrganization(sandbox, (row) => store.recordDesired(row));

process.stdout.write(
  `${JSON.stringify({
    endpoints: sandbox.endpoints,
    regions: sandbox.regions,
    homeRegion: sandbox.homeRegion,
    administrator: sandbox.administrator,
    members: sandbox.accounts.map(({ accountId, email, name }) => ({ accountId, email, name })),
    memberRole: sandbox.memberRole,
    tableName: sandbox.tableName,
    queues: {
      requests: sandbox.requestQueueUrl,
      requestsDeadLetter: sandbox.requestDeadLetterQueueUrl,
      deadLetters: sandbox.deadLetterQueueUrl,
    },
    stackName: sandbox.stackName,
    environment: sandbox.environment(),
  })}\n`,
);
