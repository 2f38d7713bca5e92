/**
 * End-to-end benchmark (`npm run bench:e2e`; `BENCH_QUICK=1` or `--quick` for a few-minute
 * run): one saga (refund and cancel: 7 API calls in 4 steps) done three ways on the same
 * dev server and simulators, side by side:
 *  - orderflow: the refundAndCancel workflow, started as the product starts it, on a real
 *    orderflow worker (ledger, user lock, search attributes, status);
 *  - bare: a bare Temporal workflow making the same calls in the same four activities;
 *  - plain: a script making the same calls in a row.
 * At concurrency 1, 20 and 100 (closed loop), with 0 and 20 ms added to every API call.
 * With `--encryption` (or `BENCH_ENCRYPTION=1`), a fourth variant side by side:
 *  - orderflow+enc: the same as orderflow with payload encryption on (ORDERFLOW_ENCRYPTION_KEYS
 *    on its worker, the codec on its client), to measure what encryption costs.
 * Every saga is checked against the simulators' call log and state; wrong ones are counted
 * and make the run exit non-zero (a benchmark that counts wrong answers is worthless).
 * Prints sagas/s, p50/p95 latency, CPU per saga of the Temporal server and of the worker
 * process, and the ratios the performance targets are stated in.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { createJustClickClient } from '../src/apis/justclick/client.ts';
import { createWebTvClient } from '../src/apis/webtv/client.ts';
import { startRefundAndCancel } from '../src/client/starters.ts';
import { loadConfig } from '../src/config.ts';
import { orderflowDataConverter, readEncryptionKeys } from '../src/temporal/encryption.ts';
import { cpuMsPerSecond, fixed, machineLine, markdownTable, percentile, processCpuMs, quick, ratio, settle } from './lib/measure.ts';
import { createSagaCalls, runSagaDirectly } from '../harness/saga-calls.ts';
import type { SagaInput } from '../harness/saga-calls.ts';
import { addLatency, cleanUpOnInterrupt, clearLatency, prepareSagas, spawnWorker, startBenchStack, verifySagas } from '../harness/bench-stack.ts';
import type { BenchStack, WorkerProcess } from '../harness/bench-stack.ts';

type Variant = 'orderflow' | 'orderflow+enc' | 'bare' | 'plain';
type WorkerVariant = Exclude<Variant, 'plain'>;
const withEncryption = process.argv.includes('--encryption') || process.env['BENCH_ENCRYPTION'] === '1';
const variants: readonly Variant[] = withEncryption ? ['plain', 'bare', 'orderflow', 'orderflow+enc'] : ['plain', 'bare', 'orderflow'];
/** A key made for this run only: the encrypted variant's worker and client share it. */
const benchKeys = `bench=${randomBytes(32).toString('base64')}`;
const concurrencies = [1, 20, 100] as const;
const latencies = [0, 20] as const;
/** Sagas per scenario: enough for a stable rate, few enough for a 2-core machine. */
const sizes = process.env['BENCH_SMOKE'] === '1'
  ? { 1: 2, 20: 4, 100: 4 } // BENCH_SMOKE=1: does the harness work at all (numbers mean nothing)
  : quick ? { 1: 8, 20: 100, 100: 200 } : { 1: 25, 20: 300, 100: 600 };
const sagaCount = (concurrency: number): number => sizes[concurrency as keyof typeof sizes] ?? 100;

interface Result {
  variant: Variant;
  concurrency: number;
  latencyMs: number;
  sagas: number;
  wrong: number;
  perSecond: number;
  p50: number;
  p95: number;
  serverCpuMsPerSaga: number;
  workerCpuMsPerSaga: number;
}

