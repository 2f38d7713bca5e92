/**
 * `npm start`'s terminal during a bulk, on a real Temporal server with orderflow's own worker
 * (createOrderflowWorker, as npm start runs it, logging at DEBUG into the npm start sink): the
 * bulk's item runs are not shown one by one; the bulk's `bulk progress` lines summarise them.
 * Runs in its own test file: it installs the Temporal runtime with that sink.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { startBulk } from '../../src/features/bulk/client.ts';
import type { BulkResult } from '../../src/features/bulk/contracts.ts';
import { runEventSink } from '../../src/run-events.ts';
import { createOrderflowWorker, installRuntime } from '../../src/worker.ts';
import { startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import { connectTestClient, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';

describe.skipIf(!temporalAvailable())("npm start's terminal during a bulk", () => {
  let stack: Stack;
  let client: Client;
  const directory = mkdtempSync(join(tmpdir(), 'orderflow-bulk-terminal-'));
  beforeAll(async () => {
    stack = await startStack();
    client = await connectTestClient();
  });
  afterAll(async () => {
    await client?.connection.close();
    await stack?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('shows the bulk and its progress lines, not a line per item run', { timeout: 180_000 }, async () => {
    const shown: string[] = [];
    const logFile = join(directory, 'worker.log');
    installRuntime({ logLevel: 'DEBUG', logSink: runEventSink(logFile, (line) => shown.push(line)) });
    const target = testTemporalTarget();
    const taskQueue = uniqueTaskQueue('bulk-terminal');
    const orderflow = await createOrderflowWorker({ env: { ...stack.env, TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace }, taskQueue });
    const running = orderflow.run();
    let result: BulkResult;
    const users = [31, 32, 33, 34, 35, 36];
    try {
      const items = users.map((userId) => ({ userId, action: 'add' as const, amount: '1.00', description: 'goodwill', reason: 'bulk terminal test', requestedBy: 'test' }));
      const bulk = await startBulk({ client, taskQueue, workflowIdPrefix: `terminal-${Date.now()}-` }, { kind: 'adjust-credit', items, concurrency: 3, rate: 20 });
      result = (await bulk.handle.result()) as BulkResult;
    } finally {
      orderflow.shutdown();
      await running;
    }
    expect(result.counts).toMatchObject({ total: 6, done: 6 });

    // The log file has every item run's events, each carrying the bulk's id.
    const logged = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const itemStarts = logged.filter((entry) => entry['message'] === 'Workflow started' && entry['workflowType'] === 'adjustCredit');
    expect(itemStarts).toHaveLength(6);
    for (const entry of itemStarts) expect(entry['bulkId']).toBe(result.bulkId);

    // The terminal: the bulk's own lines and its progress, no item run.
    const itemIds = itemStarts.map((entry) => String(entry['workflowId']));
    expect(itemIds).toHaveLength(6);
    expect(shown.filter((line) => itemIds.some((workflowId) => line.includes(workflowId)))).toEqual([]);
    const progress = shown.filter((line) => line.includes('▦ bulk'));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatch(new RegExp(`▦ bulk ${result.bulkId} finished: 6 of 6 done$`));
    expect(shown.some((line) => / ▶ .*started \(bulkRun\)$/.test(line))).toBe(true);
  });
});
