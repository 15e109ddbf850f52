import { describe, expect, it } from 'vitest';
import { AwsCallError } from '#shared/errors';
import { observeOrganization, type OrganizationReadPorts } from '#shared/organization-view';
import type { OrganizationAccount } from '#shared/ports';

/** How a run reads the organization, and which answers leave what unobserved (nothing planned on a guess). */

const REGIONS = ['us-east-1', 'eu-west-1'];
const settings = { managedRegions: REGIONS, concurrency: { administratorCallsPerRegion: 4 } };
const error = (operation: string, code: string) => new AwsCallError(operation, code, `${code} said so`, 1);
const account = (accountId: string, status = 'ACTIVE'): OrganizationAccount => ({ accountId, email: `${accountId}@example.com`, name: undefined, status });

function ports(overrides: {
  configuration?: (region: string) => Promise<{ autoEnable: boolean }>;
  listAccounts?: (onPage?: (accounts: readonly OrganizationAccount[]) => void) => Promise<OrganizationAccount[]>;
  describeAccount?: (accountId: string) => Promise<OrganizationAccount>;
}): OrganizationReadPorts & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    macie: {
      describeOrganizationConfiguration: (region) => {
        reads.push(`DescribeOrganizationConfiguration ${region}`);
        return overrides.configuration?.(region) ?? Promise.resolve({ autoEnable: false });
      },
    },
    organization: {
      listAccounts: (onPage) => {
        reads.push('ListAccounts');
        return overrides.listAccounts?.(onPage) ?? Promise.resolve([account('222222222201'), account('222222222202', 'SUSPENDED')]);
      },
      describeAccount: (accountId) => {
        reads.push(`DescribeAccount ${accountId}`);
        return overrides.describeAccount?.(accountId) ?? Promise.resolve(account(accountId));
      },
      describeOrganization: () => Promise.resolve({ organizationId: 'o-example', managementAccountId: '999999999999' }),
    },
  };
}

describe('observeOrganization', () => {
  it('reads where the administrator is delegated, with autoEnable, and the active accounts (a suspended one is not)', async () => {
    const { view, unobserved } = await observeOrganization(ports({ configuration: async (region) => ({ autoEnable: region === 'eu-west-1' }) }), settings, undefined);
    expect([...view.administeredRegions]).toEqual([
      ['us-east-1', { autoEnable: false }],
      ['eu-west-1', { autoEnable: true }],
    ]);
    expect([...view.activeAccounts]).toEqual([['222222222201', '222222222201@example.com']]);
    expect(unobserved).toEqual([]);
  });

  it('tells each page of the listing as it is read: the regions all known, the accounts it found active', async () => {
    const first = [account('222222222201'), account('222222222202', 'SUSPENDED')];
    const second = [account('222222222203')];
    const seen: Array<{ added: readonly string[]; active: number; regions: number }> = [];
    const read = ports({
      listAccounts: async (onPage) => {
        onPage?.(first);
        onPage?.(second);
        return [...first, ...second];
      },
    });
    const { view } = await observeOrganization(read, settings, undefined, undefined, (progress) =>
      seen.push({ added: progress.added, active: progress.view.activeAccounts.size, regions: progress.view.administeredRegions.size }),
    );
    expect(seen).toEqual([
      { added: ['222222222201'], active: 1, regions: 2 },
      { added: ['222222222203'], active: 2, regions: 2 },
    ]);
    expect([...view.activeAccounts.keys()]).toEqual(['222222222201', '222222222203']);
  });

  it('reads access-denied as "not delegated here", and does not read the accounts when delegated nowhere', async () => {
    const read = ports({ configuration: async () => Promise.reject(error('DescribeOrganizationConfiguration', 'AccessDeniedException')) });
    const { view, unobserved } = await observeOrganization(read, settings, undefined);
    expect(view.administeredRegions.size).toBe(0);
    expect(unobserved).toEqual([]);
    expect(read.reads).not.toContain('ListAccounts');
  });

  it('leaves a region unobserved when Macie answers anything else (throttled)', async () => {
    const read = ports({ configuration: async (region) => (region === 'eu-west-1' ? Promise.reject(error('DescribeOrganizationConfiguration', 'ThrottlingException')) : { autoEnable: false }) });
    const { view, unobserved } = await observeOrganization(read, settings, undefined);
    expect([...view.administeredRegions.keys()]).toEqual(['us-east-1']);
    expect(unobserved).toEqual([{ region: 'eu-west-1', operation: 'DescribeOrganizationConfiguration', code: 'ThrottlingException', message: 'ThrottlingException said so' }]);
  });

  it('reads "no organization here" as no active account, and any other ListAccounts failure as every administered region unobserved', async () => {
    const none = await observeOrganization(ports({ listAccounts: () => Promise.reject(error('ListAccounts', 'AWSOrganizationsNotInUseException')) }), settings, undefined);
    expect(none.view.activeAccounts.size).toBe(0);
    expect(none.unobserved).toEqual([]);

    const throttled = await observeOrganization(ports({ listAccounts: () => Promise.reject(error('ListAccounts', 'TooManyRequestsException')) }), settings, undefined);
    expect(throttled.unobserved.map(({ region, accountId, code }) => [region, accountId, code])).toEqual([
      ['us-east-1', undefined, 'TooManyRequestsException'],
      ['eu-west-1', undefined, 'TooManyRequestsException'],
    ]);
  });

  it('looks up only the named accounts of a targeted run: outside the organization is plain, unreadable is unobserved', async () => {
    const read = ports({
      describeAccount: async (accountId) => {
        if (accountId === '333333333301') throw error('DescribeAccount', 'AccountNotFoundException');
        if (accountId === '222222222209') throw error('DescribeAccount', 'ServiceException');
        return account(accountId);
      },
    });
    const { view, unobserved } = await observeOrganization(read, settings, ['222222222201', '333333333301', '222222222209', '222222222201']);
    expect(read.reads).not.toContain('ListAccounts');
    expect(read.reads.filter((call) => call.startsWith('DescribeAccount'))).toHaveLength(3);
    expect([...view.activeAccounts.keys()]).toEqual(['222222222201']);
    expect(unobserved.map(({ region, accountId, code }) => [region, accountId, code])).toEqual([
      ['us-east-1', '222222222209', 'ServiceException'],
      ['eu-west-1', '222222222209', 'ServiceException'],
    ]);
  });

  it('plans from the accounts the caller has just listed (the table sync), without listing them again', async () => {
    const read = ports({});
    const { view } = await observeOrganization(read, settings, undefined, [account('222222222207')]);
    expect(read.reads).not.toContain('ListAccounts');
    expect([...view.activeAccounts.keys()]).toEqual(['222222222207']);
  });
});
