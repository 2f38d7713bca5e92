/**
 * What the benchmarks run on, all on loopback: a Temporal dev server (in memory, headless),
 * both simulators in this process, benchmark workers as child processes (so their CPU and
 * memory are their own), and sagas prepared directly in the simulators' state (one store
 * user per saga, with a current order and a JustClick bill), checked afterwards against the
 * simulators' call log and state.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { Cents } from '../src/money.ts';
import type { JustClickSimulator } from '../src/simulators/justclick/index.ts';
import type { WebTvSimulator } from '../src/simulators/webtv/index.ts';
import { startDevServer } from '../src/temporal/dev-server.ts';
import type { DevServer } from '../src/temporal/dev-server.ts';
import { startSampleSimulators } from './stack.ts';
import type { SagaInput } from './saga-calls.ts';

/** The two simulators, all that preparing and checking sagas needs. */
export type Simulators = Pick<BenchStack, 'webtvSim' | 'justclickSim'>;

export interface BenchStack {
  server: DevServer;
  client: Client;
  webtvSim: WebTvSimulator;
  justclickSim: JustClickSimulator;
  /** Environment for a worker process on this stack (secrets are the vendors' public samples). */
  workerEnv: Record<string, string>;
  close(): Promise<void>;
}

export async function startBenchStack(options: { ledgerUrl?: string | undefined } = {}): Promise<BenchStack> {
  const directory = await mkdtemp(join(tmpdir(), 'orderflow-bench-'));
  const server = await startDevServer();
  const simulators = await startSampleSimulators();
  const { webtvSim, justclickSim } = simulators;
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  return {
    server,
    client,
    webtvSim,
    justclickSim,
    workerEnv: {
      ...simulators.apiEnv,
      TEMPORAL_ADDRESS: server.address,
      ORDERFLOW_LEDGER: options.ledgerUrl ?? `sqlite:${join(directory, 'ledger.db')}`,
    },
    async close() {
      await connection.close();
      await simulators.close();
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

let nextUserId = 10_000;

/** Price of demo product 1 (the order each saga refunds and cancels). */
export const sagaOrderCents = 550 as Cents;

/**
 * `count` fresh store users, each with a current order of product 1 and a JustClick bill,
 * made directly in the simulators' state (no API calls, so the call log holds only the
 * sagas' own). `credit` paid orders (credit ≥ price) or leaves an amount due (0).
 */
export function prepareSagas(stack: Simulators, count: number, options: { creditCents?: number } = {}): SagaInput[] {
  const sagas: SagaInput[] = [];
  for (let i = 0; i < count; i++) {
    const userId = nextUserId++;
    const user = stack.webtvSim.state.addUser(userId, { credit: (options.creditCents ?? 0) as Cents });
    user.cart.set(1, 1);
    const order = stack.webtvSim.state.placeOrder(user, { notifyBuyer: false, buyerIp: '127.0.0.1', buyerUserAgent: 'bench' });
    const justclickBillId = `bench-${userId}`;
    stack.justclickSim.state.createBill({ billId: justclickBillId, email: `user${userId}@example.com`, goods: [{ name: 'Pay-per-view: Concert', sum: '5.50' }] });
    sagas.push({ userId, orderId: order.id, amount: '5.50', justclickBillId });
  }
  return sagas;
}

/**
 * Every API call a saga makes goes through the simulators with `ms` added (their latency
 * fault, on every operation), until {@link clearLatency}. `calls` bounds how many.
 */
export function addLatency(stack: BenchStack, ms: number, calls: number): void {
  if (ms <= 0) return;
  for (const sim of [stack.webtvSim, stack.justclickSim]) {
    for (let left = calls; left > 0; left -= 10_000) sim.addFault({ operation: '*', kind: 'latency', ms, count: Math.min(10_000, left) });
  }
}

export function clearLatency(stack: BenchStack): void {
  stack.webtvSim.faults.clear();
  stack.justclickSim.faults.clear();
}

const expectedWebTvCalls: Readonly<Record<string, number>> = { list_orders: 2, get_cart: 1, get_credit: 1, add_subtract_credit: 1, cancel_order: 1 };

/**
 * Checks each saga against the simulators: exactly the seven expected calls, each answered
 * (HTTP 200), the credit added once, the order cancelled, the bill deleted. Returns one line
 * per saga that is wrong (empty: all right).
 */
export function verifySagas(stack: Simulators, sagas: readonly SagaInput[]): string[] {
  const webtvCalls = new Map<string, Map<string, number>>();
  const failedCalls = new Map<string, number>();
  for (const call of stack.webtvSim.calls) {
    const user = call.query['iq'];
    if (user === undefined || call.operation === null) continue;
    const counts = webtvCalls.get(user) ?? new Map<string, number>();
    counts.set(call.operation, (counts.get(call.operation) ?? 0) + 1);
    webtvCalls.set(user, counts);
    if (call.status !== 200 || (call.answer ?? '').includes('"error"')) failedCalls.set(user, (failedCalls.get(user) ?? 0) + 1);
  }
  const deletes = new Map<string, number>();
  for (const call of stack.justclickSim.calls) {
    const bill = call.fields['bill_id'];
    if (call.operation === 'DeleteOrder' && bill !== undefined) deletes.set(bill, (deletes.get(bill) ?? 0) + 1);
  }
  const wrong: string[] = [];
  for (const saga of sagas) {
    const problems: string[] = [];
    const counts = webtvCalls.get(String(saga.userId)) ?? new Map<string, number>();
    for (const [operation, expected] of Object.entries(expectedWebTvCalls)) {
      if ((counts.get(operation) ?? 0) !== expected) problems.push(`${operation} ×${counts.get(operation) ?? 0} (expected ${expected})`);
    }
    for (const operation of counts.keys()) if (!(operation in expectedWebTvCalls)) problems.push(`unexpected ${operation}`);
    if (failedCalls.has(String(saga.userId))) problems.push(`${failedCalls.get(String(saga.userId))} call(s) not answered OK`);
    if ((deletes.get(saga.justclickBillId) ?? 0) !== 1) problems.push(`DeleteOrder ×${deletes.get(saga.justclickBillId) ?? 0} (expected 1)`);
    const user = stack.webtvSim.state.user(saga.userId);
    const order = user?.orders.find((candidate) => candidate.id === saga.orderId);
    if (order?.status !== 2) problems.push(`order ${saga.orderId} has status ${String(order?.status)} (expected 2, cancelled)`);
    const credits = user?.creditLog.filter((entry) => entry.change === 'add') ?? [];
    if (credits.length !== 1 || credits[0]?.amount !== sagaOrderCents) problems.push(`credit added ${credits.length} time(s)`);
    if (stack.justclickSim.state.hasBill(saga.justclickBillId)) problems.push('the JustClick bill still exists');
    if (problems.length > 0) wrong.push(`user ${saga.userId}: ${problems.join('; ')}`);
  }
  return wrong;
}

/**
 * Runs `cleanup` (stop workers, the dev server, the simulators) when the benchmark is
 * interrupted (Ctrl-C, SIGTERM), so that no child process is left behind.
 */
export function cleanUpOnInterrupt(cleanup: () => Promise<void>): void {
  const stop = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal}: stopping the benchmark's workers and dev server...\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export interface WorkerProcess {
  readonly pid: number;
  stop(): Promise<void>;
}

const workerEntry = fileURLToPath(new URL('./bench-worker-process.ts', import.meta.url));

/** Starts a benchmark worker process (`orderflow` or `bare`) and waits until it polls. */
export async function spawnWorker(
  variant: 'orderflow' | 'bare',
  taskQueue: string,
  env: Record<string, string>,
  nodeOptions: readonly string[] = [],
): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...nodeOptions, workerEntry, variant], {
    env: { ...process.env, ...env, BENCH_TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.trim() === 'ready') resolve();
    });
    void exited.then((code) => reject(new Error(`the ${variant} benchmark worker exited with code ${String(code)} before it was ready`)));
  });
  await ready;
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
