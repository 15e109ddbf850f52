import { createHash, randomBytes } from 'node:crypto';
import type { AccountRegistry } from '#sandbox/emulator/accounts';

/** Who is calling, as IAM would name them. */
export interface Principal {
  accountId: string;
  /** `arn:aws:iam::<account>:root` for long-term keys, `arn:aws:sts::<account>:assumed-role/<role>/<session>` otherwise. */
  arn: string;
  userId: string;
  session?: {
    roleName: string;
    sessionName: string;
    /** False when the account's member role was seeded `noPermission`. */
    mayUseMacie: boolean;
  };
}

export type IdentityResolution =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'unrecognized' | 'expired' };

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  assumedRoleId: string;
  arn: string;
}

interface IssuedSession {
  accountId: string;
  roleName: string;
  sessionName: string;
  sessionToken: string;
  expiresAt: number;
}

// 'AKIA' + 'EMU0' + the 12-digit account: 20 characters like a real key, and the account is readable in logs.
const LONG_TERM_PREFIX = 'AKIAEMU0';
const LONG_TERM_KEY = /^AKIAEMU0(\d{12})$/;

/** Access keys: derived ones for seeded accounts, issued ones for AssumeRole sessions. */
export class CredentialStore {
  private readonly sessions = new Map<string, IssuedSession>();

  constructor(private readonly accounts: AccountRegistry) {}

  /** Deterministic long-term keys, so a script and the emulator agree without exchanging anything. */
  credentialsFor(accountId: string): { accessKeyId: string; secretAccessKey: string } {
    this.accounts.require(accountId);
    const secretAccessKey = createHash('sha256').update(`macie-emulator:${accountId}`).digest('base64').slice(0, 40);
    return { accessKeyId: `${LONG_TERM_PREFIX}${accountId}`, secretAccessKey };
  }

  issueSession(accountId: string, roleName: string, sessionName: string, expiresAt: number): TemporaryCredentials {
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const sessionToken = `EMU/${randomBytes(48).toString('base64')}`;
    this.sessions.set(accessKeyId, { accountId, roleName, sessionName, sessionToken, expiresAt });
    return {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken,
      expiresAt,
      assumedRoleId: `${roleId(accountId, roleName)}:${sessionName}`,
      arn: assumedRoleArn(accountId, roleName, sessionName),
    };
  }

  resolve(accessKeyId: string, sessionToken: string | undefined, now: number): IdentityResolution {
    const longTerm = LONG_TERM_KEY.exec(accessKeyId);
    if (longTerm) {
      const accountId = longTerm[1] ?? '';
      if (!this.accounts.get(accountId)) return { ok: false, reason: 'unrecognized' };
      return { ok: true, principal: { accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId } };
    }
    const session = this.sessions.get(accessKeyId);
    // Temporary keys are only valid together with the token they were issued with, as in AWS.
    if (!session || session.sessionToken !== sessionToken) return { ok: false, reason: 'unrecognized' };
    if (now >= session.expiresAt) return { ok: false, reason: 'expired' };
    const account = this.accounts.get(session.accountId);
    if (!account) return { ok: false, reason: 'unrecognized' };
    return {
      ok: true,
      principal: {
        accountId: session.accountId,
        arn: assumedRoleArn(session.accountId, session.roleName, session.sessionName),
        userId: `${roleId(session.accountId, session.roleName)}:${session.sessionName}`,
        session: {
          roleName: session.roleName,
          sessionName: session.sessionName,
          mayUseMacie: account.memberRole !== 'noPermission',
        },
      },
    };
  }
}

function assumedRoleArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

/** A stable `AROA…` role id per (account, role), as IAM gives every role one. */
function roleId(accountId: string, roleName: string): string {
  const digest = createHash('sha256').update(`${accountId}/${roleName}`).digest('hex').slice(0, 17).toUpperCase();
  return `AROA${digest}`;
}
