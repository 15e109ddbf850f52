/**
 * Organizations membership, the domain's side: which way each account is enrolled, what kind of
 * member Macie lists, and what the organization's answers mean. Pure.
 *
 * A delegated Macie administrator adds an active account of its organization with `CreateMember`
 * alone: the account is `Enabled` at once, with no invitation and no acceptance. Any other account
 * (outside the organization, or with an administrator that is not the delegated one) is enrolled by
 * invitation. Both kinds can be members of one administrator at once (docs/organizations.md).
 */
import type { AccountId, DesiredMember, MembershipType, MemberStatus, ObservedMember, Region } from '#shared/domain/types';
import { MEMBERSHIP_TYPES } from '#shared/domain/types';

/** The setting: pick each account's way (`auto`), or force one way for every account. */
export const MEMBERSHIP_MODES = ['auto', ...MEMBERSHIP_TYPES] as const;
export type MembershipMode = (typeof MEMBERSHIP_MODES)[number];

/** Macie's organization configuration in one region, as its delegated administrator reads it. */
export interface OrganizationConfiguration {
  autoEnable: boolean;
}

/** What a run knows of the organization, read once per run. */
export interface OrganizationView {
  /**
   * The regions where the administrator is the organization's delegated Macie administrator, with
   * Macie's organization configuration there. A region that is absent is not delegated.
   */
  administeredRegions: ReadonlyMap<Region, OrganizationConfiguration>;
  /** The organization's active accounts, with the email Organizations holds for each. */
  activeAccounts: ReadonlyMap<AccountId, string>;
}

export type EnrollmentWay =
  | { way: MembershipType }
  /** The mode forces Organizations membership, but this account cannot have it here. */
  | { way: 'none'; reason: string };

/** The way an account is enrolled in a region (docs/organizations.md). */
export function enrollmentWay(accountId: AccountId, region: Region, mode: MembershipMode, organization: OrganizationView | undefined): EnrollmentWay {
  if (mode === 'invitation') return { way: 'invitation' };
  const administered = organization?.administeredRegions.has(region) ?? false;
  const active = organization?.activeAccounts.has(accountId) ?? false;
  if (administered && active) return { way: 'organization' };
  if (mode === 'auto') return { way: 'invitation' };
  const why = !administered
    ? `the administrator is not the organization's delegated Macie administrator in ${region}`
    : `${accountId} is not an active account of the organization`;
  return { way: 'none', reason: `the membership mode is "organization", but ${why}` };
}

// Statuses an invitation member reaches only through an invitation: there, and only there, a null
// `invitedAt` says the member came through Organizations. (Created, email checks, a suspended
// account or a disabled region say nothing about how the member came.)
const ONLY_AFTER_INVITATION: ReadonlySet<MemberStatus> = new Set(['Enabled', 'Paused', 'Removed']);

/**
 * The type of a member Macie lists. `ListMembers` has no type field: Organizations members are
 * listed with a null email and were never invited. Either sign is read as Organizations, so that a
 * listing that does carry an email (AWS documents neither way) is still read right from `invitedAt`.
 */
export function membershipTypeOf(member: Pick<ObservedMember, 'email' | 'invitedAt' | 'relationshipStatus'>): MembershipType {
  if (member.email === undefined || member.email === '') return 'organization';
  return member.invitedAt === undefined && ONLY_AFTER_INVITATION.has(member.relationshipStatus) ? 'organization' : 'invitation';
}

/** Organizations' status of an account that can be a member: closed and suspended ones cannot. */
export function isActiveAccount(status: string | undefined): boolean {
  return status === 'ACTIVE';
}

/**
 * Macie's answer to `DescribeOrganizationConfiguration` from an account that is not the
 * organization's delegated administrator in that region ("...you must be the Macie administrator
 * for an organization"): a plain answer, not a failure.
 */
export function isNotOrganizationAdministrator(code: string): boolean {
  return code === 'AccessDeniedException';
}

/**
 * Organizations' answers that mean "there is no organization to read from here": the account is in
 * none, or may not read it. Membership then goes by invitation; anything else (throttling, a
 * server error) leaves the organization unknown, and nothing is planned on a guess.
 */
export function isOrganizationUnavailable(code: string): boolean {
  return code === 'AWSOrganizationsNotInUseException' || code === 'AccessDeniedException' || code === 'AccessDeniedForDependencyException';
}

/** Who recorded the rows the organization brought in (`requestedBy`): its events, and the table sync. */
export const ORGANIZATION_SYNC_ORIGIN = 'organization-sync';
const ORGANIZATION_ORIGINS: ReadonlySet<string> = new Set(['event:aws.organizations', 'event:aws.controltower', ORGANIZATION_SYNC_ORIGIN]);

/**
 * Whether an account that leaves the organization leaves the table too. A row the organization
 * brought in (its events, the sync) goes with it; a row an operator or a pipeline asked for stays,
 * and the account is invited from then on (docs/organizations.md).
 */
export function leavesWithOrganization(row: Pick<DesiredMember, 'desiredState' | 'requestedBy'>): boolean {
  return row.desiredState === 'member' && ORGANIZATION_ORIGINS.has(row.requestedBy);
}

/**
 * Whether a row says "absent" only because the organization took the account out (its events, the
 * sync): no operator decided it, so an account active in the organization again is added back.
 */
export function removedWithOrganization(row: Pick<DesiredMember, 'desiredState' | 'requestedBy'>): boolean {
  return row.desiredState === 'absent' && ORGANIZATION_ORIGINS.has(row.requestedBy);
}

/** `DescribeAccount` of an account that is not in the organization. */
export function isOutsideOrganization(code: string): boolean {
  return code === 'AccountNotFoundException';
}
