/** The HTTP server both simulators run on: body parsing, the fault queue, the call log and the `/_sim/` admin API (docs/simulators.md). */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../config-reader.ts';

const faultKinds = ['error', 'http-status', 'latency', 'apply-then-drop', 'broken-json', 'wrong-hash'] as const;

export type FaultKind = (typeof faultKinds)[number];

export type Fault = { operation: string; count: number } & (
  | {
      kind: 'error';
      /** WebTV: the `error` code (`ERROR_NO_ORDER`); JustClick: the numeric `error_code` as text. */
      code: string;
      /** Default: the documented text for the code. */
      text?: string | undefined;
    }
  | { kind: 'http-status'; status: number; body?: string | undefined; contentType?: string | undefined }
  | { kind: 'latency'; ms: number }
  | { kind: 'apply-then-drop' | 'broken-json' | 'wrong-hash' }
);

export type ErrorFault = Extract<Fault, { kind: 'error' }>;

class InvalidFaultError extends Error {
  override readonly name = 'InvalidFaultError';
}

/** Validates a fault from the admin API or a test; lists every problem. */
function parseFault(input: unknown, knownOperations: readonly string[], supportedKinds: readonly FaultKind[] = faultKinds): Fault {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidFaultError('a fault is a JSON object such as {"operation":"cancel_order","kind":"error","code":"ERROR"}');
  }
  const raw = input as Record<string, unknown>;
  const problems: string[] = [];
  const wholeFrom = (value: unknown, low: number, high: number): boolean =>
    Number.isInteger(value) && (value as number) >= low && (value as number) <= high;
  const operation = raw['operation'] ?? '*';
  if (typeof operation !== 'string' || (operation !== '*' && !knownOperations.includes(operation))) {
    problems.push(`operation must be "*" or one of ${knownOperations.join(', ')}; got ${JSON.stringify(operation)}`);
  }
  const count = raw['count'] ?? 1;
  if (!wholeFrom(count, 1, 10_000)) problems.push(`count must be a whole number from 1 to 10000; got ${JSON.stringify(count)}`);
  const kind = raw['kind'];
  if (typeof kind !== 'string' || !supportedKinds.includes(kind as FaultKind)) {
    problems.push(`kind must be one of ${supportedKinds.join(', ')}; got ${JSON.stringify(kind)}`);
  }
  if (kind === 'error') {
    if (typeof raw['code'] !== 'string' && typeof raw['code'] !== 'number') problems.push('an error fault needs "code"');
    if (raw['text'] !== undefined && typeof raw['text'] !== 'string') problems.push('"text" must be a string');
  }
  if (kind === 'http-status') {
    if (!wholeFrom(raw['status'], 100, 599)) {
      problems.push(`an http-status fault needs "status" from 100 to 599; got ${JSON.stringify(raw['status'])}`);
    }
    if (raw['body'] !== undefined && typeof raw['body'] !== 'string') problems.push('"body" must be a string');
    if (raw['contentType'] !== undefined && typeof raw['contentType'] !== 'string') problems.push('"contentType" must be a string');
  }
  if (kind === 'latency' && !wholeFrom(raw['ms'], 0, 600_000)) {
    problems.push(`a latency fault needs "ms" from 0 to 600000; got ${JSON.stringify(raw['ms'])}`);
  }
  if (problems.length > 0) throw new InvalidFaultError(`invalid fault: ${problems.join('; ')}`);
  const details =
    kind === 'error' ? { code: String(raw['code']), text: raw['text'] }
    : kind === 'http-status' ? { status: raw['status'], body: raw['body'], contentType: raw['contentType'] }
    : kind === 'latency' ? { ms: raw['ms'] }
    : {};
  return { operation, count, kind, ...details } as Fault;
}

export class FaultPlan {
  private readonly pending: Fault[] = [];

  add(fault: Fault): void {
    this.pending.push({ ...fault });
  }

