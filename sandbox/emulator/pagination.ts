/**
 * Opaque pagination tokens. The token carries the last key returned rather than an offset, so a page
 * sequence stays correct when members are added or deleted between pages (a reconciler does both).
 * The listing's name is inside, so a token from one listing is rejected by another, as AWS does.
 */
export function encodePageToken(listing: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ l: listing, k: lastKey })).toString('base64url');
}

/** The last key of the previous page, or undefined when the token is not one this listing issued. */
export function decodePageToken(listing: string, token: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { l, k } = parsed as { l?: unknown; k?: unknown };
    return l === listing && typeof k === 'string' ? k : undefined;
  } catch {
    return undefined;
  }
}
