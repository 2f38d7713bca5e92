/**
 * The worker process as operations run it: it starts from the environment, logs JSON lines,
 * serves Prometheus metrics when ORDERFLOW_METRICS_PORT is set, refuses bad configuration
 * listing every problem (and no secret), and stops gracefully on SIGTERM.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import { spawnWorkerProcess, stopAllWorkerProcesses } from './worker-process.ts';
import { pickFreePorts } from '../../src/temporal/ports.ts';

async function freePort(): Promise<number> {
  const [port] = await pickFreePorts('127.0.0.1', 1);
  return port!;
}

describe.skipIf(!temporalAvailable())('the worker process', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterEach(async () => {
    await stopAllWorkerProcesses();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('serves metrics, logs JSON, and stops gracefully on SIGTERM', { timeout: 120_000 }, async () => {
    const metricsPort = await freePort();
    const target = testTemporalTarget();
    const worker = spawnWorkerProcess({
      ...process.env,
      ...stack.env,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      ORDERFLOW_TASK_QUEUE: uniqueTaskQueue('lifecycle'),
      ORDERFLOW_METRICS_PORT: String(metricsPort),
    });
    const started = await worker.waitUntilStarted();
    expect(started).toMatchObject({ level: 'INFO', message: 'orderflow worker started', metrics: `http://0.0.0.0:${metricsPort}/metrics` });
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^temporal_/m);
    const exit = await worker.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.stderrLines.some((line) => line.includes('"message":"orderflow worker stopped"'))).toBe(true);
    const everything = worker.stderrLines.join('\n');
    expect(everything).not.toContain(stack.env['WEBTV_SHARED_SECRET']);
    expect(everything).not.toContain(stack.env['JUSTCLICK_SECRET']);
  });

  it('refuses bad configuration with every problem listed and no secret printed', async () => {
    const worker = spawnWorkerProcess({
      PATH: process.env['PATH'],
      WEBTV_API_URL: 'http://shop.example.com/api.php',
      WEBTV_SHARED_SECRET: 'very-secret-value',
      ORDERFLOW_LEDGER: 'mysql://nope',
    });
    const exit = await worker.exited;
    expect(exit.code).toBe(1);
    const output = worker.stderrLines.join('\n');
    expect(output).toMatch(/WEBTV_API_URL/);
    expect(output).toMatch(/WEBTV_KEY_ID/);
    expect(output).toMatch(/ORDERFLOW_LEDGER/);
    expect(output).not.toContain('very-secret-value');
  });
});