const stack: BenchStack = await startBenchStack();
const queues: Record<WorkerVariant, string> = { orderflow: `bench-orderflow-${randomUUID()}`, 'orderflow+enc': `bench-orderflow-enc-${randomUUID()}`, bare: `bench-bare-${randomUUID()}` };
const workers: Partial<Record<WorkerVariant, WorkerProcess>> = {
  orderflow: await spawnWorker('orderflow', queues.orderflow, stack.workerEnv),
  bare: await spawnWorker('bare', queues.bare, stack.workerEnv),
  ...(withEncryption ? { 'orderflow+enc': await spawnWorker('orderflow', queues['orderflow+enc'], { ...stack.workerEnv, ORDERFLOW_ENCRYPTION_KEYS: benchKeys }) } : {}),
};
const stopWorkers = (): Promise<unknown> => Promise.allSettled(Object.values(workers).map((worker) => worker.stop()));
cleanUpOnInterrupt(async () => {
  await stopWorkers();
  await stack.close();
});
// The encrypted variant's client: the data converter every orderflow client gets with keys.
const encryptingClient = new Client({
  connection: stack.client.connection,
  namespace: stack.client.options.namespace,
  dataConverter: orderflowDataConverter(readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: benchKeys }).keys),
});
// The same configuration as the workers', read the same way.
const clientsConfig = loadConfig(stack.workerEnv, ['webtv', 'justclick']);
const webtv = createWebTvClient(clientsConfig.webtv);
const justclick = createJustClickClient(clientsConfig.justclick);
const plainCalls = createSagaCalls(webtv, justclick);

async function runOne(variant: Variant, saga: SagaInput): Promise<void> {
  if (variant === 'plain') return runSagaDirectly(plainCalls, saga);
  if (variant === 'bare') {
    const result = await stack.client.workflow.execute('bareRefundAndCancel', {
      taskQueue: queues.bare,
      workflowId: `bench-bare/${saga.userId}/${saga.orderId}`,
      args: [saga],
    });
    if (result !== 'completed') throw new Error(`bare run for user ${saga.userId} ended ${String(result)}`);
    return;
  }
  const started = await startRefundAndCancel(
    { client: variant === 'orderflow+enc' ? encryptingClient : stack.client, taskQueue: queues[variant] },
    { ...saga, reason: 'benchmark', requestedBy: 'bench' },
  );
  const result = (await started.handle.result()) as { outcome?: string };
  if (result.outcome !== 'completed') throw new Error(`orderflow run for user ${saga.userId} ended ${JSON.stringify(result)}`);
}

/** The dev server's CPU use at rest (measured before any saga), what {@link settle} waits for. */
const serverIdleCpuMsPerSecond = await cpuMsPerSecond(stack.server.pid, 2_000);

