/**
 * The transport half of a call's outcome (src/apis/http.ts), through real sockets on
 * loopback: every server here is a node:net / node:http / node:tls server on port 0 that
 * misbehaves in one precise way, and each case asserts the outcome class, its `code`, its
 * `resendable` flag (for idempotent and non-idempotent calls) and that the message names the
 * endpoint without ever showing the query string (which carries the signature).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createHttpTransport,
  defaultHttpTimeouts,
  inFlightWindowMs,
  parseJsonAnswer,
  rejectForHttpStatus,
  sendPost,
} from '../../src/apis/http.ts';
import type { HttpPostRequest, HttpResponse, HttpTransport, HttpTransportOptions } from '../../src/apis/http.ts';
import {
  ApiCallError,
  ApiRejectedError,
  OutcomeUnknownError,
  RequestNotSentError,
} from '../../src/apis/outcome.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), 'utf8');
const loopbackTls = { key: fixture('loopback.key.pem'), cert: fixture('loopback.cert.pem') };
const wrongHostTls = { key: fixture('wrong-host.key.pem'), cert: fixture('wrong-host.cert.pem') };

/** Query values that must never show up in a message: a signature and a key id. */
const secretQuery = 'go=store&do=cancel_order&iq=2&key=KEYID-NOT-FOR-MESSAGES&signature=SIG%2BNOT%2FFOR%3DMESSAGES';
const secretMarkers = ['KEYID-NOT-FOR-MESSAGES', 'NOT%2FFOR', 'NOT/FOR', 'signature=', 'key=', '?go=', 'iq=2'];

/**
 * Generous by default, so that a busy machine cannot turn one timeout into another; each
 * timeout case shortens only the timeout it is about.
 */
const testTimeouts = { connectMs: 5_000, headersMs: 5_000, bodyMs: 5_000 };
const shortMs = 300;

// ---- servers and clean-up -------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Listens on 127.0.0.1:0, and on clean-up destroys every open socket and closes. */
async function listen(server: Server): Promise<number> {
  const sockets = new Set<Socket>();
  // 'connection' gives the raw TCP socket for net, http and tls servers alike.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** A port on 127.0.0.1 that nothing listens on (it was bound, then released). */
async function refusedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP server that reads the whole request body, counts requests, then runs `handler`. */
async function httpServer(handler: Handler): Promise<{ port: number; requests: () => number }> {
  let requests = 0;
  const server = createHttpServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => handler(req, res));
  });
  const port = await listen(server);
  return { port, requests: () => requests };
}

function transportFor(options: HttpTransportOptions = {}): HttpTransport {
  const transport = createHttpTransport({ ...options, timeouts: { ...testTimeouts, ...options.timeouts } });
  cleanups.push(() => transport.close());
  return transport;
}

function postTo(origin: string, idempotent: boolean): HttpPostRequest {
  return {
    api: 'webtv',
    operation: 'cancel_order',
    url: new URL(`${origin}/api.php?${secretQuery}`),
    body: 'requester=ADMIN',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    idempotent,
  };
}

// ---- assertions -----------------------------------------------------------------------

