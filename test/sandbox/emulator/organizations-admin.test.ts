import {
  DescribeOrganizationConfigurationCommand,
  DisableOrganizationAdminAccountCommand,
  EnableOrganizationAdminAccountCommand,
  ListOrganizationAdminAccountsCommand,
  UpdateOrganizationConfigurationCommand,
} from '@aws-sdk/client-macie2';
import { ListDelegatedAdministratorsCommand } from '@aws-sdk/client-organizations';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '#sandbox/emulator/index';
import {
  ADMIN,
  OTHER_REGION,
  REGION,
  SECOND_ADMIN,
  expectAwsError,
  macieAs,
  memberId,
  organizationsAs,
  seedAccount,
  startEmulator,
} from './support/harness';

// The designation is one per organization, so every test starts its own emulator (a loopback server: cheap).
const MANAGEMENT = '100000000001';
const OUTSIDER = '333333333333';
const SUSPENDED = memberId(90);
const NOT_ORGANIZATION_ADMINISTRATOR = /you must be the Macie administrator for an organization/;

let emulator: AwsEmulator;

beforeEach(async () => {
  emulator = await startEmulator([
    seedAccount(MANAGEMENT, { macieEnabled: false }),
    seedAccount(ADMIN, { macieEnabled: false }),
    seedAccount(SECOND_ADMIN),
    seedAccount(memberId(1)),
    seedAccount(memberId(2)),
    seedAccount(SUSPENDED, { status: 'SUSPENDED' }),
    seedAccount(OUTSIDER, { inOrganization: false }),
  ]);
});

afterEach(() => emulator.close());

const management = (region = REGION) => macieAs(emulator, MANAGEMENT, { region });
const macie = (accountId: string, region = REGION) => macieAs(emulator, accountId, { region });
const enable = (adminAccountId: string, region = REGION) =>
  management(region).send(new EnableOrganizationAdminAccountCommand({ adminAccountId }));
const adminAccounts = async (region = REGION) => (await management(region).send(new ListOrganizationAdminAccountsCommand({}))).adminAccounts;

