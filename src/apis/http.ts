/**
 * HTTP transport shared by both API clients, and the transport and HTTP-status half of each
 * call's outcome (./outcome.ts). No retries here (Temporal owns them); TLS verification
 * cannot be switched off. Aborted before sending → `not-sent`; while in flight → `unknown`.
 */
import { Agent, buildConnector, request } from 'undici';
import type { Dispatcher, FormData } from 'undici';
import { ApiRejectedError, OutcomeUnknownError, RequestNotSentError, apiLabel } from './outcome.ts';
import type { ApiName } from './outcome.ts';

/** The one place the HTTP deadlines are decided; both the CLI and the activities use them. */
export const defaultHttpTimeouts = Object.freeze({
  /** TCP + TLS handshake. A connect that times out has sent nothing. */
  connectMs: 5_000,
  headersMs: 30_000,
  /** Longest pause between two chunks of the response body. */
  bodyMs: 30_000,
  /** The whole call: a server that trickles its answer never trips `bodyMs`. */
  totalMs: 60_000,
});

export type HttpTimeouts = Record<keyof typeof defaultHttpTimeouts, number>;

/** How long after a call was made it may still take effect: our deadline plus a margin for a slow server. */
export function inFlightWindowMs(timeouts: Pick<HttpTimeouts, 'totalMs'> = defaultHttpTimeouts): number {
  return timeouts.totalMs + 30_000;
}

/** Answers are small, flat JSON documents: deeper or larger ones are refused. */
const maxJsonDepth = 64;

const defaultMaxResponseBytes = 4 * 1024 * 1024;

export interface HttpTransportOptions {
  timeouts?: Partial<HttpTimeouts>;
  maxResponseBytes?: number;
  /** Extra CA certificates to trust (PEM), e.g. a company proxy. Verification stays on. */
  ca?: string | Buffer | undefined;
}

/** Errors raised while connecting: nothing can have been written to the server. */
const connectFailures = new WeakSet<object>();

export type HttpTransport = ReturnType<typeof createHttpTransport>;

export function createHttpTransport(options: HttpTransportOptions = {}) {
  const timeouts = { ...defaultHttpTimeouts, ...options.timeouts };
  const baseConnector = buildConnector({
    timeout: timeouts.connectMs,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  });
  const connector: buildConnector.connector = (connectOptions, callback) => {
    baseConnector(connectOptions, (...args) => {
      if (args[0]) connectFailures.add(args[0]);
      callback(...args);
    });
  };
  const agent: Dispatcher = new Agent({
    connect: connector,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    keepAliveTimeout: 4_000,
    pipelining: 1,
  });
  return {
    dispatcher: agent,
    maxResponseBytes: options.maxResponseBytes ?? defaultMaxResponseBytes,
    totalMs: timeouts.totalMs,
    close: () => agent.close(),
  } as const;
}

export interface HttpPostRequest {
  api: ApiName;
  operation: string;
  url: URL;
  body: string | FormData;
  headers?: Record<string, string>;
  /** Sending it twice changes nothing more than once: an `unknown` outcome may then simply be retried. */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  contentType: string;
  contentEncoding?: string;
  bodyText: string;
}

/** What the outcomes of a call need to know about it; never the body, which is signed but not secret. */
export type HttpCall = Pick<HttpPostRequest, 'api' | 'operation' | 'url' | 'idempotent'>;

/** The API, the operation and the URL without its query string: the query carries signatures and is never printed. */
export function callDescription(req: Pick<HttpPostRequest, 'api' | 'operation' | 'url'>): string {
  return `${apiLabel[req.api]} ${req.operation} at ${req.url.origin}${req.url.pathname}`;
}

