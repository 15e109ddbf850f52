/**
 * The emulator's public vocabulary. The emulator stands in for AWS itself, so it keeps its own copy of
 * Macie's enums (from the service model) instead of importing the product's domain types: a change in
 * the product must never silently change what "AWS" does in tests.
 */

/** Macie's `RelationshipStatus` enum, service model macie2 2020-01-01. */
export const RELATIONSHIP_STATUSES = [
  'Enabled',
  'Paused',
  'Invited',
  'Created',
  'Removed',
  'Resigned',
  'EmailVerificationInProgress',
  'EmailVerificationFailed',
  'RegionDisabled',
  'AccountSuspended',
] as const;
export type RelationshipStatus = (typeof RELATIONSHIP_STATUSES)[number];

export type MemberRoleSetup = 'present' | 'missing' | 'noPermission';

export interface SeedAccount {
  accountId: string;
  email: string;
  name?: string;
  /** `true` (default) = Macie enabled in every region; a list = enabled only in these regions; `false` = nowhere. */
  macieEnabled?: boolean | string[];
  /** `missing`: AssumeRole is denied; `noPermission`: AssumeRole works but every Macie call from the session is denied. */
  memberRole?: MemberRoleSetup;
  /** `SUSPENDED` shows as `AccountSuspended` to any administrator of the account. */
  status?: 'ACTIVE' | 'SUSPENDED';
  /** Opt-in regions this account has not enabled: its administrator sees `RegionDisabled` there. */
  disabledRegions?: string[];
  /**
   * Whether the account belongs to the emulator's one organization (default true). The first account seeded
   * in the organization is its management account; accounts outside it get `AWSOrganizationsNotInUseException`.
   */
  inOrganization?: boolean;
}

/** A call that must fail: deterministic, unlike `serverErrorRate`, so a test can break exactly one account. */
export interface FailingCall {
  /** The operation's name in its service model, e.g. `GetMember`, `AssumeRole`, `DescribeAccount`. */
  operation: string;
  /**
   * Only calls about this account: made by it, or naming it (a Macie member ID, `accountIds` entry or member ARN,
   * AssumeRole's target, DescribeAccount's `AccountId`). Every call of the operation when absent.
   */
  subjectAccountId?: string;
  /** The error code the service answers, e.g. `InternalServerException`. */
  errorType: string;
  statusCode: number;
  message?: string;
}

export interface FaultKnobs {
  /** Added before answering every call. */
  latencyMs: number;
  /**
   * Each service's rate: a token bucket per (service, caller account, region), as AWS throttles
   * Macie, STS and Organizations apart (an `AssumeRole` never spends the caller's Macie tokens);
   * `null` = no throttling.
   */
  throttle: ThrottleLimit | null;
  /**
   * Per-service overrides of `throttle`: a service listed here uses its own limit (`null` = that
   * service is not throttled), the others use `throttle`. Setting it replaces the whole map.
   */
  throttleByService: Partial<Record<EmulatedService, ThrottleLimit | null>>;
  /** Probability (0..1) that a call answers a 500. */
  serverErrorRate: number;
  /**
   * Probability (0..1) that a call answers a throttling error whatever the bucket holds: throttling
   * that fires however fast or slow the machine sends (a bucket only fires when calls come quickly).
   */
  throttledCallRate: number;
  /** Probability (0..1), per account in `CreateInvitations`, of an `InternalError` unprocessed entry. */
  unprocessedInternalErrorRate: number;
  /** Time after `CreateInvitations` before the member can see the invitation. */
  invitationDelayMs: number;
  /** Time a member spends in `EmailVerificationInProgress` before `Invited` (or `EmailVerificationFailed`). */
  emailVerificationMs: number;
  /** Member emails whose invitation ends in `EmailVerificationFailed` (compared case-insensitively). */
  bouncingEmails: string[];
  /** Invitation members per administrator per region (Macie's quota for invitation-based members is 1,000). */
  memberQuota: number;
  /** Organizations members per delegated administrator per region (Macie's quota is 10,000), counted apart from `memberQuota`. */
  organizationMemberQuota: number;
  /**
   * How long a removed delegated Macie administrator stays listed as `DISABLING_IN_PROGRESS` by
   * `ListOrganizationAdminAccounts` (0 = it disappears at once). Nothing else waits for it.
   */
  organizationAdminDisablingMs: number;
  /** Seed of the PRNG behind every random fault, so fault runs are reproducible. */
  randomSeed: number;
  /** Calls that fail every time, in the service's own error shape. */
  failingCalls: FailingCall[];
}

export const EMULATED_SERVICES = ['macie2', 'sts', 'organizations'] as const;
export type EmulatedService = (typeof EMULATED_SERVICES)[number];

/** A token bucket's shape: refilled at `ratePerSecond`, holding at most `burst` tokens. */
export interface ThrottleLimit {
  ratePerSecond: number;
  burst: number;
}

