import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Just enough CloudFormation for `macie-members --stack` to run offline: `DescribeStacks`, in the
 * AWS query protocol the SDK speaks (a form-encoded POST, an XML answer), with AWS's own error
 * for a stack it does not know. Stacks belong to a region, the one of the SigV4 credential scope,
 * as in AWS: a lookup in another region does not find them. Signatures are not checked (dynalite
 * and local-aws-sqs do not check them either).
 */

export interface SandboxStack {
  name: string;
  region: string;
  status: string;
  statusReason?: string;
  outputs: Record<string, string>;
}

export interface SandboxCloudFormation {
  url: string;
  /** Registers a stack, or replaces the one of that name in its region. */
  putStack(stack: SandboxStack): void;
  close(): Promise<void>;
}

export interface CloudFormationOptions {
  host: string;
  /** The account that owns the stacks (their stack IDs name it). */
  accountId: string;
  /** Told of every call, by its Action. */
  onCall?: (operation: string) => void;
}

const XML_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

interface StoredStack extends SandboxStack {
  stackId: string;
  creationTime: string;
}

/** An error as the query protocol answers it. */
class QueryError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startCloudFormation(options: CloudFormationOptions): Promise<SandboxCloudFormation> {
  const stacks = new Map<string, StoredStack>();
  const key = (region: string, name: string) => `${region}/${name}`;

  const describeStacks = (region: string, stackName: string | undefined): string => {
    const inRegion = [...stacks.values()].filter((stack) => stack.region === region);
    const found = stackName === undefined ? inRegion : inRegion.filter((stack) => stack.name === stackName || stack.stackId === stackName);
    if (stackName !== undefined && found.length === 0) throw new QueryError(400, 'ValidationError', `Stack with id ${stackName} does not exist`);
    return element('DescribeStacksResult', element('Stacks', ...found.map((stack) => element('member', ...stackXml(stack)))));
  };

  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID();
    try {
      const parameters = await queryParameters(request);
      const action = parameters.get('Action') ?? '';
      options.onCall?.(action || 'Unknown');
      const region = credentialScopeRegion(request.headers.authorization);
      if (action !== 'DescribeStacks') throw new QueryError(400, 'InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
      const result = describeStacks(region, parameters.get('StackName') ?? undefined);
      const body = root(`${action}Response`, result, element('ResponseMetadata', text('RequestId', requestId)));
      send(response, 200, requestId, body);
    } catch (error) {
      const { statusCode, code, message } =
        error instanceof QueryError ? error : new QueryError(500, 'InternalFailure', error instanceof Error ? error.message : String(error));
      const fault = statusCode >= 500 ? 'Receiver' : 'Sender';
      const body = root('ErrorResponse', element('Error', text('Type', fault), text('Code', code), text('Message', message)), text('RequestId', requestId));
      send(response, statusCode, requestId, body);
    }
  };

  const server = createServer((request, response) => void answer(request, response));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, options.host, () => resolve()));
  return {
    url: `http://${options.host}:${(server.address() as AddressInfo).port}`,
    putStack(stack) {
      const existing = stacks.get(key(stack.region, stack.name));
      stacks.set(key(stack.region, stack.name), {
        ...stack,
        stackId: existing?.stackId ?? `arn:aws:cloudformation:${stack.region}:${options.accountId}:stack/${stack.name}/${randomUUID()}`,
        creationTime: existing?.creationTime ?? new Date().toISOString(),
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets from SDK clients would otherwise hold the server open.
        server.closeAllConnections();
      }),
  };
}

function stackXml(stack: StoredStack): string[] {
  const outputs = Object.entries(stack.outputs).map(([outputKey, value]) => element('member', text('OutputKey', outputKey), text('OutputValue', value)));
  return [
    text('StackId', stack.stackId),
    text('StackName', stack.name),
    text('CreationTime', stack.creationTime),
    text('StackStatus', stack.status),
    ...(stack.statusReason !== undefined ? [text('StackStatusReason', stack.statusReason)] : []),
    text('DisableRollback', 'false'),
    element('Outputs', ...outputs),
  ];
}

/** The form-encoded body of a POST, and the URL's query string (the query protocol accepts either). */
async function queryParameters(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const parameters = new URLSearchParams(new URL(request.url ?? '/', 'http://sandbox').search);
  for (const [name, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) parameters.set(name, value);
  return parameters;
}

/** The region of `Credential=KEY/DATE/REGION/cloudformation/aws4_request`; AWS refuses an unsigned call. */
function credentialScopeRegion(authorization: string | undefined): string {
  const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? '')?.[1];
  if (!region) throw new QueryError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  return region;
}

function send(response: ServerResponse, statusCode: number, requestId: string, body: string): void {
  response.writeHead(statusCode, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

/** The document element of an answer, in CloudFormation's namespace. */
function root(name: string, ...children: string[]): string {
  return `<${name} xmlns="${XML_NAMESPACE}">${children.join('')}</${name}>`;
}

function element(name: string, ...children: string[]): string {
  return `<${name}>${children.join('')}</${name}>`;
}

function text(name: string, value: string): string {
  return `<${name}>${escapeXml(value)}</${name}>`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[character]};`);
}
