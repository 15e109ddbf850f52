import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SERVICE_USER_AGENT, awsClientOptions } from '#shared/aws/client-options';

describe('awsClientOptions', () => {
  it('names the project and its version as package.json does', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    expect(SERVICE_USER_AGENT).toBe(`${manifest.name}/${manifest.version}`);
  });

  it('puts the project in the User-Agent headers of every request', async () => {
    const received: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      received.push(request.headers);
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ QueueUrl: 'http://127.0.0.1/111111111111/requests' }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const sqs = new SQSClient({
        ...awsClientOptions({ region: 'us-east-1', maxAttempts: 1 }),
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const answer = await sqs.send(new GetQueueUrlCommand({ QueueName: 'requests' }));

      expect(answer.QueueUrl).toBe('http://127.0.0.1/111111111111/requests');
      expect(received).toHaveLength(1);
      expect(received[0]!['user-agent']).toContain(SERVICE_USER_AGENT);
      expect(received[0]!['x-amz-user-agent']).toContain(SERVICE_USER_AGENT);
    } finally {
      // The clients share keep-alive agents: close their sockets so the server can stop.
      server.closeAllConnections();
      server.close();
    }
  });

  it('retries a throttled call through its own strategy, one per client', async () => {
    let answered = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        answered += 1;
        if (answered <= 2) {
          response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'ThrottlingException;Sender' });
          response.end(JSON.stringify({ __type: 'com.amazonaws.sqs#ThrottlingException', message: 'Rate exceeded' }));
          return;
        }
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ QueueUrl: 'http://127.0.0.1/111111111111/requests' }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const options = awsClientOptions({ region: 'us-east-1', maxAttempts: 3 });
      const sqs = new SQSClient({
        ...options,
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const answer = await sqs.send(new GetQueueUrlCommand({ QueueName: 'requests' }));
      expect(answer.$metadata.attempts).toBe(3);
      // Each client has its own strategy (and so its own limiter), as each AWS bucket is its own.
      expect(awsClientOptions({ region: 'us-east-1', maxAttempts: 3 }).retryStrategy).not.toBe(options.retryStrategy);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