  /** Takes one use of the first fault matching the operation, if any. */
  take(operation: string): Fault | undefined {
    const index = this.pending.findIndex((fault) => fault.operation === '*' || fault.operation === operation);
    if (index < 0) return undefined;
    const fault = this.pending[index]!;
    fault.count -= 1;
    if (fault.count <= 0) this.pending.splice(index, 1);
    return { ...fault, count: 1 };
  }

  list(): Fault[] {
    return this.pending.map((fault) => ({ ...fault }));
  }

  clear(): void {
    this.pending.length = 0;
  }
}

export interface SimRequest {
  method: string;
  url: URL;
  /** Body fields in the order received, names as sent (`goods[0][good_name]`). */
  fields: Array<[name: string, value: string]>;
  receivedAt: Date;
}

export interface SimAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface SimulatedApi {
  readonly operations: readonly string[];
  /** Default: every kind. */
  readonly faultKinds?: readonly FaultKind[];
  /** The operation a request is for (`cancel_order`, `DeleteOrder`), or undefined if none. */
  operationOf(request: SimRequest): string | undefined;
  /** Handles a request and commits its effect; `fault` for faults that shape the answer. */
  handle(request: SimRequest, fault: Fault | undefined): SimAnswer;
  /** The documented error answer for an `error` fault; commits nothing. */
  renderFaultError(request: SimRequest, fault: ErrorFault): SimAnswer;
  snapshot(): unknown;
}

export interface CallLogEntry {
  at: string;
  operation: string | null;
  query: Record<string, string>;
  fields: Record<string, string>;
  fault: FaultKind | null;
  status: number | null;
  answer: string | null;
}

export type SimulatorHandle = Awaited<ReturnType<typeof startSimulatorServer>>;

/** Where a simulator listens. */
export interface ListenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
}

