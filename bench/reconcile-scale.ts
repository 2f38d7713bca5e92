/**
 * Reconcile at scale (`npm run bench:reconcile-scale`; `BENCH_QUICK=1` or `--quick` for a
 * tenth of the size): a generated SQLite ledger of 100,000 effects, the refunds of a shop
 * doing 10,000 a day (credit added, order cancelled, JustClick bill deleted: three effects
 * each, evenly over the 80 hours before the first run), and a few effects left pending.
 * Then the reconcile's two activities, as its workflow runs them (findDrift, settleDrift):
 *
 * 1. the first run (no checkpoint yet: the whole 24 h window);
 * 2. an hour later, after another hour of refunds, the second run, twice side by side on
 *    copies of the same ledger: from the checkpoint (orderflow now), and over the whole
 *    window again (what every run did before checkpoints).
 *
 * For each: wall time at the benchmark's pace (`BENCH_READS_PER_SECOND`, default 2,000), API
 * reads (counted in the simulators' call logs), ledger rows looked at, and the time the reads
 * take at reconcile's own pace of 5 reads a second, which is what a real run takes.
 *
 * The rows are written straight into the ledger's tables (a benchmark's shortcut: only SQL can
 * date a change in the past); the simulators hold a user, a cancelled order and no bill for
 * each refund the runs look at, so nothing is drift except the pending effects.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createJustClickClient } from '../src/apis/justclick/client.ts';
import { createWebTvClient } from '../src/apis/webtv/client.ts';
import { loadConfig } from '../src/config.ts';
import { createReconcileActivities } from '../src/features/reconcile/activities.ts';
import { reconcileDefaults } from '../src/features/reconcile/contracts.ts';
import type { DriftFinding } from '../src/features/reconcile/contracts.ts';
import { openLedger } from '../src/ledger/index.ts';
import type { Cents } from '../src/money.ts';
import { cleanUpOnInterrupt, startBenchStack } from '../harness/bench-stack.ts';
import { fixed, machineLine, markdownTable, quick } from './lib/measure.ts';

const scale = quick ? 10 : 1;
const totalEffects = 100_000 / scale;
const refundsPerDay = 10_000 / scale;
const pendingEffects = 10;
const hourMs = 3_600_000;
const readsPerSecond = Number(process.env['BENCH_READS_PER_SECOND'] ?? '2000');
if (!(readsPerSecond > 0)) {
  console.error(`BENCH_READS_PER_SECOND (${process.env['BENCH_READS_PER_SECOND']}) must be a positive number of reads per second.`);
  process.exit(2);
}

const stack = await startBenchStack();
cleanUpOnInterrupt(() => stack.close());
const config = loadConfig(stack.workerEnv, ['webtv', 'justclick']);
const webtv = createWebTvClient(config.webtv);
const justclick = createJustClickClient(config.justclick);
const directory = mkdtempSync(join(tmpdir(), 'orderflow-reconcile-scale-'));

/** The first run's clock: an hour ago, so that the second run, an hour later, is now. */
const firstRunAt = Date.now() - hourMs;
const refundEveryMs = (24 * hourMs) / refundsPerDay;
let nextUserId = 100_000;
let refunds = 0;

interface Refund {
  userId: number;
  orderId: number;
  at: number;
}

/** A store user with a cancelled order and no JustClick bill: what a refund that went well leaves. */
function refundInSimulators(at: number): Refund {
  const userId = nextUserId++;
  const user = stack.webtvSim.state.addUser(userId, { credit: 550 as Cents });
  user.cart.set(1, 1);
  const order = stack.webtvSim.state.placeOrder(user, { notifyBuyer: false, buyerIp: '127.0.0.1', buyerUserAgent: 'bench' });
  order.status = 2;
  order.statusPayment = 2;
  return { userId, orderId: order.id, at };
}

/** Writes the refunds' effects (and `pending` unresolved ones) straight into the ledger file. */
function writeEffects(path: string, rows: readonly Refund[], pending = 0): number {
  const database = new DatabaseSync(path);
  const insert = database.prepare(
    `INSERT INTO effects (key, workflow_id, step, kind, user_id, state, request, observed_before, response, observed_after, notes, attempts, revision, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '[]', 1, 2, ?, ?)`,
  );
  let written = 0;
  database.exec('BEGIN');
  const effect = (workflowId: string, step: string, kind: string, userId: number, state: string, request: object, at: number): void => {
    const tail = `${step}#bench-run-${userId}`;
    insert.run(`${workflowId}/${tail}`, workflowId, tail, kind, String(userId), state, JSON.stringify(request), '{"creditCents":0,"credit":"0.00"}', state === 'pending' ? null : '{"ok":"done"}', at, at);
    written += 1;
  };
  for (const refund of rows) {
    const workflowId = `refund-and-cancel:${refund.userId}:${refund.orderId}`;
    effect(workflowId, 'add-credit', 'credit.add', refund.userId, 'applied', { creditAction: 'add', amount: '5.50', description: 'bench refund' }, refund.at);
    effect(workflowId, 'cancel-order', 'order.cancel', refund.userId, 'applied', { orderId: refund.orderId, requester: null }, refund.at + 1);
    effect(workflowId, 'delete-justclick-bill', 'justclick.delete', refund.userId, 'applied', { billId: `bench-${refund.userId}` }, refund.at + 2);
  }
  for (let index = 0; index < pending; index++) {
    const userId = nextUserId++;
    effect(`adjust-credit:${userId}:bench-pending`, 'adjust-credit', 'credit.add', userId, 'pending', { creditAction: 'add', amount: '1.00', description: 'bench pending' }, firstRunAt - 2 * hourMs);
  }
  database.exec('COMMIT');
  database.close();
  return written;
}

