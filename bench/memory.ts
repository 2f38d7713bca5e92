/**
 * Parked-runs memory benchmark (`npm run bench:memory`; `BENCH_QUICK=1` or `--quick` for a
 * few-minute run): the RSS of an orderflow worker process while processPaidOrder runs wait
 * for payment (each found an amount due, asked process_order once and parked on its
 * paymentReceived signal). Prints the idle RSS and the RSS at each checkpoint (1,000, 5,000,
 * 10,000 runs waiting; quick: 250, 500, 1,000). The worker takes the environment of this
 * process, so `ORDERFLOW_WORKFLOW_CACHE_MB=… npm run bench:memory` measures a cache budget.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { workflowIdOf } from '../src/client/starters.ts';
import { fixed, machineLine, markdownTable, processRssMb, quick } from './lib/measure.ts';
import { cleanUpOnInterrupt, prepareSagas, spawnWorker, startBenchStack } from '../harness/bench-stack.ts';

const checkpoints = quick ? [250, 500, 1_000] : [1_000, 5_000, 10_000];
const startsInFlight = 50;

const stack = await startBenchStack();
const taskQueue = `bench-memory-${randomUUID()}`;
/** Node options of the worker process alone, e.g. BENCH_WORKER_NODE_OPTIONS=--max-old-space-size=256. */
const workerNodeOptions = (process.env['BENCH_WORKER_NODE_OPTIONS'] ?? '').split(' ').filter((option) => option !== '');
const worker = await spawnWorker('orderflow', taskQueue, stack.workerEnv, workerNodeOptions);
cleanUpOnInterrupt(async () => {
  await worker.stop();
  await stack.close();
});
const rows: string[][] = [];
const settleMs = 5_000;
const processOrderCalls = (): number => stack.webtvSim.calls.reduce((count, call) => count + (call.operation === 'process_order' ? 1 : 0), 0);

try {
  await sleep(settleMs);
  const idle = processRssMb(worker.pid);
  rows.push(['0 (idle)', fixed(idle, 0), '–']);
  console.log(`bench:memory${quick ? ' (quick)' : ''}: idle worker RSS ${fixed(idle, 0)} MB`);
  let parked = 0;
  const startedAt = performance.now();
  for (const checkpoint of checkpoints) {
    const sagas = prepareSagas(stack, checkpoint - parked);
    let next = 0;
    await Promise.all(
      Array.from({ length: startsInFlight }, async () => {
        for (let index = next++; index < sagas.length; index = next++) {
          const saga = sagas[index]!;
          const input = { userId: saga.userId, orderId: saga.orderId, paymentDeadline: '7 days' };
          await stack.client.workflow.start('processPaidOrder', { taskQueue, workflowId: workflowIdOf('processPaidOrder', input), args: [input] });
        }
      }),
    );
    parked = checkpoint;
    // Parked = asked process_order once (amount due); then give the last workflow tasks time to finish.
    while (processOrderCalls() < parked) await sleep(500);
    await sleep(settleMs);
    const rss = processRssMb(worker.pid);
    rows.push([String(parked), fixed(rss, 0), fixed(((rss - idle) / parked) * 1000, 0)]);
    console.log(`  ${parked} runs waiting: worker RSS ${fixed(rss, 0)} MB (${fixed((performance.now() - startedAt) / 1000, 0)} s so far)`);
  }
} finally {
  await worker.stop();
  await stack.close();
}

const settings = [`ORDERFLOW_WORKFLOW_CACHE_MB=${process.env['ORDERFLOW_WORKFLOW_CACHE_MB'] ?? '(default)'}`, ...workerNodeOptions].join(' ');
console.log(`\n### bench:memory${quick ? ' (quick)' : ''}: ${settings}\n\nMachine: ${machineLine()}\n`);
console.log(`${markdownTable(['processPaidOrder runs waiting', 'worker RSS MB', 'MB per 1,000 runs above idle'], rows)}\n`);