/** The `unknown` outcome of a call that may have taken effect; `what` follows the call's description. */
export function mayHaveActed(
  req: HttpCall,
  code: string,
  what: string,
  details: { httpStatus?: number | undefined; cause?: unknown } = {},
): OutcomeUnknownError {
  return new OutcomeUnknownError(`${callDescription(req)}: ${what}`, {
    api: req.api, operation: req.operation, resendable: req.idempotent, code, ...details,
  });
}

function errorCode(error: unknown, deadline?: AbortSignal): string {
  if (deadline?.aborted === true) return 'TOTAL_DEADLINE';
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    if (typeof code === 'string' && code.length > 0) return code;
  }
  if (error instanceof Error && error.name === 'AbortError') return 'ABORTED';
  return 'UNKNOWN_TRANSPORT_ERROR';
}

/** Why a signal aborted, for messages: the reason's message (abort reasons carry no secrets). */
function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? 'aborted' : String(reason);
}

/** Sends one POST and reads the whole answer, or throws the transport outcome; statuses are not judged here. */
export async function sendPost(transport: HttpTransport, req: HttpPostRequest): Promise<HttpResponse> {
  if (req.signal?.aborted) {
    throw new RequestNotSentError(
      `${callDescription(req)}: not sent, because the work was stopped first (${abortReason(req.signal)}). Retrying is safe.`,
      { api: req.api, operation: req.operation, resendable: true, code: 'ABORTED', cause: req.signal.reason },
    );
  }
  // A timer cleared when the call ends: AbortSignal.timeout's timer would live on until it fires.
  const deadlineController = new AbortController();
  const deadlineTimer = setTimeout(() => deadlineController.abort(new DOMException('the call deadline passed', 'TimeoutError')), transport.totalMs);
  try {
    return await sendBefore(deadlineController.signal, transport, req);
  } finally {
    clearTimeout(deadlineTimer);
  }
}

async function sendBefore(deadline: AbortSignal, transport: HttpTransport, req: HttpPostRequest): Promise<HttpResponse> {
  const signal = req.signal === undefined ? deadline : AbortSignal.any([req.signal, deadline]);
  const errorText = (error: unknown): string => {
    if (deadline.aborted) return `no complete answer within the ${transport.totalMs / 1000} s deadline for the whole call`;
    return error instanceof Error ? error.message : String(error);
  };
  let response: Dispatcher.ResponseData;
  try {
    response = await request(req.url, {
      method: 'POST',
      dispatcher: transport.dispatcher,
      headers: req.headers ?? {},
      body: req.body,
      signal,
    });
  } catch (error) {
    const code = errorCode(error, deadline);
    if (typeof error === 'object' && error !== null && connectFailures.has(error)) {
      throw new RequestNotSentError(
        `${callDescription(req)}: could not connect (${code}: ${errorText(error)}); the request was not sent. ` +
          'Check the API URL, DNS, the network and the server certificate; retrying is safe.',
        { api: req.api, operation: req.operation, resendable: true, code, cause: error },
      );
    }
    if (req.signal?.aborted) {
      // Stopped mid-call: the request may already be with the server.
      throw mayHaveActed(req, 'ABORTED', `the call was stopped while in flight (${abortReason(req.signal)}); ` +
        'it may or may not have taken effect. Reconcile before retrying.', { cause: error });
    }
    throw mayHaveActed(req, code, `the request was sent but no answer arrived (${code}: ${errorText(error)}); ` +
      'it may or may not have taken effect. Reconcile before retrying.', { cause: error });
  }

  const httpStatus = response.statusCode;
  const tooLarge = (): OutcomeUnknownError =>
    mayHaveActed(req, 'RESPONSE_TOO_LARGE', `the answer (HTTP ${httpStatus}) exceeded ${transport.maxResponseBytes} bytes ` +
      'and was not read; the request may have taken effect. Check what the endpoint is and reconcile.', { httpStatus });
  // A declared length is refused before reading; without one (chunked), the bytes are counted while reading.
  const declaredLength = Number(response.headers['content-length'] ?? Number.NaN);
  if (declaredLength > transport.maxResponseBytes) {
    response.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      received += buffer.length;
      if (received > transport.maxResponseBytes) {
        response.body.destroy();
        throw tooLarge();
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof OutcomeUnknownError) throw error;
    const code = errorCode(error, deadline);
    throw mayHaveActed(req, code, `the answer (HTTP ${httpStatus}) broke off while being read (${code}: ${errorText(error)}); ` +
      'the request may have taken effect. Reconcile before retrying.', { httpStatus, cause: error });
  }
  const contentEncoding = String(response.headers['content-encoding'] ?? '');
  return {
    status: httpStatus,
    contentType: String(response.headers['content-type'] ?? ''),
    ...(contentEncoding === '' ? {} : { contentEncoding }),
    bodyText: Buffer.concat(chunks).toString('utf8'),
  };
}

