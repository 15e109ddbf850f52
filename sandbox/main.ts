/**
 * `npm run sandbox`: starts the local sandbox in the foreground, prints ONE line of JSON with
 * everything a client needs (endpoints, regions, the administrator's credentials, the seeded
 * accounts, the member role), then serves until SIGINT or SIGTERM.
 */
import { DEMO_KNOBS, demoAccounts } from '#sandbox/demo-organization';
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
    environment: sandbox.environment(),
  })}\n`,
);
