import { describe, expect, it } from 'vitest';
import { ConfigurationError, parseConfig } from '#shared/config';

const minimal = {
  MACIE_ADMINISTRATOR_ACCOUNT_ID: '111111111111',
  MANAGED_REGIONS: 'us-east-1, eu-west-1,us-east-1',
  DESIRED_MEMBERS_TABLE: 'macie-desired-members',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111111111111/dead-letters',
  MEMBER_ROLE_EXTERNAL_ID: 'external-id-123',
};

describe('parseConfig', () => {
  it('applies defaults and de-duplicates the managed regions', () => {
    const config = parseConfig(minimal);
    expect(config).toMatchObject({
      homeRegion: 'us-east-1',
      managedRegions: ['us-east-1', 'eu-west-1'],
      memberRole: { name: 'MacieMembershipAcceptor', externalId: 'external-id-123' },
      pruneUnmanaged: false,
      invitation: { message: undefined, sendEmail: false, batchSize: 50 },
      // The first invited accounts look at once; later ones wait as long as those took.
      acceptPolling: { attempts: 3, intervalMs: 1_000, firstLookAfterMs: 0 },
      eventSource: 'macie-membership-reconciler',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every optional setting', () => {
    const config = parseConfig({
      ...minimal,
      AWS_REGION: 'eu-west-1',
      PRUNE_UNMANAGED: 'true',
      INVITATION_MESSAGE: 'Welcome to Macie',
      SEND_INVITATION_EMAIL: 'yes',
      INVITATION_BATCH_SIZE: '25',
      ADMIN_CONCURRENCY: '4',
      MEMBER_CONCURRENCY: '32',
      AWS_MAX_ATTEMPTS: '5',
      ACCEPT_POLL_ATTEMPTS: '4',
      ACCEPT_POLL_INTERVAL_MS: '250',
      ACCEPT_FIRST_LOOK_MS: '500',
      DEADLINE_SAFETY_MS: '30000',
      MEMBER_ROLE_NAME: 'Acceptor',
      REQUEST_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111111111111/requests',
    });
    expect(config).toMatchObject({
      homeRegion: 'eu-west-1',
      pruneUnmanaged: true,
      invitation: { message: 'Welcome to Macie', sendEmail: true, batchSize: 25 },
      concurrency: { administratorCallsPerRegion: 4, memberAccounts: 32 },
      maxAttempts: 5,
      acceptPolling: { attempts: 4, intervalMs: 250, firstLookAfterMs: 500 },
      deadlineSafetyMs: 30_000,
      memberRole: { name: 'Acceptor' },
    });
  });

  it('derives the partition from the home region', () => {
    expect(parseConfig({ ...minimal, AWS_REGION: 'cn-north-1' })).toMatchObject({ homeRegion: 'cn-north-1', partition: 'aws-cn' });
    expect(parseConfig({ ...minimal, MANAGED_REGIONS: 'us-gov-west-1' })).toMatchObject({ homeRegion: 'us-gov-west-1', partition: 'aws-us-gov' });
  });

  it('treats an empty invitation message as none', () => {
    expect(parseConfig({ ...minimal, INVITATION_MESSAGE: '' }).invitation.message).toBeUndefined();
  });

  it('names every missing or invalid variable and its rule', () => {
    const attempt = () =>
      parseConfig({ MANAGED_REGIONS: 'us-east-1,mars', MACIE_ADMINISTRATOR_ACCOUNT_ID: '12345', INVITATION_MESSAGE: 'Hello!', INVITATION_BATCH_SIZE: '0' });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/MACIE_ADMINISTRATOR_ACCOUNT_ID must be exactly 12 digits/);
    expect(attempt).toThrow(/MANAGED_REGIONS\.1 must be AWS region names/);
    expect(attempt).toThrow(/DESIRED_MEMBERS_TABLE is required/);
    expect(attempt).toThrow(/INVITATION_MESSAGE must be 1-80 letters, digits or spaces/);
    expect(attempt).toThrow(/INVITATION_BATCH_SIZE must be at least 1/);
    expect(attempt).toThrow(/MEMBER_ROLE_EXTERNAL_ID is required/);
  });

  it('bounds the first look for an invitation like the poll interval', () => {
    expect(() => parseConfig({ ...minimal, ACCEPT_FIRST_LOOK_MS: '-1' })).toThrow(/ACCEPT_FIRST_LOOK_MS must be at least 0/);
    expect(() => parseConfig({ ...minimal, ACCEPT_FIRST_LOOK_MS: '60001' })).toThrow(/ACCEPT_FIRST_LOOK_MS must be at most 60000/);
    expect(() => parseConfig({ ...minimal, ACCEPT_FIRST_LOOK_MS: '0.5' })).toThrow(/ACCEPT_FIRST_LOOK_MS must be a whole number/);
  });

  describe('Organizations settings', () => {
    it('enrolls each account its own way, leaves autoEnable alone and keeps the sync off by default', () => {
      expect(parseConfig(minimal)).toMatchObject({
        membershipMode: 'auto',
        organizationAutoEnable: undefined,
        organizationSync: { enabled: false, includeAccounts: [], excludeAccounts: [] },
      });
    });

    it('reads a forced mode, autoEnable (empty: leave it alone) and the sync scope', () => {
      const config = parseConfig({
        ...minimal,
        MEMBERSHIP_MODE: 'organization',
        ORGANIZATION_AUTO_ENABLE: 'false',
        ORGANIZATION_SYNC: 'true',
        SYNC_INCLUDE_ACCOUNTS: '',
        SYNC_EXCLUDE_ACCOUNTS: '222222222201, 222222222202,222222222201',
      });
      expect(config).toMatchObject({
        membershipMode: 'organization',
        organizationAutoEnable: false,
        organizationSync: { enabled: true, includeAccounts: [], excludeAccounts: ['222222222201', '222222222202'] },
      });
      expect(parseConfig({ ...minimal, ORGANIZATION_AUTO_ENABLE: '' }).organizationAutoEnable).toBeUndefined();
      expect(parseConfig({ ...minimal, ORGANIZATION_AUTO_ENABLE: 'yes' }).organizationAutoEnable).toBe(true);
    });

    it('names the variable and the rule when one is wrong', () => {
      const attempt = () => parseConfig({ ...minimal, MEMBERSHIP_MODE: 'both', ORGANIZATION_AUTO_ENABLE: 'maybe', SYNC_EXCLUDE_ACCOUNTS: '1234' });
      expect(attempt).toThrow(/MEMBERSHIP_MODE must be one of auto, organization, invitation/);
      expect(attempt).toThrow(/ORGANIZATION_AUTO_ENABLE must be true or false, or empty to leave it alone/);
      expect(attempt).toThrow(/SYNC_EXCLUDE_ACCOUNTS\.0 must be 12-digit account ids, comma-separated/);
    });
  });
});
