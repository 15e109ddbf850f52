import { getConfig } from '#shared/config';
import { createOrganizationDirectory } from '#shared/organizations/accounts';
import type { OrganizationDirectory } from '#shared/ports';

let directory: OrganizationDirectory | undefined;

/**
 * The organization directory of the `onboard` function, the only one that reads the organization
 * (the email of a new account). Built on first use and reused while warm, like the shared runtime,
 * but kept apart from it so that only onboard's bundle carries the Organizations client.
 */
export function getLambdaOrganizationDirectory(): OrganizationDirectory {
  directory ??= createOrganizationDirectory(getConfig());
  return directory;
}
