/**
 * The project's own AWS emulator for Macie, STS and Organizations: one local HTTP endpoint that the real AWS
 * SDKs (any language) talk to through their endpoint setting. Accounts come from access keys, regions from
 * the SigV4 credential scope; state is in memory and dies with the process.
 */
import { AccountRegistry } from '#sandbox/emulator/accounts';
import { CallLog } from '#sandbox/emulator/call-log';
import { createControl } from '#sandbox/emulator/control';
import { FaultInjector } from '#sandbox/emulator/faults';
import { Endpoint, listen } from '#sandbox/emulator/http';
import { CredentialStore } from '#sandbox/emulator/identity';
import { MacieService } from '#sandbox/emulator/macie';
import { MacieFrontend } from '#sandbox/emulator/macie-http';
import { MacieOrganizations } from '#sandbox/emulator/macie-organizations';
import { MacieSessions } from '#sandbox/emulator/macie-sessions';
import { MembershipStore } from '#sandbox/emulator/membership-store';
import { OrganizationAdmins } from '#sandbox/emulator/organization-admins';
import { OrganizationsFrontend } from '#sandbox/emulator/organizations';
import { StsFrontend } from '#sandbox/emulator/sts';
import type { AwsEmulator, AwsEmulatorOptions } from '#sandbox/emulator/types';

export type {
  AwsEmulator,
  AwsEmulatorOptions,
  CallRecord,
  EmulatedService,
  EmulatorControl,
  FaultKnobs,
  MemberRoleSetup,
  MemberView,
  MembershipVia,
  OrganizationAccountView,
  RelationshipStatus,
  SeedAccount,
  SeedMembership,
  ThrottleLimit,
} from '#sandbox/emulator/types';
export { EMULATED_SERVICES, RELATIONSHIP_STATUSES } from '#sandbox/emulator/types';
export { DEFAULT_KNOBS } from '#sandbox/emulator/faults';

export async function startAwsEmulator(options: AwsEmulatorOptions): Promise<AwsEmulator> {
  const { memberRole } = options;
  if (!memberRole?.name || !memberRole.externalId) throw new Error('startAwsEmulator: memberRole.name and memberRole.externalId are required');

  const clock = options.clock ?? Date.now;
  const accounts = new AccountRegistry();
  accounts.seed(options.accounts ?? [], clock());
  const credentials = new CredentialStore(accounts);
  const faults = new FaultInjector(options.knobs);
  const sessions = new MacieSessions(accounts);
  const store = new MembershipStore();
  const admins = new OrganizationAdmins();
  const organizations = new MacieOrganizations(accounts, sessions, store, faults, admins);
  const macie = new MacieService(accounts, sessions, store, faults, organizations);
  const calls = new CallLog();

  const endpoint = new Endpoint({
    frontends: {
      macie2: new MacieFrontend(macie),
      sts: new StsFrontend(accounts, credentials, memberRole),
      organizations: new OrganizationsFrontend(accounts, admins),
    },
    credentials,
    faults,
    calls,
    clock,
  });
  const running = await listen(endpoint, options.host ?? '127.0.0.1', options.port ?? 0);

  let closing: Promise<void> | undefined;
  return {
    url: running.url,
    port: running.port,
    control: createControl({ accounts, credentials, faults, sessions, store, macie, organizations, admins, calls, clock }),
    // Idempotent: suites and scripts often close in both a finally block and a signal handler.
    close: () => (closing ??= running.close()),
  };
}
