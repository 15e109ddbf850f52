import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback pass-through in front of the sandbox's DynamoDB (dynalite) or SQS (local-aws-sqs)
 * endpoint that fails calls on purpose. Every call goes to the endpoint and back unchanged unless
 * a rule the test has set fires: then the proxy answers instead, in the error shape of the
 * service's JSON protocol, or (an SQS batch call) forwards the other entries and reports the
 * chosen ones in the answer's `Failed` list, as SQS does when it refuses single entries. Rules are
 * set and cleared at any time; a rule fires on an operation (`X-Amz-Target`), a predicate on the
 * request body, at most a number of times, or with a probability drawn from a seeded PRNG.
 */

export type FaultProtocol = 'dynamodb' | 'sqs';

/** A call as the proxy sees it: the operation named by `X-Amz-Target` and the JSON body. */
export interface ProxiedRequest {
  operation: string;
  body: Record<string, unknown>;
}

/** One entry of an SQS batch request (`SendMessageBatch`). */
export interface BatchEntry {
  Id: string;
  MessageBody?: string;
}

/** The whole call fails: the service's error for it, in its protocol's shape. */
export interface CallFault {
  /** The error code, e.g. `ProvisionedThroughputExceededException`, `InvalidMessageContents`. */
  error: string;
  message?: string;
  /** HTTP status; 400 unless given. */
  status?: number;
}

/** SQS batch calls only: the chosen entries come back in `Failed`, the others go to the queue. */
export interface EntryFault {
  failEntries: (entry: BatchEntry) => boolean;
  code: string;
  message?: string;
  /** SQS's verdict on whose fault it is: true (the default) means sending it again will not help. */
  senderFault?: boolean;
}

export interface FaultRule {
  /** Names the rule in `calls()`. */
  name: string;
  /** The operations it applies to; every operation when absent. */
  operations?: readonly string[];
  /** Only calls whose request passes this predicate. */
  when?: (request: ProxiedRequest) => boolean;
  /** Chance (0..1) that a matching call fails; 1 unless given. Drawn from the proxy's seeded PRNG. */
  probability?: number;
  /** The rule fires at most this many times, then lets calls through. */
  times?: number;
  answer: CallFault | EntryFault;
}

export interface RuleHandle {
  /** How many calls the rule has failed (wholly or in part) so far. */
  fired(): number;
  remove(): void;
}

export interface ProxiedCall {
  operation: string;
  /** The rule that failed the call or some of its entries; absent for a call passed through. */
  fault?: string;
  status: number;
  /** An EntryFault's refused entries. */
  failedEntries: number;
}

export interface FaultProxy {
  url: string;
  /** Adds a rule after the existing ones: the first rule that fires on a call answers it. */
  addRule(rule: FaultRule): RuleHandle;
  clearRules(): void;
  calls(): ProxiedCall[];
  clearCalls(): void;
  close(): Promise<void>;
}

/**
 * SQS's JSON protocol also names each error by its older query-protocol code, in the
 * `x-amzn-query-error` header (`Code;Sender` or `Code;Receiver`), and the SDK identifies the error
 * by that code first. Most codes are the error's own name; these are the ones that differ.
 */
const SQS_QUERY_CODES: Readonly<Record<string, string>> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

const ERROR_NAMESPACES: Record<FaultProtocol, string> = {
  dynamodb: 'com.amazonaws.dynamodb.v20120810',
  sqs: 'com.amazonaws.sqs',
};

interface ActiveRule {
  rule: FaultRule;
  fired: number;
}

