import { DescribeAccountCommand, DescribeOrganizationCommand, OrganizationsClient, paginateListAccounts } from '@aws-sdk/client-organizations';
import { awsClientOptions } from '#shared/aws/client-options';
import type { ServiceConfig } from '#shared/config';
import { callAws } from '#shared/errors';
import type { OrganizationAccount, OrganizationDirectory } from '#shared/ports';

// Organizations is a global service with one endpoint region per partition.
const ORGANIZATIONS_REGION: Record<string, string> = { aws: 'us-east-1', 'aws-cn': 'cn-northwest-1', 'aws-us-gov': 'us-gov-west-1' };

export class SdkOrganizationDirectory implements OrganizationDirectory {
  private readonly client: OrganizationsClient;

  constructor(maxAttempts: number, partition: string) {
    this.client = new OrganizationsClient(awsClientOptions({ region: ORGANIZATIONS_REGION[partition] ?? 'us-east-1', maxAttempts }));
  }

  async describeAccount(accountId: string): Promise<OrganizationAccount> {
    const { Account: account } = await callAws('DescribeAccount', () =>
      this.client.send(new DescribeAccountCommand({ AccountId: accountId })),
    );
    return { accountId, email: account?.Email ?? '', name: account?.Name, status: account?.Status };
  }

  async describeOrganization() {
    const { Organization: organization } = await callAws('DescribeOrganization', () => this.client.send(new DescribeOrganizationCommand({})));
    return { organizationId: organization?.Id ?? '', managementAccountId: organization?.MasterAccountId ?? '' };
  }

  async listAccounts(onPage?: (accounts: readonly OrganizationAccount[]) => void): Promise<OrganizationAccount[]> {
    return callAws('ListAccounts', async () => {
      const accounts: OrganizationAccount[] = [];
      for await (const page of paginateListAccounts({ client: this.client }, {})) {
        const read = (page.Accounts ?? []).flatMap((account) =>
          account.Id ? [{ accountId: account.Id, email: account.Email ?? '', name: account.Name, status: account.Status }] : [],
        );
        accounts.push(...read);
        onPage?.(read);
      }
      return accounts;
    });
  }
}

/** The directory of the service's organization, read from the Macie administrator account (a delegated administrator may read it). */
export function createOrganizationDirectory(config: Pick<ServiceConfig, 'maxAttempts' | 'partition'>): OrganizationDirectory {
  return new SdkOrganizationDirectory(config.maxAttempts, config.partition);
}
