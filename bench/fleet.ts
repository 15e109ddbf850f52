/** The benchmark's accounts, knobs and regions: one place, so every scenario states the same ones. */
import type { SeedAccount } from '#sandbox/emulator/index';

export const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
/** The fleet scenario's regions, the first R of them: the 17 commercial regions Macie ran in by default when this was written. */
export const FLEET_REGIONS = [
  'us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'eu-west-2', 'eu-west-3',
  'eu-central-1', 'eu-north-1', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'sa-east-1',
];
export const ADMINISTRATOR = '111111111111';
/** The baseline script's own administrator: Macie allows 1,000 invited members per administrator and region. */
export const BASELINE_ADMINISTRATOR = '999999999999';
/** The organization's management account in the Organizations scenario (the administrator is its delegated Macie administrator). */
export const MANAGEMENT_ACCOUNT = '100000000000';

/**
 * Per-call latency and a token bucket per (service, caller account, region), the shape AWS throttles
 * with: `throttle` is each service's rate, so Macie and STS each get 20/s.
 * Macie publishes no rate quota: 20 requests/s with a burst of 40 is an assumption, of the order of
 * the per-account limits AWS documents for other security services' APIs. The invitation delay
 * stands for the moment an invitation takes to reach the member.
 */
export const KNOBS = {
  latencyMs: 30,
  throttle: { ratePerSecond: 20, burst: 40 },
  invitationDelayMs: 500,
  emailVerificationMs: 0,
} as const;

export function fleetAccounts(count: number, prefix: string): SeedAccount[] {
  return Array.from({ length: count }, (_, index) => {
    const accountId = `${prefix}${String(index + 1).padStart(12 - prefix.length, '0')}`;
    return { accountId, email: `owner-${accountId}@example.com`, name: `bench ${accountId}` };
  });
}
