/**
 * WebTV request signing (src/apis/webtv/signing.ts): the documented vector, a fresh salt
 * and timestamp on every call, URL encoding that survives a server decoding the query,
 * and (when PHP is installed) PHP's own hash_hmac/http_build_query as the reference.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSignedUrl, newSalt, webTvSignature } from '../../src/apis/webtv/signing.ts';
import { phpForTests, runPhpJson } from '../../harness/php.ts';

const documentedSecret = 'MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3';
const documentedKeyId = '1b323a1cb879fd4e66530fbad07a32ee';
const credentials = { keyId: documentedKeyId, sharedSecret: documentedSecret };

describe('webTvSignature', () => {
  it('reproduces the vector of docs/vendor-apis.md (PHP hash_hmac with raw output, base64)', () => {
    expect(webTvSignature(documentedSecret, '5f4dcc3b5aa765d61d8327deb882cf99', 1700000000)).toBe(
      '3KQW2RQ8FINy5lLVRtDNQGnW+PPhkCUnhuWtydTRsk4=',
    );
    expect(webTvSignature(documentedSecret, '5f4dcc3b5aa765d61d8327deb882cf99', '1700000000')).toBe(
      '3KQW2RQ8FINy5lLVRtDNQGnW+PPhkCUnhuWtydTRsk4=',
    );
  });

  it('uses the secret as the literal string, not base64-decoded', () => {
    const decoded = Buffer.from(documentedSecret, 'base64').toString('latin1');
    expect(webTvSignature(decoded, '5f4dcc3b5aa765d61d8327deb882cf99', 1700000000)).not.toBe(
      '3KQW2RQ8FINy5lLVRtDNQGnW+PPhkCUnhuWtydTRsk4=',
    );
  });

  it('signs salt then timestamp (not the other way round)', () => {
    expect(webTvSignature(documentedSecret, '1700000000', '5f4dcc3b5aa765d61d8327deb882cf99')).not.toBe(
      webTvSignature(documentedSecret, '5f4dcc3b5aa765d61d8327deb882cf99', 1700000000),
    );
  });
});

describe('newSalt', () => {
  it('is 32 hex characters and different every time', () => {
    const salts = new Set(Array.from({ length: 200 }, () => newSalt()));
    expect(salts.size).toBe(200);
    for (const salt of salts) expect(salt).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('buildSignedUrl', () => {
  it('puts go, do, iq, timestamp, salt, key, signature in the query, in that order', () => {
    const url = buildSignedUrl('https://store.example/api.php', 'cancel_order', 7, credentials, {
      timestamp: 1700000000,
      salt: '5f4dcc3b5aa765d61d8327deb882cf99',
    });
    expect(url.origin + url.pathname).toBe('https://store.example/api.php');
    expect([...url.searchParams.keys()]).toEqual(['go', 'do', 'iq', 'timestamp', 'salt', 'key', 'signature']);
    expect(url.searchParams.get('go')).toBe('store');
    expect(url.searchParams.get('do')).toBe('cancel_order');
    expect(url.searchParams.get('iq')).toBe('7');
    expect(url.searchParams.get('timestamp')).toBe('1700000000');
    expect(url.searchParams.get('key')).toBe(documentedKeyId);
    expect(url.searchParams.get('signature')).toBe('3KQW2RQ8FINy5lLVRtDNQGnW+PPhkCUnhuWtydTRsk4=');
    // The raw query: base64's + / = are percent-encoded, never sent bare.
    expect(url.search).toContain('signature=3KQW2RQ8FINy5lLVRtDNQGnW%2BPPhkCUnhuWtydTRsk4%3D');
    expect(url.search).not.toContain('+');
  });

  it('gives every call a fresh salt and the current time', () => {
    const before = Math.floor(Date.now() / 1000);
    const first = buildSignedUrl('https://store.example/api.php', 'get_credit', 1, credentials);
    const second = buildSignedUrl('https://store.example/api.php', 'get_credit', 1, credentials);
    const after = Math.floor(Date.now() / 1000);
    expect(first.searchParams.get('salt')).not.toBe(second.searchParams.get('salt'));
    expect(first.searchParams.get('signature')).not.toBe(second.searchParams.get('signature'));
    for (const url of [first, second]) {
      const timestamp = Number(url.searchParams.get('timestamp'));
      expect(timestamp).toBeGreaterThanOrEqual(before);
      expect(timestamp).toBeLessThanOrEqual(after);
      expect(url.searchParams.get('salt')).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('keeps the signature exact through a real server decoding the query', async () => {
    // Find salts whose signatures contain each of + / = so the round trip is meaningful.
    const wanted = ['+', '/', '='];
    const samples: Array<{ salt: string; signature: string }> = [];
    for (let i = 0; samples.length < 20 || !wanted.every((c) => samples.some((s) => s.signature.includes(c))); i++) {
      const salt = `salt-${i}`;
      samples.push({ salt, signature: webTvSignature(documentedSecret, salt, 1700000000) });
    }
    const received: string[] = [];
    const server = createServer((req, res) => {
      // Decode as a PHP-like server would: from the raw request target.
      received.push(new URL(req.url ?? '/', 'http://decoder.invalid').searchParams.get('signature') ?? '(missing)');
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (const sample of samples) {
        const url = buildSignedUrl(`http://127.0.0.1:${port}/api.php`, 'get_cart', 3, credentials, {
          timestamp: 1700000000,
          salt: sample.salt,
        });
        await (await fetch(url, { method: 'POST' })).text();
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(received).toEqual(samples.map((sample) => sample.signature));
  });

  it('keeps a query already present in the API URL', () => {
    const url = buildSignedUrl('https://store.example/api.php?lang=ja', 'list_orders', 2, credentials, { timestamp: 1, salt: 'a' });
    expect(url.searchParams.get('lang')).toBe('ja');
    expect(url.searchParams.get('do')).toBe('list_orders');
  });
});

// ---- PHP as the reference ---------------------------------------------------------------

const php = phpForTests({ check: 'the WebTV signing cross-check against PHP' });

describe.skipIf(php === undefined)('against PHP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webtv-signing-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'sign.php');
  // The vendor sample's signing and query building, verbatim in substance.
  writeFileSync(
    script,
    `<?php
$input = json_decode(stream_get_contents(STDIN), true);
$out = [];
foreach ($input['cases'] as $case) {
  $signature = base64_encode(hash_hmac('sha256', $case['salt'].$case['timestamp'], $case['secret'], true));
  $GET_VARS = array("go" => "store", "do" => $case['action'], "iq" => $case['userId']);
  $GET_VARS["timestamp"] = $case['timestamp'];
  $GET_VARS["salt"] = $case['salt'];
  $GET_VARS["key"] = $case['keyId'];
  $GET_VARS["signature"] = $signature;
  $out[] = array("signature" => $signature, "query" => http_build_query($GET_VARS));
}
echo json_encode($out);
`,
  );

  it('computes the same signatures and the same decoded query as PHP', async () => {
    const cases = Array.from({ length: 40 }, (_, i) => ({
      secret: i === 0 ? documentedSecret : `secret-${newSalt()}-ü€-${i}`,
      salt: i === 0 ? '5f4dcc3b5aa765d61d8327deb882cf99' : newSalt(),
      timestamp: 1700000000 + i * 7919,
      action: 'add_subtract_credit' as const,
      userId: i + 1,
      keyId: documentedKeyId,
    }));
    const fromPhp = (await runPhpJson(php!, script, { cases })) as Array<{ signature: string; query: string }>;
    expect(fromPhp[0]?.signature).toBe('3KQW2RQ8FINy5lLVRtDNQGnW+PPhkCUnhuWtydTRsk4=');
    cases.forEach((c, i) => {
      const ours = buildSignedUrl('https://store.example/api.php', c.action, c.userId, { keyId: c.keyId, sharedSecret: c.secret }, {
        timestamp: c.timestamp,
        salt: c.salt,
      });
      const theirs = new URLSearchParams(fromPhp[i]!.query);
      expect(ours.searchParams.get('signature')).toBe(fromPhp[i]!.signature);
      expect([...ours.searchParams]).toEqual([...theirs]);
    });
  });
});