async function scenario(variant: Variant, concurrency: number, latencyMs: number, count: number): Promise<Result> {
  // Each scenario starts on a server that has finished the previous one's work.
  await settle(stack.server.pid, serverIdleCpuMsPerSecond);
  const sagas = prepareSagas(stack, count);
  addLatency(stack, latencyMs, count * 7);
  const workerPid = variant === 'plain' ? process.pid : (workers[variant]?.pid ?? process.pid);
  const serverCpuBefore = processCpuMs(stack.server.pid);
  const workerCpuBefore = processCpuMs(workerPid);
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < sagas.length; index = next++) {
        const saga = sagas[index]!;
        const began = performance.now();
        try {
          await runOne(variant, saga);
          latenciesMs.push(performance.now() - began);
        } catch (error) {
          failures.push(`user ${saga.userId}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - startedAt) / 1000;
  const serverCpu = processCpuMs(stack.server.pid) - serverCpuBefore;
  const workerCpu = processCpuMs(workerPid) - workerCpuBefore;
  clearLatency(stack);
  const wrong = [...new Set([...failures, ...verifySagas(stack, sagas)])];
  for (const line of wrong.slice(0, 5)) console.error(`  WRONG (${variant}, c=${concurrency}, +${latencyMs} ms): ${line}`);
  latenciesMs.sort((a, b) => a - b);
  return {
    variant,
    concurrency,
    latencyMs,
    sagas: count,
    wrong: wrong.length,
    perSecond: latenciesMs.length / seconds,
    p50: percentile(latenciesMs, 50),
    p95: percentile(latenciesMs, 95),
    serverCpuMsPerSaga: serverCpu / count,
    workerCpuMsPerSaga: workerCpu / count,
  };
}

const results: Result[] = [];
try {
  console.log(
    `bench:e2e${quick ? ' (quick)' : ''}: Temporal dev server pid ${stack.server.pid} (at rest: ${fixed(serverIdleCpuMsPerSecond)} ms CPU per second; ` +
      'each scenario waits for it to come back to that); warming up...',
  );
  for (const variant of variants) await scenario(variant, 5, 0, 10);
  for (const latencyMs of latencies) {
    for (const concurrency of concurrencies) {
      // Interleaved, so that the machine's other load falls on all variants alike.
      for (const variant of variants) {
        const result = await scenario(variant, concurrency, latencyMs, sagaCount(concurrency));
        results.push(result);
        console.log(
          `  ${variant.padEnd(13)} c=${String(concurrency).padStart(3)} +${latencyMs} ms: ${fixed(result.perSecond)} sagas/s, ` +
            `p50 ${fixed(result.p50, 0)} ms, p95 ${fixed(result.p95, 0)} ms, server CPU ${fixed(result.serverCpuMsPerSaga)} ms/saga, ` +
            `${variant === 'plain' ? 'bench process' : 'worker'} CPU ${fixed(result.workerCpuMsPerSaga)} ms/saga${result.wrong > 0 ? `, ${result.wrong} WRONG` : ''}`,
        );
      }
    }
  }
} finally {
  await stopWorkers();
  await Promise.allSettled([webtv.close(), justclick.close()]);
  await stack.close();
}

const find = (variant: Variant, concurrency: number, latencyMs: number): Result | undefined =>
  results.find((result) => result.variant === variant && result.concurrency === concurrency && result.latencyMs === latencyMs);

console.log(`\n### bench:e2e${quick ? ' (quick)' : ''}\n\nMachine: ${machineLine()}\n`);
console.log(
  markdownTable(
    ['added latency', 'concurrency', 'variant', 'sagas/s', 'p50 ms', 'p95 ms', 'server CPU ms/saga', 'worker CPU ms/saga', 'wrong'],
    results.map((result) => [
      `${result.latencyMs} ms`,
      String(result.concurrency),
      result.variant,
      fixed(result.perSecond),
      fixed(result.p50, 0),
      fixed(result.p95, 0),
      result.variant === 'plain' ? '–' : fixed(result.serverCpuMsPerSaga),
      result.variant === 'plain' ? '–' : fixed(result.workerCpuMsPerSaga),
      String(result.wrong),
    ]),
  ),
);
const targetRows: string[][] = [];
for (const concurrency of [20, 100]) {
  const orderflow = find('orderflow', concurrency, 0);
  const bare = find('bare', concurrency, 0);
  if (orderflow && bare) {
    targetRows.push([`sagas/s at concurrency ${concurrency}, 0 ms`, fixed(orderflow.perSecond), fixed(bare.perSecond), ratio(orderflow.perSecond, bare.perSecond), '≥ 0.95']);
    targetRows.push([`server CPU ms/saga at concurrency ${concurrency}, 0 ms`, fixed(orderflow.serverCpuMsPerSaga), fixed(bare.serverCpuMsPerSaga), ratio(orderflow.serverCpuMsPerSaga, bare.serverCpuMsPerSaga), '≤ 1.10']);
  }
}
if (withEncryption) {
  for (const latencyMs of latencies) {
    for (const concurrency of concurrencies) {
      const on = find('orderflow+enc', concurrency, latencyMs);
      const off = find('orderflow', concurrency, latencyMs);
      if (on && off) {
        targetRows.push([`encryption on/off: sagas/s at concurrency ${concurrency}, ${latencyMs} ms`, fixed(on.perSecond), fixed(off.perSecond), ratio(on.perSecond, off.perSecond), concurrency === 1 ? '' : '≥ 0.95']);
      }
    }
  }
}
const serial = find('orderflow', 1, 20);
const plain = find('plain', 1, 20);
const bareSerial = find('bare', 1, 20);
if (serial && plain) targetRows.push(['p50 ms at concurrency 1, 20 ms per call (vs plain script)', fixed(serial.p50, 0), fixed(plain.p50, 0), ratio(serial.p50, plain.p50), '≤ 1.30']);
if (serial && bareSerial) targetRows.push(['p50 ms at concurrency 1, 20 ms per call (vs bare workflow)', fixed(serial.p50, 0), fixed(bareSerial.p50, 0), ratio(serial.p50, bareSerial.p50), '']);
console.log(`\n${markdownTable(['measure', 'orderflow', 'baseline', 'ratio', 'target'], targetRows)}\n`);

const wrongTotal = results.reduce((sum, result) => sum + result.wrong, 0);
if (wrongTotal > 0) {
  console.error(`${wrongTotal} saga(s) were wrong (see WRONG lines above): the numbers above do not count.`);
  process.exitCode = 1;
}
