import type { MemberRoleSetup, SeedAccount } from '#sandbox/emulator/types';

export const ACCOUNT_ID = /^\d{12}$/;

/** A seeded AWS account as the whole emulator sees it. */
export interface AccountRecord {
  readonly accountId: string;
  email: string;
  name: string;
  status: 'ACTIVE' | 'SUSPENDED';
  memberRole: MemberRoleSetup;
  /** Where Macie is on until someone disables it: every region, or only these. */
  macieByDefault: 'everywhere' | ReadonlySet<string>;
  disabledRegions: Set<string>;
  /** Epoch milliseconds the account was seeded (Macie's default sessions date from then). */
  readonly joinedAt: number;
  /** Whether the account is in the organization now. */
  inOrganization: boolean;
  /** Epoch milliseconds it last joined the organization (`JoinedTimestamp`). */
  joinedOrganizationAt: number;
  /**
   * Its place in Organizations' listing: a counter taken when it (last) joined. Accounts that leave free
   * their place and rejoin at the end, so a page token holding this number stays valid across leaves.
   */
  organizationSequence: number;
}

/** The seeded accounts, in seeding order, and the one organization some of them belong to. */
export class AccountRegistry {
  private readonly byId = new Map<string, AccountRecord>();
  private readonly order: AccountRecord[] = [];
  private nextSequence = 1;
  /** Fixed once: the first account seeded in the organization. Organizations never changes it. */
  private management: string | undefined;

  /** Adds new accounts and updates seeded ones in place, keeping their place in the organization. */
  seed(seeds: SeedAccount[], now: number): void {
    for (const seed of seeds) {
      if (!ACCOUNT_ID.test(seed.accountId)) throw new Error(`seed accountId must be 12 digits, got "${seed.accountId}"`);
      if (!seed.email?.includes('@')) throw new Error(`seed email for ${seed.accountId} must be an email, got "${seed.email}"`);
      const macieEnabled = seed.macieEnabled ?? true;
      const fields = {
        email: seed.email,
        name: seed.name ?? `account-${seed.accountId}`,
        status: seed.status ?? 'ACTIVE',
        memberRole: seed.memberRole ?? 'present',
        macieByDefault:
          macieEnabled === true ? ('everywhere' as const) : new Set(macieEnabled === false ? [] : macieEnabled),
        disabledRegions: new Set(seed.disabledRegions ?? []),
      };
      const existing = this.byId.get(seed.accountId);
      if (existing) {
        Object.assign(existing, fields);
        // Re-seeding says where the account is only when it says so; otherwise its membership stands.
        if (seed.inOrganization === true) this.join(existing, now);
        if (seed.inOrganization === false) this.leave(existing);
      } else {
        const record: AccountRecord = {
          accountId: seed.accountId,
          joinedAt: now,
          inOrganization: false,
          joinedOrganizationAt: now,
          organizationSequence: 0,
          ...fields,
        };
        this.byId.set(seed.accountId, record);
        this.order.push(record);
        if (seed.inOrganization ?? true) this.join(record, now);
      }
    }
  }

  /** Puts the account in the organization (the first one in becomes its management account); false if it was in already. */
  join(account: AccountRecord, now: number): boolean {
    if (account.inOrganization) return false;
    account.inOrganization = true;
    account.joinedOrganizationAt = now;
    account.organizationSequence = this.nextSequence++;
    this.management ??= account.accountId;
    return true;
  }

  /** Takes the account out of the organization; false if it was not in. The management account cannot leave. */
  leave(account: AccountRecord): boolean {
    if (!account.inOrganization) return false;
    if (account.accountId === this.management) {
      throw new Error(`account ${account.accountId} is the organization's management account and cannot leave it`);
    }
    account.inOrganization = false;
    return true;
  }

  /** Whether the account is an ACTIVE account of the organization: what Macie needs to manage it through Organizations. */
  isActiveInOrganization(accountId: string): boolean {
    const account = this.byId.get(accountId);
    return account !== undefined && account.inOrganization && account.status === 'ACTIVE';
  }

  /** Accounts in the organization, in joining order (Organizations lists them that way). */
  organizationAccounts(): AccountRecord[] {
    return this.order.filter((account) => account.inOrganization).sort((a, b) => a.organizationSequence - b.organizationSequence);
  }

  get(accountId: string): AccountRecord | undefined {
    return this.byId.get(accountId);
  }

  require(accountId: string): AccountRecord {
    const account = this.byId.get(accountId);
    if (!account) throw new Error(`account ${accountId} is not seeded; call seedAccounts first`);
    return account;
  }

  /** Accounts in seeding order, in the organization or not; the caller must not mutate the array. */
  list(): readonly AccountRecord[] {
    return this.order;
  }

  /** The account every Organizations ARN names as the management account: the first one seeded in the organization. */
  managementAccountId(): string | undefined {
    return this.management;
  }
}
