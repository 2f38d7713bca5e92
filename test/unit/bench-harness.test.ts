/**
 * The benchmarks' saga checker (bench/lib/stack.ts) must be able to fail: a saga that
 * skipped a call is reported wrong, a complete one is not. Simulators only, no Temporal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJustClickClient } from '../../src/apis/justclick/client.ts';
import { createWebTvClient } from '../../src/apis/webtv/client.ts';
import { loadConfig } from '../../src/config.ts';
import { startJustClickSimulator } from '../../src/simulators/justclick/index.ts';
import type { JustClickSimulator } from '../../src/simulators/justclick/index.ts';
import { startWebTvSimulator } from '../../src/simulators/webtv/index.ts';
import type { WebTvSimulator } from '../../src/simulators/webtv/index.ts';
import { createSagaCalls, runSagaDirectly } from '../../bench/lib/saga-calls.ts';
import { prepareSagas, verifySagas } from '../../bench/lib/stack.ts';
import { sampleCredentials } from '../support/stack.ts';

describe('benchmark saga checker', () => {
  let webtvSim: WebTvSimulator;
  let justclickSim: JustClickSimulator;

  beforeAll(async () => {
    webtvSim = await startWebTvSimulator({ port: 0, credentials: [{ keyId: sampleCredentials.webtvKeyId, sharedSecret: sampleCredentials.webtvSharedSecret }] });
    justclickSim = await startJustClickSimulator({ port: 0, login: sampleCredentials.justclickLogin, secret: sampleCredentials.justclickSecret });
  });
  afterAll(async () => {
    await Promise.allSettled([webtvSim.close(), justclickSim.close()]);
  });

  it('passes a complete saga and reports one that skipped a call', async () => {
    const config = loadConfig(
      {
        WEBTV_API_URL: webtvSim.apiUrl,
        WEBTV_KEY_ID: sampleCredentials.webtvKeyId,
        WEBTV_SHARED_SECRET: sampleCredentials.webtvSharedSecret,
        JUSTCLICK_LOGIN: sampleCredentials.justclickLogin,
        JUSTCLICK_SECRET: sampleCredentials.justclickSecret,
        JUSTCLICK_API_URL: justclickSim.apiUrl,
      },
      ['webtv', 'justclick'],
    );
    const webtv = createWebTvClient(config.webtv);
    const justclick = createJustClickClient(config.justclick);
    try {
      const calls = createSagaCalls(webtv, justclick);
      const [complete, partial] = prepareSagas({ webtvSim, justclickSim }, 2);
      await runSagaDirectly(calls, complete!);
      await calls.observeOrder(partial!);
      await calls.addCredit(partial!);
      await calls.cancelOrder(partial!);
      const wrong = verifySagas({ webtvSim, justclickSim }, [complete!, partial!]);
      expect(wrong).toEqual([`user ${partial!.userId}: DeleteOrder ×0 (expected 1); the JustClick bill still exists`]);
    } finally {
      await Promise.allSettled([webtv.close(), justclick.close()]);
    }
  });
});
