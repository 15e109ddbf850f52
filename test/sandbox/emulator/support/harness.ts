import { Macie2Client } from '@aws-sdk/client-macie2';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { STSClient } from '@aws-sdk/client-sts';
import { expect } from 'vitest';
import { type AwsEmulator, type SeedAccount, startAwsEmulator } from '#sandbox/emulator/index';
import type { FaultKnobs } from '#sandbox/emulator/index';

export const REGION = 'eu-west-1';
export const OTHER_REGION = 'us-east-1';
export const MEMBER_ROLE = { name: 'MacieMembershipReconciler', externalId: 'reconciler-external-id' };

/** `111…` administrators, `222…`+ members: the digits make a failing assertion readable. */
export const ADMIN = '111111111111';
export const SECOND_ADMIN = '111111111112';

export function memberId(n: number): string {
  return String(222222220000 + n);
}

export function seedAccount(accountId: string, extra: Partial<SeedAccount> = {}): SeedAccount {
  return { accountId, email: `aws+${accountId}@example.com`, ...extra };
}

/** `clock`: the emulator's own time, for tests that move it on rather than sleep. */
export function startEmulator(accounts: SeedAccount[], knobs: Partial<FaultKnobs> = {}, clock?: () => number): Promise<AwsEmulator> {
  return startAwsEmulator({ memberRole: MEMBER_ROLE, accounts, knobs, ...(clock ? { clock } : {}) });
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

interface ClientOptions {
  region?: string;
  /** One attempt by default, so a test sees each error instead of the SDK's retries. */
  maxAttempts?: number;
  credentials?: TemporaryCredentials;
}

function clientConfig(emulator: AwsEmulator, accountId: string, options: ClientOptions) {
  return {
    endpoint: emulator.url,
    region: options.region ?? REGION,
    credentials: options.credentials ?? emulator.control.credentialsFor(accountId),
    maxAttempts: options.maxAttempts ?? 1,
  };
}

export function macieAs(emulator: AwsEmulator, accountId: string, options: ClientOptions = {}): Macie2Client {
  return new Macie2Client(clientConfig(emulator, accountId, options));
}

export function organizationsAs(emulator: AwsEmulator, accountId: string, options: ClientOptions = {}): OrganizationsClient {
  return new OrganizationsClient(clientConfig(emulator, accountId, options));
}

export function stsAs(emulator: AwsEmulator, accountId: string, options: ClientOptions = {}): STSClient {
  return new STSClient(clientConfig(emulator, accountId, options));
}

export interface ExpectedAwsError {
  name: string;
  status: number;
  message?: string | RegExp;
}

/** Asserts the SDK surfaced the modelled exception: class name, HTTP status and message. */
export async function expectAwsError(call: Promise<unknown>, expected: ExpectedAwsError): Promise<void> {
  const error: unknown = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${expected.name}, but the call succeeded`).toBeInstanceOf(Error);
  const failure = error as Error & { $metadata?: { httpStatusCode?: number } };
  expect(failure.name).toBe(expected.name);
  expect(failure.$metadata?.httpStatusCode).toBe(expected.status);
  if (typeof expected.message === 'string') expect(failure.message).toBe(expected.message);
  else if (expected.message) expect(failure.message).toMatch(expected.message);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
