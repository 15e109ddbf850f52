/**
 * The baseline: onboarding the way AWS's sample multi-account scripts do it
 * (awslabs/aws-securityhub-multiaccount-scripts `enablesecurityhub.py`,
 * aws-samples/amazon-guardduty-multiaccount-scripts `enableguardduty.py`), translated to Macie:
 * one account at a time, one call at a time.
 *
 *   for each region: enable Macie in the administrator (a conflict means it already is), list its members
 *   for each account: assume the member role (once, in the home region)
 *     for each region:
 *       GetMacieSession in the member, EnableMacie when it is off
 *       if the account is not listed: CreateMember, then list the members again
 *       until the account is Enabled:
 *         Created -> CreateInvitations for this one account
 *         Invited -> ListInvitations in the member, AcceptInvitation when the invitation is there
 *         list the members again (every page)
 *
 * Two liberties, both in the baseline's favour: the scripts' `time.sleep(5)` after each CreateMember
 * is left out (Macie's CreateMember answers with the member already listed), and the SDK clients
 * are the same real AWS SDK v3 clients with their default settings, not boto3.
 */
import {
  AcceptInvitationCommand,
  CreateInvitationsCommand,
  CreateMemberCommand,
  EnableMacieCommand,
  GetMacieSessionCommand,
  ListInvitationsCommand,
  Macie2Client,
  paginateListMembers,
} from '@aws-sdk/client-macie2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

export interface BaselineInput {
  administrator: { accountId: string; accessKeyId: string; secretAccessKey: string };
  accounts: ReadonlyArray<{ accountId: string; email: string }>;
  regions: readonly string[];
  homeRegion: string;
  memberRole: { name: string; externalId: string };
  /** Give up on an account and region after this long, as the scripts do (they wait 300 s). */
  timeoutMs?: number;
}

export interface BaselineResult {
  seconds: number;
  enabled: number;
  failed: Array<{ accountId: string; region: string; error: string }>;
}

const errorName = (error: unknown) => (error as { name?: string })?.name ?? 'Error';

export async function runBaseline(input: BaselineInput): Promise<BaselineResult> {
  const started = performance.now();
  const credentials = { accessKeyId: input.administrator.accessKeyId, secretAccessKey: input.administrator.secretAccessKey };
  const administrator = new Map(input.regions.map((region) => [region, new Macie2Client({ region, credentials })]));
  const sts = new STSClient({ region: input.homeRegion, credentials });
  const timeoutMs = input.timeoutMs ?? 300_000;
  const failed: BaselineResult['failed'] = [];
  let enabled = 0;

  const listMembers = async (region: string) => {
    const statuses = new Map<string, string>();
    for await (const page of paginateListMembers({ client: administrator.get(region)! }, { onlyAssociated: 'false' })) {
      for (const member of page.members ?? []) statuses.set(member.accountId!, member.relationshipStatus!);
    }
    return statuses;
  };

  const members = new Map<string, Map<string, string>>();
  for (const region of input.regions) {
    try {
      await administrator.get(region)!.send(new EnableMacieCommand({ status: 'ENABLED' }));
    } catch (error) {
      if (errorName(error) !== 'ConflictException') throw error;
    }
    members.set(region, await listMembers(region));
  }

  for (const account of input.accounts) {
    let memberClients: Map<string, Macie2Client>;
    try {
      const { Credentials: session } = await sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${account.accountId}:role/${input.memberRole.name}`,
          RoleSessionName: 'EnableMacie',
          ExternalId: input.memberRole.externalId,
        }),
      );
      const memberCredentials = { accessKeyId: session!.AccessKeyId!, secretAccessKey: session!.SecretAccessKey!, sessionToken: session!.SessionToken! };
      memberClients = new Map(input.regions.map((region) => [region, new Macie2Client({ region, credentials: memberCredentials })]));
    } catch (error) {
      for (const region of input.regions) failed.push({ accountId: account.accountId, region, error: errorName(error) });
      continue;
    }
    for (const region of input.regions) {
      const member = memberClients.get(region)!;
      const admin = administrator.get(region)!;
      try {
        try {
          await member.send(new GetMacieSessionCommand({}));
        } catch (error) {
          if (errorName(error) !== 'AccessDeniedException') throw error;
          await member.send(new EnableMacieCommand({ status: 'ENABLED' }));
        }
        let statuses = members.get(region)!;
        if (!statuses.has(account.accountId)) {
          await admin.send(new CreateMemberCommand({ account: { accountId: account.accountId, email: account.email } }));
          statuses = await listMembers(region);
        }
        const deadline = performance.now() + timeoutMs;
        while (statuses.get(account.accountId) !== 'Enabled') {
          if (performance.now() > deadline) throw new Error('membership did not become Enabled in time');
          const status = statuses.get(account.accountId);
          if (status === 'Created') {
            await admin.send(new CreateInvitationsCommand({ accountIds: [account.accountId], disableEmailNotification: true }));
          }
          if (status === 'Invited') {
            const { invitations } = await member.send(new ListInvitationsCommand({}));
            const invitation = invitations?.find((candidate) => candidate.accountId === input.administrator.accountId);
            if (invitation?.invitationId) {
              await member.send(new AcceptInvitationCommand({ administratorAccountId: input.administrator.accountId, invitationId: invitation.invitationId }));
            }
          }
          statuses = await listMembers(region);
        }
        members.set(region, statuses);
        enabled += 1;
      } catch (error) {
        failed.push({ accountId: account.accountId, region, error: `${errorName(error)}: ${(error as Error).message}` });
      }
    }
    for (const client of memberClients.values()) client.destroy();
  }
  for (const client of administrator.values()) client.destroy();
  sts.destroy();
  return { seconds: (performance.now() - started) / 1000, enabled, failed };
}
