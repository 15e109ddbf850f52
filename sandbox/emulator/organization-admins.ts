/**
 * Who the organization's delegated Macie administrator is, region by region, and its organization settings.
 * Plain state: the rules (who may designate whom) live in macie-organizations.ts. Organizations'
 * `ListDelegatedAdministrators` reads the same state, so both services always agree.
 */

export const MACIE_SERVICE_PRINCIPAL = 'macie.amazonaws.com';

export type AdminStatus = 'ENABLED' | 'DISABLING_IN_PROGRESS';

export interface AdminListing {
  accountId: string;
  status: AdminStatus;
}

interface Designation {
  accountId: string;
  autoEnable: boolean;
}

export class OrganizationAdmins {
  private readonly byRegion = new Map<string, Designation>();
  /** Removed designations still listed as DISABLING_IN_PROGRESS until `until` (epoch ms). */
  private readonly disabling = new Map<string, Array<{ accountId: string; until: number }>>();
  /** When Organizations first registered the account as Macie's delegated administrator (while any region designates it). */
  private delegatedSince: { accountId: string; at: number } | undefined;

  /** The ENABLED delegated administrator in the region. */
  adminOf(region: string): string | undefined {
    return this.byRegion.get(region)?.accountId;
  }

  /** The one account designated anywhere (AWS requires the same account in every region), if any. */
  designatedAnywhere(): string | undefined {
    for (const designation of this.byRegion.values()) return designation.accountId;
    return undefined;
  }

  regionsOf(accountId: string): string[] {
    return [...this.byRegion].filter(([, designation]) => designation.accountId === accountId).map(([region]) => region);
  }

  designate(accountId: string, region: string, now: number): void {
    if (this.byRegion.get(region)?.accountId === accountId) return;
    this.byRegion.set(region, { accountId, autoEnable: false });
    // Re-designated while its removal was still settling: it is simply ENABLED again.
    this.disabling.set(region, (this.disabling.get(region) ?? []).filter((entry) => entry.accountId !== accountId));
    if (this.delegatedSince?.accountId !== accountId) this.delegatedSince = { accountId, at: now };
  }

  /** Ends the designation in the region; the account stays listed as DISABLING_IN_PROGRESS for `settleMs`. */
  remove(region: string, now: number, settleMs: number): string | undefined {
    const designation = this.byRegion.get(region);
    if (!designation) return undefined;
    this.byRegion.delete(region);
    if (settleMs > 0) this.disabling.set(region, [...(this.disabling.get(region) ?? []), { accountId: designation.accountId, until: now + settleMs }]);
    if (this.regionsOf(designation.accountId).length === 0) this.delegatedSince = undefined;
    return designation.accountId;
  }

  autoEnable(region: string): boolean {
    return this.byRegion.get(region)?.autoEnable ?? false;
  }

  setAutoEnable(region: string, autoEnable: boolean): void {
    const designation = this.byRegion.get(region);
    if (!designation) throw new Error(`no delegated Macie administrator is designated in ${region}`);
    designation.autoEnable = autoEnable;
  }

  /** Regions whose delegated administrator has autoEnable on. */
  autoEnableRegions(): Array<{ region: string; accountId: string }> {
    return [...this.byRegion].filter(([, designation]) => designation.autoEnable).map(([region, designation]) => ({ region, accountId: designation.accountId }));
  }

  /** `ListOrganizationAdminAccounts` in one region, sorted by account ID. */
  listing(region: string, now: number): AdminListing[] {
    const entries: AdminListing[] = (this.disabling.get(region) ?? [])
      .filter((entry) => entry.until > now)
      .map((entry) => ({ accountId: entry.accountId, status: 'DISABLING_IN_PROGRESS' }));
    const enabled = this.adminOf(region);
    if (enabled) entries.push({ accountId: enabled, status: 'ENABLED' });
    return entries.sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
  }

  /** Organizations' view: the delegated administrators for Macie's service principal. */
  delegatedAdministrator(): { accountId: string; since: number } | undefined {
    return this.delegatedSince && { accountId: this.delegatedSince.accountId, since: this.delegatedSince.at };
  }
}