async function failureOf(work: () => Promise<unknown>): Promise<ApiCallError> {
  let result: unknown;
  try {
    result = await work();
  } catch (error) {
    if (error instanceof ApiCallError) return error;
    throw new Error(`expected an ApiCallError, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected the call to fail, but it returned ${JSON.stringify(result)}`);
}

function expectMessageNamesEndpointOnly(error: ApiCallError, origin: string): void {
  expect(error.message).toContain(`${origin}/api.php`);
  expect(error.message).toContain('WebTV store API cancel_order');
  const printed = [error.message, JSON.stringify(error), String(error.stack)].join('\n');
  for (const marker of secretMarkers) expect(printed).not.toContain(marker);
}

const bothKinds = [
  { idempotent: true, kind: 'idempotent' },
  { idempotent: false, kind: 'not idempotent' },
] as const;

// ---- not sent -------------------------------------------------------------------------

describe('not sent: the connection was never established', () => {
  it.each(bothKinds)('a refused port is not-sent and resendable ($kind)', async ({ idempotent }) => {
    const origin = `http://127.0.0.1:${await refusedPort()}`;
    const error = await failureOf(() => sendPost(transportFor(), postTo(origin, idempotent)));
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(error.outcome).toBe('not-sent');
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.resendable).toBe(true);
    expect(error.httpStatus).toBeUndefined();
    expectMessageNamesEndpointOnly(error, origin);
  });

  it.each(bothKinds)('a self-signed certificate is refused before anything is written ($kind)', async ({ idempotent }) => {
    let bytesReceived = 0;
    const server = createTlsServer(loopbackTls, (socket) => {
      socket.on('data', (chunk: Buffer) => {
        bytesReceived += chunk.length;
      });
    });
    const origin = `https://127.0.0.1:${await listen(server)}`;
    const error = await failureOf(() => sendPost(transportFor(), postTo(origin, idempotent)));
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(error.outcome).toBe('not-sent');
    expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(error.resendable).toBe(true);
    expect(bytesReceived).toBe(0);
    expectMessageNamesEndpointOnly(error, origin);
  });

  it('verification is on: the same server answers once its certificate is trusted via `ca`', async () => {
    const server = createTlsServer(loopbackTls, (socket) => {
      socket.once('data', () => {
        socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{"ok":"ok"}');
      });
    });
    const origin = `https://127.0.0.1:${await listen(server)}`;
    const response = await sendPost(transportFor({ ca: loopbackTls.cert }), postTo(origin, false));
    expect(response.status).toBe(200);
    expect(parseJsonAnswer(postTo(origin, false), response)).toEqual({ ok: 'ok' });
  });

  it('verification checks the host name: a trusted certificate for another name is refused', async () => {
    const server = createTlsServer(wrongHostTls, (socket) => socket.end());
    const origin = `https://127.0.0.1:${await listen(server)}`;
    const error = await failureOf(() => sendPost(transportFor({ ca: wrongHostTls.cert }), postTo(origin, false)));
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(error.resendable).toBe(true);
    expectMessageNamesEndpointOnly(error, origin);
  });
});

// ---- unknown: sent, no trustworthy answer ----------------------------------------------

