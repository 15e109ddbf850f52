import type { IncomingHttpHeaders } from 'node:http';

/** What the emulator needs from a SigV4-signed request. Signatures are never verified: only the scope matters. */
export interface SigV4Identity {
  accessKeyId: string;
  /** `YYYYMMDD` from the credential scope. */
  date: string;
  region: string;
  service: string;
  sessionToken?: string;
}

// `Credential=AKID/20240101/eu-west-1/macie2/aws4_request`; the key itself never contains a slash.
const CREDENTIAL_SCOPE = /^([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request$/;
const AUTHORIZATION_CREDENTIAL = /Credential=([^,\s]+)/;

function parseScope(credential: string): Omit<SigV4Identity, 'sessionToken'> | undefined {
  const match = CREDENTIAL_SCOPE.exec(credential);
  if (!match) return undefined;
  const [, accessKeyId, date, region, service] = match;
  if (!accessKeyId || !date || !region || !service) return undefined;
  return { accessKeyId, date, region, service };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads the caller's access key, region and service from the `Authorization` header, or from the query of a
 * presigned URL (`X-Amz-Credential`). Undefined when the request is not SigV4-signed.
 */
export function parseSigV4Identity(headers: IncomingHttpHeaders, query: URLSearchParams): SigV4Identity | undefined {
  const authorization = headerValue(headers, 'authorization');
  if (authorization?.startsWith('AWS4-HMAC-SHA256')) {
    const credential = AUTHORIZATION_CREDENTIAL.exec(authorization)?.[1];
    const scope = credential === undefined ? undefined : parseScope(credential);
    if (!scope) return undefined;
    const sessionToken = headerValue(headers, 'x-amz-security-token');
    return sessionToken === undefined ? scope : { ...scope, sessionToken };
  }
  const presigned = query.get('X-Amz-Credential');
  if (presigned !== null) {
    const scope = parseScope(presigned);
    if (!scope) return undefined;
    const sessionToken = query.get('X-Amz-Security-Token');
    return sessionToken === null ? scope : { ...scope, sessionToken };
  }
  return undefined;
}