export interface CallRecord {
  service: EmulatedService;
  operation: string;
  /** The caller's account; empty when the credentials were not recognised. */
  accountId: string;
  region: string;
  statusCode: number;
  errorType?: string;
  /** The call was made with temporary credentials from `AssumeRole`. */
  assumedRole: boolean;
  /** Epoch milliseconds when the answer was sent. */
  at: number;
}

export interface SeedMembership {
  administratorAccountId: string;
  accountId: string;
  region: string;
  /**
   * `AccountSuspended` suspends the member account itself and `RegionDisabled` disables the region for it, so
   * every administrator and Organizations see the same thing; the relationship underneath is `Enabled`.
   * `EmailVerificationInProgress` stays in progress (no clock runs it out) until the member is invited again.
   */
  relationshipStatus: RelationshipStatus;
  /** Defaults to the seeded account's email. */
  email?: string;
  tags?: Record<string, string>;
  /** For `Invited`: whether the member can already see the invitation (default true; false = never, until re-invited). */
  invitationVisible?: boolean;
  /** How the member came (default `invitation`): an `organization` member was added by the delegated administrator, never invited. */
  via?: MembershipVia;
}

/** How a member came to its administrator: `CreateMember` + invitation, or `CreateMember` by the delegated administrator. */
export type MembershipVia = 'invitation' | 'organization';

export interface MemberView {
  accountId: string;
  /** As given to `CreateMember`; Macie itself lists Organizations members with no email. */
  email: string;
  via: MembershipVia;
  relationshipStatus: RelationshipStatus;
  tags: Record<string, string>;
  arn: string;
}

export interface EmulatorControl {
  seedAccounts(accounts: SeedAccount[]): void;
  /** Forces a relationship, enabling Macie for the administrator (and for an associated member) as needed. */
  seedMembership(m: SeedMembership): void;
  credentialsFor(accountId: string): { accessKeyId: string; secretAccessKey: string };
  setKnobs(knobs: Partial<FaultKnobs>): void;
  knobs(): FaultKnobs;
  /** Clears the knobs and any race still waiting. */
  resetKnobs(): void;
  /**
   * Makes another actor's move once, just before the next call of `operation` by or about
   * `subjectAccountId` is answered (another run accepting first, say): a race no sleep can time.
   */
  raceBefore(race: { operation: string; subjectAccountId: string; move: () => void }): void;
  /** Ends the invitation delay now for these members' pending invitations, as if it had passed. */
  deliverInvitations(accountIds: readonly string[]): void;
  /** The administrator's view in one region, every status included, sorted by account ID. */
  members(administratorAccountId: string, region: string): MemberView[];
  /** The administrator the account is associated with (Enabled or Paused) in the region. */
  administratorOf(accountId: string, region: string): string | undefined;
  macieEnabled(accountId: string, region: string): boolean;
  calls(): CallRecord[];
  clearCalls(): void;

  // ---- the organization (one per emulator) ----

  /** Accounts in the organization, in the order Organizations lists them (joining order). */
  organizationAccounts(): OrganizationAccountView[];
  /** The organization's management account: the first account seeded in the organization. */
  managementAccountId(): string | undefined;
  /**
   * The account (already seeded) joins the organization; where the delegated Macie administrator has
   * `autoEnable` on, it becomes an Enabled Organizations member at once. No-op if already in.
   */
  joinOrganization(accountId: string): void;
  /**
   * The account leaves (or is removed from) the organization. Its Organizations memberships end (the
   * administrator sees `Removed`); Macie stays enabled in it. A leaving delegated administrator loses the
   * designation everywhere. The management account cannot leave.
   */
  leaveOrganization(accountId: string): void;
  /** Closes the account: Organizations shows it SUSPENDED (it stays in the organization), Macie `AccountSuspended`. */
  closeAccount(accountId: string): void;
  /** Designates the delegated Macie administrator in a region as `EnableOrganizationAdminAccount` would, without the call. */
  designateMacieAdministrator(accountId: string, region: string): void;
  /** The delegated Macie administrator (status ENABLED) in the region. */
  macieAdministrator(region: string): string | undefined;
  /** Turns the delegated administrator's `autoEnable` on or off in the region, as `UpdateOrganizationConfiguration` would. */
  setAutoEnable(region: string, autoEnable: boolean): void;
}

export interface OrganizationAccountView {
  accountId: string;
  status: 'ACTIVE' | 'SUSPENDED';
  management: boolean;
}

export interface AwsEmulatorOptions {
  host?: string;
  port?: number;
  /** The role every seeded account carries for the reconciler (unless seeded `missing`). */
  memberRole: { name: string; externalId: string };
  accounts?: SeedAccount[];
  knobs?: Partial<FaultKnobs>;
  /** Epoch milliseconds for every time-based rule (delays, verification, buckets, expiries); the wall clock by default. */
  clock?: () => number;
}

export interface AwsEmulator {
  url: string;
  port: number;
  control: EmulatorControl;
  close(): Promise<void>;
}
