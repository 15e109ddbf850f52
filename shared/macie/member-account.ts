import {
  AcceptInvitationCommand,
  EnableMacieCommand,
  GetAdministratorAccountCommand,
  Macie2Client,
  paginateListInvitations,
} from '@aws-sdk/client-macie2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { awsClientOptions } from '#shared/aws/client-options';
import { AwsCallError, callAws } from '#shared/errors';
import { firstLookDelayMs, learnVisibility, visibilityCeilingMs } from '#shared/domain/invitation-visibility';
import { acceptanceMayHaveRaced, isMacieAlreadyEnabled, settleAcceptanceRace } from '#shared/domain/macie-answers';
import type { AcceptanceOptions, AcceptanceResult, CallScheduler, MemberAccountAcceptor } from '#shared/ports';

interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface MemberRoleSettings {
  name: string;
  externalId: string;
  partition: string;
}

export interface AcceptorSettings {
  role: MemberRoleSettings;
  maxAttempts: number;
  /**
   * `firstLookAfterMs`: how long after CreateInvitations answered the first look waits, until
   * this process has seen how long invitations take to appear; then `intervalMs` between looks.
   */
  polling: { attempts: number; intervalMs: number; firstLookAfterMs: number };
  /** Time, for the waits before and between looks: tests move a fake one on instead of sleeping. */
  clock?: AcceptorClock;
}

export interface AcceptorClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

// Sessions kept for accounts' other regions: a few KiB each, and more than a run has in flight.
const MAX_SESSIONS_KEPT = 2_000;

// Refresh assumed-role credentials this long before they expire, so no call races the expiry.
const CREDENTIAL_REFRESH_MARGIN_MS = 5 * 60_000;

const SYSTEM_CLOCK: AcceptorClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const runNow: CallScheduler = (calls) => calls();

export class SdkMemberAccountAcceptor implements MemberAccountAcceptor {
  /** STS clients per region, and how many AssumeRole calls each was given: see `stsRegionFor`. */
  private readonly stsClients = new Map<string, STSClient>();
  private readonly assumedPerRegion = new Map<string, number>();
  /**
   * Credentials per member account: the role is global, so every region of an account shares one
   * session. Bounded: a warm worker goes through thousands of accounts, and an account's regions
   * are accepted close together, so the oldest sessions are the ones no longer needed.
   */
  private readonly credentials = new Map<string, Promise<AwsCredentialIdentity>>();
  private readonly clock: AcceptorClock;
  /** How long invitations take to become visible, as far as this process has seen (`learnVisibility`). */
  private expectedVisibilityMs: number;

  constructor(private readonly settings: AcceptorSettings) {
    this.clock = settings.clock ?? SYSTEM_CLOCK;
    this.expectedVisibilityMs = settings.polling.firstLookAfterMs;
  }

  /** The delay the next invited account's first look will wait for (after its invitation's answer). */
  get expectedInvitationVisibilityMs(): number {
    return this.expectedVisibilityMs;
  }

