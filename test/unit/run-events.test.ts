/**
 * `npm start`'s terminal: one readable line per run event, the JSON log to a file
 * (src/run-events.ts); and simulator order ids that go on across starts (src/local-stack.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLogLine, runEventLine, runEventSink } from '../../src/run-events.ts';
import type { LogEntry } from '../../src/run-events.ts';
import { reserveOrderIds, saveNextOrderId } from '../../src/local-stack.ts';

const at = 1_764_620_000_000n * 1_000_000n; // 2025-12-01T20:13:20Z
const entry = (level: LogEntry['level'], message: string, meta?: LogEntry['meta']): LogEntry => ({ level, message, meta, timestampNanos: at });
const taskToken = 'CiRkNGE1YjU2Ny1iY2Q4LTQ5MjAtYjM0OS1hZGY5ZDFmMmE0ZmMSF3JlZnVuZC1hbmQtY2FuY2VsLzcvMzE5'.repeat(3);

const directory = mkdtempSync(join(tmpdir(), 'orderflow-run-events-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('run events in the terminal', () => {
  it('says in one line each when a run starts, completes, fails, retries a step, or waits for an operator', () => {
    const run = { workflowId: 'refund-and-cancel:7:319', workflowType: 'refundAndCancel', runId: 'r1' };
    expect(runEventLine(entry('DEBUG', 'Workflow started', run))).toBe('20:13:20 ▶ refund-and-cancel:7:319 started (refundAndCancel)');
    expect(runEventLine(entry('DEBUG', 'Workflow completed', run))).toBe('20:13:20 ✓ refund-and-cancel:7:319 completed');
    expect(runEventLine(entry('WARN', 'Workflow failed', { ...run, error: new Error('order 319 is not current') }))).toBe(
      '20:13:20 ✗ refund-and-cancel:7:319 failed: order 319 is not current',
    );
    const activity = { ...run, activityType: 'applyCreditChange', attempt: 2, taskToken, error: new Error('HTTP 502') };
    const retried = runEventLine(entry('WARN', 'Activity failed', activity));
    expect(retried).toBe('20:13:20 ↻ refund-and-cancel:7:319: applyCreditChange attempt 2 failed: HTTP 502');
    expect(retried).not.toContain(taskToken);
    expect(runEventLine(entry('WARN', 'run waits for an operator', { ...run, step: 'add-credit', reason: 'Check the credit.' }))).toBe(
      '20:13:20 ⏸ refund-and-cancel:7:319 waits for an operator at add-credit: Check the credit.',
    );
  });

  it('leaves out what is not a run event, and shows errors', () => {
    expect(runEventLine(entry('DEBUG', 'Activity started', { activityType: 'observeOrder' }))).toBeUndefined();
    expect(runEventLine(entry('INFO', 'Worker state changed', { state: 'RUNNING' }))).toBeUndefined();
    expect(runEventLine(entry('ERROR', 'effect ledger background failure', { error: new Error('disk full') }))).toBe('20:13:20 ! effect ledger background failure: disk full');
  });

  it('writes every entry as a JSON line to the log file (errors with their message), run events to the terminal', () => {
    const file = join(directory, 'logs', 'worker.log');
    const shown: string[] = [];
    const sink = runEventSink(file, (line) => shown.push(line));
    sink(entry('DEBUG', 'Activity started', { activityType: 'observeOrder', taskToken }));
    sink(entry('WARN', 'Activity failed', { workflowId: 'w', activityType: 'observeOrder', attempt: 1, taskToken, error: new Error('HTTP 502') }));
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 'WARN', message: 'Activity failed', error: { name: 'Error', message: 'HTTP 502' }, taskToken });
    expect(shown).toEqual(['20:13:20 ↻ w: observeOrder attempt 1 failed: HTTP 502']);
    expect(jsonLogLine(entry('INFO', 'x'))).toMatch(/^\{"at":"2025-12-01T20:13:20\.000Z","level":"INFO","message":"x"\}\n$/);
  });
});

describe('simulator order ids across starts of npm start', () => {
  it('start at 319, go on where the last start ended, and skip a block after a start that did not save', () => {
    const file = join(directory, 'simulators.json');
    expect(reserveOrderIds(file)).toBe(319);
    saveNextOrderId(321, file); // a clean stop after two orders
    expect(reserveOrderIds(file)).toBe(321);
    // That start crashed without saving: the next one begins after its whole block.
    expect(reserveOrderIds(file)).toBe(1321);
  });
});
