/**
 * The whole orderflow stack for workflow tests, on loopback: both simulators (in-process,
 * port 0), a SQLite ledger in a temp directory, the real clients and the real activities.
 * The Temporal server is the one the global setup started; workers come from runWorker.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createActivities } from '../src/activities/index.ts';
import { createHttpTransport } from '../src/apis/http.ts';
import { createJustClickClient } from '../src/apis/justclick/client.ts';
import type { JustClickClient } from '../src/apis/justclick/client.ts';
import { createWebTvClient } from '../src/apis/webtv/client.ts';
import type { WebTvClient } from '../src/apis/webtv/client.ts';
import type { OrderflowActivities } from '../src/contracts.ts';
import { loadConfig } from '../src/config.ts';
import { openLedger } from '../src/ledger/index.ts';
import type { EffectLedger } from '../src/ledger/types.ts';
import { startJustClickSimulator } from '../src/simulators/justclick/index.ts';
import type { JustClickSimulator } from '../src/simulators/justclick/index.ts';
import { startWebTvSimulator } from '../src/simulators/webtv/index.ts';
import type { WebTvSimulator } from '../src/simulators/webtv/index.ts';

/** The vendors' own public sample credentials (seeds 000–004): fine in tests. */
export const sampleCredentials = {
  webtvKeyId: '1b323a1cb879fd4e66530fbad07a32ee',
  webtvSharedSecret: 'MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3',
  justclickLogin: 'username',
  justclickSecret: 'X'.repeat(40),
} as const;

/** Both simulators on free ports with the sample credentials, and the API settings that reach them. */
export interface SampleSimulators {
  webtvSim: WebTvSimulator;
  justclickSim: JustClickSimulator;
  /** WEBTV_* and JUSTCLICK_* for these simulators (what a worker or the CLI needs for the APIs). */
  apiEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function startSampleSimulators(): Promise<SampleSimulators> {
  const webtvSim = await startWebTvSimulator({
    port: 0,
    credentials: [{ keyId: sampleCredentials.webtvKeyId, sharedSecret: sampleCredentials.webtvSharedSecret }],
    seed: 'demo',
  });
  const justclickSim = await startJustClickSimulator({ port: 0, login: sampleCredentials.justclickLogin, secret: sampleCredentials.justclickSecret });
  return {
    webtvSim,
    justclickSim,
    apiEnv: {
      WEBTV_API_URL: webtvSim.apiUrl,
      WEBTV_KEY_ID: sampleCredentials.webtvKeyId,
      WEBTV_SHARED_SECRET: sampleCredentials.webtvSharedSecret,
      JUSTCLICK_LOGIN: sampleCredentials.justclickLogin,
      JUSTCLICK_SECRET: sampleCredentials.justclickSecret,
      JUSTCLICK_API_URL: justclickSim.apiUrl,
    },
    async close() {
      await Promise.allSettled([webtvSim.close(), justclickSim.close()]);
    },
  };
}

export interface Stack {
  webtvSim: WebTvSimulator;
  justclickSim: JustClickSimulator;
  webtv: WebTvClient;
  justclick: JustClickClient;
  ledger: EffectLedger;
  ledgerUrl: string;
  activities: OrderflowActivities;
  /** Environment for an `orderflow worker` process on this stack. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const simulators = await startSampleSimulators();
  const { webtvSim, justclickSim } = simulators;
  const directory = await mkdtemp(join(tmpdir(), 'orderflow-stack-'));
  const ledgerUrl = `sqlite:${join(directory, 'ledger.db')}`;
  const env = { ...simulators.apiEnv, ORDERFLOW_LEDGER: ledgerUrl };
  // The same path as the worker's: one configuration, read and checked once.
  const config = loadConfig(env, ['webtv', 'justclick', 'ledger']);
  const ledger = await openLedger(config.ledger);
  const transport = createHttpTransport({ timeouts: { connectMs: 2_000, headersMs: 5_000, bodyMs: 5_000 } });
  const webtv = createWebTvClient(config.webtv, { transport });
  const justclick = createJustClickClient(config.justclick, { transport });
  const activities = createActivities({ webtv, justclick, ledger, userLockWaitMs: 5_000 });
  return {
    webtvSim,
    justclickSim,
    webtv,
    justclick,
    ledger,
    ledgerUrl,
    activities,
    env,
    async close() {
      await Promise.allSettled([webtv.close(), justclick.close()]);
      await transport.close();
      await ledger.close();
      await simulators.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Places a current order for a demo user (product 1, 1×), through the API; returns its id. */
export async function placeCurrentOrder(stack: Stack, userId: number, productId = 1): Promise<number> {
  await stack.webtv.modifyCart(userId, { cartAction: 'add', productId, productQty: 1 });
  const placed = await stack.webtv.placeOrder(userId);
  return placed.orderId;
}

/** Polls until `check` returns a value (not undefined), or fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** How many add_subtract_credit calls reached the WebTV simulator. */
export function creditCalls(stack: Stack): number {
  return stack.webtvSim.calls.filter((call) => call.operation === 'add_subtract_credit').length;
}
