import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matchMacieRoute } from '#sandbox/emulator/macie-http';
import { parseSigV4Identity } from '#sandbox/emulator/sigv4';

/**
 * A recording pass-through in front of the emulator's Macie endpoint. The emulator's own call log
 * names the caller but not the accounts a call is about; reliability tests need exactly that
 * ("was this account created twice in this region?"), so the tap reads each request's subject and
 * each `CreateInvitations` answer. It changes nothing: every byte goes to the emulator and back.
 */

export interface TappedMacieCall {
  operation: string;
  region: string;
  /** The accounts the call is about: the member of CreateMember, the `accountIds` of CreateInvitations, the path `{id}`. */
  subjects: string[];
  statusCode: number;
  errorType?: string;
  /** CreateInvitations only: accounts the answer left unprocessed, with their code. */
  unprocessed: Array<{ accountId: string; errorCode: string }>;
  startedAt: number;
  endedAt: number;
}

export interface MacieTap {
  url: string;
  calls(): TappedMacieCall[];
  clear(): void;
  close(): Promise<void>;
}

export async function startMacieTap(targetUrl: string): Promise<MacieTap> {
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let calls: TappedMacieCall[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const startedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
          answer.on('end', () => {
            const answerBody = Buffer.concat(answerChunks);
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            res.end(answerBody);
            calls.push(describeCall(req, body.toString('utf8'), answer, answerBody.toString('utf8'), startedAt));
          });
        },
      );
      upstream.on('error', (error) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`macie tap: ${error.message}`);
      });
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls.slice(),
    clear: () => {
      calls = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function describeCall(req: IncomingMessage, bodyText: string, answer: IncomingMessage, answerText: string, startedAt: number): TappedMacieCall {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const query = new URLSearchParams(queryStart < 0 ? '' : url.slice(queryStart + 1));
  const matched = matchMacieRoute(req.method ?? 'GET', path);
  const region = parseSigV4Identity(req.headers, query)?.region ?? '';
  const subjects: string[] = [];
  if (matched?.pathParams.id) subjects.push(matched.pathParams.id);
  const body = parseJson(bodyText);
  const account = body?.account as { accountId?: unknown } | undefined;
  if (typeof account?.accountId === 'string') subjects.push(account.accountId);
  if (Array.isArray(body?.accountIds)) subjects.push(...body.accountIds.filter((id): id is string => typeof id === 'string'));
  const statusCode = answer.statusCode ?? 0;
  const errorHeader = answer.headers['x-amzn-errortype'];
  const unprocessed =
    matched?.route.operation === 'CreateInvitations' && statusCode === 200
      ? ((parseJson(answerText)?.unprocessedAccounts as Array<{ accountId: string; errorCode: string }> | undefined) ?? []).map(
          ({ accountId, errorCode }) => ({ accountId, errorCode }),
        )
      : [];
  return {
    operation: matched?.route.operation ?? 'Unknown',
    region,
    subjects,
    statusCode,
    ...(typeof errorHeader === 'string' ? { errorType: errorHeader.split(':')[0] } : {}),
    unprocessed,
    startedAt,
    endedAt: Date.now(),
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Successful calls of one operation per `accountId region`, e.g. how many times each member was created. */
export function successesPerAccountRegion(calls: readonly TappedMacieCall[], operation: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) {
    if (call.operation !== operation || call.statusCode !== 200) continue;
    const unprocessed = new Set(call.unprocessed.map((entry) => entry.accountId));
    for (const accountId of new Set(call.subjects)) {
      if (unprocessed.has(accountId)) continue;
      const key = `${accountId} ${call.region}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}