const maxBodyBytes = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) throw new Error(`request body larger than ${maxBodyBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** How PHP answers by default: `text/html`, whatever the body. */
const phpContentType = 'text/html; charset=UTF-8';

/** The web server's 404 page for a path the API does not serve; `hint` is HTML. */
export function phpNotFound(hint: string): SimAnswer {
  const page = `<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>${hint}</p></body></html>`;
  return { status: 404, contentType: phpContentType, body: `<!DOCTYPE html>${page}` };
}

/** `json_encode` with PHP's default flags: non-ASCII as `\uXXXX` (UTF-16 units), `/` as `\/`. */
export function phpJsonEncode(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replaceAll('/', '\\/');
}

/** A 200 answer of `value` as a PHP API sends it. */
export function phpJsonAnswer(value: unknown): SimAnswer {
  return { status: 200, contentType: phpContentType, body: phpJsonEncode(value) };
}

/** Parses multipart/form-data (what PHP's curl sends for an array) and urlencoded bodies. */
async function parseFormBody(contentType: string, raw: Buffer): Promise<Array<[string, string]>> {
  if (raw.length === 0) return [];
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== '' && type !== 'application/x-www-form-urlencoded' && type !== 'multipart/form-data') {
    const supported = 'multipart/form-data or application/x-www-form-urlencoded';
    throw new Error(`unsupported content type ${JSON.stringify(contentType)}; send ${supported}`);
  }
  const headers = { 'content-type': type === '' ? 'application/x-www-form-urlencoded' : contentType };
  const form = await new Request('http://simulator.invalid/', { method: 'POST', headers, body: new Uint8Array(raw) }).formData();
  return Promise.all(
    [...form].map(async ([name, value]): Promise<[string, string]> => [name, typeof value === 'string' ? value : await value.text()]),
  );
}

const plainText = 'text/plain; charset=utf-8';

function sendAnswer(res: ServerResponse, answer: SimAnswer): void {
  res.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendAnswer(res, { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(value, null, 2) });
}

const defaultErrorPage = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';

/** `redactFields`: query and body fields whose values the call log hides. */
export async function startSimulatorServer(api: SimulatedApi, options: ListenOptions & { redactFields: readonly string[] }) {
  const faults = new FaultPlan();
  const calls: CallLogEntry[] = [];
  const redact = new Set(options.redactFields);
  const redacted = (entries: Iterable<[string, string]>): Record<string, string> =>
    Object.fromEntries([...entries].map(([name, value]) => [name, redact.has(name) ? '[redacted]' : value]));

  const addFault = (input: unknown): Fault => {
    const fault = parseFault(input, api.operations, api.faultKinds);
    faults.add(fault);
    return fault;
  };

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    switch (route) {
      case 'GET /_sim/state':
        return sendJson(res, 200, api.snapshot());
      case 'GET /_sim/calls':
        return sendJson(res, 200, calls);
      case 'GET /_sim/faults':
        return sendJson(res, 200, faults.list());
      case 'DELETE /_sim/faults':
        faults.clear();
        return sendJson(res, 200, { ok: 'faults cleared' });
      case 'POST /_sim/faults': {
        let input: unknown;
        try {
          input = JSON.parse((await readBody(req)).toString('utf8'));
        } catch {
          return sendJson(res, 400, { error: 'the body must be a JSON fault object' });
        }
        try {
          return sendJson(res, 201, addFault(input));
        } catch (error) {
          if (error instanceof InvalidFaultError) return sendJson(res, 400, { error: error.message });
          throw error;
        }
      }
      default:
        return sendJson(res, 404, {
          error: `no admin route ${route}; use GET /_sim/state, GET /_sim/calls, GET|POST|DELETE /_sim/faults`,
        });
    }
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const contentType = String(req.headers['content-type'] ?? '');
    const raw = await readBody(req);
    let fields: Array<[string, string]>;
    try {
      fields = await parseFormBody(contentType, raw);
    } catch (error) {
      return sendAnswer(res, { status: 400, contentType: plainText, body: messageOf(error) });
    }
    const request: SimRequest = {
      method: req.method ?? 'GET',
      url,
      fields,
      receivedAt: new Date(),
    };
    const operation = api.operationOf(request);
    const fault = operation === undefined ? undefined : faults.take(operation);
    const entry: CallLogEntry = {
      at: request.receivedAt.toISOString(),
      operation: operation ?? null,
      query: redacted(url.searchParams.entries()),
      fields: redacted(fields),
      fault: fault?.kind ?? null,
      status: null,
      answer: null,
    };
    calls.push(entry);

    if (fault?.kind === 'latency') await sleep(fault.ms);
    let answer: SimAnswer;
    if (fault?.kind === 'error') {
      answer = api.renderFaultError(request, fault);
    } else if (fault?.kind === 'http-status') {
      const body = fault.body ?? defaultErrorPage.replaceAll('502 Bad Gateway', `${fault.status} Simulated failure`);
      answer = { status: fault.status, contentType: fault.contentType ?? 'text/html', body };
    } else {
      answer = api.handle(request, fault);
    }
    entry.answer = answer.body;
    if (fault?.kind === 'apply-then-drop') {
      req.socket.destroy();
      return;
    }
    entry.status = answer.status;
    if (fault?.kind === 'broken-json') answer = { ...answer, body: answer.body.slice(0, Math.max(1, Math.floor(answer.body.length / 2))) };
    sendAnswer(res, answer);
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const work = url.pathname.startsWith('/_sim/') || url.pathname === '/_sim' ? handleAdmin(req, res, url) : handleApi(req, res, url);
    work.catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendAnswer(res, { status: 500, contentType: plainText, body: `simulator error: ${messageOf(error)}` });
    });
  });
  server.keepAliveTimeout = 5_000;

  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    /** e.g. http://127.0.0.1:41234 */
    origin: `http://${host}:${address.port}`,
    port: address.port,
    faults,
    calls: calls as readonly CallLogEntry[],
    addFault,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
