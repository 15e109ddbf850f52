/**
 * Macie's operations, wire-format free: each takes the caller, region, clock and parsed request parts and
 * returns the response body (or undefined for an empty one), or throws an `AwsError`.
 *
 * Where the public record of the real service is silent, the choice made here is written beside the code
 * and is the strict one: a test double that is stricter than AWS can only make the reconciler more careful.
 */
import { randomBytes } from 'node:crypto';
import type { AccountRegistry } from '#sandbox/emulator/accounts';
import { AwsError, INVALID_SECURITY_TOKEN, MACIE_NOT_ENABLED, NO_PENDING_INVITATION, macieError } from '#sandbox/emulator/errors';
import type { FaultInjector } from '#sandbox/emulator/faults';
import type { Principal } from '#sandbox/emulator/identity';
import type { MacieOrganizations } from '#sandbox/emulator/macie-organizations';
import type { MacieSession, MacieSessions } from '#sandbox/emulator/macie-sessions';
import { FINDING_PUBLISHING_FREQUENCIES, MACIE_STATUSES } from '#sandbox/emulator/macie-sessions';
import {
  type JsonObject,
  MAX_TAGS,
  accountIdList,
  invitationMessage,
  isJsonObject,
  optionalBoolean,
  optionalEnum,
  optionalString,
  pageSize,
  requireAccountId,
  requireEmail,
  requiredEnum,
  requiredString,
  tagKeyList,
  tagMap,
} from '#sandbox/emulator/macie-validation';
import type { MemberAccountCondition, MemberRecord } from '#sandbox/emulator/membership-state';
import {
  decline,
  hasPendingInvitation,
  invitationVisibleToMember,
  invite,
  isAssociated,
  memberArn,
  moveTo,
  relationshipStatus,
  statusUpdatedAt,
} from '#sandbox/emulator/membership-state';
import type { MembershipStore } from '#sandbox/emulator/membership-store';
import { lowerBound } from '#sandbox/emulator/membership-store';
import { decodePageToken, encodePageToken } from '#sandbox/emulator/pagination';
import type { RelationshipStatus } from '#sandbox/emulator/types';

export interface MacieCall {
  principal: Principal;
  region: string;
  now: number;
  pathParams: Readonly<Record<string, string>>;
  query: URLSearchParams;
  body: JsonObject;
}

/** A response body, or undefined for operations that answer with no content. */
export type MacieOutput = JsonObject | undefined;

export const MACIE_OPERATIONS = [
  'AcceptInvitation',
  'CreateInvitations',
  'CreateMember',
  'DeclineInvitations',
  'DeleteInvitations',
  'DeleteMember',
  'DescribeOrganizationConfiguration',
  'DisableMacie',
  'DisableOrganizationAdminAccount',
  'DisassociateFromAdministratorAccount',
  'DisassociateFromMasterAccount',
  'DisassociateMember',
  'EnableMacie',
  'EnableOrganizationAdminAccount',
  'GetAdministratorAccount',
  'GetInvitationsCount',
  'GetMacieSession',
  'GetMember',
  'ListInvitations',
  'ListMembers',
  'ListOrganizationAdminAccounts',
  'ListTagsForResource',
  'TagResource',
  'UntagResource',
  'UpdateMacieSession',
  'UpdateMemberSession',
  'UpdateOrganizationConfiguration',
] as const;
export type MacieOperationName = (typeof MACIE_OPERATIONS)[number];

interface UnprocessedAccount {
  accountId: string;
  errorCode: 'ClientError' | 'InternalError';
  errorMessage: string;
}

const MEMBER_ARN = /^arn:aws:macie2:([a-z0-9-]+):(\d{12}):member\/(\d{12})$/;

const iso = (epochMs: number) => new Date(epochMs).toISOString();

