/**
 * The one HTTP endpoint for all three services. It picks the service from the SigV4 credential scope
 * (falling back to the request's shape when unsigned), then runs what every AWS call shares: latency,
 * identity, throttling, injected server errors, the operation, the call log.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallLog } from '#sandbox/emulator/call-log';
import { AwsError } from '#sandbox/emulator/errors';
import type { FaultInjector } from '#sandbox/emulator/faults';
import type { CredentialStore, Principal } from '#sandbox/emulator/identity';
import { isOrganizationsTarget } from '#sandbox/emulator/organizations';
import type { ServiceFrontend, WireReply, WireRequest } from '#sandbox/emulator/protocol';
import { parseSigV4Identity } from '#sandbox/emulator/sigv4';
import type { EmulatedService } from '#sandbox/emulator/types';

export interface EndpointDependencies {
  frontends: Record<EmulatedService, ServiceFrontend>;
  credentials: CredentialStore;
  faults: FaultInjector;
  calls: CallLog;
  /** Epoch milliseconds: the wall clock, or a test's own. */
  clock: () => number;
}

// AWS rejects bodies far smaller than this; the cap only protects the process from a runaway client.
const MAX_BODY_BYTES = 5 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AwsError('RequestEntityTooLargeException', 413, 'The request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function frontendFor(deps: EndpointDependencies, scopeService: string | undefined, req: IncomingMessage): ServiceFrontend {
  if (scopeService === 'macie2' || scopeService === 'sts' || scopeService === 'organizations') {
    return deps.frontends[scopeService];
  }
  // Unsigned (or oddly signed) requests still deserve an error in the protocol the client speaks.
  if (isOrganizationsTarget(headerValue(req, 'x-amz-target'))) return deps.frontends.organizations;
  if (headerValue(req, 'content-type')?.startsWith('application/x-www-form-urlencoded')) return deps.frontends.sts;
  return deps.frontends.macie2;
}

/** Answers one request; never throws. */
export class Endpoint {
  private readonly pendingDelays = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: EndpointDependencies) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.answer(req, res).catch((error: unknown) => {
      // A bug in the emulator must still produce an answer, or the SDK under test would hang until timeout.
      console.error('aws emulator: unexpected failure', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('aws emulator: unexpected failure');
    });
  };

  /** Stops waiting latencies so a closing server is not kept alive by timers. */
  cancelDelays(): void {
    for (const timer of this.pendingDelays) clearTimeout(timer);
    this.pendingDelays.clear();
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingDelays.delete(timer);
        resolve();
      }, ms);
      this.pendingDelays.add(timer);
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { deps } = this;
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const query = new URLSearchParams(queryStart < 0 ? '' : url.slice(queryStart + 1));
    const identity = parseSigV4Identity(req.headers, query);
    const frontend = frontendFor(deps, identity?.service, req);
    let principal: Principal | undefined;
    let operation = 'Unknown';
    let reply: WireReply;
    let failure: AwsError | undefined;
    try {
      const request: WireRequest = {
        method: req.method ?? 'GET',
        path: queryStart < 0 ? url : url.slice(0, queryStart),
        query,
        headers: req.headers,
        bodyText: await readBody(req),
      };
      const latency = deps.faults.latencyMs;
      if (latency > 0) await this.delay(latency);
      const resolved = frontend.resolve(request);
      operation = resolved.operation;
      if (resolved.error) throw resolved.error;
      if (!identity) throw frontend.errors.missingAuthentication();
      const now = deps.clock();
      const resolution = deps.credentials.resolve(identity.accessKeyId, identity.sessionToken, now);
      if (!resolution.ok) throw resolution.reason === 'expired' ? frontend.errors.expiredToken() : frontend.errors.unrecognizedClient();
      principal = resolution.principal;
      if (deps.faults.throttles({ service: frontend.service, accountId: principal.accountId, region: identity.region }, now)) {
        throw frontend.errors.throttled();
      }
      if (deps.faults.failsWithServerError()) throw frontend.errors.internal();
      if (deps.faults.hasFailingCalls) {
        const subjects = [principal.accountId, ...frontend.subjectsOf(operation, request)];
        const failing = deps.faults.failingCall(operation, subjects);
        if (failing) {
          const message = failing.message ?? `${failing.errorType} injected by the emulator's failingCalls knob`;
          throw new AwsError(failing.errorType, failing.statusCode, message);
        }
      }
      if (deps.faults.hasRaces) deps.faults.runRaceBefore(operation, [principal.accountId, ...frontend.subjectsOf(operation, request)]);
      reply = frontend.invoke(operation, request, { principal, region: identity.region, now });
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      failure = error;
      reply = frontend.renderError(error);
    }
    res.writeHead(reply.statusCode, {
      ...reply.headers,
      'x-amzn-RequestId': randomUUID(),
      'content-length': String(Buffer.byteLength(reply.body)),
    });
    res.end(reply.body);
    deps.calls.add({
      service: frontend.service,
      operation,
      accountId: principal?.accountId ?? '',
      region: identity?.region ?? '',
      statusCode: reply.statusCode,
      ...(failure === undefined ? {} : { errorType: failure.code }),
      assumedRole: principal?.session !== undefined,
      at: deps.clock(),
    });
  }
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(endpoint: Endpoint, host: string, port: number): Promise<RunningServer> {
  const server = createServer(endpoint.handle);
  // Keep-alive sockets from SDK clients would otherwise hold `close()` open for their idle timeout.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A server listening on a TCP port always reports an AddressInfo (a string only for pipes).
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        endpoint.cancelDelays();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
