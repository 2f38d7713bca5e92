/**
 * The bulk half of `npm run bench:scale` (bench/scale.ts prints it; test/e2e/bench-scale.test.ts
 * runs it small): a bulk of adjust-credit rows with 120-character descriptions, started as
 * `orderflow bulk` starts it (rows uploaded to the worker's database, then the bulk), on a
 * real `orderflow worker` process (default settings, SQLite ledger, its log kept), beside the
 * dev server's own ceiling for starting the same runs: a bare start loop with
 * @temporalio/client (16 starts in the air, as a bulk slice has), before and after the bulk
 * on the same machine.
 *
 * It measures wall time, the bulk's starts/s against the ceiling, the worker's peak RSS, the
 * bulk's history size in bytes (every run of its continue-as-new chain) and its largest
 * payload, whether every item ran exactly once (each row's user credited once, from the
 * simulator's state) and the payload warnings (TMPRL1103) in the worker's log.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { workflowIdOf } from '../src/client/starters.ts';
import { startBulk } from '../src/features/bulk/client.ts';
import type { BulkResult } from '../src/features/bulk/contracts.ts';
import type { AdjustCreditInput } from '../src/contracts.ts';
import type { Cents } from '../src/money.ts';
import { cleanUpOnInterrupt, startBenchStack } from './bench-stack.ts';
import type { BenchStack } from './bench-stack.ts';

export interface BulkScaleSettings {
  rows: number;
  rate: number;
  concurrency: number;
  /** Runs per bare start loop (one before the bulk, one after). */
  bareRuns: number;
  /** Progress lines (default: none). */
  log?: ((line: string) => void) | undefined;
}

/** Resident set size of a process in MB; Linux only. */
function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? NaN : Number(match[1]) / 1024;
}

const oneDecimal = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '–');

export interface BareStartRound {
  runs: number;
  seconds: number;
  startsPerSecond: number;
  /** Runs completed per second, from the first start until the last run completed: what the worker and the server finish. */
  completedPerSecond: number;
}

export interface BulkScaleMeasurement {
  settings: BulkScaleSettings;
  uploadSeconds: number;
  wallSeconds: number;
  /** Item runs started over the time between the first and the last start. */
  startsPerSecond: number;
  bare: BareStartRound[];
  /** Median of the bare rounds' starts/s. */
  ceiling: number;
  /** Median of the bare rounds' completed runs/s. */
  bareCompletedPerSecond: number;
  /** Items settled per second over the bulk's wall time after the upload. */
  settledPerSecond: number;
  result: BulkResult;
  historyBytes: number;
  historyEvents: number;
  runsInChain: number;
  largestPayloadBytes: number;
  workerPeakRssMb: number;
  /** Rows whose user was not credited exactly once. */
  wrongItems: string[];
  payloadWarnings: number;
}

const { temporal } = proto;
const workerEntry = fileURLToPath(new URL('../src/worker.ts', import.meta.url));
let nextUserId = 500_000;

function adjustCreditRows(stack: BenchStack, count: number): AdjustCreditInput[] {
  return Array.from({ length: count }, () => {
    const userId = nextUserId++;
    stack.webtvSim.state.addUser(userId, { credit: 0 as Cents });
    return { userId, action: 'add' as const, amount: '1.00', description: `bench:scale goodwill credit for user ${userId}, `.padEnd(120, '.'), reason: 'bench:scale', requestedBy: 'bench' };
  });
}

/** The dev server's ceiling for starting these runs: a bare start loop (16 starts in the air, as a bulk slice has), then waits until they completed. */
async function bareStartLoop(client: Client, taskQueue: string, items: readonly AdjustCreditInput[]): Promise<BareStartRound> {
  const begin = performance.now();
  let next = 0;
  const results: Array<Promise<unknown>> = [];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        // The business-key id (the workflow refuses any other), and nothing else of the starter.
        const handle = await client.workflow.start('adjustCredit', { taskQueue, workflowId: workflowIdOf('adjustCredit', item), args: [item] });
        results.push(handle.result());
      }
    }),
  );
  const seconds = (performance.now() - begin) / 1000;
  await Promise.all(results);
  const completedSeconds = (performance.now() - begin) / 1000;
  return { runs: items.length, seconds, startsPerSecond: items.length / seconds, completedPerSecond: items.length / completedSeconds };
}