describe('unknown: the request was sent and no trustworthy answer came back', () => {
  it.each(bothKinds)('a server that accepts and never answers times out waiting for headers ($kind)', async ({ idempotent }) => {
    let bytesReceived = 0;
    const server = createNetServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        bytesReceived += chunk.length;
      });
    });
    const origin = `http://127.0.0.1:${await listen(server)}`;
    const error = await failureOf(() => sendPost(transportFor({ timeouts: { headersMs: shortMs } }), postTo(origin, idempotent)));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.outcome).toBe('unknown');
    expect(error.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(error.resendable).toBe(idempotent);
    expect(error.httpStatus).toBeUndefined();
    expect(bytesReceived).toBeGreaterThan(0);
    expectMessageNamesEndpointOnly(error, origin);
  });

  it.each(bothKinds)('a connection dropped after the request, before any answer ($kind)', async ({ idempotent }) => {
    const server = createNetServer((socket) => {
      socket.once('data', () => socket.destroy());
    });
    const origin = `http://127.0.0.1:${await listen(server)}`;
    const error = await failureOf(() => sendPost(transportFor(), postTo(origin, idempotent)));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    // A FIN gives undici's "other side closed"; an RST (unread data at close) gives ECONNRESET.
    expect(['UND_ERR_SOCKET', 'ECONNRESET']).toContain(error.code);
    expect(error.resendable).toBe(idempotent);
    expectMessageNamesEndpointOnly(error, origin);
  });

  it.each(bothKinds)('a connection dropped in the middle of the response body ($kind)', async ({ idempotent }) => {
    const server = createNetServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"ok":"The ord');
        setTimeout(() => socket.destroy(), 20);
      });
    });
    const origin = `http://127.0.0.1:${await listen(server)}`;
    const error = await failureOf(() => sendPost(transportFor(), postTo(origin, idempotent)));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    // A FIN gives undici's "other side closed"; an RST (unread data at close) gives ECONNRESET.
    expect(['UND_ERR_SOCKET', 'ECONNRESET']).toContain(error.code);
    expect(error.httpStatus).toBe(200);
    expect(error.resendable).toBe(idempotent);
    expectMessageNamesEndpointOnly(error, origin);
  });

  it.each(bothKinds)('a body that stalls longer than the body timeout ($kind)', async ({ idempotent }) => {
    const server = createNetServer((socket) => {
      socket.once('data', () => {
        // Headers and a first chunk at once, then silence on an open socket.
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"ok":');
      });
    });
    const origin = `http://127.0.0.1:${await listen(server)}`;
    const error = await failureOf(() => sendPost(transportFor({ timeouts: { bodyMs: shortMs } }), postTo(origin, idempotent)));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.code).toBe('UND_ERR_BODY_TIMEOUT');
    expect(error.httpStatus).toBe(200);
    expect(error.resendable).toBe(idempotent);
    expectMessageNamesEndpointOnly(error, origin);
  });

  it.each(bothKinds)('an oversized body is not read to the end: RESPONSE_TOO_LARGE ($kind)', async ({ idempotent }) => {
    const { port } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // 64 KiB in 1 KiB chunks, against a 4 KiB limit.
      for (let i = 0; i < 64; i += 1) res.write(`${'x'.repeat(1023)}\n`);
      res.end();
    });
    const origin = `http://127.0.0.1:${port}`;
    const error = await failureOf(() => sendPost(transportFor({ maxResponseBytes: 4096 }), postTo(origin, idempotent)));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.code).toBe('RESPONSE_TOO_LARGE');
    expect(error.httpStatus).toBe(200);
    expect(error.resendable).toBe(idempotent);
    expect(error.message).toContain('4096 bytes');
    expectMessageNamesEndpointOnly(error, origin);
  });

  it('a body of exactly the limit is read in full', async () => {
    const body = `{"ok":"${'y'.repeat(4096 - 9)}"}`;
    expect(Buffer.byteLength(body)).toBe(4096);
    const { port } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const origin = `http://127.0.0.1:${port}`;
    const response = await sendPost(transportFor({ maxResponseBytes: 4096 }), postTo(origin, false));
    expect(response.bodyText).toBe(body);
  });

  it.each(bothKinds)('an HTML 502 from a proxy is unknown ($kind)', async ({ idempotent }) => {
    const page = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';
    const { port } = await httpServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(page);
    });
    const origin = `http://127.0.0.1:${port}`;
    const req = postTo(origin, idempotent);
    const response = await sendPost(transportFor(), req);
    expect(response).toEqual<HttpResponse>({ status: 502, contentType: 'text/html', bodyText: page });
    const error = await failureOf(async () => rejectForHttpStatus(req, response));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.outcome).toBe('unknown');
    expect(error.code).toBe('HTTP_502');
    expect(error.httpStatus).toBe(502);
    expect(error.resendable).toBe(idempotent);
    expect(error.message).toContain('502 Bad Gateway');
    expectMessageNamesEndpointOnly(error, origin);
  });

  it.each(bothKinds)('broken JSON with HTTP 200 is unknown ($kind)', async ({ idempotent }) => {
    const { port } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":"The order was canc');
    });
    const origin = `http://127.0.0.1:${port}`;
    const req = postTo(origin, idempotent);
    const response = await sendPost(transportFor(), req);
    expect(response.status).toBe(200);
    const error = await failureOf(async () => parseJsonAnswer(req, response));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.code).toBe('INVALID_JSON');
    expect(error.httpStatus).toBe(200);
    expect(error.resendable).toBe(idempotent);
    expectMessageNamesEndpointOnly(error, origin);
  });

  it('an empty 200 body is unknown as well', async () => {
    const { port } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end();
    });
    const origin = `http://127.0.0.1:${port}`;
    const req = postTo(origin, false);
    const error = await failureOf(async () => parseJsonAnswer(req, await sendPost(transportFor(), req)));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.code).toBe('INVALID_JSON');
    expect(error.message).toContain('empty');
  });
});

