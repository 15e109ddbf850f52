import type { MemberRecord } from '#sandbox/emulator/membership-state';
import { isAssociated } from '#sandbox/emulator/membership-state';

/** One administrator's members in one region, kept sorted by account ID for cheap, stable pagination. */
interface AdministratorBook {
  readonly byAccount: Map<string, MemberRecord>;
  readonly sorted: MemberRecord[];
  /** Records made through Organizations: Macie counts them against a quota of their own. */
  organizationCount: number;
}

/** Index of the first record whose account ID is >= accountId. */
export function lowerBound(sorted: readonly MemberRecord[], accountId: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid]?.accountId ?? '') < accountId) low = mid + 1;
    else high = mid;
  }
  return low;
}

const bookKey = (administratorAccountId: string, region: string) => `${administratorAccountId}|${region}`;

/**
 * Every relationship, indexed both ways: by administrator and region (ListMembers, quotas) and by member
 * (invitations, "one administrator per account"). The same record object sits in both indexes.
 */
export class MembershipStore {
  private readonly books = new Map<string, AdministratorBook>();
  private readonly byMember = new Map<string, MemberRecord[]>();
  private readonly administratorRecordCount = new Map<string, number>();

  get(administratorAccountId: string, region: string, accountId: string): MemberRecord | undefined {
    return this.books.get(bookKey(administratorAccountId, region))?.byAccount.get(accountId);
  }

  add(record: MemberRecord): void {
    const key = bookKey(record.administratorAccountId, record.region);
    let book = this.books.get(key);
    if (!book) {
      book = { byAccount: new Map(), sorted: [], organizationCount: 0 };
      this.books.set(key, book);
    }
    const previous = book.byAccount.get(record.accountId);
    if (previous) this.remove(previous);
    book.byAccount.set(record.accountId, record);
    book.sorted.splice(lowerBound(book.sorted, record.accountId), 0, record);
    if (record.via === 'organization') book.organizationCount += 1;
    const ofMember = this.byMember.get(record.accountId);
    if (ofMember) ofMember.push(record);
    else this.byMember.set(record.accountId, [record]);
    const admin = record.administratorAccountId;
    this.administratorRecordCount.set(admin, (this.administratorRecordCount.get(admin) ?? 0) + 1);
  }

  remove(record: MemberRecord): void {
    const book = this.books.get(bookKey(record.administratorAccountId, record.region));
    if (!book || book.byAccount.get(record.accountId) !== record) return;
    book.byAccount.delete(record.accountId);
    const index = lowerBound(book.sorted, record.accountId);
    if (book.sorted[index] === record) book.sorted.splice(index, 1);
    if (record.via === 'organization') book.organizationCount -= 1;
    const ofMember = this.byMember.get(record.accountId) ?? [];
    const remaining = ofMember.filter((candidate) => candidate !== record);
    if (remaining.length > 0) this.byMember.set(record.accountId, remaining);
    else this.byMember.delete(record.accountId);
    const admin = record.administratorAccountId;
    const count = (this.administratorRecordCount.get(admin) ?? 1) - 1;
    if (count > 0) this.administratorRecordCount.set(admin, count);
    else this.administratorRecordCount.delete(admin);
  }

  /** Members of the administrator in the region, sorted by account ID. Callers must not mutate it. */
  sortedMembers(administratorAccountId: string, region: string): readonly MemberRecord[] {
    return this.books.get(bookKey(administratorAccountId, region))?.sorted ?? [];
  }

  /** Every member of the administrator in the region, whatever its status or how it came. */
  memberCount(administratorAccountId: string, region: string): number {
    return this.books.get(bookKey(administratorAccountId, region))?.byAccount.size ?? 0;
  }

  /** Members of one kind, for the quota of that kind (Macie counts invitation and Organizations members apart). */
  memberCountVia(administratorAccountId: string, region: string, via: MemberRecord['via']): number {
    const book = this.books.get(bookKey(administratorAccountId, region));
    if (!book) return 0;
    return via === 'organization' ? book.organizationCount : book.byAccount.size - book.organizationCount;
  }

  /** Every relationship the account has as a member, in any region. */
  relationshipsOf(accountId: string): readonly MemberRecord[] {
    return this.byMember.get(accountId) ?? [];
  }

  /** The Enabled/Paused relationship of the account: in the region if given, else in any region. */
  currentAdministration(accountId: string, region?: string): MemberRecord | undefined {
    return this.relationshipsOf(accountId).find(
      (record) => isAssociated(record) && (region === undefined || record.region === region),
    );
  }

  /** An Enabled/Paused relationship of the account with an administrator other than the given one, in any region. */
  otherAdministration(accountId: string, administratorAccountId: string): MemberRecord | undefined {
    return this.relationshipsOf(accountId).find(
      (record) => isAssociated(record) && record.administratorAccountId !== administratorAccountId,
    );
  }

  /** Whether the account has members of its own anywhere, which stops it becoming a member. */
  hasMembers(accountId: string): boolean {
    return (this.administratorRecordCount.get(accountId) ?? 0) > 0;
  }
}