describe('EnableOrganizationAdminAccount', () => {
  it('designates the delegated administrator in the region, enables Macie for it there, and shows it in Organizations', async () => {
    expect(emulator.control.macieEnabled(ADMIN, REGION)).toBe(false);
    await enable(ADMIN);
    expect(await adminAccounts()).toEqual([{ accountId: ADMIN, status: 'ENABLED' }]);
    expect(await adminAccounts(OTHER_REGION)).toEqual([]);
    expect(emulator.control.macieEnabled(ADMIN, REGION)).toBe(true);
    expect(emulator.control.macieEnabled(ADMIN, OTHER_REGION)).toBe(false);
    expect(emulator.control.macieAdministrator(REGION)).toBe(ADMIN);

    const organizations = organizationsAs(emulator, MANAGEMENT);
    const { DelegatedAdministrators } = await organizations.send(new ListDelegatedAdministratorsCommand({ ServicePrincipal: 'macie.amazonaws.com' }));
    expect(DelegatedAdministrators).toHaveLength(1);
    expect(DelegatedAdministrators?.[0]).toMatchObject({ Id: ADMIN, Status: 'ACTIVE' });
    expect(DelegatedAdministrators?.[0]?.DelegationEnabledDate).toBeInstanceOf(Date);
    const other = await organizations.send(new ListDelegatedAdministratorsCommand({ ServicePrincipal: 'guardduty.amazonaws.com' }));
    expect(other.DelegatedAdministrators).toEqual([]);
    // The delegated administrator may list delegated administrators too.
    const asAdmin = await organizationsAs(emulator, ADMIN).send(new ListDelegatedAdministratorsCommand({}));
    expect(asAdmin.DelegatedAdministrators?.map((entry) => entry.Id)).toEqual([ADMIN]);
  });

  it('accepts the same designation again (a retry) and the same account in another region', async () => {
    await enable(ADMIN);
    await enable(ADMIN);
    await enable(ADMIN, OTHER_REGION);
    expect(await adminAccounts()).toEqual([{ accountId: ADMIN, status: 'ENABLED' }]);
    expect(await adminAccounts(OTHER_REGION)).toEqual([{ accountId: ADMIN, status: 'ENABLED' }]);
  });

  it('allows one delegated administrator per organization, the same in every region: ConflictException otherwise', async () => {
    await enable(ADMIN);
    await expectAwsError(enable(SECOND_ADMIN), {
      name: 'ConflictException',
      status: 409,
      message: /already the delegated Macie administrator account for your organization in eu-west-1/,
    });
    await expectAwsError(enable(SECOND_ADMIN, OTHER_REGION), {
      name: 'ConflictException',
      status: 409,
      message: /must be the same in every Region/,
    });
    expect(await adminAccounts(OTHER_REGION)).toEqual([]);
  });

  it('is for the management account only: AccessDeniedException for anyone else, in or outside the organization', async () => {
    for (const caller of [ADMIN, memberId(1), OUTSIDER]) {
      const client = macie(caller);
      await expectAwsError(client.send(new EnableOrganizationAdminAccountCommand({ adminAccountId: ADMIN })), {
        name: 'AccessDeniedException',
        status: 403,
        message: /not the management account of an organization/,
      });
      await expectAwsError(client.send(new ListOrganizationAdminAccountsCommand({})), { name: 'AccessDeniedException', status: 403 });
      await expectAwsError(client.send(new DisableOrganizationAdminAccountCommand({ adminAccountId: ADMIN })), {
        name: 'AccessDeniedException',
        status: 403,
      });
    }
  });

  it('refuses a management account that is itself a Macie member until its administrator removes it', async () => {
    emulator.control.seedMembership({ administratorAccountId: SECOND_ADMIN, accountId: MANAGEMENT, region: REGION, relationshipStatus: 'Enabled' });
    await expectAwsError(enable(ADMIN), { name: 'AccessDeniedException', status: 403, message: /is a Macie member account/ });
  });

  it('designates only an active account of the organization: ValidationException otherwise', async () => {
    await expectAwsError(enable(OUTSIDER), {
      name: 'ValidationException',
      status: 400,
      message: `The account ${OUTSIDER} isn't an active account in your organization in AWS Organizations`,
    });
    await expectAwsError(enable(SUSPENDED), { name: 'ValidationException', status: 400, message: /isn't an active account/ });
    await expectAwsError(enable('12345'), { name: 'ValidationException', status: 400, message: /adminAccountId must be a 12-digit/ });
    await expectAwsError(enable(''), { name: 'ValidationException', status: 400, message: 'adminAccountId is required' });
  });

  it('refuses an account that is a Macie member of another administrator: an account is administrator or member, not both', async () => {
    emulator.control.seedMembership({ administratorAccountId: SECOND_ADMIN, accountId: ADMIN, region: OTHER_REGION, relationshipStatus: 'Enabled' });
    await expectAwsError(enable(ADMIN), { name: 'ConflictException', status: 409, message: /can't be a Macie administrator and member account/ });
  });

  it('lets the control interface designate directly, under the same rules', async () => {
    emulator.control.designateMacieAdministrator(ADMIN, OTHER_REGION);
    expect(await adminAccounts(OTHER_REGION)).toEqual([{ accountId: ADMIN, status: 'ENABLED' }]);
    expect(() => emulator.control.designateMacieAdministrator(SECOND_ADMIN, REGION)).toThrow(/must be the same in every Region/);
  });
});

describe('DisableOrganizationAdminAccount', () => {
  it('removes the designation in its region only; Organizations drops the delegation when no region is left', async () => {
    await enable(ADMIN);
    await enable(ADMIN, OTHER_REGION);
    await management().send(new DisableOrganizationAdminAccountCommand({ adminAccountId: ADMIN }));
    expect(await adminAccounts()).toEqual([]);
    expect(await adminAccounts(OTHER_REGION)).toEqual([{ accountId: ADMIN, status: 'ENABLED' }]);
    const organizations = organizationsAs(emulator, MANAGEMENT);
    expect((await organizations.send(new ListDelegatedAdministratorsCommand({}))).DelegatedAdministrators).toHaveLength(1);

    await management(OTHER_REGION).send(new DisableOrganizationAdminAccountCommand({ adminAccountId: ADMIN }));
    expect((await organizations.send(new ListDelegatedAdministratorsCommand({}))).DelegatedAdministrators).toEqual([]);
    // Another account may now be designated.
    await enable(SECOND_ADMIN);
    expect(await adminAccounts()).toEqual([{ accountId: SECOND_ADMIN, status: 'ENABLED' }]);
  });

  it('answers ResourceNotFoundException for an account that is not the delegated administrator there', async () => {
    await enable(ADMIN);
    await expectAwsError(management().send(new DisableOrganizationAdminAccountCommand({ adminAccountId: SECOND_ADMIN })), {
      name: 'ResourceNotFoundException',
      status: 404,
      message: `The account ${SECOND_ADMIN} isn't the delegated Macie administrator account for your organization in ${REGION}`,
    });
    await expectAwsError(management(OTHER_REGION).send(new DisableOrganizationAdminAccountCommand({ adminAccountId: ADMIN })), {
      name: 'ResourceNotFoundException',
      status: 404,
    });
  });
});

describe('ListOrganizationAdminAccounts', () => {
  it('pages with maxResults and nextToken, a removed administrator listed DISABLING_IN_PROGRESS while its removal settles', async () => {
    emulator.control.setKnobs({ organizationAdminDisablingMs: 3_600_000 });
    await enable(SECOND_ADMIN);
    await management().send(new DisableOrganizationAdminAccountCommand({ adminAccountId: SECOND_ADMIN }));
    await enable(ADMIN);
    const client = management();
    const first = await client.send(new ListOrganizationAdminAccountsCommand({ maxResults: 1 }));
    expect(first.adminAccounts).toEqual([{ accountId: ADMIN, status: 'ENABLED' }]);
    expect(first.nextToken).toBeTruthy();
    const second = await client.send(new ListOrganizationAdminAccountsCommand({ maxResults: 1, nextToken: first.nextToken }));
    expect(second.adminAccounts).toEqual([{ accountId: SECOND_ADMIN, status: 'DISABLING_IN_PROGRESS' }]);
    expect(second.nextToken).toBeUndefined();
    const all = await client.send(new ListOrganizationAdminAccountsCommand({}));
    expect(all.adminAccounts?.filter((entry) => entry.status === 'ENABLED')).toHaveLength(1);
    expect(all.nextToken).toBeUndefined();
  });

  it('rejects maxResults outside 1..25 and tokens it did not issue', async () => {
    const client = management();
    await expectAwsError(client.send(new ListOrganizationAdminAccountsCommand({ maxResults: 26 })), {
      name: 'ValidationException',
      status: 400,
      message: 'maxResults must be an integer between 1 and 25, got "26"',
    });
    await expectAwsError(client.send(new ListOrganizationAdminAccountsCommand({ nextToken: 'forged' })), {
      name: 'ValidationException',
      status: 400,
      message: 'nextToken is invalid or has expired',
    });
  });
});

describe('organization configuration', () => {
  it('is read and changed by the delegated administrator, per region', async () => {
    await enable(ADMIN);
    await enable(ADMIN, OTHER_REGION);
    const admin = macie(ADMIN);
    expect(await admin.send(new DescribeOrganizationConfigurationCommand({}))).toMatchObject({ autoEnable: false, maxAccountLimitReached: false });
    await admin.send(new UpdateOrganizationConfigurationCommand({ autoEnable: true }));
    expect((await admin.send(new DescribeOrganizationConfigurationCommand({}))).autoEnable).toBe(true);
    expect((await macie(ADMIN, OTHER_REGION).send(new DescribeOrganizationConfigurationCommand({}))).autoEnable).toBe(false);
    // The SDK does not check required members, so a request without autoEnable reaches the service.
    await expectAwsError(admin.send(new UpdateOrganizationConfigurationCommand({} as { autoEnable: boolean })), {
      name: 'ValidationException',
      status: 400,
      message: 'autoEnable is required and must be a boolean',
    });
  });

  it('answers anyone else with AccessDeniedException: the caller must be the Macie administrator for an organization', async () => {
    await enable(ADMIN);
    for (const [caller, region] of [
      [MANAGEMENT, REGION],
      [SECOND_ADMIN, REGION],
      [memberId(1), REGION],
      [OUTSIDER, REGION],
      [ADMIN, OTHER_REGION],
    ] as const) {
      const client = macie(caller, region);
      await expectAwsError(client.send(new DescribeOrganizationConfigurationCommand({})), {
        name: 'AccessDeniedException',
        status: 403,
        message: NOT_ORGANIZATION_ADMINISTRATOR,
      });
      await expectAwsError(client.send(new UpdateOrganizationConfigurationCommand({ autoEnable: true })), {
        name: 'AccessDeniedException',
        status: 403,
        message: NOT_ORGANIZATION_ADMINISTRATOR,
      });
    }
  });
});
