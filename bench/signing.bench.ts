/**
 * Signing cost per request (measured, not asserted): every WebTV attempt computes a fresh
 * HMAC-SHA256 signature and every JustClick call an http_build_query + md5.
 * Run: npm run bench
 */
import { bench, describe } from 'vitest';
import { buildSignedUrl, newSalt, webTvSignature } from '../src/apis/webtv/signing.ts';
import { justClickRequestHash, phpHttpBuildQuery } from '../src/apis/justclick/signing.ts';

const secret = 'MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3';
const order = {
  bill_id: 'B-1111',
  bill_email: 'buyer@example.com',
  bill_first_name: 'Анна',
  goods: [
    { good_name: 'course-basic', good_sum: '990.00' },
    { good_name: 'course-pro ~*()', good_sum: '1990.00' },
  ],
};

describe('WebTV', () => {
  bench('webTvSignature', () => {
    webTvSignature(secret, '5f4dcc3b5aa765d61d8327deb882cf99', 1700000000);
  });
  bench('buildSignedUrl (fresh salt and timestamp)', () => {
    buildSignedUrl('https://shop.example.com/api.php', 'add_subtract_credit', 42, { keyId: '1b323a1cb879fd4e66530fbad07a32ee', sharedSecret: secret });
  });
  bench('newSalt', () => {
    newSalt();
  });
});

describe('JustClick', () => {
  bench('phpHttpBuildQuery (nested goods)', () => {
    phpHttpBuildQuery(order);
  });
  bench('justClickRequestHash', () => {
    justClickRequestHash(order, 'username', 'X'.repeat(40));
  });
});
