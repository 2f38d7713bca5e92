/** `npm start`'s worker log: JSON lines to a file under .orderflow/; on the terminal, one line per run event and error. */
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

const isoTime = (entry: LogEntry): string => new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();

/** One JSON object per line: easy to ship, easy to grep. */
export function jsonLogLine(entry: LogEntry): string {
  return `${JSON.stringify({ at: isoTime(entry), level: entry.level, message: entry.message, ...entry.meta }, jsonValue)}\n`;
}

function text(meta: LogMetadata | undefined, name: string): string {
  const value = meta?.[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function errorMessage(meta: LogMetadata | undefined): string {
  const error = meta?.['error'];
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return typeof error === 'string' ? error : '';
}

/** The counts of a `bulk progress` line besides `done`, in the order shown, when not 0. */
const bulkCounts = { failed: 'failed', waiting: 'wait for an operator', notStarted: 'not started', running: 'running', queued: 'queued' };

/** The terminal's line of each run event, by log message. */
const eventLines = new Map<string, (meta: LogMetadata | undefined, run: string, level: LogLevel) => string | undefined>([
  ['Workflow started', (meta, run) => `▶ ${run} started (${text(meta, 'workflowType')})`],
  ['Workflow completed', (_meta, run) => `✓ ${run} completed`],
  ['Workflow failed', (meta, run) => `✗ ${run} failed: ${errorMessage(meta)}`],
  ['Activity failed', (meta, run, level) => {
    if (level === 'DEBUG') return undefined; // a cancellation, not a failure
    return `↻ ${run}: ${text(meta, 'activityType')} attempt ${text(meta, 'attempt')} failed: ${errorMessage(meta)}`;
  }],
  ['run waits for an operator', (meta, run) => `⏸ ${run} waits for an operator at ${text(meta, 'step')}: ${text(meta, 'reason')}`],
  ['bulk progress', (meta) => {
    const count = (name: string): number => Number(text(meta, name) || 0);
    const parts = [`${count('done')} of ${count('total')} done`];
    for (const [name, words] of Object.entries(bulkCounts)) if (count(name) > 0) parts.push(`${count(name)} ${words}`);
    return `▦ bulk ${text(meta, 'bulkId')} ${text(meta, 'state')}: ${parts.join(', ')}`;
  }],
]);

/** The terminal's line for a log entry that is a run event, an error or a warning; undefined for the rest. */
export function runEventLine(entry: LogEntry): string | undefined {
  const { meta, level, message } = entry;
  const run = text(meta, 'workflowId');
  const error = errorMessage(meta);
  const eventLine = eventLines.get(message);
  let line: string | undefined;
  if (eventLine !== undefined) line = eventLine(meta, run, level);
  else if (level === 'ERROR' || level === 'WARN') {
    line = `${level === 'ERROR' ? '!' : '·'} ${run === '' ? '' : `${run}: `}${message}${error === '' ? '' : `: ${error}`}`;
  }
  return line === undefined ? undefined : printable(`${isoTime(entry).slice(11, 19)} ${line}`);
}

/** {@link runEventLine} without a bulk's item runs (errors aside): known by `bulkId`, their activities' entries by workflow id. */
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
