/** The codec server: Temporal's remote codec protocol (`POST /encode`, `/decode`) over ./encryption.ts; access: docs/encryption.md. */
import { timingSafeEqual, createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Payload } from '@temporalio/common';
import { isLoopbackHost, messageOf } from '../config-reader.ts';
import { AesGcmPayloadCodec, PayloadKeyError } from './encryption.ts';
import type { EncryptionKeys } from './encryption.ts';

/** How a request may be let in: a shared bearer token and/or OIDC access tokens (undefined: none). */
export interface CodecServerAccess {
  readonly token: string | undefined;
  readonly jwt: { readonly jwksUrl: URL; readonly issuer: string; readonly audience: string } | undefined;
}

export interface CodecServerOptions {
  readonly keys: EncryptionKeys;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly access: CodecServerAccess;
  /** Origins a browser may call from, read on every request (the local stack adds the UI's once it knows it). */
  readonly corsOrigins: ReadonlySet<string>;
  /** One line per refused or failed request (never a payload or a credential). */
  readonly log?: (line: string) => void;
}

export interface CodecServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export { isLoopbackHost } from '../config-reader.ts';

/** Largest request body accepted (a history page's payloads), in bytes. */
const maxBodyBytes = 8 * 1024 * 1024;

class RequestError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromJson(value: unknown, index: number): Payload {
  if (value === null || typeof value !== 'object') throw new RequestError(400, `payloads[${index}] is not an object`);
  const { metadata, data } = value as { metadata?: unknown; data?: unknown };
  if (metadata !== undefined && metadata !== null && typeof metadata !== 'object') {
    throw new RequestError(400, `payloads[${index}].metadata is not an object`);
  }
  const bytes = (text: unknown, field: string): Uint8Array => {
    if (typeof text !== 'string' || !base64.test(text)) throw new RequestError(400, `payloads[${index}].${field} is not base64`);
    return new Uint8Array(Buffer.from(text, 'base64'));
  };
  const decoded = Object.entries(metadata ?? {}).map(([name, entry]) => [name, bytes(entry, `metadata.${name}`)]);
  return { metadata: Object.fromEntries(decoded), data: bytes(data ?? '', 'data') };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  const metadata = Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('base64')]);
  return { metadata: Object.fromEntries(metadata), data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function sameSecret(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about the token.
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new RequestError(413, `the body is larger than ${maxBodyBytes} bytes; send fewer payloads at once`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const { access, corsOrigins } = options;
  const openAccess = access.token === undefined && access.jwt === undefined;
  if (openAccess && !isLoopbackHost(options.host)) {
    throw new Error(`the codec server would let anyone decode on ${options.host}: give it a token or a JWKS, or listen on loopback (127.0.0.1)`);
  }
  const codec = new AesGcmPayloadCodec(options.keys);
  const jwks = access.jwt === undefined ? undefined : createRemoteJWKSet(access.jwt.jwksUrl);
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));

  async function allowed(request: IncomingMessage): Promise<string | undefined> {
    if (openAccess) {
      const host = (request.headers.host ?? '').replace(/:\d+$/, '');
      return isLoopbackHost(host) ? undefined : 'this codec server (open on loopback) answers only requests addressed to a loopback host';
    }
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined) return 'no bearer token (send Authorization: Bearer <token>)';
    if (access.token !== undefined && sameSecret(token, access.token)) return undefined;
    if (jwks !== undefined && access.jwt !== undefined) {
      return jwtVerify(token, jwks, { issuer: access.jwt.issuer, audience: access.jwt.audience }).then(
        () => undefined,
        (error: unknown) => `the access token was refused (${error instanceof Error && 'code' in error ? String(error.code) : 'invalid'})`,
      );
    }
    return 'the bearer token was refused';
  }

  function answer(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    response.end(text);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const origin = request.headers.origin;
    const path = new URL(request.url ?? '/', 'http://codec.invalid').pathname.replace(/\/+$/, '');
    const operation = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (origin !== undefined) {
      if (!corsOrigins.has(origin)) {
        log(`codec server: refused a ${request.method ?? ''} ${path} from the origin ${origin}, which is not in ORDERFLOW_CODEC_SERVER_CORS_ORIGINS`);
        throw new RequestError(403, `the origin ${origin} may not call this codec server`);
      }
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Access-Control-Allow-Credentials', 'true');
      response.setHeader('Vary', 'Origin');
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Max-Age': '600',
      });
      response.end();
      return;
    }
    if (operation === undefined) throw new RequestError(404, 'not found: the codec server answers POST /encode and POST /decode');
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'POST, OPTIONS');
      throw new RequestError(405, `/${operation} takes POST`);
    }
    const refusal = await allowed(request);
    if (refusal !== undefined) {
      log(`codec server: refused /${operation}: ${refusal}`);
      throw new RequestError(401, `not allowed: ${refusal}`);
    }
    const parsed: unknown = await readBody(request).then((body) => JSON.parse(body)).catch((error: unknown) => {
      throw error instanceof RequestError ? error : new RequestError(400, 'the body is not JSON; send {"payloads": [...]}');
    });
    const raw = parsed !== null && typeof parsed === 'object' && 'payloads' in parsed ? parsed.payloads : undefined;
    if (!Array.isArray(raw)) throw new RequestError(400, 'the body must be {"payloads": [...]}');
    const payloads = raw.map(fromJson);
    const coded = operation === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    answer(response, 200, { payloads: coded.map(toJson) });
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof RequestError) {
        answer(response, error.status, { message: error.message });
      } else if (error instanceof PayloadKeyError) {
        log(`codec server: ${error.message}`);
        answer(response, 422, { message: error.message, keyId: error.keyId ?? null });
      } else {
        log(`codec server: unexpected failure: ${messageOf(error)}`);
        if (!response.headersSent) answer(response, 500, { message: 'the codec server failed; see its log' });
        else response.destroy();
      }
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
