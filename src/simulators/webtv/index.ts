/** The WebTV store API simulator: the harness's HTTP server with ./api.ts and the store of ./state.ts. */
import { startSimulatorServer } from '../harness.ts';
import type { ListenOptions, SimulatorHandle } from '../harness.ts';
import { createWebTvSimulatedApi } from './api.ts';
import { WebTvSimState, seedDemo } from './state.ts';

export { WebTvSimState } from './state.ts';
export type { WebTvSimOrder, WebTvSimProduct, WebTvSimSnapshot, WebTvSimUser } from './state.ts';
export { assumedErrorTexts } from './api.ts';
export { phpJsonEncode } from '../harness.ts';

export interface WebTvSimulatorOptions extends ListenOptions {
  credentials: Array<{ keyId: string; sharedSecret: string }>;
  /** The credential's "requests expiration time" (default 300 s): older or future timestamps are refused. */
  requestExpirySeconds?: number;
  /** `demo` (default): users 1–100 without credit, products 1–5 in EUR. `empty`: nothing. */
  seed?: 'demo' | 'empty';
  now?: () => number;
  /** The id of the first order placed (default 319, the documented example's); ids go up from it. */
  firstOrderId?: number;
}

export interface WebTvSimulator extends SimulatorHandle {
  /** origin + `/api.php` */
  readonly apiUrl: string;
  readonly state: WebTvSimState;
}

export class InvalidWebTvSimulatorOptionsError extends Error {
  override readonly name = 'InvalidWebTvSimulatorOptionsError';
}

function checkOptions(options: WebTvSimulatorOptions): void {
  const problems: string[] = [];
  if (!Array.isArray(options.credentials) || options.credentials.length === 0) {
    problems.push('credentials must list at least one { keyId, sharedSecret }');
  } else {
    const keyIds = new Set<string>();
    options.credentials.forEach((credential, index) => {
      if (typeof credential.keyId !== 'string' || credential.keyId === '') problems.push(`credentials[${index}].keyId is empty`);
      if (typeof credential.sharedSecret !== 'string' || credential.sharedSecret === '') problems.push(`credentials[${index}].sharedSecret is empty`);
      if (keyIds.has(credential.keyId)) problems.push(`credentials[${index}].keyId is listed twice`);
      keyIds.add(credential.keyId);
    });
  }
  const expiry = options.requestExpirySeconds;
  if (expiry !== undefined && (!Number.isSafeInteger(expiry) || expiry < 1)) {
    problems.push(`requestExpirySeconds must be a whole number of seconds from 1 up; got ${String(expiry)}`);
  }
  if (options.seed !== undefined && options.seed !== 'demo' && options.seed !== 'empty') {
    problems.push(`seed must be "demo" or "empty"; got ${JSON.stringify(options.seed)}`);
  }
  if (problems.length > 0) throw new InvalidWebTvSimulatorOptionsError(`WebTV simulator: ${problems.join('; ')}`);
}

export async function startWebTvSimulator(options: WebTvSimulatorOptions): Promise<WebTvSimulator> {
  checkOptions(options);
  const state = new WebTvSimState(options.now, options.firstOrderId);
  if ((options.seed ?? 'demo') === 'demo') seedDemo(state);
  const api = createWebTvSimulatedApi({
    credentials: options.credentials.map(({ keyId, sharedSecret }) => ({ keyId, sharedSecret })),
    requestExpirySeconds: options.requestExpirySeconds ?? 300,
    state,
  });
  const redactFields = ['signature', 'key', 'salt'];
  const handle = await startSimulatorServer(api, { host: options.host, port: options.port, redactFields });
  return Object.freeze({ ...handle, apiUrl: `${handle.origin}/api.php`, state });
}
