/**
 * The benchmarks' saga checker (harness/bench-stack.ts) must be able to fail: a saga that
 * skipped a call is reported wrong, a complete one is not. Simulators only, no Temporal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJustClickClient } from '../../src/apis/justclick/client.ts';
import { createWebTvClient } from '../../src/apis/webtv/client.ts';
import { loadConfig } from '../../src/config.ts';
import { createSagaCalls, runSagaDirectly } from '../../harness/saga-calls.ts';
import { prepareSagas, verifySagas } from '../../harness/bench-stack.ts';
import { startSampleSimulators } from '../../harness/stack.ts';
import type { SampleSimulators } from '../../harness/stack.ts';

describe('benchmark saga checker', () => {
  let simulators: SampleSimulators;

  beforeAll(async () => {
    simulators = await startSampleSimulators();
  });
  afterAll(async () => {
    await simulators?.close();
  });

  it('passes a complete saga and reports one that skipped a call', async () => {
    const { webtvSim, justclickSim } = simulators;
    const config = loadConfig(simulators.apiEnv, ['webtv', 'justclick']);
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
