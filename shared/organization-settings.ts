import type { OrganizationSettingOutcome } from '#shared/domain/outcomes';
import type { PlannedOrganizationSetting } from '#shared/domain/types';
import { toAwsCallError } from '#shared/errors';
import type { MacieAdministrator } from '#shared/ports';

/**
 * One call per region whose setting drifted. A failure is reported (summary, logs, metric) and the
 * next run plans the update again; it concerns no account, so there is no request to dead-letter.
 */
export function applyOrganizationSettings(
  macie: Pick<MacieAdministrator, 'updateOrganizationConfiguration'>,
  settings: readonly PlannedOrganizationSetting[],
): Promise<OrganizationSettingOutcome[]> {
  return Promise.all(
    settings
      .filter((setting) => setting.verdict === 'change')
      .map(async ({ region, desired: { autoEnable } }): Promise<OrganizationSettingOutcome> => {
        try {
          await macie.updateOrganizationConfiguration(region, autoEnable);
          return { region, autoEnable, status: 'done' };
        } catch (error) {
          const { code, message } = toAwsCallError('UpdateOrganizationConfiguration', error);
          return { region, autoEnable, status: 'failed', code, message };
        }
      }),
  );
}