/** `count` refunds, one every refundEveryMs, the last one at `endAt`; simulator state only for those from `simulateFrom` on. */
function refundsUntil(endAt: number, count: number, simulateFrom: number): Refund[] {
  const rows: Refund[] = [];
  for (let index = count - 1; index >= 0; index--) {
    const at = Math.round(endAt - index * refundEveryMs);
    refunds += 1;
    rows.push(at >= simulateFrom ? refundInSimulators(at) : { userId: nextUserId++, orderId: 0, at });
  }
  return rows;
}

interface RunResult {
  label: string;
  seconds: number;
  apiReads: number;
  looked: number;
  findings: number;
}

const apiReads = (): number => stack.webtvSim.calls.length + stack.justclickSim.calls.length;

async function reconcileRun(label: string, ledgerPath: string, now: number, fullWindow: boolean): Promise<RunResult> {
  const ledger = await openLedger({ kind: 'sqlite', path: ledgerPath });
  try {
    let looked = 0;
    const counted = new Proxy(ledger, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (name === 'listEffects') {
          return async (...args: Parameters<typeof ledger.listEffects>) => {
            const rows = await target.listEffects(...args);
            looked += rows.length;
            return rows;
          };
        }
        return (value as (...parameters: unknown[]) => unknown).bind(target);
      },
    });
    const activities = createReconcileActivities({ ledger: counted, webtv, justclick, client: stack.client, readsPerSecond, inFlightWindowMs: 60_000 });
    const readsBefore = apiReads();
    const startedAt = performance.now();
    const environment = new MockActivityEnvironment({ taskQueue: 'bench-reconcile-scale' });
    const since = new Date(now - reconcileDefaults.sinceMs).toISOString();
    const checkedAt = new Date(now).toISOString();
    const found = (await environment.run(activities.findDrift, { since, now: checkedAt, operatorWaitMs: reconcileDefaults.operatorWaitMs, fullWindow })) as DriftFinding[];
    await environment.run(activities.settleDrift, { reconcileWorkflowId: `reconcile:bench-${label.replace(/\W+/g, '-')}`, findings: found, checkedAt });
    const result = { label, seconds: (performance.now() - startedAt) / 1000, apiReads: apiReads() - readsBefore, looked, findings: found.length };
    console.log(`  ${label}: ${fixed(result.seconds)} s, ${result.apiReads} API reads, ${looked} ledger rows looked at, ${result.findings} findings`);
    return result;
  } finally {
    await ledger.close();
  }
}

const results: RunResult[] = [];
let generated = 0;
try {
  const ledgerPath = join(directory, 'ledger.db');
  // Let the ledger create its tables, then write the history straight into them.
  await (await openLedger({ kind: 'sqlite', path: ledgerPath })).close();
  const historyRefunds = Math.floor((totalEffects - pendingEffects) / 3);
  const generationStarted = performance.now();
  generated += writeEffects(ledgerPath, refundsUntil(firstRunAt - 60_000, historyRefunds, firstRunAt - reconcileDefaults.sinceMs - hourMs), pendingEffects);
  console.log(
    `bench:reconcile-scale${quick ? ' (quick)' : ''}: ${generated} effects (${refunds} refunds over ${fixed((historyRefunds * refundEveryMs) / hourMs, 0)} h, ${pendingEffects} pending) ` +
      `written in ${fixed((performance.now() - generationStarted) / 1000)} s`,
  );
  results.push(await reconcileRun('first run (no checkpoint: the 24 h window)', ledgerPath, firstRunAt, false));

  // An hour of refunds later.
  const hourRefunds = Math.round(refundsPerDay / 24);
  generated += writeEffects(ledgerPath, refundsUntil(firstRunAt + hourMs - 60_000, hourRefunds, 0));
  const windowPath = join(directory, 'ledger-window.db');
  copyFileSync(ledgerPath, windowPath);
  results.push(await reconcileRun('an hour later, from the checkpoint (now)', ledgerPath, firstRunAt + hourMs, false));
  results.push(await reconcileRun('an hour later, the whole window again (before)', windowPath, firstRunAt + hourMs, true));
} finally {
  await Promise.allSettled([webtv.close(), justclick.close()]);
  await stack.close();
  rmSync(directory, { recursive: true, force: true });
}

console.log(`\n### bench:reconcile-scale${quick ? ' (quick)' : ''}\n\nMachine: ${machineLine()}\n`);
console.log(
  `A ledger of ${generated} effects (${refundsPerDay} refunds a day, 3 effects each), ${pendingEffects} of them pending; ` +
    `API reads at ${readsPerSecond}/s here, and what they take at reconcile's own ${reconcileDefaults.readsPerSecond}/s.\n`,
);
console.log(
  markdownTable(
    ['run', 'wall time s (bench pace)', 'API reads', 'ledger rows looked at', 'findings', `reads at ${reconcileDefaults.readsPerSecond}/s, minutes`],
    results.map((result) => [result.label, fixed(result.seconds), String(result.apiReads), String(result.looked), String(result.findings), fixed(result.apiReads / reconcileDefaults.readsPerSecond / 60)]),
  ),
);
const checkpointed = results[1];
const window = results[2];
if (checkpointed && window) console.log(`\nSecond run, API reads from the checkpoint / over the window: ${fixed(checkpointed.apiReads / Math.max(1, window.apiReads), 3)}\n`);
