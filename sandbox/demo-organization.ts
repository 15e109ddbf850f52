import type { DesiredMemberWrite } from '#shared/ports';
import type { FaultKnobs, SeedAccount } from '#sandbox/emulator/index';
import type { Sandbox } from '#sandbox/index';

/**
 * A small organization in awkward states, for `npm start`, `npm run sandbox` and the CLI's
 * `--local`: new accounts never enrolled, a resigned member, a paused one, a bouncing email,
 * Macie never enabled, an unmanaged member, a removed one, a missing member role, an account
 * leaving, one that belongs to another administrator, tag drift and a suspended account.
 */

const OTHER_ADMINISTRATOR = '333333333333';
const id = (n: number) => `2222222222${String(n).padStart(2, '0')}`;
const email = (n: number) => `aws+member${String(n).padStart(2, '0')}@example.com`;

export interface DemoAccount extends SeedAccount {
  /** What the table says; `undefined` means the account is not in the table (unmanaged). */
  desired?: Pick<DesiredMemberWrite, 'desiredState' | 'tags'> & { regions?: string[] };
  /** Shown beside the account in `npm start`'s tables. */
  story: string;
}

export function demoAccounts(): DemoAccount[] {
  const fresh = Array.from({ length: 14 }, (_, index) => ({
    accountId: id(index + 1),
    email: email(index + 1),
    name: `Workload ${index + 1}`,
    desired: { desiredState: 'member' as const, tags: { CostCenter: `cc-${100 + index}` } },
    story: 'new account, never enrolled',
  }));
  return [
    ...fresh,
    { accountId: id(15), email: email(15), name: 'Resigned', desired: member(), story: 'resigned from the administrator' },
    { accountId: id(16), email: email(16), name: 'Paused', desired: member(), story: 'paused by someone' },
    { accountId: id(17), email: 'bounce@bouncing.example.com', name: 'Bouncing', desired: member(), story: 'email address bounces' },
    { accountId: id(18), email: email(18), name: 'No Macie', macieEnabled: false, desired: member(), story: 'Macie never enabled' },
    { accountId: id(19), email: email(19), name: 'Unmanaged', story: 'member, but not in the table' },
    { accountId: id(20), email: email(20), name: 'Removed', desired: member(), story: 'removed in eu-west-1' },
    { accountId: id(21), email: email(21), name: 'No role', memberRole: 'missing', desired: member(), story: 'member role missing' },
    { accountId: id(22), email: email(22), name: 'Leaving', desired: { desiredState: 'absent', tags: {} }, story: 'to be removed' },
    { accountId: id(23), email: email(23), name: 'Elsewhere', desired: member(), story: 'belongs to another administrator' },
    { accountId: id(24), email: email(24), name: 'Drifted', desired: member({ Owner: 'security' }), story: 'enabled, tags drifted' },
    { accountId: id(25), email: email(25), name: 'Suspended', status: 'SUSPENDED', desired: member(), story: 'account suspended' },
    { accountId: OTHER_ADMINISTRATOR, email: 'other-admin@example.com', name: 'Other administrator', story: 'another Macie administrator' },
  ];
}

function member(tags: Record<string, string> = {}): DemoAccount['desired'] {
  return { desiredState: 'member', tags };
}

/**
 * `npm start`'s mixed fleet: accounts of the organization, which a delegated administrator adds
 * through Organizations (Enabled at once, no invitation), beside the accounts above, which are then
 * outside the organization and invited.
 */
export const DEMO_MANAGEMENT_ACCOUNT: SeedAccount = { accountId: '999999999999', email: 'management@example.com', name: 'Management' };

export function demoMixedFleet(): DemoAccount[] {
  const outsiders = demoAccounts().map((account) => ({ ...account, inOrganization: false }));
  const insiders = Array.from({ length: 5 }, (_, index) => ({
    accountId: `4444444444${String(index + 1).padStart(2, '0')}`,
    email: `aws+org${String(index + 1).padStart(2, '0')}@example.com`,
    name: `Organization workload ${index + 1}`,
    macieEnabled: false,
    desired: member({ CostCenter: `cc-org-${index + 1}` }),
    story: 'in the organization, never enrolled',
  }));
  return [...outsiders, ...insiders];
}

export const DEMO_KNOBS: Partial<FaultKnobs> = { bouncingEmails: ['bounce@bouncing.example.com'] };

/** Puts the sandbox's Macie into the demo's awkward states and fills the desired-membership table. */
export async function seedDemoOrganization(
  sandbox: Sandbox,
  recordDesired: (row: DesiredMemberWrite) => Promise<unknown>,
  requestedAt = new Date().toISOString(),
  options: { accounts?: DemoAccount[] } = {},
): Promise<DemoAccount[]> {
  const accounts = options.accounts ?? demoAccounts();
  const control = sandbox.emulator.control;
  const administratorAccountId = sandbox.administrator.accountId;
  const [home, second = home] = sandbox.regions;
  const seed = (accountId: string, region: string, relationshipStatus: Parameters<typeof control.seedMembership>[0]['relationshipStatus'], tags?: Record<string, string>) =>
    control.seedMembership({ administratorAccountId, accountId, region, relationshipStatus, tags });

  for (const region of sandbox.regions) {
    seed(id(16), region, 'Paused');
    seed(id(19), region, 'Enabled');
    seed(id(22), region, 'Enabled');
    seed(id(24), region, 'Enabled', { Owner: 'someone-else', Stale: 'yes' });
    control.seedMembership({ administratorAccountId: OTHER_ADMINISTRATOR, accountId: id(23), region, relationshipStatus: 'Enabled' });
  }
  seed(id(15), home!, 'Resigned');
  seed(id(20), second!, 'Removed');

  for (const account of accounts) {
    if (!account.desired) continue;
    await recordDesired({
      accountId: account.accountId,
      email: account.email,
      desiredState: account.desired.desiredState,
      tags: account.desired.tags,
      regions: account.desired.regions,
      autoAccept: true,
      paused: false,
      requestedBy: 'demo',
      requestedAt,
      requestId: `demo-${account.accountId}`,
    });
  }
  return accounts;
}
