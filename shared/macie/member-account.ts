import {
  AcceptInvitationCommand,
  EnableMacieCommand,
  GetMacieSessionCommand,
  Macie2Client,
  paginateListInvitations,
} from '@aws-sdk/client-macie2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { awsClientOptions } from '#shared/aws/client-options';
import { AwsCallError, callAws } from '#shared/errors';

interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type AcceptanceResult = 'accepted' | 'invitationNotVisible';

/** What the reconciler needs from inside a member account. */
export interface MemberAccountAcceptor {
  /**
   * Enables Macie if needed, finds the administrator's invitation (polling briefly, since
   * invitations take a moment to reach the member) and accepts it.
   */
  acceptInvitationInMemberAccount(accountId: string, region: string, administratorAccountId: string): Promise<AcceptanceResult>;
}

export interface MemberRoleSettings {
  name: string;
  externalId: string;
  partition: string;
}

export interface AcceptorSettings {
  role: MemberRoleSettings;
  maxAttempts: number;
  /** Region of the STS endpoint used to assume member roles. */
  stsRegion: string;
  polling: { attempts: number; intervalMs: number };
}

// Refresh assumed-role credentials this long before they expire, so no call races the expiry.
const CREDENTIAL_REFRESH_MARGIN_MS = 5 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SdkMemberAccountAcceptor implements MemberAccountAcceptor {
  private readonly sts: STSClient;
  /** Credentials per member account: the role is global, so every region of an account shares one session. */
  private readonly credentials = new Map<string, Promise<AwsCredentialIdentity>>();
  /** Macie clients per member account and region. */
  private readonly clients = new Map<string, Macie2Client>();

  constructor(private readonly settings: AcceptorSettings) {
    this.sts = new STSClient(awsClientOptions({ region: settings.stsRegion, maxAttempts: settings.maxAttempts }));
  }

  async acceptInvitationInMemberAccount(accountId: string, region: string, administratorAccountId: string) {
    const macie = this.client(accountId, region);
    await this.ensureMacieEnabled(macie);
    const invitationId = await this.findInvitation(macie, administratorAccountId);
    if (!invitationId) return 'invitationNotVisible';
    try {
      await callAws('AcceptInvitation', () => macie.send(new AcceptInvitationCommand({ administratorAccountId, invitationId })));
    } catch (error) {
      // Another run accepted it between our ListInvitations and AcceptInvitation.
      if (!(error instanceof AwsCallError && error.code === 'ConflictException')) throw error;
    }
    return 'accepted';
  }

  private async ensureMacieEnabled(macie: Macie2Client): Promise<void> {
    try {
      await callAws('GetMacieSession', () => macie.send(new GetMacieSessionCommand({})));
      return;
    } catch (error) {
      if (!isMacieNotEnabled(error)) throw error;
    }
    try {
      await callAws('EnableMacie', () => macie.send(new EnableMacieCommand({ status: 'ENABLED' })));
    } catch (error) {
      if (!(error instanceof AwsCallError && error.code === 'ConflictException')) throw error;
    }
  }

  private async findInvitation(macie: Macie2Client, administratorAccountId: string): Promise<string | undefined> {
    const { attempts, intervalMs } = this.settings.polling;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const invitationId = await callAws('ListInvitations', async () => {
        for await (const page of paginateListInvitations({ client: macie, pageSize: 25 }, {})) {
          const match = page.invitations?.find((invitation) => invitation.accountId === administratorAccountId);
          if (match?.invitationId) return match.invitationId;
        }
        return undefined;
      });
      if (invitationId) return invitationId;
      if (attempt < attempts) await sleep(intervalMs);
    }
    return undefined;
  }

  private client(accountId: string, region: string): Macie2Client {
    const key = `${accountId}/${region}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new Macie2Client({
        ...awsClientOptions({ region, maxAttempts: this.settings.maxAttempts }),
        credentials: () => this.memberCredentials(accountId),
      });
      this.clients.set(key, client);
    }
    return client;
  }

  private memberCredentials(accountId: string): Promise<AwsCredentialIdentity> {
    const cached = this.credentials.get(accountId);
    if (cached) {
      return cached.then((credentials) =>
        credentials.expiration && credentials.expiration.getTime() - Date.now() < CREDENTIAL_REFRESH_MARGIN_MS
          ? this.assumeMemberRole(accountId)
          : credentials,
      );
    }
    return this.assumeMemberRole(accountId);
  }

  private assumeMemberRole(accountId: string): Promise<AwsCredentialIdentity> {
    const { name, externalId, partition } = this.settings.role;
    const pending = callAws('AssumeRole', () =>
      this.sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:${partition}:iam::${accountId}:role/${name}`,
          RoleSessionName: 'macie-membership-reconciler',
          ExternalId: externalId,
          DurationSeconds: 3600,
        }),
      ),
    ).then(({ Credentials: issued }) => {
      if (!issued?.AccessKeyId || !issued.SecretAccessKey) {
        throw new AwsCallError('AssumeRole', 'MissingCredentials', `AssumeRole into ${accountId} returned no credentials`, 1);
      }
      return {
        accessKeyId: issued.AccessKeyId,
        secretAccessKey: issued.SecretAccessKey,
        sessionToken: issued.SessionToken,
        expiration: issued.Expiration,
      };
    });
    // A failed AssumeRole is not cached: the next action for this account tries again.
    this.credentials.set(accountId, pending);
    pending.catch(() => this.credentials.delete(accountId));
    return pending;
  }
}

function isMacieNotEnabled(error: unknown): boolean {
  return error instanceof AwsCallError && error.code === 'AccessDeniedException' && /not enabled/i.test(error.message);
}

/** The partition of a region, for building role ARNs. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
