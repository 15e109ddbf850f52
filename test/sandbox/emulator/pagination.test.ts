import {
  CreateMemberCommand,
  DeleteMemberCommand,
  ListInvitationsCommand,
  ListMembersCommand,
  paginateListInvitations,
  paginateListMembers,
} from '@aws-sdk/client-macie2';
import { paginateListAccounts } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator, RelationshipStatus } from '#sandbox/emulator/index';
import { ADMIN, REGION, expectAwsError, macieAs, memberId, organizationsAs, seedAccount, startEmulator } from './support/harness';

let emulator: AwsEmulator;

const MEMBER_COUNT = 60;
const BIG_ADMIN = '111111111199';
const BIG_COUNT = 1000;
const INVITEE = memberId(500);
const INVITING_ADMINS = Array.from({ length: 30 }, (_, i) => String(333333330000 + i));
// Seeded out of order, so sorting is the emulator's doing and not the seed's.
const MEMBERS = Array.from({ length: MEMBER_COUNT }, (_, i) => memberId(((i * 37) % MEMBER_COUNT) + 1));
const CYCLE: RelationshipStatus[] = ['Enabled', 'Created', 'Paused', 'Invited', 'Removed', 'Resigned'];

beforeAll(async () => {
  emulator = await startEmulator([
    seedAccount(ADMIN),
    seedAccount(BIG_ADMIN),
    ...MEMBERS.map((accountId) => seedAccount(accountId)),
    seedAccount(INVITEE),
    ...INVITING_ADMINS.map((accountId) => seedAccount(accountId)),
    ...Array.from({ length: BIG_COUNT }, (_, i) => seedAccount(String(444444440000 + i))),
  ]);
  MEMBERS.forEach((accountId, i) => {
    emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId, region: REGION, relationshipStatus: CYCLE[i % CYCLE.length] ?? 'Created' });
  });
  for (const administratorAccountId of INVITING_ADMINS) {
    emulator.control.seedMembership({ administratorAccountId, accountId: INVITEE, region: REGION, relationshipStatus: 'Invited' });
  }
});

afterAll(() => emulator.close());

describe('ListMembers', () => {
  it('pages every member once, sorted by account ID, with paginateListMembers', async () => {
    const pages: string[][] = [];
    for await (const page of paginateListMembers({ client: macieAs(emulator, ADMIN), pageSize: 7 }, { onlyAssociated: 'false' })) {
      pages.push((page.members ?? []).map((m) => m.accountId ?? ''));
    }
    expect(pages).toHaveLength(Math.ceil(MEMBER_COUNT / 7));
    expect(pages.every((page) => page.length <= 7)).toBe(true);
    expect(pages.flat()).toEqual([...MEMBERS].sort());
  });

  it('filters across pages when only associated members are asked for', async () => {
    const statuses: string[] = [];
    const ids: string[] = [];
    for await (const page of paginateListMembers({ client: macieAs(emulator, ADMIN), pageSize: 4 }, {})) {
      for (const member of page.members ?? []) {
        statuses.push(member.relationshipStatus ?? '');
        ids.push(member.accountId ?? '');
      }
    }
    expect(new Set(statuses)).toEqual(new Set(['Enabled', 'Paused']));
    expect(ids).toHaveLength(MEMBER_COUNT / 3);
    expect(ids).toEqual([...ids].sort());
  });

  it('continues correctly when members are added and deleted between pages', async () => {
    const client = macieAs(emulator, ADMIN);
    const first = await client.send(new ListMembersCommand({ onlyAssociated: 'false', maxResults: 10 }));
    const firstIds = (first.members ?? []).map((m) => m.accountId ?? '');
    const sorted = [...MEMBERS].sort();

    // Delete the next member due (a Created one is deletable), and add one before and one after the cursor.
    const nextDue = sorted[10] ?? '';
    const createdNext = emulator.control.members(ADMIN, REGION).find((m) => m.accountId === nextDue);
    if (createdNext?.relationshipStatus !== 'Created') {
      emulator.control.seedMembership({ administratorAccountId: ADMIN, accountId: nextDue, region: REGION, relationshipStatus: 'Created' });
    }
    await client.send(new DeleteMemberCommand({ id: nextDue }));
    await client.send(new CreateMemberCommand({ account: { accountId: '222222220000', email: 'early@example.com' } }));
    await client.send(new CreateMemberCommand({ account: { accountId: '222222229999', email: 'late@example.com' } }));

    const rest: string[] = [];
    let nextToken = first.nextToken;
    while (nextToken) {
      const page = await client.send(new ListMembersCommand({ onlyAssociated: 'false', maxResults: 10, nextToken }));
      rest.push(...(page.members ?? []).map((m) => m.accountId ?? ''));
      nextToken = page.nextToken;
    }
    expect(rest).toEqual([...sorted.slice(11), '222222229999']);
    expect(firstIds).toEqual(sorted.slice(0, 10));
  });

  it('rejects a ListMembers token in ListInvitations', async () => {
    const client = macieAs(emulator, ADMIN);
    const { nextToken } = await client.send(new ListMembersCommand({ onlyAssociated: 'false', maxResults: 1 }));
    await expectAwsError(client.send(new ListInvitationsCommand({ nextToken })), {
      name: 'ValidationException',
      status: 400,
      message: 'nextToken is invalid or has expired',
    });
  });

  it('pages 1,000 members of one administrator', async () => {
    const client = macieAs(emulator, BIG_ADMIN);
    for (let i = 0; i < BIG_COUNT; i += 1) {
      emulator.control.seedMembership({ administratorAccountId: BIG_ADMIN, accountId: String(444444440000 + i), region: REGION, relationshipStatus: 'Enabled' });
    }
    let count = 0;
    let pages = 0;
    for await (const page of paginateListMembers({ client, pageSize: 25 }, { onlyAssociated: 'false' })) {
      count += page.members?.length ?? 0;
      pages += 1;
    }
    expect(count).toBe(BIG_COUNT);
    expect(pages).toBe(BIG_COUNT / 25);
  });
});

describe('ListInvitations', () => {
  it('pages every invitation the member received, by administrator, with paginateListInvitations', async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListInvitations({ client: macieAs(emulator, INVITEE), pageSize: 4 }, {})) {
      pages += 1;
      seen.push(...(page.invitations ?? []).map((i) => i.accountId ?? ''));
    }
    expect(pages).toBe(Math.ceil(INVITING_ADMINS.length / 4));
    expect(seen).toEqual(INVITING_ADMINS);
  });
});

describe('Organizations ListAccounts', () => {
  it('pages every account in seeding order with paginateListAccounts', async () => {
    const ids: string[] = [];
    let pages = 0;
    for await (const page of paginateListAccounts({ client: organizationsAs(emulator, ADMIN), pageSize: 20 }, {})) {
      pages += 1;
      ids.push(...(page.Accounts ?? []).map((a) => a.Id ?? ''));
    }
    const expected = [ADMIN, BIG_ADMIN, ...MEMBERS, INVITEE, ...INVITING_ADMINS, ...Array.from({ length: BIG_COUNT }, (_, i) => String(444444440000 + i))];
    expect(ids).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 20));
  });
});
