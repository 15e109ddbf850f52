import type { AccountRegistry } from '#sandbox/emulator/accounts';

export const MACIE_STATUSES = ['ENABLED', 'PAUSED'] as const;
export type MacieStatus = (typeof MACIE_STATUSES)[number];
export const FINDING_PUBLISHING_FREQUENCIES = ['FIFTEEN_MINUTES', 'ONE_HOUR', 'SIX_HOURS'] as const;
export type FindingPublishingFrequency = (typeof FINDING_PUBLISHING_FREQUENCIES)[number];

export interface MacieSession {
  status: MacieStatus;
  findingPublishingFrequency: FindingPublishingFrequency;
  createdAt: number;
  updatedAt: number;
}

const key = (accountId: string, region: string) => `${accountId}|${region}`;

/**
 * Macie sessions per (account, region). Seeded accounts are "enabled everywhere" by default; rather than
 * materialise a session for every region name in advance, a default session is created on first look.
 */
export class MacieSessions {
  private readonly sessions = new Map<string, MacieSession>();
  /** Regions where a default-on session was turned off (DisableMacie), so the default must not come back. */
  private readonly disabled = new Set<string>();

  constructor(private readonly accounts: AccountRegistry) {}

  get(accountId: string, region: string): MacieSession | undefined {
    const k = key(accountId, region);
    const existing = this.sessions.get(k);
    if (existing || this.disabled.has(k)) return existing;
    const account = this.accounts.get(accountId);
    if (!account) return undefined;
    const byDefault = account.macieByDefault === 'everywhere' || account.macieByDefault.has(region);
    if (!byDefault) return undefined;
    const session: MacieSession = {
      status: 'ENABLED',
      findingPublishingFrequency: 'FIFTEEN_MINUTES',
      createdAt: account.joinedAt,
      updatedAt: account.joinedAt,
    };
    this.sessions.set(k, session);
    return session;
  }

  enable(
    accountId: string,
    region: string,
    now: number,
    settings: { status?: MacieStatus; findingPublishingFrequency?: FindingPublishingFrequency } = {},
  ): MacieSession {
    const session: MacieSession = {
      status: settings.status ?? 'ENABLED',
      findingPublishingFrequency: settings.findingPublishingFrequency ?? 'FIFTEEN_MINUTES',
      createdAt: now,
      updatedAt: now,
    };
    const k = key(accountId, region);
    this.disabled.delete(k);
    this.sessions.set(k, session);
    return session;
  }

  /** Ensures a session exists (seeding paths), keeping an existing one as it is. */
  ensure(accountId: string, region: string, now: number): MacieSession {
    return this.get(accountId, region) ?? this.enable(accountId, region, now);
  }

  disable(accountId: string, region: string): void {
    const k = key(accountId, region);
    this.sessions.delete(k);
    this.disabled.add(k);
  }
}
