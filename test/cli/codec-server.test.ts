/**
 * `orderflow codec-server`: the remote codec protocol as the Temporal UI and CLI call it
 * (POST /encode and /decode, payloads in protobuf JSON, CORS preflight), its access check
 * (shared token, OIDC JWT against a JWKS, open only on loopback) and its refusals.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { defaultPayloadConverter } from '@temporalio/common';
import { runCli } from '../../src/cli.ts';
import { readCodecServerSettings } from '../../src/cli/codec-server.ts';
import { startCodecServer } from '../../src/temporal/codec-server.ts';
import type { CodecServer } from '../../src/temporal/codec-server.ts';
import { AesGcmPayloadCodec, readEncryptionKeys } from '../../src/temporal/encryption.ts';

const keysValue = `K1=${randomBytes(32).toString('base64')}`;
const keys = readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: keysValue }).keys!;
const token = randomBytes(24).toString('hex');
const uiOrigin = 'http://127.0.0.1:8233';

function jsonPayload(value: unknown): { metadata: Record<string, string>; data: string } {
  const payload = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { payloads?: Array<{ metadata: Record<string, string>; data: string }>; message?: string; keyId?: string } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as never };
}

describe('the codec server', () => {
  let withToken: CodecServer;
  let open: CodecServer;
  let withJwt: CodecServer;
  let jwks: ReturnType<typeof createServer>;
  let sign: (claims: { aud: string; iss: string }) => Promise<string>;
  const logged: string[] = [];

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'RS256', use: 'sig' };
    jwks = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = new URL(`http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`);
    sign = (claims) => new SignJWT({ sub: 'anna' }).setProtectedHeader({ alg: 'RS256', kid: 'test' }).setIssuer(claims.iss).setAudience(claims.aud).setIssuedAt().setExpirationTime('5m').sign(privateKey);
    const log = (line: string): void => void logged.push(line);
    withToken = await startCodecServer({ keys, host: '127.0.0.1', port: 0, access: { token, jwt: undefined }, corsOrigins: new Set([uiOrigin]), log });
    open = await startCodecServer({ keys, host: '127.0.0.1', port: 0, access: { token: undefined, jwt: undefined }, corsOrigins: new Set([uiOrigin]), log });
    withJwt = await startCodecServer({ keys, host: '127.0.0.1', port: 0, access: { token: undefined, jwt: { jwksUrl, issuer: 'https://login.test', audience: 'temporal-ui' } }, corsOrigins: new Set(), log });
  });

  afterAll(async () => {
    await Promise.all([withToken?.close(), open?.close(), withJwt?.close()]);
    jwks?.close();
  });

  it('encodes and decodes as the UI and CLI call it; its ciphertext is what the worker codec reads, and back', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    const encoded = await post(`${withToken.url}/encode`, { payloads: [jsonPayload({ reason: 'Mrs Ivanova' })] }, auth);
    expect(encoded.status).toBe(200);
    const sealed = encoded.body.payloads![0]!;
    expect(Buffer.from(sealed.metadata['encoding']!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed.data, 'base64').includes('Ivanova')).toBe(false);
    // The worker's codec reads what the server wrote ...
    const [read] = await new AesGcmPayloadCodec(keys).decode([{ metadata: Object.fromEntries(Object.entries(sealed.metadata).map(([name, value]) => [name, new Uint8Array(Buffer.from(value, 'base64'))])), data: new Uint8Array(Buffer.from(sealed.data, 'base64')) }]);
    expect(defaultPayloadConverter.fromPayload(read!)).toEqual({ reason: 'Mrs Ivanova' });
    // ... and the server reads what the worker's codec wrote; plain payloads pass through.
    const [written] = await new AesGcmPayloadCodec(keys).encode([defaultPayloadConverter.toPayload({ amount: '5.50' })]);
    const writtenJson = { metadata: Object.fromEntries(Object.entries(written!.metadata!).map(([name, value]) => [name, Buffer.from(value).toString('base64')])), data: Buffer.from(written!.data!).toString('base64') };
    const decoded = await post(`${withToken.url}/decode`, { payloads: [writtenJson, jsonPayload('plain')] }, auth);
    expect(decoded.status).toBe(200);
    expect(decoded.body.payloads).toEqual([jsonPayload({ amount: '5.50' }), jsonPayload('plain')]);
  });

  it('refuses a missing or wrong token (401) and does not decode', async () => {
    expect((await post(`${withToken.url}/decode`, { payloads: [] })).status).toBe(401);
    const wrong = await post(`${withToken.url}/decode`, { payloads: [] }, { Authorization: `Bearer ${token.slice(1)}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe('not allowed: the bearer token was refused');
    expect(logged.join('\n')).not.toContain(token);
  });

  it("answers the UI's CORS preflight for its origin only, and refuses any request from another origin", async () => {
    const preflight = await fetch(`${withToken.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: uiOrigin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace,authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const other = await fetch(`${withToken.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await post(`${open.url}/decode`, { payloads: [] }, { Origin: 'http://evil.example' });
    expect(simple.status).toBe(403);
  });

  it('open on loopback: answers requests addressed to a loopback host only (no DNS rebinding)', async () => {
    expect((await post(`${open.url}/decode`, { payloads: [jsonPayload(1)] }, { Origin: uiOrigin })).status).toBe(200);
    const port = new URL(open.url).port;
    // A page on attacker.example whose name now resolves to 127.0.0.1 sends its own Host.
    const rebound = await new Promise<number>((resolve, reject) => {
      const outgoing = httpRequest({ host: '127.0.0.1', port: Number(port), path: '/decode', method: 'POST', headers: { Host: `attacker.example:${port}`, 'Content-Type': 'application/json' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      outgoing.on('error', reject);
      outgoing.end('{"payloads":[]}');
    });
    expect(rebound).toBe(401);
  });

  it('accepts the UI login access token when the JWKS verifies it for the issuer and audience, and refuses others', async () => {
    const good = await sign({ iss: 'https://login.test', aud: 'temporal-ui' });
    expect((await post(`${withJwt.url}/decode`, { payloads: [] }, { Authorization: `Bearer ${good}` })).status).toBe(200);
    const otherAudience = await sign({ iss: 'https://login.test', aud: 'another-app' });
    const refused = await post(`${withJwt.url}/decode`, { payloads: [] }, { Authorization: `Bearer ${otherAudience}` });
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/access token was refused \(ERR_JWT_CLAIM_VALIDATION_FAILED\)/);
  });

  it('answers a payload under an unknown key with 422, naming the key; a bad body with 400', async () => {
    const other = readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: `K9=${randomBytes(32).toString('base64')}` }).keys!;
    const [foreign] = await new AesGcmPayloadCodec(other).encode([defaultPayloadConverter.toPayload('x')]);
    const foreignJson = { metadata: Object.fromEntries(Object.entries(foreign!.metadata!).map(([name, value]) => [name, Buffer.from(value).toString('base64')])), data: Buffer.from(foreign!.data!).toString('base64') };
    const answer = await post(`${open.url}/decode`, { payloads: [foreignJson] });
    expect(answer.status).toBe(422);
    expect(answer.body.keyId).toBe('K9');
    expect(answer.body.message).toMatch(/key "K9", which is not configured here/);
    expect((await post(`${open.url}/decode`, { nothing: true })).status).toBe(400);
    expect((await post(`${open.url}/encode`, { payloads: [{ data: 'not base64!' }] })).status).toBe(400);
  });
});

describe('orderflow codec-server settings', () => {
  it('refuses to start without a token or JWKS unless on loopback, and a partial JWKS setting', () => {
    expect(readCodecServerSettings({ ORDERFLOW_CODEC_SERVER_LISTEN: '0.0.0.0:8234' }).problems[0]).toMatch(/would let anyone decode the runs' data on 0\.0\.0\.0:8234/);
    expect(readCodecServerSettings({}).settings).toMatchObject({ host: '127.0.0.1', port: 8234 });
    expect(readCodecServerSettings({ ORDERFLOW_CODEC_SERVER_JWKS_URL: 'https://login.example/jwks' }).problems).toEqual([
      'OIDC access tokens are checked against a JWKS, an issuer and an audience together: set ORDERFLOW_CODEC_SERVER_ISSUER and ORDERFLOW_CODEC_SERVER_AUDIENCE too (or none of the three).',
    ]);
    expect(readCodecServerSettings({ ORDERFLOW_CODEC_SERVER_TOKEN: 'short' }).problems[0]).toMatch(/must be at least 24 characters/);
    expect(readCodecServerSettings({ ORDERFLOW_CODEC_SERVER_CORS_ORIGINS: 'http://ui.example/path' }).problems[0]).toMatch(/is not an origin/);
  });

  it('runs as a CLI command until a signal; without keys it is refused (exit 2)', async () => {
    let stdout = '';
    let stderr = '';
    let stop: (signal: string) => void = () => undefined;
    const running = runCli(['codec-server'], {
      env: { ORDERFLOW_ENCRYPTION_KEYS: keysValue, ORDERFLOW_CODEC_SERVER_LISTEN: '127.0.0.1:0', ORDERFLOW_CODEC_SERVER_TOKEN: token },
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      waitForShutdown: () => new Promise((resolve) => (stop = resolve)),
    });
    const started = Date.now();
    while (!stdout.includes('codec server on') && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
    const url = /on (http:\/\/\S+)/.exec(stdout)?.[1];
    expect(stdout).toMatch(/keys K1; access: shared token; browsers from: none/);
    expect((await post(`${url}/decode`, { payloads: [] }, { Authorization: `Bearer ${token}` })).status).toBe(200);
    stop('SIGTERM');
    expect(await running).toBe(0);
    expect(stdout).not.toContain(token);
    expect(stderr).toBe('');

    let refusal = '';
    expect(await runCli(['codec-server'], { env: {}, stdout: { write: () => true }, stderr: { write: (text: string) => (refusal += text) } })).toBe(2);
    expect(refusal).toMatch(/ORDERFLOW_ENCRYPTION_KEYS \(or ORDERFLOW_ENCRYPTION_KEYS_FILE\) is not set/);
  });
});
