/**
 * Request signing for the WS.WebTV platform API (docs/vendor-apis.md, WebTV, "Signing").
 *
 *   signature = base64( HMAC-SHA256( key = shared secret, message = salt + timestamp ) )
 *
 * The raw 32-byte digest is base64-encoded (PHP `hash_hmac(..., true)`), and the shared
 * secret is used as the literal string, never base64-decoded first. Known vector, computed
 * with PHP from the documented formula:
 *
 *   secret    MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3
 *   salt      5f4dcc3b5aa765d61d8327deb882cf99
 *   timestamp 1700000000
 *   →         3KQW2RQ8FINy5lLVRtDNQGnW+PPhkCUnhuWtydTRsk4=
 *
 * The signature covers neither the action nor the body, so every attempt (retries
 * included) must carry a fresh salt and the current timestamp: the server refuses stale
 * timestamps and (assumed) salts it has already seen.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { WebTvAction } from './types.ts';

export interface WebTvCredentials {
  /** The public Key ID that names the credential (sent as `key`). */
  keyId: string;
  /** The shared secret; used only to compute signatures, never sent or printed. */
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

export function currentUnixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * The request URL for one attempt: `go=store`, `do=<action>`, `iq=<userId>`, then
 * `timestamp`, `salt`, `key`, `signature`, all URL-encoded (URLSearchParams turns the
 * `+`, `/` and `=` of base64 into `%2B`, `%2F`, `%3D`). Without `at`, the salt is fresh
 * and the timestamp is now: pass `at` only in tests.
 *
 * The returned URL carries a signature: never print or log it (see `describeEndpoint`).
 */
export function buildSignedUrl(
  apiUrl: string | URL,
  action: WebTvAction,
  userId: number,
  credentials: WebTvCredentials,
  at?: { timestamp?: number; salt?: string },
): URL {
  const url = new URL(apiUrl);
  const timestamp = at?.timestamp ?? currentUnixSeconds();
  const salt = at?.salt ?? newSalt();
  // A detached copy of the query, written back once: each set() on url.searchParams would
  // serialise the whole URL again.
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