/** Bytes that are not UTF-8 text (decoded as U+FFFD) or control characters other than white space. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const nonTextCharacter = /[\uFFFD\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;

/** A short, printable excerpt of a body for messages; a body that is not text is described, never shown. */
export function excerpt(text: string, max = 120, response?: Pick<HttpResponse, 'contentType' | 'contentEncoding'>): string {
  if (nonTextCharacter.test(text)) {
    const what = [
      response?.contentType ? `content type ${response.contentType}` : '',
      response?.contentEncoding ? `content encoding ${response.contentEncoding}` : '',
    ].filter((part) => part !== '');
    return `${Buffer.byteLength(text, 'utf8')} bytes that are not text${what.length > 0 ? `, ${what.join(', ')}` : ''}; not shown`;
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** True when `text` nests arrays/objects deeper than `limit` (scanned without parsing). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b || char === 0x7b) {
      if (++depth > limit) return true;
    } else if (char === 0x5d || char === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * The outcome of a status that is not the API's own JSON answer: 5xx (maybe after acting) → unknown;
 * 408 and 429 → rejected, resendable; other 3xx/4xx (wrong URL, blocked, login page) → rejected, final.
 */
export function rejectForHttpStatus(req: HttpCall, response: HttpResponse): never {
  const status = response.status;
  const code = `HTTP_${status}`;
  const body = excerpt(response.bodyText, 120, response);
  if (status >= 500) {
    throw mayHaveActed(req, code, `HTTP ${status} (${response.contentType || 'no content type'}: ${body}); ` +
      'the server may have acted before failing. Reconcile before retrying.', { httpStatus: status });
  }
  const resendable = status === 408 || status === 429;
  throw new ApiRejectedError(
    `${callDescription(req)}: HTTP ${status} (${body}); the request was refused. ` +
      (resendable ? 'Retry later.' : 'Check the API URL and the credentials.'),
    { api: req.api, operation: req.operation, resendable, code, httpStatus: status },
  );
}

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text as received; a number (a formatted value that happens to be numeric) becomes text. */
export function looseText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Parses an answer as JSON, or throws `unknown`: an HTML error page cannot tell whether the request took effect. */
export function parseJsonAnswer(req: HttpCall, response: HttpResponse): unknown {
  const httpStatus = response.status;
  if (nestsDeeperThan(response.bodyText, maxJsonDepth)) {
    throw mayHaveActed(req, 'JSON_TOO_DEEP', `HTTP ${httpStatus} with JSON nested deeper than ${maxJsonDepth} levels, which no answer ` +
      'of this API is; it was not parsed. The request may have taken effect. Reconcile before retrying.', { httpStatus });
  }
  try {
    return JSON.parse(response.bodyText) as unknown;
  } catch {
    const body = excerpt(response.bodyText, 120, response) || 'empty';
    throw mayHaveActed(req, 'INVALID_JSON', `HTTP ${httpStatus} with a body that is not JSON (${body}); ` +
      'the request may have taken effect. Reconcile before retrying.', { httpStatus });
  }
}
