/**
 * Request signing for the WS.WebTV platform API (docs/vendor-apis.md, WebTV, "Signing"):
 *   signature = base64( HMAC-SHA256( key = shared secret as the literal string, message = salt + timestamp ) )
 * It covers neither the action nor the body, so every attempt needs a fresh salt and the current timestamp.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { WebTvAction } from './types.ts';

export interface WebTvCredentials {
  /** Sent as `key`. */
  keyId: string;
  /** Never sent or printed. */
  sharedSecret: string;
}

/** The query names the signed request URL sets; a POST field must not repeat one. */
export const webTvSignedQueryNames = Object.freeze(['go', 'do', 'iq', 'timestamp', 'salt', 'key', 'signature'] as const);

export function webTvSignature(sharedSecret: string, salt: string, timestamp: number | string): string {
  if (typeof timestamp === 'number' && !Number.isSafeInteger(timestamp)) {
    // PHP prints such a number exactly; JavaScript would print it rounded and sign something else.
    throw new RangeError(`WebTV timestamp ${timestamp} is not a whole number of seconds within JavaScript's exact range`);
  }
  return createHmac('sha256', sharedSecret).update(`${salt}${timestamp}`, 'utf8').digest('base64');
}

/** 32 hex characters from the CSPRNG (the vendor sample's `md5(mt_rand())` is guessable). */
export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The request URL for one attempt; without `at` (tests only), a fresh salt and the current time.
 * It carries a signature: never print or log it (see `callDescription`).
 */
export function buildSignedUrl(
  apiUrl: string | URL,
  action: WebTvAction,
  userId: number,
  credentials: WebTvCredentials,
  at?: { timestamp?: number; salt?: string },
): URL {
  const url = new URL(apiUrl);
  const timestamp = at?.timestamp ?? Math.floor(Date.now() / 1000);
  const salt = at?.salt ?? newSalt();
  // Written back once: each set() on url.searchParams would serialise the whole URL again.
  const query = new URLSearchParams(url.search);
  query.set('go', 'store');
  query.set('do', action);
  query.set('iq', String(userId));
  query.set('timestamp', String(timestamp));
  query.set('salt', salt);
  query.set('key', credentials.keyId);
  query.set('signature', webTvSignature(credentials.sharedSecret, salt, timestamp));
  url.search = query.toString();
  return url;
}
