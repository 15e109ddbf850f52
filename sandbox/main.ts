/**
 * `npm run sandbox`: starts the local sandbox in the foreground, prints ONE line of JSON with
 * everything a client needs (endpoints, regions, the administrator's credentials, the seeded
 * accounts, the member role), then serves until SIGINT or SIGTERM.
 */
import { DEMO_KNOBS, demoAccounts } from '#sandbox/demo-organization';
import { startSandbox } from '#sandbox/index';

const sandbox = await startSandbox({ accounts: demoAccounts(), knobs: DEMO_KNOBS });

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

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`sandbox: ${signal} received, closing\n`);
  await sandbox.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
