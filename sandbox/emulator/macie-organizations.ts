/**
 * Macie's AWS Organizations side: designating the delegated Macie administrator (per region, by the
 * management account), its organization configuration (`autoEnable`), and Organizations members, which the
 * delegated administrator creates Enabled at once, with no invitation. Where AWS documents nothing, the
 * choice is written here and in docs/emulator-organizations.md.
 */
import type { AccountRegistry } from '#sandbox/emulator/accounts';
import { AwsError, macieError } from '#sandbox/emulator/errors';
import type { FaultInjector } from '#sandbox/emulator/faults';
import type { MacieCall, MacieOutput } from '#sandbox/emulator/macie';
import type { MacieSessions } from '#sandbox/emulator/macie-sessions';
import { pageSize, requireAccountId, requiredString } from '#sandbox/emulator/macie-validation';
import type { MemberRecord } from '#sandbox/emulator/membership-state';
import { isAssociated, memberArn, moveTo } from '#sandbox/emulator/membership-state';
import type { MembershipStore } from '#sandbox/emulator/membership-store';
import type { OrganizationAdmins } from '#sandbox/emulator/organization-admins';
import { decodePageToken, encodePageToken } from '#sandbox/emulator/pagination';

/** The words AWS uses (the design handbook §4 quotes "...you must be the Macie administrator for an organization"). */
export const NOT_ORGANIZATION_ADMINISTRATOR =
  "You don't have sufficient access to perform this operation: you must be the Macie administrator for an organization in AWS Organizations.";
export const NOT_MANAGEMENT_ACCOUNT =
  'The request was rejected because your account is not the management account of an organization in AWS Organizations.';
/** An Organizations member may not leave its administrator; AWS answers with a permissions failure (cloud-nuke PR 323). */
export const ORGANIZATION_MEMBER_CANNOT_DISASSOCIATE =
  "You don't have sufficient access to perform this operation: your account is managed by the Macie administrator for your organization in AWS Organizations, and only that administrator can disassociate it.";

export class MacieOrganizations {
  constructor(
    private readonly accounts: AccountRegistry,
    private readonly sessions: MacieSessions,
    private readonly store: MembershipStore,
    private readonly faults: FaultInjector,
    private readonly admins: OrganizationAdmins,
  ) {}

  // ---- designation (management account) ----

  private requireManagementCaller(call: MacieCall): void {
    const caller = call.principal.accountId;
    if (caller !== this.accounts.managementAccountId() || !this.accounts.get(caller)?.inOrganization) {
      throw macieError.accessDenied(NOT_MANAGEMENT_ACCOUNT);
    }
    // The User Guide: a management account that is a Macie member can't use the designation operations until removed.
    if (this.store.currentAdministration(caller, call.region)) {
      throw macieError.accessDenied(
        "You don't have sufficient access to perform this operation: your account is a Macie member account; its Macie administrator must remove it first.",
      );
    }
  }

  enableOrganizationAdminAccount(call: MacieCall): MacieOutput {
    const adminAccountId = requireAccountId(requiredString(call.body, 'adminAccountId'), 'adminAccountId');
    this.requireManagementCaller(call);
    this.designate(adminAccountId, call.region, call.now);
    return {};
  }

  /**
   * The rules of a designation, shared with the control interface. Repeating the same designation is a
   * no-op, so a retried call (the designation is eventually consistent in AWS) succeeds.
   */
  designate(adminAccountId: string, region: string, now: number): void {
    if (!this.accounts.isActiveInOrganization(adminAccountId)) {
      throw macieError.validation(`The account ${adminAccountId} isn't an active account in your organization in AWS Organizations`);
    }
    const current = this.admins.designatedAnywhere();
    if (current !== undefined && current !== adminAccountId) {
      const here = this.admins.adminOf(region);
      throw macieError.conflict(
        here === undefined
          ? `The account ${current} is the delegated Macie administrator account for your organization in other Regions; ` +
              'the delegated Macie administrator account must be the same in every Region'
          : `The account ${here} is already the delegated Macie administrator account for your organization in ${region}; ` +
              'an organization can have only one (DisableOrganizationAdminAccount first)',
      );
    }
    const membership = this.store.currentAdministration(adminAccountId);
    if (membership) {
      throw macieError.conflict(
        `The account ${adminAccountId} is a member of Macie administrator account ${membership.administratorAccountId}; ` +
          "an account can't be a Macie administrator and member account at the same time",
      );
    }
    this.admins.designate(adminAccountId, region, now);
    // The User Guide: the designated account has Macie enabled in that Region automatically.
    this.sessions.ensure(adminAccountId, region, now);
  }

