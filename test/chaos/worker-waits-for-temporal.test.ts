/**
 * A worker started before its cluster waits for it: it logs one line per attempt (what it
 * waits for, when it tries again), and once a Temporal server comes up on that address it
 * starts and serves runs. What waiting cannot fix (an unknown namespace) ends it at once,
 * with a clear message and a non-zero exit code.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { startAdjustCredit } from '../../src/client/starters.ts';
import type { RunResult } from '../../src/contracts.ts';
import { startDevServer } from '../../src/temporal/dev-server.ts';
import type { DevServer } from '../../src/temporal/dev-server.ts';
import { findTemporalCli } from '../../src/temporal/cli-binary.ts';
import { temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { eventually, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import { spawnWorkerProcess, stopAllWorkerProcesses } from './worker-process.ts';
import type { WorkerLogLine, WorkerProcess } from './worker-process.ts';
import { pickFreePorts } from '../../src/temporal/ports.ts';

async function freePort(): Promise<number> {
  const [port] = await pickFreePorts('127.0.0.1', 1);
  return port!;
}

function waitLines(worker: WorkerProcess): WorkerLogLine[] {
  return worker.stderrLines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as WorkerLogLine)
    .filter((line) => line.message === 'waiting for Temporal');
}

describe.skipIf(!temporalAvailable() || findTemporalCli() === undefined)('a worker started before its Temporal cluster', () => {
  let stack: Stack;
  let server: DevServer | undefined;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterEach(async () => {
    await stopAllWorkerProcesses();
    await server?.stop();
    server = undefined;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('waits, logging each attempt, and serves runs once the cluster comes up', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const taskQueue = uniqueTaskQueue('waits-for-temporal');
    const worker = spawnWorkerProcess({ ...process.env, ...stack.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default', ORDERFLOW_TASK_QUEUE: taskQueue });

    // Nothing listens there: the worker stays up and says what it waits for, and when it tries again.
    const [first] = await eventually('a "waiting for Temporal" line', () => (waitLines(worker).length >= 2 ? waitLines(worker) : undefined), 60_000);
    expect(first).toMatchObject({ level: 'WARN', attempt: 1, namespace: 'default' });
    expect(first!['waitingFor']).toContain(address);
    expect(Date.parse(String(first!['nextAttemptAt']))).not.toBeNaN();
    expect(first!['nextAttemptInSeconds']).toBeGreaterThan(0);
    expect(first!['reason']).toMatch(/Cannot reach Temporal/);
    expect(worker.child.exitCode).toBeNull();

    // The cluster comes up on that address: the worker connects and serves a run.
    server = await startDevServer({ port });
    const started = await worker.waitUntilStarted(120_000);
    expect(started['taskQueue']).toBe(taskQueue);
    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const { handle } = await startAdjustCredit(
        { client, taskQueue },
        { userId: 1, action: 'add', amount: '1.00', description: 'goodwill', reason: 'worker waited for its cluster', requestId: `wait-${randomUUID()}` },
      );
      const result = (await handle.result()) as RunResult;
      expect(result.outcome).toBe('completed');
    } finally {
      await connection.close();
    }
    expect(stack.webtvSim.calls.filter((call) => call.operation === 'add_subtract_credit' && call.query['iq'] === '1')).toHaveLength(1);
  });

  it('stops while it waits when told to (SIGTERM), exit code 0', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const worker = spawnWorkerProcess({ ...process.env, ...stack.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, ORDERFLOW_TASK_QUEUE: uniqueTaskQueue('waits-stopped') });
    await eventually('a "waiting for Temporal" line', () => (waitLines(worker).length >= 1 ? true : undefined), 60_000);
    expect(await worker.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(worker.stderrLines.some((line) => line.includes('"message":"orderflow worker stopped before Temporal could be reached"'))).toBe(true);
  });

  it('exits at once, with a clear message, when the namespace does not exist', { timeout: 120_000 }, async () => {
    const target = testTemporalTarget();
    const namespace = `no-such-namespace-${randomUUID().slice(0, 8)}`;
    const worker = spawnWorkerProcess({ ...process.env, ...stack.env, TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: namespace, ORDERFLOW_TASK_QUEUE: uniqueTaskQueue('no-namespace') });
    const exit = await worker.exited;
    expect(exit.code).toBe(2);
    const output = worker.stderrLines.join('\n');
    expect(output).toContain(`orderflow worker: The namespace ${namespace} does not exist at Temporal at ${target.address}`);
    expect(output).toMatch(/temporal operator namespace create --namespace/);
    expect(waitLines(worker)).toEqual([]);
    expect(output).not.toMatch(/\n\s+at /);
  });
});
