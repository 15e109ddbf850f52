import {
  CreateInvitationsCommand,
  CreateMemberCommand,
  DeleteMemberCommand,
  DescribeOrganizationConfigurationCommand,
  DisassociateMemberCommand,
  GetMemberCommand,
  Macie2Client,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateMemberSessionCommand,
  UpdateOrganizationConfigurationCommand,
  paginateListMembers,
} from '@aws-sdk/client-macie2';
import { awsClientOptions } from '#shared/aws/client-options';
import { AwsCallError, callAws } from '#shared/errors';
import { isNotAMember } from '#shared/domain/macie-answers';
import type { ObservedMember, RelationshipStatus, Tags } from '#shared/domain/types';
import { RELATIONSHIP_STATUSES, UNRECOGNIZED_STATUS } from '#shared/domain/types';
import type { InvitationOptions, MacieAdministrator } from '#shared/ports';

const KNOWN_STATUSES: ReadonlySet<string> = new Set(RELATIONSHIP_STATUSES);

export class SdkMacieAdministrator implements MacieAdministrator {
  private readonly clients = new Map<string, Macie2Client>();

  constructor(private readonly maxAttempts: number) {}

  private client(region: string): Macie2Client {
    let client = this.clients.get(region);
    if (!client) {
      client = new Macie2Client(awsClientOptions({ region, maxAttempts: this.maxAttempts }));
      this.clients.set(region, client);
    }
    return client;
  }

  async listMembers(region: string): Promise<ObservedMember[]> {
    return callAws('ListMembers', async () => {
      const members: ObservedMember[] = [];
      // onlyAssociated is a string in the API, and its default "true" hides Created, Invited and
      // Removed accounts: exactly the ones reconciliation has to see.
      const pages = paginateListMembers({ client: this.client(region), pageSize: 25 }, { onlyAssociated: 'false' });
      for await (const page of pages) {
        for (const member of page.members ?? []) {
          const observed = toObservedMember(region, member);
          if (observed) members.push(observed);
        }
      }
      return members;
    });
  }

  async getMember(region: string, accountId: string): Promise<ObservedMember | undefined> {
    try {
      const member = await callAws('GetMember', () => this.client(region).send(new GetMemberCommand({ id: accountId })));
      return toObservedMember(region, member);
    } catch (error) {
      if (error instanceof AwsCallError && isNotAMember(error.code)) return undefined;
      throw error;
    }
  }

  async createMember(region: string, accountId: string, email: string, tags: Tags) {
    await callAws('CreateMember', () => this.client(region).send(new CreateMemberCommand({ account: { accountId, email }, tags })));
  }

  async createInvitations(region: string, accountIds: string[], options: InvitationOptions) {
    const output = await callAws('CreateInvitations', () =>
      this.client(region).send(
        new CreateInvitationsCommand({
          accountIds,
          message: options.message,
          disableEmailNotification: !options.sendEmail,
        }),
      ),
    );
    return (output.unprocessedAccounts ?? []).map((entry) => ({
      accountId: entry.accountId ?? '',
      errorCode: entry.errorCode ?? 'UnknownError',
      errorMessage: entry.errorMessage ?? '',
    }));
  }

  async disassociateMember(region: string, accountId: string) {
    await callAws('DisassociateMember', () => this.client(region).send(new DisassociateMemberCommand({ id: accountId })));
  }

  async deleteMember(region: string, accountId: string) {
    await callAws('DeleteMember', () => this.client(region).send(new DeleteMemberCommand({ id: accountId })));
  }

  async updateMemberSession(region: string, accountId: string, status: 'ENABLED' | 'PAUSED') {
    await callAws('UpdateMemberSession', () =>
      this.client(region).send(new UpdateMemberSessionCommand({ id: accountId, status })),
    );
  }

  async tagMember(region: string, arn: string, tags: Tags) {
    await callAws('TagResource', () => this.client(region).send(new TagResourceCommand({ resourceArn: arn, tags })));
  }

  async untagMember(region: string, arn: string, tagKeys: string[]) {
    await callAws('UntagResource', () =>
      this.client(region).send(new UntagResourceCommand({ resourceArn: arn, tagKeys })),
    );
  }

  async describeOrganizationConfiguration(region: string) {
    const output = await callAws('DescribeOrganizationConfiguration', () =>
      this.client(region).send(new DescribeOrganizationConfigurationCommand({})),
    );
    return { autoEnable: output.autoEnable ?? false };
  }

  async updateOrganizationConfiguration(region: string, autoEnable: boolean) {
    await callAws('UpdateOrganizationConfiguration', () =>
      this.client(region).send(new UpdateOrganizationConfigurationCommand({ autoEnable })),
    );
  }
}

interface MacieMemberShape {
  accountId?: string;
  email?: string;
  relationshipStatus?: string;
  administratorAccountId?: string;
  arn?: string;
  tags?: Record<string, string>;
  invitedAt?: Date;
  updatedAt?: Date;
}

/**
 * Translates Macie's member into the domain's. A status this version does not know is kept as
 * `Unrecognized` with Macie's own word: dropping the member would read as "not listed", which the
 * planner answers with `CreateMember`. Only a member without an account id (nothing to plan) is dropped.
 */
export function toObservedMember(region: string, member: MacieMemberShape): ObservedMember | undefined {
  if (!member.accountId) return undefined;
  const known = member.relationshipStatus !== undefined && KNOWN_STATUSES.has(member.relationshipStatus);
  return {
    accountId: member.accountId,
    region,
    email: member.email,
    relationshipStatus: known ? (member.relationshipStatus as RelationshipStatus) : UNRECOGNIZED_STATUS,
    ...(known ? {} : { reportedStatus: member.relationshipStatus ?? '(none)' }),
    administratorAccountId: member.administratorAccountId,
    arn: member.arn,
    tags: member.tags ?? {},
    invitedAt: member.invitedAt?.toISOString(),
    updatedAt: member.updatedAt?.toISOString(),
  };
}
