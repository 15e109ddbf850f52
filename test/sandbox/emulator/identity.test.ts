import { GetMacieSessionCommand, ListMembersCommand } from '@aws-sdk/client-macie2';
import { DescribeAccountCommand } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountRegistry } from '#sandbox/emulator/accounts';
import { CredentialStore } from '#sandbox/emulator/identity';
import type { AwsEmulator } from '#sandbox/emulator/index';
import { parseSigV4Identity } from '#sandbox/emulator/sigv4';
import {
  ADMIN,
  OTHER_REGION,
  REGION,
  expectAwsError,
  macieAs,
  memberId,
  organizationsAs,
  seedAccount,
  startEmulator,
} from './support/harness';

let emulator: AwsEmulator;
const UNKNOWN_KEY = { accessKeyId: 'AKIAEMU0999999999999', secretAccessKey: 'x' };
const INVALID_TOKEN = 'The security token included in the request is invalid.';

beforeAll(async () => {
  emulator = await startEmulator([seedAccount(ADMIN), seedAccount(memberId(1), { macieEnabled: [OTHER_REGION] })]);
});

afterAll(() => emulator.close());

describe('long-term credentials', () => {
  it('derives the same keys for an account in every emulator, and different keys per account', async () => {
    const other = await startEmulator([seedAccount(ADMIN), seedAccount(memberId(1))]);
    try {
      expect(other.control.credentialsFor(ADMIN)).toEqual(emulator.control.credentialsFor(ADMIN));
    } finally {
      await other.close();
    }
    const admin = emulator.control.credentialsFor(ADMIN);
    expect(admin.accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(admin.secretAccessKey).toHaveLength(40);
    expect(emulator.control.credentialsFor(memberId(1)).accessKeyId).not.toBe(admin.accessKeyId);
  });

  it('refuses to make up keys for an account that was never seeded', () => {
    expect(() => emulator.control.credentialsFor('999999999999')).toThrow('account 999999999999 is not seeded; call seedAccounts first');
  });

  it('answers unknown keys with UnrecognizedClientException in Macie and Organizations', async () => {
    await expectAwsError(macieAs(emulator, ADMIN, { credentials: UNKNOWN_KEY }).send(new GetMacieSessionCommand({})), {
      name: 'UnrecognizedClientException',
      status: 403,
      message: INVALID_TOKEN,
    });
    await expectAwsError(organizationsAs(emulator, ADMIN, { credentials: UNKNOWN_KEY }).send(new DescribeAccountCommand({ AccountId: ADMIN })), {
      name: 'UnrecognizedClientException',
      status: 403,
      message: INVALID_TOKEN,
    });
    expect(emulator.control.calls().at(-1)).toMatchObject({ accountId: '', statusCode: 403, errorType: 'UnrecognizedClientException' });
  });

  it('accepts keys of accounts seeded after start', async () => {
    emulator.control.seedAccounts([seedAccount(memberId(2))]);
    const session = await macieAs(emulator, memberId(2)).send(new GetMacieSessionCommand({}));
    expect(session.status).toBe('ENABLED');
  });
});

describe('account and region from the request', () => {
  it('records the caller\'s account and the credential scope\'s region for every call', async () => {
    emulator.control.clearCalls();
    await macieAs(emulator, memberId(1), { region: OTHER_REGION }).send(new GetMacieSessionCommand({}));
    await expectAwsError(macieAs(emulator, memberId(1), { region: REGION }).send(new GetMacieSessionCommand({})), {
      name: 'AccessDeniedException',
      status: 403,
      message: 'Macie is not enabled',
    });
    await macieAs(emulator, ADMIN).send(new ListMembersCommand({}));
    expect(emulator.control.calls().map(({ at: _at, ...rest }) => rest)).toEqual([
      { service: 'macie2', operation: 'GetMacieSession', accountId: memberId(1), region: OTHER_REGION, statusCode: 200, assumedRole: false },
      {
        service: 'macie2',
        operation: 'GetMacieSession',
        accountId: memberId(1),
        region: REGION,
        statusCode: 403,
        errorType: 'AccessDeniedException',
        assumedRole: false,
      },
      { service: 'macie2', operation: 'ListMembers', accountId: ADMIN, region: REGION, statusCode: 200, assumedRole: false },
    ]);
  });

  it('answers an unsigned request with MissingAuthenticationTokenException', async () => {
    // No SDK sends unsigned requests, so this one goes out by hand.
    const response = await fetch(`${emulator.url}/macie`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
  });
});

describe('parseSigV4Identity', () => {
  const scope = 'AKIAEMU0111111111111/20250101/eu-central-1/macie2/aws4_request';

  it('reads key, date, region and service from the Authorization header, with the session token', () => {
    const identity = parseSigV4Identity(
      {
        authorization: `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=host;x-amz-date, Signature=abc`,
        'x-amz-security-token': 'token',
      },
      new URLSearchParams(),
    );
    expect(identity).toEqual({ accessKeyId: 'AKIAEMU0111111111111', date: '20250101', region: 'eu-central-1', service: 'macie2', sessionToken: 'token' });
  });

  it('reads a presigned URL\'s X-Amz-Credential', () => {
    const query = new URLSearchParams({ 'X-Amz-Credential': scope.replace('macie2', 'sts'), 'X-Amz-Security-Token': 't' });
    expect(parseSigV4Identity({}, query)).toEqual({
      accessKeyId: 'AKIAEMU0111111111111',
      date: '20250101',
      region: 'eu-central-1',
      service: 'sts',
      sessionToken: 't',
    });
  });

  it('returns undefined for unsigned or malformed requests', () => {
    expect(parseSigV4Identity({}, new URLSearchParams())).toBeUndefined();
    expect(parseSigV4Identity({ authorization: 'AWS4-HMAC-SHA256 Credential=AKID/2025/eu/aws4_request' }, new URLSearchParams())).toBeUndefined();
    expect(parseSigV4Identity({ authorization: 'Bearer abc' }, new URLSearchParams())).toBeUndefined();
  });
});

describe('temporary credentials', () => {
  it('expire at their expiration time', () => {
    const accounts = new AccountRegistry();
    accounts.seed([seedAccount(ADMIN)], 0);
    const store = new CredentialStore(accounts);
    const issued = store.issueSession(ADMIN, 'Role', 'session', 10_000);
    expect(store.resolve(issued.accessKeyId, issued.sessionToken, 9_999)).toMatchObject({ ok: true, principal: { accountId: ADMIN } });
    expect(store.resolve(issued.accessKeyId, issued.sessionToken, 10_000)).toEqual({ ok: false, reason: 'expired' });
    expect(store.resolve(issued.accessKeyId, 'another token', 0)).toEqual({ ok: false, reason: 'unrecognized' });
  });
});

describe('close', () => {
  it('closes promptly with keep-alive connections open, and stops answering', async () => {
    const short = await startEmulator([seedAccount(ADMIN)], { latencyMs: 5_000 });
    const client = macieAs(short, ADMIN);
    short.control.setKnobs({ latencyMs: 0 });
    await client.send(new GetMacieSessionCommand({}));
    short.control.setKnobs({ latencyMs: 5_000 });
    const pending = client.send(new GetMacieSessionCommand({})).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));

    const started = performance.now();
    await short.close();
    await short.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await pending).toBeInstanceOf(Error);
    await expect(fetch(`${short.url}/macie`)).rejects.toThrow();
  });
});
