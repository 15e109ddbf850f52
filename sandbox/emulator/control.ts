/**
 * The side door for tests, scripts and benchmarks: seed accounts and awkward memberships, turn fault knobs,
 * read the emulator's truth. Nothing here goes through HTTP, so it neither throttles nor shows in `calls()`.
 */
import { randomBytes } from 'node:crypto';
import type { AccountRegistry } from '#sandbox/emulator/accounts';
import type { CallLog } from '#sandbox/emulator/call-log';
import type { FaultInjector } from '#sandbox/emulator/faults';
import type { CredentialStore } from '#sandbox/emulator/identity';
import type { MacieService } from '#sandbox/emulator/macie';
import type { MacieOrganizations } from '#sandbox/emulator/macie-organizations';
import type { MacieSessions } from '#sandbox/emulator/macie-sessions';
import type { MembershipStage, MemberRecord } from '#sandbox/emulator/membership-state';
import { memberArn } from '#sandbox/emulator/membership-state';
import type { MembershipStore } from '#sandbox/emulator/membership-store';
import type { OrganizationAdmins } from '#sandbox/emulator/organization-admins';
import { type EmulatorControl, RELATIONSHIP_STATUSES, type RelationshipStatus, type SeedMembership } from '#sandbox/emulator/types';

export interface ControlDependencies {
  accounts: AccountRegistry;
  credentials: CredentialStore;
  faults: FaultInjector;
  sessions: MacieSessions;
  store: MembershipStore;
  macie: MacieService;
  organizations: MacieOrganizations;
  admins: OrganizationAdmins;
  calls: CallLog;
  clock: () => number;
}

/** The stored stage behind each status a test may ask for; overlays sit on an accepted membership. */
const STAGE_FOR: Record<RelationshipStatus, MembershipStage> = {
  Enabled: 'Enabled',
  Paused: 'Paused',
  Invited: 'Invited',
  Created: 'Created',
  Removed: 'Removed',
  Resigned: 'Resigned',
  EmailVerificationInProgress: 'Invited',
  EmailVerificationFailed: 'Invited',
  RegionDisabled: 'Enabled',
  AccountSuspended: 'Enabled',
};