  disableOrganizationAdminAccount(call: MacieCall): MacieOutput {
    const raw = call.query.get('adminAccountId') ?? '';
    if (raw === '') throw macieError.validation('adminAccountId is required');
    const adminAccountId = requireAccountId(raw, 'adminAccountId');
    this.requireManagementCaller(call);
    if (this.admins.adminOf(call.region) !== adminAccountId) {
      throw macieError.notFound(`The account ${adminAccountId} isn't the delegated Macie administrator account for your organization in ${call.region}`);
    }
    this.removeDesignation(call.region, call.now);
    return {};
  }

  /**
   * Choice (AWS silent on the API effect): the administrator's Organizations members in the region stop being
   * its members (their records go; Macie stays enabled in them); its invitation members stay.
   */
  private removeDesignation(region: string, now: number): void {
    const adminAccountId = this.admins.remove(region, now, this.faults.organizationAdminDisablingMs);
    if (adminAccountId === undefined) return;
    for (const record of [...this.store.sortedMembers(adminAccountId, region)]) {
      if (record.via === 'organization') this.store.remove(record);
    }
  }

  listOrganizationAdminAccounts(call: MacieCall): MacieOutput {
    const size = pageSize(call.query);
    const token = call.query.get('nextToken');
    let after: string | undefined;
    if (token !== null && token !== '') {
      after = decodePageToken('ListOrganizationAdminAccounts', token);
      if (after === undefined) throw macieError.validation('nextToken is invalid or has expired');
    }
    this.requireManagementCaller(call);
    const listing = this.admins.listing(call.region, call.now).filter((entry) => after === undefined || entry.accountId > after);
    const page = listing.slice(0, size);
    const last = page.at(-1);
    return {
      adminAccounts: page.map((entry) => ({ accountId: entry.accountId, status: entry.status })),
      nextToken: listing.length > size && last ? encodePageToken('ListOrganizationAdminAccounts', last.accountId) : undefined,
    };
  }

  // ---- organization configuration (delegated administrator) ----

  isDelegatedAdministrator(accountId: string, region: string): boolean {
    return this.admins.adminOf(region) === accountId;
  }

  private requireDelegatedAdministrator(call: MacieCall): void {
    if (!this.sessions.get(call.principal.accountId, call.region) || !this.isDelegatedAdministrator(call.principal.accountId, call.region)) {
      throw macieError.accessDenied(NOT_ORGANIZATION_ADMINISTRATOR);
    }
  }

  describeOrganizationConfiguration(call: MacieCall): MacieOutput {
    this.requireDelegatedAdministrator(call);
    const caller = call.principal.accountId;
    return {
      autoEnable: this.admins.autoEnable(call.region),
      maxAccountLimitReached: this.store.memberCountVia(caller, call.region, 'organization') >= this.faults.organizationMemberQuota,
    };
  }

  updateOrganizationConfiguration(call: MacieCall): MacieOutput {
    const autoEnable = call.body.autoEnable;
    if (typeof autoEnable !== 'boolean') throw macieError.validation('autoEnable is required and must be a boolean');
    this.requireDelegatedAdministrator(call);
    // As documented: it applies to accounts that join from now on; existing accounts still need CreateMember.
    this.admins.setAutoEnable(call.region, autoEnable);
    return {};
  }

  // ---- Organizations members ----

  /** Whether CreateMember by this caller for this account takes the Organizations path (Enabled at once). */
  managesThroughOrganization(administratorAccountId: string, accountId: string, region: string): boolean {
    return this.isDelegatedAdministrator(administratorAccountId, region) && this.accounts.isActiveInOrganization(accountId);
  }