  async acceptInvitationInMemberAccount(
    accountId: string,
    region: string,
    administratorAccountId: string,
    { schedule = runNow, invitedAt }: AcceptanceOptions = {},
  ): Promise<AcceptanceResult> {
    // One client per acceptance, dropped when it ends: a client kept per account and region for
    // the whole run was most of a large run's memory. Not destroy()ed: that would close the
    // keep-alive agents every client shares (client-options.ts), under the other calls in flight.
    const macie = this.client(accountId, region);
    const { attempts, intervalMs } = this.settings.polling;
    let macieEnabled = false;
    if (firstLookDelayMs(this.clock.now(), invitedAt, this.expectedVisibilityMs) > 0) {
      // Macie is switched on while the invitation travels; the slot is given back before the wait.
      await schedule(() => this.ensureMacieEnabled(macie));
      macieEnabled = true;
      // Read again: the estimate may have grown, and EnableMacie took some of the wait.
      const remaining = firstLookDelayMs(this.clock.now(), invitedAt, this.expectedVisibilityMs);
      if (remaining > 0) await this.clock.sleep(remaining);
    }
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await this.clock.sleep(intervalMs);
      // When the look was due, not when it got a slot: a look held up by other accounts' calls
      // says nothing about how long the invitation took, and would make every later one wait longer.
      const dueAt = this.clock.now();
      const accepted = await schedule(async () => {
        if (!macieEnabled) {
          await this.ensureMacieEnabled(macie);
          macieEnabled = true;
        }
        const invitationId = await this.findInvitation(macie, administratorAccountId);
        if (!invitationId) return false;
        if (invitedAt !== undefined) {
          const sighting = { invitedAt, foundAt: dueAt, missedBefore: attempt > 1 };
          const ceiling = visibilityCeilingMs(this.settings.polling.firstLookAfterMs, intervalMs);
          this.expectedVisibilityMs = learnVisibility(this.expectedVisibilityMs, sighting, ceiling);
        }
        return this.accept(macie, administratorAccountId, invitationId);
      });
      if (accepted) return 'accepted';
    }
    return 'invitationNotVisible';
  }

  /**
   * Assumes the member role while the administrator is still creating and inviting the account:
   * by the time the invitation is visible the session is ready, and at the end of a large run no
   * backlog of AssumeRole calls is left to be worked off alone. A failure here is not kept: the
   * acceptance itself assumes the role again and reports what went wrong.
   */
  prepareAcceptance(accountId: string, region: string): void {
    if (this.credentials.has(accountId)) return;
    this.memberCredentials(accountId, region).catch(() => undefined);
  }

  /**
   * Overlapping runs race here; what an answer means, and how the member's own view of its
   * administrator settles the race, is the domain's (`settleAcceptanceRace`). False: not accepted
   * yet, the next look decides.
   */
  private async accept(macie: Macie2Client, administratorAccountId: string, invitationId: string): Promise<boolean> {
    const acceptInvitation = (id: string) =>
      callAws('AcceptInvitation', () => macie.send(new AcceptInvitationCommand({ administratorAccountId, invitationId: id })));
    try {
      await acceptInvitation(invitationId);
      return true;
    } catch (error) {
      if (!(error instanceof AwsCallError && acceptanceMayHaveRaced(error))) throw error;
      const { administrator } = await callAws('GetAdministratorAccount', () => macie.send(new GetAdministratorAccountCommand({})));
      const verdict = settleAcceptanceRace(administrator, administratorAccountId, invitationId);
      switch (verdict.kind) {
        case 'anotherAdministrator':
          throw error;
        case 'enrolled':
          return true;
        case 'acceptNewer':
          await acceptInvitation(verdict.invitationId);
          return true;
        case 'lookAgain':
          return false;
      }
    }
  }

  /**
   * One call, not a look first: `EnableMacie` answers a conflict whenever the account already has a
   * Macie session in the region, so a `GetMacieSession` before it told us nothing we acted on and
   * cost an extra call (and a Macie token) in every account-region where Macie was off: one call
   * here whatever the state, where the look-first code made one or two. A suspended (`PAUSED`) account has a
   * session too (AWS keeps it; resuming is `UpdateMacieSession`), so it conflicts and stays as it
   * is, exactly as the look-first code left it: nothing here ever read the session's status.
   * Resuming a suspended member is the administrator's `UpdateMemberSession`, which the planner
   * sends when the member shows as `Paused`. A role without Macie permission now fails on this
   * call, with the same `AccessDeniedException`.
   */
  private async ensureMacieEnabled(macie: Macie2Client): Promise<void> {
    try {
      await callAws('EnableMacie', () => macie.send(new EnableMacieCommand({ status: 'ENABLED' })));
    } catch (error) {
      if (!(error instanceof AwsCallError && isMacieAlreadyEnabled(error.code))) throw error;
    }
  }

  private findInvitation(macie: Macie2Client, administratorAccountId: string): Promise<string | undefined> {
    return callAws('ListInvitations', async () => {
      // Older invitations (declined, resigned) may still be listed: take the newest pending one.
      let newest: { invitationId: string; invitedAt: number } | undefined;
      for await (const page of paginateListInvitations({ client: macie, pageSize: 25 }, {})) {
        for (const invitation of page.invitations ?? []) {
          if (invitation.accountId !== administratorAccountId || invitation.relationshipStatus !== 'Invited' || !invitation.invitationId) continue;
          const invitedAt = invitation.invitedAt?.getTime() ?? 0;
          if (!newest || invitedAt > newest.invitedAt) newest = { invitationId: invitation.invitationId, invitedAt };
        }
      }
      return newest?.invitationId;
    });
  }

  private client(accountId: string, region: string): Macie2Client {
    return new Macie2Client({
      ...awsClientOptions({ region, maxAttempts: this.settings.maxAttempts }),
      credentials: () => this.memberCredentials(accountId, region),
    });
  }

  /**
   * The regional STS endpoint for the next AssumeRole: the least used so far among the regions this
   * process works in (the work's own region on a tie). STS throttles per account and region, so a
   * fleet's thousand AssumeRole calls spread over the managed regions' endpoints instead of all
   * queueing behind one (STS's budget is its own: they never spend the administrator's Macie
   * tokens, in AWS or in the sandbox). Regional STS session tokens are valid in every region.
   */
  private stsRegionFor(workRegion: string): string {
    if (!this.assumedPerRegion.has(workRegion)) this.assumedPerRegion.set(workRegion, 0);
    let chosen = workRegion;
    for (const [region, count] of this.assumedPerRegion) {
      if (count < this.assumedPerRegion.get(chosen)!) chosen = region;
    }
    this.assumedPerRegion.set(chosen, this.assumedPerRegion.get(chosen)! + 1);
    return chosen;
  }

  private sts(region: string): STSClient {
    let client = this.stsClients.get(region);
    if (!client) {
      client = new STSClient(awsClientOptions({ region, maxAttempts: this.settings.maxAttempts }));
      this.stsClients.set(region, client);
    }
    return client;
  }

  /** The account's session, assumed once and shared by all its regions. */
  private memberCredentials(accountId: string, region: string): Promise<AwsCredentialIdentity> {
    const cached = this.credentials.get(accountId);
    if (cached) {
      return cached.then((credentials) => {
        const expiring = credentials.expiration && credentials.expiration.getTime() - Date.now() < CREDENTIAL_REFRESH_MARGIN_MS;
        if (!expiring) return credentials;
        // The first caller to notice refreshes; the others wait for its new session.
        return this.credentials.get(accountId) === cached ? this.assumeMemberRole(accountId, region) : this.memberCredentials(accountId, region);
      });
    }
    return this.assumeMemberRole(accountId, region);
  }

  private assumeMemberRole(accountId: string, region: string): Promise<AwsCredentialIdentity> {
    const { name, externalId, partition } = this.settings.role;
    const pending = callAws('AssumeRole', () =>
      this.sts(this.stsRegionFor(region)).send(
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
    this.credentials.delete(accountId);
    this.credentials.set(accountId, pending);
    if (this.credentials.size > MAX_SESSIONS_KEPT) this.credentials.delete(this.credentials.keys().next().value!);
    pending.catch(() => {
      if (this.credentials.get(accountId) === pending) this.credentials.delete(accountId);
    });
    return pending;
  }
}