export class MacieService {
  readonly operations: Readonly<Record<MacieOperationName, (call: MacieCall) => MacieOutput>>;

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly sessions: MacieSessions,
    private readonly store: MembershipStore,
    private readonly faults: FaultInjector,
    private readonly organizations: MacieOrganizations,
  ) {
    this.operations = {
      AcceptInvitation: (call) => this.acceptInvitation(call),
      CreateInvitations: (call) => this.createInvitations(call),
      CreateMember: (call) => this.createMember(call),
      DeclineInvitations: (call) => this.declineInvitations(call),
      DeleteInvitations: (call) => this.deleteInvitations(call),
      DeleteMember: (call) => this.deleteMember(call),
      DescribeOrganizationConfiguration: (call) => organizations.describeOrganizationConfiguration(call),
      DisableMacie: (call) => this.disableMacie(call),
      DisableOrganizationAdminAccount: (call) => organizations.disableOrganizationAdminAccount(call),
      DisassociateFromAdministratorAccount: (call) => this.disassociateFromAdministrator(call),
      // The deprecated twin: same effect, kept because older SDKs and scripts still call it.
      DisassociateFromMasterAccount: (call) => this.disassociateFromAdministrator(call),
      DisassociateMember: (call) => this.disassociateMember(call),
      EnableMacie: (call) => this.enableMacie(call),
      EnableOrganizationAdminAccount: (call) => organizations.enableOrganizationAdminAccount(call),
      GetAdministratorAccount: (call) => this.getAdministratorAccount(call),
      GetInvitationsCount: (call) => this.getInvitationsCount(call),
      GetMacieSession: (call) => this.getMacieSession(call),
      GetMember: (call) => this.getMember(call),
      ListInvitations: (call) => this.listInvitations(call),
      ListMembers: (call) => this.listMembers(call),
      ListOrganizationAdminAccounts: (call) => organizations.listOrganizationAdminAccounts(call),
      ListTagsForResource: (call) => ({ tags: { ...this.taggedMember(call).tags } }),
      TagResource: (call) => this.tagResource(call),
      UntagResource: (call) => this.untagResource(call),
      UpdateMacieSession: (call) => this.updateMacieSession(call),
      UpdateMemberSession: (call) => this.updateMemberSession(call),
      UpdateOrganizationConfiguration: (call) => organizations.updateOrganizationConfiguration(call),
    };
  }

  invoke(operation: MacieOperationName, call: MacieCall): MacieOutput {
    const caller = this.accounts.get(call.principal.accountId);
    // An opt-in region the account has not enabled rejects its credentials outright, as AWS does.
    if (caller?.disabledRegions.has(call.region)) throw new AwsError('UnrecognizedClientException', 403, INVALID_SECURITY_TOKEN);
    const session = call.principal.session;
    if (session && !session.mayUseMacie) {
      throw macieError.accessDenied(`User: ${call.principal.arn} is not authorized to perform: macie2:${operation}`);
    }
    return this.operations[operation](call);
  }

  // ---- views shared with the control interface ----

  condition(accountId: string, region: string): MemberAccountCondition {
    const account = this.accounts.get(accountId);
    return { suspended: account?.status === 'SUSPENDED', regionDisabled: account?.disabledRegions.has(region) ?? false };
  }

  statusOf(record: MemberRecord, now: number): RelationshipStatus {
    return relationshipStatus(record, this.condition(record.accountId, record.region), now);
  }

  // ---- Macie session ----

  private requireSession(call: MacieCall): MacieSession {
    const session = this.sessions.get(call.principal.accountId, call.region);
    if (!session) throw macieError.accessDenied(MACIE_NOT_ENABLED);
    return session;
  }

  private enableMacie(call: MacieCall): MacieOutput {
    const status = optionalEnum(call.body, 'status', MACIE_STATUSES);
    const findingPublishingFrequency = optionalEnum(call.body, 'findingPublishingFrequency', FINDING_PUBLISHING_FREQUENCIES);
    optionalString(call.body, 'clientToken');
    if (this.sessions.get(call.principal.accountId, call.region)) throw macieError.conflict('Macie is already enabled');
    this.sessions.enable(call.principal.accountId, call.region, call.now, { status, findingPublishingFrequency });
    return {};
  }

  private getMacieSession(call: MacieCall): MacieOutput {
    const session = this.requireSession(call);
    return {
      createdAt: iso(session.createdAt),
      findingPublishingFrequency: session.findingPublishingFrequency,
      serviceRole: `arn:aws:iam::${call.principal.accountId}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`,
      status: session.status,
      updatedAt: iso(session.updatedAt),
    };
  }

  private updateMacieSession(call: MacieCall): MacieOutput {
    const status = optionalEnum(call.body, 'status', MACIE_STATUSES);
    const findingPublishingFrequency = optionalEnum(call.body, 'findingPublishingFrequency', FINDING_PUBLISHING_FREQUENCIES);
    const session = this.requireSession(call);
    if (status) session.status = status;
    if (findingPublishingFrequency) session.findingPublishingFrequency = findingPublishingFrequency;
    session.updatedAt = call.now;
    // A member that suspends Macie itself shows as Paused to its administrator, and resumes as Enabled.
    const administration = this.store.currentAdministration(call.principal.accountId, call.region);
    if (administration && status) moveTo(administration, status === 'PAUSED' ? 'Paused' : 'Enabled', call.now);
    return {};
  }

  private disableMacie(call: MacieCall): MacieOutput {
    this.requireSession(call);
    const caller = call.principal.accountId;
    if (this.store.memberCount(caller, call.region) > 0) {
      throw macieError.conflict("Macie can't be disabled because member accounts are associated with your account");
    }
    if (this.store.currentAdministration(caller, call.region)) {
      throw macieError.conflict("Macie can't be disabled while your account is associated with a Macie administrator account");
    }
    this.sessions.disable(caller, call.region);
    return {};
  }

  // ---- administrator side ----

  private memberJson(record: MemberRecord, now: number): JsonObject {
    return {
      accountId: record.accountId,
      administratorAccountId: record.administratorAccountId,
      arn: record.arn,
      // Macie lists Organizations members with a null email (they are never invited).
      email: record.via === 'organization' ? undefined : record.email,
      invitedAt: record.invitation ? iso(record.invitation.sentAt) : undefined,
      masterAccountId: record.administratorAccountId,
      relationshipStatus: this.statusOf(record, now),
      tags: { ...record.tags },
      updatedAt: iso(statusUpdatedAt(record, now)),
    };
  }

  private memberOf(call: MacieCall, accountId: string): MemberRecord {
    const record = this.store.get(call.principal.accountId, call.region, accountId);
    if (!record) throw macieError.notFound(`The account ${accountId} isn't associated with your account in ${call.region}`);
    return record;
  }

  private pathAccountId(call: MacieCall): string {
    return requireAccountId(call.pathParams.id ?? '', 'id');
  }

  private createMember(call: MacieCall): MacieOutput {
    const account = call.body.account;
    if (!isJsonObject(account)) throw macieError.validation('account is required');
    const accountId = requireAccountId(requiredString(account, 'accountId', 'account.accountId'), 'account.accountId');
    const email = requireEmail(requiredString(account, 'email', 'account.email'), 'account.email');
    const tags = tagMap(call.body, 'tags', false);
    this.requireSession(call);
    const caller = call.principal.accountId;
    if (accountId === caller) {
      throw macieError.validation(`account.accountId must not be your own account (${caller}): an account can't be its own member`);
    }
    const administration = this.store.currentAdministration(caller);
    if (administration) {
      throw macieError.conflict(
        `Your account is a member of Macie administrator account ${administration.administratorAccountId}; a member account can't add members`,
      );
    }
    if (this.organizations.managesThroughOrganization(caller, accountId, call.region)) {
      return { arn: this.organizations.createMember(caller, accountId, call.region, call.now, email, tags).arn };
    }
    const existing = this.store.get(caller, call.region, accountId);
    // Strict on purpose: a second CreateMember does not update the email; DeleteMember + CreateMember does.
    if (existing) {
      throw macieError.conflict(
        `The account ${accountId} is already associated with your account (relationship status ${this.statusOf(existing, call.now)})`,
      );
    }
    const quota = this.faults.memberQuota;
    // Invitation members count apart from Organizations members, as Macie's two quotas do.
    if (this.store.memberCountVia(caller, call.region, 'invitation') >= quota) {
      throw macieError.quotaExceeded(
        `Adding the account would exceed the quota of ${quota} member accounts for your administrator account in ${call.region}`,
      );
    }
    const record: MemberRecord = {
      administratorAccountId: caller,
      accountId,
      region: call.region,
      arn: memberArn(call.region, caller, accountId),
      via: 'invitation',
      email,
      tags,
      stage: 'Created',
      updatedAt: call.now,
    };
    this.store.add(record);
    return { arn: record.arn };
  }

  private getMember(call: MacieCall): MacieOutput {
    const accountId = this.pathAccountId(call);
    this.requireSession(call);
    return this.memberJson(this.memberOf(call, accountId), call.now);
  }

  private listMembers(call: MacieCall): MacieOutput {
    const onlyAssociated = call.query.get('onlyAssociated') ?? 'true';
    if (onlyAssociated !== 'true' && onlyAssociated !== 'false') {
      throw macieError.validation(`onlyAssociated must be "true" or "false", got "${onlyAssociated}"`);
    }
    const size = pageSize(call.query);
    const after = this.pageStart(call, 'ListMembers');
    this.requireSession(call);
    const sorted = this.store.sortedMembers(call.principal.accountId, call.region);
    const included = (record: MemberRecord) => {
      if (onlyAssociated === 'false') return true;
      const status = this.statusOf(record, call.now);
      return status === 'Enabled' || status === 'Paused';
    };
    const { page, nextKey } = pageOf(sorted, after, size, included);
    return {
      members: page.map((record) => this.memberJson(record, call.now)),
      nextToken: nextKey === undefined ? undefined : encodePageToken('ListMembers', nextKey),
    };
  }

  private pageStart(call: MacieCall, listing: string): string | undefined {
    const token = call.query.get('nextToken');
    if (token === null || token === '') return undefined;
    const after = decodePageToken(listing, token);
    if (after === undefined) throw macieError.validation('nextToken is invalid or has expired');
    return after;
  }

  /**
   * Only associated members (and invitations in flight) need disassociating first: the design's "absent" column
   * deletes Created, EmailVerification*, Removed, Resigned, RegionDisabled and AccountSuspended members directly.
   * The public record does not show which error the real service uses here; ValidationException is assumed.
   */
  private deleteMember(call: MacieCall): MacieOutput {
    const accountId = this.pathAccountId(call);
    this.requireSession(call);
    const record = this.memberOf(call, accountId);
    const status = this.statusOf(record, call.now);
    if (status === 'Enabled' || status === 'Paused' || status === 'Invited') {
      throw macieError.validation(
        `The account ${accountId} is still associated with your account (relationship status ${status}); ` +
          'disassociate it (DisassociateMember) before deleting it',
      );
    }
    this.store.remove(record);
    return {};
  }

  /** Also withdraws an invitation in flight. Repeating it on a Removed member is a no-op, so retries are safe. */
  private disassociateMember(call: MacieCall): MacieOutput {
    const accountId = this.pathAccountId(call);
    this.requireSession(call);
    const record = this.memberOf(call, accountId);
    if (record.stage === 'Removed') return {};
    const withdrawable = record.stage === 'Invited' && !record.invitation?.bounced;
    if (!isAssociated(record) && !withdrawable) {
      throw macieError.validation(
        `The account ${accountId} is not an associated member of account ${call.principal.accountId} ` +
          `(relationship status ${this.statusOf(record, call.now)})`,
      );
    }
    moveTo(record, 'Removed', call.now);
    return {};
  }

  private updateMemberSession(call: MacieCall): MacieOutput {
    const status = requiredEnum(call.body, 'status', MACIE_STATUSES);
    const accountId = this.pathAccountId(call);
    this.requireSession(call);
    const record = this.memberOf(call, accountId);
    const current = this.statusOf(record, call.now);
    if (current !== 'Enabled' && current !== 'Paused') {
      throw macieError.validation(
        `The account ${accountId} is not an associated member of account ${call.principal.accountId} ` +
          `(relationship status ${current}); only Enabled or Paused members can be updated`,
      );
    }
    moveTo(record, status === 'PAUSED' ? 'Paused' : 'Enabled', call.now);
    const memberSession = this.sessions.get(accountId, call.region);
    if (memberSession) {
      memberSession.status = status;
      memberSession.updatedAt = call.now;
    }
    return {};
  }

  private createInvitations(call: MacieCall): MacieOutput {
    const accountIds = accountIdList(call.body, 'accountIds');
    invitationMessage(call.body);
    optionalBoolean(call.body, 'disableEmailNotification');
    const caller = call.principal.accountId;
    if (accountIds.includes(caller)) {
      throw macieError.validation(`accountIds must not include your own account (${caller}): an account can't invite itself`);
    }
    this.requireSession(call);
    const unprocessedAccounts: UnprocessedAccount[] = [];
    for (const accountId of new Set(accountIds)) {
      const record = this.store.get(caller, call.region, accountId);
      const blocker = record ? this.invitationBlocker(record) : undefined;
      if (!record) {
        unprocessedAccounts.push(clientError(accountId, `The account ${accountId} is not associated with your account; associate it (CreateMember) before inviting it`));
      } else if (blocker) {
        unprocessedAccounts.push(clientError(accountId, blocker));
      } else if (this.faults.leavesInvitationUnprocessed()) {
        unprocessedAccounts.push({
          accountId,
          errorCode: 'InternalError',
          errorMessage: 'An internal error occurred while processing the invitation. Try again later.',
        });
      } else {
        invite(record, {
          invitationId: randomBytes(16).toString('hex'),
          now: call.now,
          emailVerificationMs: this.faults.emailVerificationMs,
          invitationDelayMs: this.faults.invitationDelayMs,
          bounced: this.faults.isBouncing(record.email),
        });
      }
    }
    return { unprocessedAccounts };
  }

  /** Why this member can't be invited now, or undefined when it can. */
  private invitationBlocker(record: MemberRecord): string | undefined {
    const accountId = record.accountId;
    const account = this.accounts.get(accountId);
    if (!account) return `The account ${accountId} doesn't exist or can't receive invitations`;
    if (account.status === 'SUSPENDED') return `The account ${accountId} is suspended`;
    if (account.disabledRegions.has(record.region)) return `The region ${record.region} is disabled for the account ${accountId}`;
    if (isAssociated(record)) return `The account ${accountId} is already a member of your account`;
    // Strict on purpose (the design's rule): a Removed member is deleted and re-created before it is invited again.
    if (record.stage === 'Removed') {
      return `The account ${accountId} was removed from your account; delete it (DeleteMember) and associate it again (CreateMember) before inviting it`;
    }
    if (this.store.otherAdministration(accountId, record.administratorAccountId)) {
      return `The account ${accountId} is already associated with another Macie administrator account`;
    }
    if (this.store.hasMembers(accountId)) return `The account ${accountId} is a Macie administrator account with members of its own`;
    return undefined;
  }

  // ---- member side ----

  private acceptInvitation(call: MacieCall): MacieOutput {
    const administratorId = optionalString(call.body, 'administratorAccountId');
    const invitationId = requiredString(call.body, 'invitationId');
    if (administratorId === undefined || administratorId === '') {
      const deprecated = optionalString(call.body, 'masterAccount') !== undefined;
      throw macieError.validation(
        deprecated
          ? 'administratorAccountId is required; the deprecated masterAccount property is not accepted'
          : 'administratorAccountId is required',
      );
    }
    requireAccountId(administratorId, 'administratorAccountId');
    const caller = call.principal.accountId;
    if (administratorId === caller) throw macieError.validation("administratorAccountId must not be your own account: an account can't be its own member");
    this.requireSession(call);
    const record = this.store.get(administratorId, call.region, caller);
    // An invitation accepted already (by this caller or a run racing it) is no longer pending: AWS
    // answers a second acceptance as it answers a stale one.
    if (!record || !hasPendingInvitation(record, call.now) || !invitationVisibleToMember(record, call.now) || record.invitation?.invitationId !== invitationId) {
      throw macieError.validation(NO_PENDING_INVITATION);
    }
    if (this.store.hasMembers(caller)) {
      throw macieError.conflict("Your account is a Macie administrator account with members; it can't become a member account");
    }
    // One administrator per account, the same in every region: accepting the same administrator elsewhere is fine.
    if (this.store.otherAdministration(caller, administratorId)) throw macieError.validation(NO_PENDING_INVITATION);
    moveTo(record, 'Enabled', call.now);
    return {};
  }

  private invitationsOf(call: MacieCall): MemberRecord[] {
    return this.store
      .relationshipsOf(call.principal.accountId)
      .filter((record) => record.region === call.region && invitationVisibleToMember(record, call.now))
      .sort((a, b) => (a.administratorAccountId < b.administratorAccountId ? -1 : 1));
  }

  private declineInvitations(call: MacieCall): MacieOutput {
    return this.answerInvitations(call, 'declined', (record) => hasPendingInvitation(record, call.now), {
      associated: (id) => `You can't decline the invitation from your current administrator account ${id}; disassociate from it instead`,
      missing: (id) => `There is no pending invitation from account ${id}`,
    });
  }

  /** Deleting an unanswered invitation declines it too, so the administrator sees Resigned either way. */
  private deleteInvitations(call: MacieCall): MacieOutput {
    return this.answerInvitations(call, 'deleted', () => true, {
      associated: (id) => `You can't delete the invitation from your current administrator account ${id}`,
      missing: (id) => `There is no invitation from account ${id}`,
    });
  }

  /** The member's answer to invitations from some administrators: one unprocessed entry for each it cannot apply to. */
  private answerInvitations(
    call: MacieCall,
    answer: Parameters<typeof decline>[1],
    answerable: (record: MemberRecord) => boolean,
    messages: { associated: (administratorId: string) => string; missing: (administratorId: string) => string },
  ): MacieOutput {
    const administratorIds = accountIdList(call.body, 'accountIds');
    this.requireSession(call);
    const unprocessedAccounts: UnprocessedAccount[] = [];
    for (const administratorId of new Set(administratorIds)) {
      const record = this.store.get(administratorId, call.region, call.principal.accountId);
      if (record && isAssociated(record)) {
        unprocessedAccounts.push(clientError(administratorId, messages.associated(administratorId)));
      } else if (!record || !answerable(record) || !invitationVisibleToMember(record, call.now)) {
        unprocessedAccounts.push(clientError(administratorId, messages.missing(administratorId)));
      } else {
        decline(record, answer, call.now);
      }
    }
    return { unprocessedAccounts };
  }

  private listInvitations(call: MacieCall): MacieOutput {
    const size = pageSize(call.query);
    const after = this.pageStart(call, 'ListInvitations');
    this.requireSession(call);
    const invitations = this.invitationsOf(call);
    const start = after === undefined ? 0 : invitations.findIndex((record) => record.administratorAccountId > after);
    const page = start < 0 ? [] : invitations.slice(start, start + size);
    const last = page.at(-1);
    const more = start >= 0 && start + size < invitations.length;
    return {
      invitations: page.map((record) => ({
        accountId: record.administratorAccountId,
        invitationId: record.invitation?.invitationId,
        invitedAt: record.invitation ? iso(record.invitation.sentAt) : undefined,
        relationshipStatus: this.statusOf(record, call.now),
      })),
      nextToken: more && last ? encodePageToken('ListInvitations', last.administratorAccountId) : undefined,
    };
  }

  /** "Not including the currently accepted invitation", as the model documents. */
  private getInvitationsCount(call: MacieCall): MacieOutput {
    this.requireSession(call);
    return { invitationsCount: this.invitationsOf(call).filter((record) => !isAssociated(record)).length };
  }

  private getAdministratorAccount(call: MacieCall): MacieOutput {
    this.requireSession(call);
    const record = this.store.currentAdministration(call.principal.accountId, call.region);
    if (!record) return {};
    return {
      administrator: {
        accountId: record.administratorAccountId,
        invitationId: record.invitation?.invitationId,
        invitedAt: record.invitation ? iso(record.invitation.sentAt) : undefined,
        relationshipStatus: this.statusOf(record, call.now),
      },
    };
  }

  private disassociateFromAdministrator(call: MacieCall): MacieOutput {
    this.requireSession(call);
    const record = this.store.currentAdministration(call.principal.accountId, call.region);
    if (!record) throw macieError.notFound(`Your account isn't associated with a Macie administrator account in ${call.region}`);
    this.organizations.refuseSelfDisassociation(record);
    moveTo(record, 'Resigned', call.now);
    return {};
  }

  // ---- tags on member resources ----

  private taggedMember(call: MacieCall): MemberRecord {
    const arn = call.pathParams.resourceArn ?? '';
    const match = MEMBER_ARN.exec(arn);
    if (!arn.startsWith('arn:')) throw macieError.validation(`resourceArn must be an ARN, got "${arn}"`);
    this.requireSession(call);
    const [, region, administratorId, accountId] = match ?? [];
    const record =
      region === call.region && administratorId === call.principal.accountId && accountId !== undefined
        ? this.store.get(administratorId, region, accountId)
        : undefined;
    if (!record) throw macieError.notFound(`The resource ${arn} doesn't exist`);
    return record;
  }

  private tagResource(call: MacieCall): MacieOutput {
    const tags = tagMap(call.body, 'tags', true);
    const record = this.taggedMember(call);
    const merged = { ...record.tags, ...tags };
    if (Object.keys(merged).length > MAX_TAGS) {
      throw macieError.validation(`tags: a resource can have at most ${MAX_TAGS} tags, this request would leave ${Object.keys(merged).length}`);
    }
    record.tags = merged;
    return undefined;
  }

  private untagResource(call: MacieCall): MacieOutput {
    const keys = tagKeyList(call.query.getAll('tagKeys'));
    const record = this.taggedMember(call);
    const tags = { ...record.tags };
    for (const key of keys) delete tags[key];
    record.tags = tags;
    return undefined;
  }
}

function clientError(accountId: string, errorMessage: string): UnprocessedAccount {
  return { accountId, errorCode: 'ClientError', errorMessage };
}

/** One page after the key `after`, plus the key to continue from when more included records follow. */
function pageOf(
  sorted: readonly MemberRecord[],
  after: string | undefined,
  size: number,
  included: (record: MemberRecord) => boolean,
): { page: MemberRecord[]; nextKey: string | undefined } {
  let index = after === undefined ? 0 : lowerBound(sorted, after);
  if (after !== undefined && sorted[index]?.accountId === after) index += 1;
  const page: MemberRecord[] = [];
  for (; index < sorted.length; index += 1) {
    const record = sorted[index];
    if (!record || !included(record)) continue;
    if (page.length === size) return { page, nextKey: page.at(-1)?.accountId };
    page.push(record);
  }
  return { page, nextKey: undefined };
}
