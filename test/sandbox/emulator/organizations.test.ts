import { DescribeAccountCommand, ListAccountsCommand } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '#sandbox/emulator/index';
import { ADMIN, expectAwsError, memberId, organizationsAs, seedAccount, startEmulator } from './support/harness';

let emulator: AwsEmulator;
const SUSPENDED = memberId(2);

beforeAll(async () => {
  emulator = await startEmulator([
    seedAccount(ADMIN, { name: 'security' }),
    seedAccount(memberId(1), { name: 'workload-one', email: 'one@example.com' }),
    seedAccount(SUSPENDED, { status: 'SUSPENDED' }),
  ]);
});

afterAll(() => emulator.close());

describe('DescribeAccount', () => {
  it('describes a seeded account in the organization of the first seeded account', async () => {
    const before = Date.now();
    const { Account } = await organizationsAs(emulator, ADMIN).send(new DescribeAccountCommand({ AccountId: memberId(1) }));
    expect(Account).toMatchObject({
      Id: memberId(1),
      Arn: `arn:aws:organizations::${ADMIN}:account/o-emulator01/${memberId(1)}`,
      Email: 'one@example.com',
      Name: 'workload-one',
      Status: 'ACTIVE',
      State: 'ACTIVE',
      JoinedMethod: 'INVITED',
    });
    expect(Account?.JoinedTimestamp).toBeInstanceOf(Date);
    expect(Account?.JoinedTimestamp?.getTime()).toBeLessThanOrEqual(before);
  });

  it('reports a suspended account as SUSPENDED', async () => {
    const { Account } = await organizationsAs(emulator, ADMIN).send(new DescribeAccountCommand({ AccountId: SUSPENDED }));
    expect(Account?.Status).toBe('SUSPENDED');
  });

  it('answers an unknown account with AccountNotFoundException and a malformed ID with InvalidInputException', async () => {
    const client = organizationsAs(emulator, ADMIN);
    await expectAwsError(client.send(new DescribeAccountCommand({ AccountId: '999999999999' })), {
      name: 'AccountNotFoundException',
      status: 400,
      message: "You specified an account that doesn't exist.",
    });
    await expectAwsError(client.send(new DescribeAccountCommand({ AccountId: 'abc' })), {
      name: 'InvalidInputException',
      status: 400,
      message: 'AccountId must be a 12-digit account ID, got "abc"',
    });
  });
});

describe('ListAccounts', () => {
  it('pages with MaxResults and NextToken', async () => {
    const client = organizationsAs(emulator, ADMIN);
    const first = await client.send(new ListAccountsCommand({ MaxResults: 2 }));
    expect(first.Accounts?.map((a) => a.Id)).toEqual([ADMIN, memberId(1)]);
    expect(first.NextToken).toBeTruthy();
    const second = await client.send(new ListAccountsCommand({ MaxResults: 2, NextToken: first.NextToken }));
    expect(second.Accounts?.map((a) => a.Id)).toEqual([SUSPENDED]);
    expect(second.NextToken).toBeUndefined();
  });

  it('rejects MaxResults above 20 and tokens it did not issue', async () => {
    const client = organizationsAs(emulator, ADMIN);
    await expectAwsError(client.send(new ListAccountsCommand({ MaxResults: 21 })), {
      name: 'InvalidInputException',
      status: 400,
      message: 'MaxResults must be an integer between 1 and 20, got 21',
    });
    await expectAwsError(client.send(new ListAccountsCommand({ NextToken: 'forged' })), { name: 'InvalidInputException', status: 400, message: 'NextToken is invalid' });
  });
});