export async function startFaultProxy(targetUrl: string, options: { protocol: FaultProtocol; seed?: number }): Promise<FaultProxy> {
  const { protocol } = options;
  const target = new URL(targetUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const random = mulberry32(options.seed ?? 1);
  let rules: ActiveRule[] = [];
  let calls: ProxiedCall[] = [];
  let requestCounter = 0;

  /** The first rule that fires on this call, counted as fired. */
  const ruleFor = (request: ProxiedRequest): ActiveRule | undefined => {
    for (const active of rules) {
      const { rule } = active;
      if (rule.operations && !rule.operations.includes(request.operation)) continue;
      if (rule.times !== undefined && active.fired >= rule.times) continue;
      if (rule.when && !rule.when(request)) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      return active;
    }
    return undefined;
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, 'content-length': String(body.length) };
      const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
        answer.on('error', reject);
      });
      upstream.on('error', reject);
      upstream.end(body);
    });

  const reply = (res: ServerResponse, status: number, headers: IncomingHttpHeaders, body: Buffer | string): void => {
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...headers, 'content-length': String(payload.length) });
    res.end(payload);
  };

  const errorAnswer = (fault: CallFault): { status: number; headers: IncomingHttpHeaders; body: string } => {
    const status = fault.status ?? 400;
    const headers: IncomingHttpHeaders = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': `fault-proxy-${++requestCounter}`,
    };
    if (protocol === 'sqs') headers['x-amzn-query-error'] = `${SQS_QUERY_CODES[fault.error] ?? fault.error};${status < 500 ? 'Sender' : 'Receiver'}`;
    const message = fault.message ?? `${fault.error} injected by the fault proxy`;
    return { status, headers, body: JSON.stringify({ __type: `${ERROR_NAMESPACES[protocol]}#${fault.error}`, message }) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const targetHeader = req.headers['x-amz-target'];
    const operation = typeof targetHeader === 'string' ? targetHeader.slice(targetHeader.indexOf('.') + 1) : 'Unknown';
    const request: ProxiedRequest = { operation, body: parseObject(body.toString('utf8')) };
    const active = ruleFor(request);
    const answer = active?.rule.answer;

    if (!active || !answer) {
      const passed = await forward(req, body);
      calls.push({ operation, status: passed.status, failedEntries: 0 });
      reply(res, passed.status, passed.headers, passed.body);
      return;
    }
    if ('error' in answer) {
      active.fired += 1;
      const failed = errorAnswer(answer);
      calls.push({ operation, fault: active.rule.name, status: failed.status, failedEntries: 0 });
      reply(res, failed.status, failed.headers, failed.body);
      return;
    }

    const entries = Array.isArray(request.body.Entries) ? (request.body.Entries as BatchEntry[]) : [];
    const refused = entries.filter((entry) => answer.failEntries(entry));
    if (refused.length === 0) {
      const passed = await forward(req, body);
      calls.push({ operation, status: passed.status, failedEntries: 0 });
      reply(res, passed.status, passed.headers, passed.body);
      return;
    }
    active.fired += 1;
    const failed = refused.map((entry) => ({
      Id: entry.Id,
      SenderFault: answer.senderFault ?? true,
      Code: answer.code,
      Message: answer.message ?? `${answer.code} injected by the fault proxy`,
    }));
    const others = entries.filter((entry) => !refused.includes(entry));
    // The entries SQS would take go to the queue, so their answer (and its MD5 digests) is the real one.
    const passed =
      others.length > 0
        ? await forward(req, Buffer.from(JSON.stringify({ ...request.body, Entries: others })))
        : { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Buffer.from('{"Successful":[]}') };
    if (passed.status !== 200) {
      calls.push({ operation, fault: active.rule.name, status: passed.status, failedEntries: 0 });
      reply(res, passed.status, passed.headers, passed.body);
      return;
    }
    const upstream = parseObject(passed.body.toString('utf8'));
    const upstreamFailed = Array.isArray(upstream.Failed) ? upstream.Failed : [];
    calls.push({ operation, fault: active.rule.name, status: 200, failedEntries: failed.length });
    reply(res, 200, passed.headers, JSON.stringify({ ...upstream, Failed: [...upstreamFailed, ...failed] }));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        reply(res, 502, { 'content-type': 'text/plain' }, `fault proxy: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    addRule: (rule) => {
      const active: ActiveRule = { rule, fired: 0 };
      rules = [...rules, active];
      return {
        fired: () => active.fired,
        remove: () => {
          rules = rules.filter((other) => other !== active);
        },
      };
    },
    clearRules: () => {
      rules = [];
    },
    calls: () => calls.slice(),
    clearCalls: () => {
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

/** The same URL at the proxy: an SQS client sends a call to its queue URL's host, whatever its configured endpoint. */
export function viaProxy(proxy: Pick<FaultProxy, 'url'>, url: string): string {
  const { pathname, search } = new URL(url);
  return `${proxy.url}${pathname}${search}`;
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence of draws. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