// ---- rejected: refused by HTTP status --------------------------------------------------

describe('rejected: an HTTP status that says the request was refused', () => {
  const cases = [
    { status: 404, resendable: false, contentType: 'text/html', body: '<h1>Not Found</h1>' },
    { status: 403, resendable: false, contentType: 'text/html', body: '<h1>Forbidden</h1>' },
    { status: 301, resendable: false, contentType: 'text/html', body: '<a href="/login">Moved</a>' },
    { status: 429, resendable: true, contentType: 'text/plain', body: 'Too Many Requests' },
    { status: 408, resendable: true, contentType: 'text/plain', body: 'Request Timeout' },
  ];
  for (const { status, resendable, contentType, body } of cases) {
    it.each(bothKinds)(`HTTP ${status} is rejected, resendable=${resendable} ($kind)`, async ({ idempotent }) => {
      const { port, requests } = await httpServer((_req, res) => {
        res.writeHead(status, { 'content-type': contentType, ...(status === 301 ? { location: '/login' } : {}) });
        res.end(body);
      });
      const origin = `http://127.0.0.1:${port}`;
      const req = postTo(origin, idempotent);
      const response = await sendPost(transportFor(), req);
      // No redirect is followed: one request, and the 3xx itself comes back.
      expect(requests()).toBe(1);
      expect(response.status).toBe(status);
      const error = await failureOf(async () => rejectForHttpStatus(req, response));
      expect(error).toBeInstanceOf(ApiRejectedError);
      expect(error.outcome).toBe('rejected');
      expect(error.code).toBe(`HTTP_${status}`);
      expect(error.httpStatus).toBe(status);
      expect(error.resendable).toBe(resendable);
      expect(error.message).toContain(body);
      expectMessageNamesEndpointOnly(error, origin);
    });
  }
});

// ---- the request that was sent -----------------------------------------------------------

describe('what goes over the wire', () => {
  it('sends one POST with the query string, headers and body as given, and reads a JSON answer', async () => {
    const seen: Array<{ method: string; url: string; contentType: string; body: string }> = [];
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          contentType: String(req.headers['content-type']),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":"The order was cancelled"}');
      });
    });
    const origin = `http://127.0.0.1:${await listen(server)}`;
    const req = postTo(origin, false);
    const response = await sendPost(transportFor(), req);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: `/api.php?${secretQuery}`,
        contentType: 'application/x-www-form-urlencoded',
        body: 'requester=ADMIN',
      },
    ]);
    expect(response.contentType).toBe('application/json');
    expect(parseJsonAnswer(req, response)).toEqual({ ok: 'The order was cancelled' });
  });
});

