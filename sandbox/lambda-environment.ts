import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { lambdaContext } from '#sandbox/lambda-context';

/**
 * The Lambda runtime's side of one execution environment, run by `event-source-mapping.ts` in a
 * child process: `node --import tsx sandbox/lambda-environment.ts <handler module> [export]`.
 * Like Lambda, it loads the handler module once (the init phase: module-level clients and caches
 * live as long as the process) and then answers one invocation at a time over IPC.
 */

export type ToEnvironment = { type: 'invoke'; invocationId: number; event: unknown; functionName: string; functionTimeoutMs: number };

export type FromEnvironment =
  | { type: 'ready'; peakRssMiB: number }
  | { type: 'result'; invocationId: number; response: unknown; peakRssMiB: number }
  | { type: 'error'; invocationId: number; error: { name: string; message: string }; peakRssMiB: number };

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

// The lifetime peak of the process, as Lambda's REPORT line "Max Memory Used" is; maxRSS is in KiB.
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

function send(message: FromEnvironment): void {
  process.send?.(message);
}

const [modulePath, exportName = 'handler'] = process.argv.slice(2);
if (!modulePath || !process.send) {
  console.error('usage: forked with an IPC channel, argv <handler module> [export]');
  process.exit(2);
}
// The module's exports are whatever it declares; only the one export is checked to be callable.
const loaded = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
const handler = loaded[exportName];
if (typeof handler !== 'function') throw new Error(`${modulePath} has no function export '${exportName}'`);

process.on('message', (message: ToEnvironment) => {
  if (message.type !== 'invoke') return;
  const context = { ...lambdaContext(message.functionName, message.functionTimeoutMs), awsRequestId: randomUUID() };
  Promise.resolve()
    .then(() => (handler as Handler)(message.event, context))
    .then(
      (response) => send({ type: 'result', invocationId: message.invocationId, response: response ?? null, peakRssMiB: peakRssMiB() }),
      (error: unknown) => {
        const { name, message: text } = error instanceof Error ? error : { name: 'Error', message: String(error) };
        console.error(error);
        send({ type: 'error', invocationId: message.invocationId, error: { name, message: text }, peakRssMiB: peakRssMiB() });
      },
    );
});
// An environment never outlives the driver: when its IPC channel closes (the parent stopped or died), it goes too.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', peakRssMiB: peakRssMiB() });
