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
  /** Epoch milliseconds the account "joined the organization". */
  readonly joinedAt: number;
}

/** The seeded accounts, in seeding order (Organizations lists them in that order). */
export class AccountRegistry {
  private readonly byId = new Map<string, AccountRecord>();
  private readonly order: AccountRecord[] = [];

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
      } else {
        const record: AccountRecord = { accountId: seed.accountId, joinedAt: now, ...fields };
        this.byId.set(seed.accountId, record);
        this.order.push(record);
      }
    }
  }

  get(accountId: string): AccountRecord | undefined {
    return this.byId.get(accountId);
  }

  require(accountId: string): AccountRecord {
    const account = this.byId.get(accountId);
    if (!account) throw new Error(`account ${accountId} is not seeded; call seedAccounts first`);
    return account;
  }

  /** Accounts in seeding order; the caller must not mutate the array. */
  list(): readonly AccountRecord[] {
    return this.order;
  }

  /** The account every Organizations ARN names as the management account: the first one seeded. */
  managementAccountId(): string | undefined {
    return this.order[0]?.accountId;
  }
}