describe('hostile answers are bounded in time and memory, and never printed raw', () => {
  it('gives up on a body trickled one byte at a time at the total deadline (unknown, TOTAL_DEADLINE)', async () => {
    // Each byte comes well within bodyMs, so only a deadline for the whole call stops it.
    const { port } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    const origin = `http://127.0.0.1:${port}`;
    const error = await failureOf(() => sendPost(transportFor({ timeouts: { totalMs: 1_000 } }), postTo(origin, false)));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.code).toBe('TOTAL_DEADLINE');
    expect(error.message).toMatch(/no complete answer within the 1 s deadline for the whole call/);
    expectMessageNamesEndpointOnly(error, origin);
  });

  it('has one total deadline, and the in-flight window of the activities derives from it', () => {
    expect(defaultHttpTimeouts.totalMs).toBeGreaterThan(defaultHttpTimeouts.connectMs);
    expect(createHttpTransport().totalMs).toBe(defaultHttpTimeouts.totalMs);
    expect(inFlightWindowMs()).toBeGreaterThan(defaultHttpTimeouts.totalMs);
    expect(inFlightWindowMs({ totalMs: 5_000 })).toBe(inFlightWindowMs() - defaultHttpTimeouts.totalMs + 5_000);
  });

  it('refuses JSON nested a million deep without parsing it (unknown, JSON_TOO_DEEP)', async () => {
    const depth = 1_000_000;
    const { port } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    });
    const req = postTo(`http://127.0.0.1:${port}`, true);
    const response = await sendPost(transportFor(), req);
    const error = await failureOf(async () => parseJsonAnswer(req, response));
    expect(error).toMatchObject({ outcome: 'unknown', code: 'JSON_TOO_DEEP', resendable: true });
    expect(error.message).toMatch(/nested deeper than 64 levels/);
    // Brackets inside strings do not count; ordinary answers still parse.
    expect(parseJsonAnswer(req, { ...response, bodyText: JSON.stringify({ text: '[[[['.repeat(100), list: [[1]] }) })).toMatchObject({ list: [[1]] });
  });

  it('describes a gzip body instead of printing its bytes', async () => {
    const { gzipSync } = await import('node:zlib');
    const { port } = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync('{"ok":"The order was cancelled"}'));
    });
    const req = postTo(`http://127.0.0.1:${port}`, false);
    const response = await sendPost(transportFor(), req);
    expect(response.contentEncoding).toBe('gzip');
    const error = await failureOf(async () => parseJsonAnswer(req, response));
    expect(error).toMatchObject({ outcome: 'unknown', code: 'INVALID_JSON' });
    expect(error.message).toMatch(/\d+ bytes that are not text, content type application\/json, content encoding gzip; not shown/);
    // eslint-disable-next-line no-control-regex -- the point: no control character may be printed
    expect(error.message).not.toMatch(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f\ufffd]/u);
  });
});

describe('stopped by the caller: the AbortSignal (activity cancelled, user lock lost)', () => {
  it('a call whose signal aborted before sending is not sent, and nothing reaches the server', async () => {
    const server = await httpServer((_req, res) => res.end('{"ok":"should not happen"}'));
    const origin = `http://127.0.0.1:${server.port}`;
    const controller = new AbortController();
    controller.abort(new Error('Lost the lock on store user "2"'));
    const error = await failureOf(() => sendPost(transportFor(), { ...postTo(origin, false), signal: controller.signal }));
    expect(error).toBeInstanceOf(RequestNotSentError);
    expect(error).toMatchObject({ code: 'ABORTED', resendable: true });
    expect(error.message).toMatch(/not sent, because the work was stopped first \(Lost the lock on store user "2"\)/);
    expectMessageNamesEndpointOnly(error, origin);
    expect(server.requests()).toBe(0);
  });

  for (const { idempotent, kind } of bothKinds) {
    it(`a call aborted while in flight is unknown (${kind})`, async () => {
      const controller = new AbortController();
      const server = await httpServer(() => {
        // The request has arrived; the caller is told to stop before any answer.
        controller.abort(new Error('Lost the lock on store user "2"'));
      });
      const origin = `http://127.0.0.1:${server.port}`;
      const error = await failureOf(() => sendPost(transportFor(), { ...postTo(origin, idempotent), signal: controller.signal }));
      expect(error).toBeInstanceOf(OutcomeUnknownError);
      expect(error).toMatchObject({ code: 'ABORTED', resendable: idempotent });
      expect(error.message).toMatch(/stopped while in flight \(Lost the lock on store user "2"\); it may or may not have taken effect/);
      expectMessageNamesEndpointOnly(error, origin);
      expect(server.requests()).toBe(1);
    });
  }
});
