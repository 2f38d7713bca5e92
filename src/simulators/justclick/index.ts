/** The JustClick API simulator: the harness's HTTP server with ./api.ts and the bills of ./state.ts. */
import { startSimulatorServer } from '../harness.ts';
import type { ListenOptions, SimulatorHandle } from '../harness.ts';
import { createJustClickSimulatedApi } from './api.ts';
import { JustClickSimState } from './state.ts';

export { JustClickSimState, JustClickSimStateError } from './state.ts';
export type { JustClickSimBill, JustClickSimBillStatus, JustClickSimGood, JustClickSimNewBill, JustClickSimSnapshot } from './state.ts';
export { createJustClickSimulatedApi, simulatedJustClickMethods } from './api.ts';
export type { SimulatedJustClickMethod } from './api.ts';

export interface JustClickSimulatorOptions extends ListenOptions {
  login: string;
  /** The account's API key, for request and response hashes. */
  secret: string;
  /** Both start with no bills ('demo' is accepted for symmetry with the WebTV simulator). */
  seed?: 'demo' | 'empty';
  now?: () => number;
}

export interface JustClickSimulator extends SimulatorHandle {
  /** origin + `/api`: give it to the client as apiUrl. */
  readonly apiUrl: string;
  readonly state: JustClickSimState;
}

export class InvalidJustClickSimulatorOptionsError extends Error {
  override readonly name = 'InvalidJustClickSimulatorOptionsError';
}

function checkOptions(options: JustClickSimulatorOptions): void {
  const problems: string[] = [];
  if (typeof options.login !== 'string' || options.login === '') problems.push('login must not be empty');
  if (typeof options.secret !== 'string' || options.secret === '') problems.push('secret must not be empty');
  if (options.seed !== undefined && options.seed !== 'demo' && options.seed !== 'empty') {
    problems.push(`seed must be "demo" or "empty"; got ${JSON.stringify(options.seed)}`);
  }
  if (problems.length > 0) throw new InvalidJustClickSimulatorOptionsError(`JustClick simulator: ${problems.join('; ')}`);
}

export async function startJustClickSimulator(options: JustClickSimulatorOptions): Promise<JustClickSimulator> {
  checkOptions(options);
  const state = new JustClickSimState(options.login, options.now);
  const api = createJustClickSimulatedApi({ login: options.login, secret: options.secret, state });
  const handle = await startSimulatorServer(api, { host: options.host, port: options.port, redactFields: ['hash'] });
  return { ...handle, apiUrl: `${handle.origin}/api`, state };
}
