import { describe, expect, it } from 'vitest';
import { toObservedMember } from '#shared/macie/administrator';

describe('toObservedMember', () => {
  it('translates a member Macie lists, keeping its status, tags and times', () => {
    const member = toObservedMember('eu-west-1', {
      accountId: '222222222201',
      email: 'owner@example.com',
      relationshipStatus: 'Invited',
      tags: { Owner: 'platform' },
      invitedAt: new Date('2026-11-01T00:00:00Z'),
    });
    expect(member).toEqual({
      accountId: '222222222201',
      region: 'eu-west-1',
      email: 'owner@example.com',
      relationshipStatus: 'Invited',
      administratorAccountId: undefined,
      arn: undefined,
      tags: { Owner: 'platform' },
      invitedAt: '2026-11-01T00:00:00.000Z',
      updatedAt: undefined,
    });
  });

  it('keeps a member whose status this version does not know, as Unrecognized with Macie\'s word, never dropping it', () => {
    const member = toObservedMember('us-east-1', { accountId: '222222222201', relationshipStatus: 'Quarantined' });
    expect(member).toMatchObject({ accountId: '222222222201', relationshipStatus: 'Unrecognized', reportedStatus: 'Quarantined' });
  });

  it('keeps a member listed without any status as Unrecognized', () => {
    expect(toObservedMember('us-east-1', { accountId: '222222222201' })).toMatchObject({ relationshipStatus: 'Unrecognized', reportedStatus: '(none)' });
  });

  it('drops only an entry without an account id, which nothing can be planned for', () => {
    expect(toObservedMember('us-east-1', { relationshipStatus: 'Enabled' })).toBeUndefined();
  });
});