export function createControl(deps: ControlDependencies): EmulatorControl {
  const { accounts, credentials, faults, sessions, store, macie, organizations, admins, calls, clock } = deps;

  function seedMembership(m: SeedMembership): void {
    const status = m.relationshipStatus;
    if (!(RELATIONSHIP_STATUSES as readonly string[]).includes(status)) {
      throw new Error(`seedMembership: relationshipStatus must be one of ${RELATIONSHIP_STATUSES.join(', ')}, got "${status}"`);
    }
    const administrator = accounts.require(m.administratorAccountId);
    const member = accounts.require(m.accountId);
    if (administrator.accountId === member.accountId) throw new Error('seedMembership: an account cannot be its own member');
    const administration = store.currentAdministration(administrator.accountId);
    if (administration) {
      throw new Error(
        `seedMembership: ${administrator.accountId} is a member of ${administration.administratorAccountId} and cannot be an administrator`,
      );
    }
    const stage = STAGE_FOR[status];
    const associated = stage === 'Enabled' || stage === 'Paused';
    const other = store.otherAdministration(member.accountId, administrator.accountId);
    if (associated && other) {
      throw new Error(
        `seedMembership: ${member.accountId} already belongs to administrator ${other.administratorAccountId}; an account has one administrator`,
      );
    }

    const now = clock();
    sessions.ensure(administrator.accountId, m.region, now);
    if (status === 'AccountSuspended') member.status = 'SUSPENDED';
    if (status === 'RegionDisabled') member.disabledRegions.add(m.region);
    if (associated && status !== 'RegionDisabled') {
      const memberSession = sessions.ensure(member.accountId, m.region, now);
      memberSession.status = stage === 'Paused' ? 'PAUSED' : 'ENABLED';
    }

    // Seeded in-progress states stay put (no clock runs them out), so a test sees exactly what it seeded.
    const never = Number.POSITIVE_INFINITY;
    const record: MemberRecord = {
      administratorAccountId: administrator.accountId,
      accountId: member.accountId,
      region: m.region,
      arn: memberArn(m.region, administrator.accountId, member.accountId),
      via: m.via ?? 'invitation',
      email: m.email ?? member.email,
      tags: { ...m.tags },
      stage,
      updatedAt: now,
    };
    if (stage !== 'Created' && m.via !== 'organization') {
      const verifying = status === 'EmailVerificationInProgress';
      const hidden = status === 'Invited' && m.invitationVisible === false;
      record.invitation = {
        invitationId: randomBytes(16).toString('hex'),
        sentAt: now,
        verifiedAt: verifying ? never : now,
        visibleAt: verifying || hidden ? never : now,
        bounced: status === 'EmailVerificationFailed',
        memberAction: 'none',
      };
    }
    store.add(record);
  }

  return {
    seedAccounts: (seeds) => {
      // Seeding into (or out of) the organization is joining (or leaving) it, with the same effects on Macie.
      const now = clock();
      const before = new Map(seeds.map((seed) => [seed.accountId, accounts.get(seed.accountId)?.inOrganization]));
      accounts.seed(seeds, now);
      for (const [accountId, wasIn] of before) {
        const isIn = accounts.get(accountId)?.inOrganization ?? false;
        if (isIn && wasIn !== true) organizations.accountJoined(accountId, now);
        if (!isIn && wasIn === true) organizations.accountLeft(accountId, now);
      }
    },
    seedMembership,
    credentialsFor: (accountId) => credentials.credentialsFor(accountId),
    setKnobs: (knobs) => faults.set(knobs),
    knobs: () => faults.knobs(),
    resetKnobs: () => faults.reset(),
    raceBefore: (race) => faults.raceBefore(race),
    deliverInvitations: (accountIds) => {
      // The invitation delay runs out at once for these members: tests move time on instead of sleeping.
      const now = clock();
      for (const accountId of accountIds) {
        for (const record of store.relationshipsOf(accountId)) {
          if (record.invitation && record.invitation.visibleAt > now) record.invitation = { ...record.invitation, visibleAt: now };
        }
      }
    },
    members: (administratorAccountId, region) => {
      const now = clock();
      return store.sortedMembers(administratorAccountId, region).map((record) => ({
        accountId: record.accountId,
        email: record.email,
        via: record.via,
        relationshipStatus: macie.statusOf(record, now),
        tags: { ...record.tags },
        arn: record.arn,
      }));
    },
    administratorOf: (accountId, region) => store.currentAdministration(accountId, region)?.administratorAccountId,
    macieEnabled: (accountId, region) => sessions.get(accountId, region) !== undefined,
    calls: () => calls.all(),
    clearCalls: () => calls.clear(),
    organizationAccounts: () =>
      accounts.organizationAccounts().map((account) => ({
        accountId: account.accountId,
        status: account.status,
        management: account.accountId === accounts.managementAccountId(),
      })),
    managementAccountId: () => accounts.managementAccountId(),
    joinOrganization: (accountId) => {
      const now = clock();
      if (accounts.join(accounts.require(accountId), now)) organizations.accountJoined(accountId, now);
    },
    leaveOrganization: (accountId) => {
      if (accounts.leave(accounts.require(accountId))) organizations.accountLeft(accountId, clock());
    },
    closeAccount: (accountId) => {
      if (accountId === accounts.managementAccountId()) throw new Error(`account ${accountId} is the management account; CloseAccount can't close it`);
      // CloseAccount: PENDING_CLOSURE for moments, then SUSPENDED for the 90-day post-closure period, still in the
      // organization. The emulator skips the transient state; Macie shows AccountSuspended to any administrator.
      accounts.require(accountId).status = 'SUSPENDED';
    },
    designateMacieAdministrator: (accountId, region) => organizations.designate(accounts.require(accountId).accountId, region, clock()),
    macieAdministrator: (region) => admins.adminOf(region),
    setAutoEnable: (region, autoEnable) => admins.setAutoEnable(region, autoEnable),
  };
}
