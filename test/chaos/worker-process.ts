/**
 * `orderflow worker` as a child process, for chaos tests: start it, wait for its
 * "orderflow worker started" log line, SIGKILL it, and make sure no child outlives the
 * test file (`stopAllWorkerProcesses()` in afterEach/afterAll).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const projectRoot: string = fileURLToPath(new URL('../../', import.meta.url));
/** Node 24 from the project (the system node is older and cannot run the .ts sources). */
export const projectNode: string = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
export const workerEntry: string = fileURLToPath(new URL('../../src/worker.ts', import.meta.url));

export const workerStartedMessage = 'orderflow worker started';

/** One JSON log line of the worker (see jsonLogLine in src/worker.ts). */
export interface WorkerLogLine {
  at?: string;
  level?: string;
  message: string;
  [field: string]: unknown;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<WorkerExit>;
  /** Every stderr line so far (JSON log lines, and anything else the process printed). */
  readonly stderrLines: readonly string[];
  /** Resolves with the start line; rejects if the process exits first or `timeoutMs` passes. */
  waitUntilStarted(timeoutMs?: number): Promise<WorkerLogLine>;
  /** Sends `signal` (unless it has exited) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<WorkerExit>;
  /** The last lines of its output, with the secrets in its environment replaced, for error messages. */
  outputTail(lines?: number): string;
}

const running = new Set<WorkerProcess>();

// Backstop: if this test process ends without its afterAll (a crash, a hard timeout), take
// the children with it. A synchronous kill is all an 'exit' handler can do.
process.once('exit', () => {
  for (const worker of running) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  }
});

/** Environment variables whose values must not be printed, even in a failing test's message. */
const secretVariables = ['WEBTV_SHARED_SECRET', 'JUSTCLICK_SECRET', 'ORDERFLOW_LEDGER'];

function parseLogLine(line: string): WorkerLogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
      return value as WorkerLogLine;
    }
  } catch {
    // Not a log line: kept in stderrLines as it is.
  }
  return undefined;
}

/**
 * Starts `node src/worker.ts` with exactly `env` (pass `{ ...process.env, ...stack.env, ... }`).
 * The process is registered for {@link stopAllWorkerProcesses}.
 */
export function spawnWorkerProcess(env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(projectNode, [workerEntry], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) {
    throw new Error(`could not start the worker process (${projectNode} ${workerEntry}); check that npm install put Node 24 in node_modules/.bin/node`);
  }
  const pid = child.pid;
  const stderrLines: string[] = [];
  const stdoutLines: string[] = [];
  let startLine: WorkerLogLine | undefined;
  const startWaiters = new Set<(line: WorkerLogLine) => void>();

  const exited = new Promise<WorkerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: child.exitCode, signal: child.signalCode }));
  });

  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrLines.push(line);
    const entry = parseLogLine(line);
    if (entry?.message === workerStartedMessage && startLine === undefined) {
      startLine = entry;
      for (const waiter of startWaiters) waiter(entry);
      startWaiters.clear();
    }
  });
  createInterface({ input: child.stdout! }).on('line', (line) => stdoutLines.push(line));

  const secrets = secretVariables.map((name) => env[name]).filter((value): value is string => value !== undefined && value.length >= 6);
  const outputTail = (lines = 20): string => {
    let text = [...stdoutLines.slice(-lines).map((line) => `stdout: ${line}`), ...stderrLines.slice(-lines).map((line) => `stderr: ${line}`)].join('\n');
    for (const secret of secrets) text = text.split(secret).join('[redacted]');
    return text === '' ? '(no output)' : text;
  };

  const worker: WorkerProcess = {
    pid,
    child,
    exited,
    stderrLines,
    outputTail,
    waitUntilStarted(timeoutMs = 120_000) {
      if (startLine !== undefined) return Promise.resolve(startLine);
      return new Promise<WorkerLogLine>((resolve, reject) => {
        const timer = setTimeout(() => {
          startWaiters.delete(onStart);
          reject(new Error(`worker process ${pid} did not log "${workerStartedMessage}" within ${timeoutMs} ms. Its output:\n${outputTail()}`));
        }, timeoutMs);
        const onStart = (line: WorkerLogLine): void => {
          clearTimeout(timer);
          resolve(line);
        };
        startWaiters.add(onStart);
        void exited.then((exit) => {
          if (startLine !== undefined) return;
          clearTimeout(timer);
          startWaiters.delete(onStart);
          reject(new Error(`worker process ${pid} exited (code ${exit.code}, signal ${exit.signal}) before it started. Its output:\n${outputTail()}`));
        });
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const exit = await exited;
      running.delete(worker);
      return exit;
    },
  };
  running.add(worker);
  void exited.then(() => running.delete(worker));
  return worker;
}

/**
 * Stops every worker process still running: SIGTERM (a graceful shutdown), then SIGKILL
 * for any that has not exited after `graceMs`. For afterEach/afterAll: never throws.
 */
export async function stopAllWorkerProcesses(graceMs = 10_000): Promise<void> {
  const workers = [...running];
  await Promise.all(
    workers.map(async (worker) => {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace over'>((resolve) => {
        timer = setTimeout(() => resolve('grace over'), graceMs);
      });
      try {
        if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
        if ((await Promise.race([worker.exited, graceOver])) === 'grace over') await worker.kill('SIGKILL');
      } catch {
        await worker.kill('SIGKILL').catch(() => undefined);
      } finally {
        clearTimeout(timer);
        running.delete(worker);
      }
    }),
  );
}

/** How many worker processes this module started that have not exited (for a test's own check). */
export function runningWorkerProcesses(): number {
  return running.size;
}