  /**
   * CreateMember by the delegated administrator for an active account of its organization: Enabled at once,
   * Macie enabled in the account and region, no invitation. Replaces a Removed (or otherwise unassociated)
   * record of the same administrator: "re-create" after DisassociateMember.
   */
  createMember(administratorAccountId: string, accountId: string, region: string, now: number, email: string, tags: Record<string, string>): MemberRecord {
    const existing = this.store.get(administratorAccountId, region, accountId);
    this.checkCanAssociate(administratorAccountId, accountId, region, existing);
    const record = this.newMember(administratorAccountId, accountId, region, now, email, tags);
    this.store.add(record);
    // An opt-in region the account has not enabled has no Macie to turn on; the member shows RegionDisabled.
    if (!this.accounts.get(accountId)?.disabledRegions.has(region)) this.sessions.ensure(accountId, region, now);
    return record;
  }

  private checkCanAssociate(administratorAccountId: string, accountId: string, region: string, existing: MemberRecord | undefined): void {
    if (existing && isAssociated(existing)) {
      throw macieError.conflict(`The account ${accountId} is already associated with your account (relationship status ${existing.stage})`);
    }
    const other = this.store.otherAdministration(accountId, administratorAccountId);
    if (other) {
      throw macieError.conflict(`The account ${accountId} is already associated with another Macie administrator account (${other.administratorAccountId})`);
    }
    if (this.store.hasMembers(accountId)) {
      throw macieError.conflict(`The account ${accountId} is a Macie administrator account with members of its own`);
    }
    const quota = this.faults.organizationMemberQuota;
    const replacing = existing?.via === 'organization' ? 1 : 0;
    if (this.store.memberCountVia(administratorAccountId, region, 'organization') - replacing >= quota) {
      throw macieError.quotaExceeded(
        `Adding the account would exceed the quota of ${quota} Organizations member accounts for your administrator account in ${region}`,
      );
    }
  }

  private newMember(administratorAccountId: string, accountId: string, region: string, now: number, email: string, tags: Record<string, string>): MemberRecord {
    return {
      administratorAccountId,
      accountId,
      region,
      arn: memberArn(region, administratorAccountId, accountId),
      via: 'organization',
      email,
      tags: { ...tags },
      stage: 'Enabled',
      updatedAt: now,
    };
  }

  /** DisassociateFromAdministratorAccount by an Organizations member is refused. */
  refuseSelfDisassociation(record: MemberRecord): void {
    if (record.via === 'organization') throw macieError.accessDenied(ORGANIZATION_MEMBER_CANNOT_DISASSOCIATE);
  }

  // ---- the organization changes (control interface) ----

  /** With autoEnable on in a region, a joining account becomes an Enabled member there, quota and rules permitting. */
  accountJoined(accountId: string, now: number): void {
    const account = this.accounts.get(accountId);
    for (const { region, accountId: administratorAccountId } of this.admins.autoEnableRegions()) {
      if (administratorAccountId === accountId || !this.accounts.isActiveInOrganization(accountId)) continue;
      if (account?.disabledRegions.has(region)) continue;
      const existing = this.store.get(administratorAccountId, region, accountId);
      try {
        this.checkCanAssociate(administratorAccountId, accountId, region, existing);
      } catch (error) {
        // Not an error for anyone: AWS just doesn't enable the account (maxAccountLimitReached tells the administrator).
        if (error instanceof AwsError) continue;
        throw error;
      }
      this.store.add(this.newMember(administratorAccountId, accountId, region, now, account?.email ?? '', {}));
      this.sessions.ensure(accountId, region, now);
    }
  }

  /**
   * Choice (AWS silent): an account that leaves the organization stops being an Organizations member
   * everywhere: the administrator sees `Removed` (until DeleteMember), Macie stays enabled in the account.
   * A delegated administrator that leaves loses its designation in every region.
   */
  accountLeft(accountId: string, now: number): void {
    for (const record of this.store.relationshipsOf(accountId)) {
      if (record.via === 'organization' && isAssociated(record)) moveTo(record, 'Removed', now);
    }
    for (const region of this.admins.regionsOf(accountId)) this.removeDesignation(region, now);
  }
}