/** The size of a workflow's history over its continue-as-new chain: bytes, events, runs, the largest payload, the first input. */
export async function historySize(
  client: Client,
  handle: WorkflowHandle,
): Promise<{ bytes: number; events: number; runs: number; largestPayload: number; inputBytes: number }> {
  let bytes = 0;
  let events = 0;
  let largestPayload = 0;
  let inputBytes = 0;
  const seen = new Set<string>();
  let runId: string | undefined = (await handle.describe()).runId;
  while (runId !== undefined && !seen.has(runId)) {
    seen.add(runId);
    const history = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    bytes += temporal.api.history.v1.History.encode(history).finish().length;
    for (const event of history.events ?? []) {
      events++;
      for (const payload of [
        ...(event.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
        ...(event.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
        ...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
        ...(event.markerRecordedEventAttributes?.details?.['data']?.payloads ?? []),
        ...(event.workflowExecutionCompletedEventAttributes?.result?.payloads ?? []),
        ...(event.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads ?? []),
        ...(event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads ?? []),
        ...(event.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success?.payloads ?? []),
      ]) {
        largestPayload = Math.max(largestPayload, payload.data?.length ?? 0);
      }
      const input = event.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data?.length;
      if (input !== undefined && inputBytes === 0) inputBytes = input;
    }
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return { bytes, events, runs: seen.size, largestPayload, inputBytes };
}

async function startTimes(client: Client, bulkId: string): Promise<number[]> {
  const times: number[] = [];
  for await (const execution of client.workflow.list({ query: `OrderflowBulkId = '${bulkId}' AND WorkflowType = 'adjustCredit'` })) times.push(execution.startTime.getTime());
  return times.sort((a, b) => a - b);
}

/** The bulk half of `npm run bench:scale`. */
export async function measureBulkScale(settings: BulkScaleSettings): Promise<BulkScaleMeasurement> {
  const log = settings.log ?? (() => undefined);
  const directory = await mkdtemp(join(tmpdir(), 'orderflow-bench-scale-'));
  const stack = await startBenchStack({ ledgerUrl: `sqlite:${join(directory, 'ledger.db')}` });
  const taskQueue = 'bench-scale';
  const logPath = join(directory, 'worker.log');
  const workerLog = createWriteStream(logPath);
  const worker = spawn(process.execPath, [workerEntry], { env: { ...process.env, ...stack.workerEnv, ORDERFLOW_TASK_QUEUE: taskQueue }, stdio: ['ignore', 'ignore', 'pipe'] });
  worker.stderr.pipe(workerLog);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const cleanup = async (): Promise<void> => {
    if (worker.exitCode === null) worker.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    await stack.close();
    await rm(directory, { recursive: true, force: true });
  };
  cleanUpOnInterrupt(cleanup);
  try {
    for (;;) {
      const text = await readFile(logPath, 'utf8').catch(() => '');
      if (worker.exitCode !== null) throw new Error(`the worker exited (${worker.exitCode}): ${text.slice(-2_000)}`);
      if (text.includes('orderflow worker started')) break;
      await sleep(200);
    }
    let peakRss = rssMb(worker.pid!);
    const sampler = setInterval(() => {
      if (worker.exitCode === null) peakRss = Math.max(peakRss, rssMb(worker.pid!));
    }, 1_000);
    try {
      const bare: BareStartRound[] = [];
      bare.push(await bareStartLoop(stack.client, taskQueue, adjustCreditRows(stack, settings.bareRuns)));
      log(`  bare start loop: ${settings.bareRuns} starts at ${oneDecimal(bare[0]!.startsPerSecond)} starts/s, all completed at ${oneDecimal(bare[0]!.completedPerSecond)} runs/s`);

      const items = adjustCreditRows(stack, settings.rows);
      const begin = performance.now();
      const bulk = await startBulk({ client: stack.client, taskQueue }, { kind: 'adjust-credit', items, rate: settings.rate, concurrency: settings.concurrency });
      const uploadSeconds = (performance.now() - begin) / 1000;
      log(`  bulk ${bulk.workflowId}: rows uploaded and bulk started in ${oneDecimal(uploadSeconds)} s`);
      const progress = setInterval(() => {
        void bulk.handle.query<{ counts: Record<string, number> }>('progress').then(
          ({ counts }) => log(`    ${Math.round((performance.now() - begin) / 1000)} s: done ${counts['done']}, running ${counts['running']}, queued ${counts['queued']}`),
          () => undefined,
        );
      }, settings.rows <= 1_000 ? 2_000 : 15_000);
      const result = (await bulk.handle.result()) as BulkResult;
      clearInterval(progress);
      const wallSeconds = (performance.now() - begin) / 1000;
      const times = await startTimes(stack.client, bulk.workflowId);
      const startsPerSecond = times.length < 2 ? NaN : (times.length - 1) / ((times[times.length - 1]! - times[0]!) / 1000);
      log(`  bulk: ${result.counts.done} done in ${oneDecimal(wallSeconds)} s, ${oneDecimal(startsPerSecond)} starts/s`);

      bare.push(await bareStartLoop(stack.client, taskQueue, adjustCreditRows(stack, settings.bareRuns)));
      log(`  bare start loop: ${settings.bareRuns} starts at ${oneDecimal(bare[1]!.startsPerSecond)} starts/s, all completed at ${oneDecimal(bare[1]!.completedPerSecond)} runs/s`);
      const median = (values: number[]): number => {
        const sorted = [...values].sort((a, b) => a - b);
        return sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
      };
      const ceiling = median(bare.map((round) => round.startsPerSecond));
      const bareCompletedPerSecond = median(bare.map((round) => round.completedPerSecond));

      const history = await historySize(stack.client, bulk.handle);
      const wrongItems: string[] = [];
      for (const item of items) {
        const credits = stack.webtvSim.state.requireUser(item.userId).creditLog.filter((entry) => entry.change === 'add');
        if (credits.length !== 1 || credits[0]!.amount !== 100) wrongItems.push(`user ${item.userId}: ${credits.length} credit(s)`);
      }
      const payloadWarnings = ((await readFile(logPath, 'utf8')).match(/TMPRL1103/g) ?? []).length;
      return {
        settings,
        uploadSeconds,
        wallSeconds,
        startsPerSecond,
        bare,
        ceiling,
        bareCompletedPerSecond,
        settledPerSecond: settings.rows / (wallSeconds - uploadSeconds),
        result,
        historyBytes: history.bytes,
        historyEvents: history.events,
        runsInChain: history.runs,
        largestPayloadBytes: history.largestPayload,
        workerPeakRssMb: peakRss,
        wrongItems,
        payloadWarnings,
      };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await cleanup();
  }
}

