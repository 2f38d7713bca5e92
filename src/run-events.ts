/**
 * `npm start`'s worker log: JSON lines to a file under .orderflow/, and one readable terminal
 * line per run event and error. A bulk's item runs are summarised by its `bulk progress` lines.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLevel, LogMetadata } from '@temporalio/worker';
import { printable } from './single-line-text.ts';

export interface LogEntry {
  level: LogLevel;
  message: string;
  meta?: LogMetadata;
  timestampNanos: bigint;
}

/** Errors in log metadata as their name and message (JSON.stringify drops both). */
function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return typeof value === 'bigint' ? value.toString() : value;
}

/** One JSON object per line: easy to ship, easy to grep. */
export function jsonLogLine(entry: LogEntry): string {
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return `${JSON.stringify({ at, level: entry.level, message: entry.message, ...entry.meta }, jsonValue)}\n`;
}

function text(meta: LogMetadata | undefined, name: string): string {
  const value = meta?.[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function errorMessage(meta: LogMetadata | undefined): string {
  const error = meta?.['error'];
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return typeof error === 'string' ? error : '';
}

/** The counts of a `bulk progress` line besides `done`, in the order shown, when not 0. */
const bulkCounts = { failed: 'failed', waiting: 'wait for an operator', notStarted: 'not started', running: 'running', queued: 'queued' };

/** The terminal's line for a log entry that is a run event (or an error); undefined for the rest. */
export function runEventLine(entry: LogEntry): string | undefined {
  const meta = entry.meta;
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString().slice(11, 19);
  const run = text(meta, 'workflowId');
  let line: string | undefined;
  switch (entry.message) {
    case 'Workflow started':
      line = `▶ ${run} started (${text(meta, 'workflowType')})`;
      break;
    case 'Workflow completed':
      line = `✓ ${run} completed`;
      break;
    case 'Workflow failed':
      line = `✗ ${run} failed: ${errorMessage(meta)}`;
      break;
    case 'Activity failed':
      if (entry.level === 'DEBUG') return undefined; // a cancellation, not a failure
      line = `↻ ${run}: ${text(meta, 'activityType')} attempt ${text(meta, 'attempt')} failed: ${errorMessage(meta)}`;
      break;
    case 'run waits for an operator':
      line = `⏸ ${run} waits for an operator at ${text(meta, 'step')}: ${text(meta, 'reason')}`;
      break;
    case 'bulk progress': {
      const count = (name: string): number => Number(text(meta, name) || 0);
      const parts = [`${count('done')} of ${count('total')} done`];
      for (const [name, words] of Object.entries(bulkCounts)) if (count(name) > 0) parts.push(`${count(name)} ${words}`);
      line = `▦ bulk ${text(meta, 'bulkId')} ${text(meta, 'state')}: ${parts.join(', ')}`;
      break;
    }
    default:
      if (entry.level !== 'ERROR' && entry.level !== 'WARN') return undefined;
      line = `${entry.level === 'ERROR' ? '!' : '·'} ${run === '' ? '' : `${run}: `}${entry.message}${errorMessage(meta) === '' ? '' : `: ${errorMessage(meta)}`}`;
  }
  return printable(`${at} ${line}`);
}

/**
 * {@link runEventLine} without a bulk's item runs (errors aside). An item run is known by its
 * `bulkId`; its activities' entries, which have none, by its workflow id until the run ends.
 */
export function runEventLines(): (entry: LogEntry) => string | undefined {
  const bulkItems = new Set<string>();
  return (entry) => {
    const workflowId = text(entry.meta, 'workflowId');
    const isItem = workflowId !== '' && (text(entry.meta, 'bulkId') !== '' || bulkItems.has(workflowId)) && entry.message !== 'bulk progress';
    if (!isItem) return runEventLine(entry);
    if (entry.message === 'Workflow completed' || entry.message === 'Workflow failed') bulkItems.delete(workflowId);
    else bulkItems.add(workflowId);
    return entry.level === 'ERROR' ? runEventLine(entry) : undefined;
  };
}

/** A log sink for `npm start`: JSON lines to `logFile`, run events to `terminal`. */
export function runEventSink(logFile: string, terminal: (line: string) => void): (entry: LogEntry) => void {
  mkdirSync(dirname(logFile), { recursive: true });
  const lineFor = runEventLines();
  return (entry) => {
    appendFileSync(logFile, jsonLogLine(entry));
    const line = lineFor(entry);
    if (line !== undefined) terminal(line);
  };
}
