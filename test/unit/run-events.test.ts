/**
 * `npm start`'s terminal: one readable line per run event, the JSON log to a file
 * (src/run-events.ts); and simulator order ids that go on across starts (src/local-stack.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLogLine, runEventLine, runEventLines, runEventSink } from '../../src/run-events.ts';
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

describe("a bulk's item runs in the terminal", () => {
  it('shows one line per bulk progress step, not one per item run (its errors aside)', () => {
    const lineFor = runEventLines();
    const bulk = { workflowId: 'bulk:refund-and-cancel:abc', workflowType: 'bulkRun' };
    const shown: string[] = [];
    const show = (line: string | undefined): void => void (line !== undefined && shown.push(line));
    show(lineFor(entry('DEBUG', 'Workflow started', bulk)));
    const progress = (state: string, done: number, failed: number, running: number, queued: number) =>
      entry('INFO', 'bulk progress', { ...bulk, bulkId: 'bulk:refund-and-cancel:abc', state, total: 10_000, done, failed, waiting: 1, notStarted: 0, running, queued });
    for (let index = 0; index < 10_000; index++) {
      const item = { workflowId: `refund-and-cancel:${index + 1}:319`, workflowType: 'refundAndCancel', runId: `r${index}` };
      show(lineFor(entry('DEBUG', 'Workflow started', { ...item, bulkId: 'bulk:refund-and-cancel:abc' })));
      // Activity entries carry no bulkId: the run is known from its start.
      show(lineFor(entry('WARN', 'Activity failed', { ...item, activityType: 'observeOrder', attempt: 1, error: new Error('HTTP 502') })));
      if (index === 7) show(lineFor(entry('WARN', 'run waits for an operator', { ...item, bulkId: 'bulk:refund-and-cancel:abc', step: 'add-credit', reason: 'Check.' })));
      else if (index % 1000 === 999) show(lineFor(entry('WARN', 'Workflow failed', { ...item, bulkId: 'bulk:refund-and-cancel:abc', error: new Error('refused') })));
      else show(lineFor(entry('DEBUG', 'Workflow completed', { ...item, bulkId: 'bulk:refund-and-cancel:abc' })));
      if (index === 4999) show(lineFor(progress('running', 4994, 5, 10, 4990)));
    }
    show(lineFor(entry('ERROR', 'Workflow task failed', { workflowId: 'refund-and-cancel:42:319', workflowType: 'refundAndCancel', bulkId: 'bulk:refund-and-cancel:abc', error: new Error('boom') })));
    show(lineFor(progress('finished', 9_989, 10, 0, 0)));
    // An item run's activity after its end is an ordinary run's again (nothing is remembered for ever).
    show(lineFor(entry('WARN', 'Activity failed', { workflowId: 'refund-and-cancel:1:319', activityType: 'observeOrder', attempt: 1, error: new Error('HTTP 502') })));
    expect(shown).toEqual([
      '20:13:20 ▶ bulk:refund-and-cancel:abc started (bulkRun)',
      '20:13:20 ▦ bulk bulk:refund-and-cancel:abc running: 4994 of 10000 done, 5 failed, 1 wait for an operator, 10 running, 4990 queued',
      '20:13:20 ! refund-and-cancel:42:319: Workflow task failed: boom',
      '20:13:20 ▦ bulk bulk:refund-and-cancel:abc finished: 9989 of 10000 done, 10 failed, 1 wait for an operator',
      '20:13:20 ↻ refund-and-cancel:1:319: observeOrder attempt 1 failed: HTTP 502',
    ]);
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
