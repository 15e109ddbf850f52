import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListDelegatedAdministratorsCommand,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '#sandbox/emulator/index';
import { ADMIN, REGION, expectAwsError, memberId, organizationsAs, seedAccount, startEmulator } from './support/harness';

let emulator: AwsEmulator;
const SUSPENDED = memberId(2);
const OUTSIDER = '333333333333';

beforeAll(async () => {
  emulator = await startEmulator([
    seedAccount(ADMIN, { name: 'security' }),
    seedAccount(memberId(1), { name: 'workload-one', email: 'one@example.com' }),
    seedAccount(SUSPENDED, { status: 'SUSPENDED' }),
    seedAccount(OUTSIDER, { inOrganization: false }),
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

describe('organization membership', () => {
  it('lists and describes only accounts in the organization; seeding inOrganization: false keeps one out', async () => {
    const client = organizationsAs(emulator, ADMIN);
    const { Accounts = [] } = await client.send(new ListAccountsCommand({}));
    expect(Accounts.map((account) => account.Id)).toEqual([ADMIN, memberId(1), SUSPENDED]);
    await expectAwsError(client.send(new DescribeAccountCommand({ AccountId: OUTSIDER })), { name: 'AccountNotFoundException', status: 400 });
    expect(emulator.control.organizationAccounts()).toEqual([
      { accountId: ADMIN, status: 'ACTIVE', management: true },
      { accountId: memberId(1), status: 'ACTIVE', management: false },
      { accountId: SUSPENDED, status: 'SUSPENDED', management: false },
    ]);
  });

  it('answers a caller outside the organization with AWSOrganizationsNotInUseException', async () => {
    const client = organizationsAs(emulator, OUTSIDER);
    const calls = [
      () => client.send(new ListAccountsCommand({})),
      () => client.send(new DescribeOrganizationCommand({})),
      () => client.send(new DescribeAccountCommand({ AccountId: ADMIN })),
    ];
    for (const call of calls) {
      await expectAwsError(call(), {
        name: 'AWSOrganizationsNotInUseException',
        status: 400,
        message: /Your account is not a member of an organization/,
      });
    }
  });

  it('describes the organization to any of its accounts: all features, the first account seeded in it as management account', async () => {
    const { Organization } = await organizationsAs(emulator, memberId(1)).send(new DescribeOrganizationCommand({}));
    expect(Organization).toMatchObject({
      Id: 'o-emulator01',
      Arn: `arn:aws:organizations::${ADMIN}:organization/o-emulator01`,
      FeatureSet: 'ALL',
      MasterAccountId: ADMIN,
      MasterAccountArn: `arn:aws:organizations::${ADMIN}:account/o-emulator01/${ADMIN}`,
      MasterAccountEmail: `aws+${ADMIN}@example.com`,
    });
    expect(emulator.control.managementAccountId()).toBe(ADMIN);
  });

  it('lets only the management account and delegated administrators list delegated administrators, paged up to 20', async () => {
    await expectAwsError(organizationsAs(emulator, memberId(1)).send(new ListDelegatedAdministratorsCommand({})), {
      name: 'AccessDeniedException',
      status: 400,
      message: "You don't have permissions to access this resource.",
    });
    const client = organizationsAs(emulator, ADMIN);
    expect(await client.send(new ListDelegatedAdministratorsCommand({ ServicePrincipal: 'macie.amazonaws.com' }))).toMatchObject({ DelegatedAdministrators: [] });
    await expectAwsError(client.send(new ListDelegatedAdministratorsCommand({ MaxResults: 21 })), { name: 'InvalidInputException', status: 400 });
    await expectAwsError(client.send(new ListDelegatedAdministratorsCommand({ NextToken: 'forged' })), { name: 'InvalidInputException', status: 400 });
  });
});

describe('joining and leaving', () => {
  let org: AwsEmulator;
  const FIRST_OUTSIDE = '333333333330';

  beforeAll(async () => {
    // The first account seeded is outside the organization, so the next one is its management account.
    org = await startEmulator([
      seedAccount(FIRST_OUTSIDE, { inOrganization: false }),
      seedAccount(ADMIN),
      ...[1, 2, 3, 4, 5].map((n) => seedAccount(memberId(n))),
    ]);
  });

  afterAll(() => org.close());

  it('keeps ListAccounts pages right when an account leaves between pages, and lists a rejoining account last', async () => {
    expect(org.control.managementAccountId()).toBe(ADMIN);
    const client = organizationsAs(org, ADMIN);
    const first = await client.send(new ListAccountsCommand({ MaxResults: 2 }));
    expect(first.Accounts?.map((a) => a.Id)).toEqual([ADMIN, memberId(1)]);
    org.control.leaveOrganization(memberId(1));
    org.control.leaveOrganization(memberId(2));
    const second = await client.send(new ListAccountsCommand({ MaxResults: 2, NextToken: first.NextToken }));
    expect(second.Accounts?.map((a) => a.Id)).toEqual([memberId(3), memberId(4)]);
    org.control.joinOrganization(memberId(1));
    org.control.joinOrganization(FIRST_OUTSIDE);
    const third = await client.send(new ListAccountsCommand({ MaxResults: 2, NextToken: second.NextToken }));
    expect(third.Accounts?.map((a) => a.Id)).toEqual([memberId(5), memberId(1)]);
    const fourth = await client.send(new ListAccountsCommand({ MaxResults: 2, NextToken: third.NextToken }));
    expect(fourth.Accounts?.map((a) => a.Id)).toEqual([FIRST_OUTSIDE]);
    expect(fourth.NextToken).toBeUndefined();
    // The management account stays the one fixed when the organization began.
    expect(org.control.managementAccountId()).toBe(ADMIN);
  });

  it('dates JoinedTimestamp from the latest join and shows a closed account SUSPENDED', async () => {
    const before = Date.now();
    org.control.leaveOrganization(memberId(5));
    org.control.joinOrganization(memberId(5));
    org.control.closeAccount(memberId(4));
    const client = organizationsAs(org, ADMIN);
    const { Account } = await client.send(new DescribeAccountCommand({ AccountId: memberId(5) }));
    expect(Account?.JoinedTimestamp?.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect((await client.send(new DescribeAccountCommand({ AccountId: memberId(4) }))).Account).toMatchObject({ Status: 'SUSPENDED', State: 'SUSPENDED' });
    expect(org.control.macieEnabled(memberId(4), REGION)).toBe(true);
  });
});
