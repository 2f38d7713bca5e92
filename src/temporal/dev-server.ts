/** The Temporal dev server of `npm start` (`temporal server start-dev`, with its Web UI) on loopback; tests use harness/test-server.ts. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { messageOf } from '../config-reader.ts';
import { searchAttributeRegistrations } from '../search-attributes.ts';
import { requireTemporalCli } from './cli-binary.ts';
import { assertPortFree, pickFreePorts } from './ports.ts';

export interface DevServerOptions {
  /** Ports of the gRPC frontend, the Web UI and the HTTP API; 0 or omitted picks a free one. */
  port?: number;
  uiPort?: number;
  httpPort?: number;
  /** SQLite file that keeps workflows across restarts; omitted keeps everything in memory. */
  dbFilename?: string;
  /** Append the server's output to this file (it is kept quiet either way). */
  logFile?: string;
  /** The codec server the Web UI decodes payloads with (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  /** Default {@link requireTemporalCli}. */
  cliPath?: string;
  /** Default 60 s. */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 10 s. */
  stopGraceMs?: number;
}

interface DevServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface DevServer {
  /** `ip:port` of the gRPC frontend. */
  readonly address: string;
  readonly uiUrl: string;
  /** `http://ip:port` of the HTTP API (paths start with `/api/v1/`). */
  readonly httpUrl: string;
  readonly namespace: string;
  readonly pid: number;
  /** SIGTERM, wait up to the grace period, then SIGKILL. Safe to call more than once. */
  stop(): Promise<void>;
}

const ip = '127.0.0.1';
const namespace = 'default';

const defaultReadyTimeoutMs = 60_000;
const defaultStopGraceMs = 10_000;
const outputTailLimitChars = 8_000;
/** Attempts when we picked the port ourselves and someone else took it before the server bound it. */
const portRaceAttempts = 3;

function describeExit(exit: DevServerExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  | ${line}`)
    .join('\n');
}

/** Dynamic configuration of every dev server orderflow starts; production: deploy/temporal/dynamicconfig.yaml. */
export const devServerDynamicConfig: readonly string[] = [
  // Search attributes registered at launch are usable in the very next visibility query, not after a cache refresh.
  '--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=true',
  // An activity scheduled by a workflow task goes back to the worker that completed the task, in
  // the same answer, when it has a free slot (eager dispatch): one poll round trip less per step.
  '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
];

type LaunchSettings = DevServerOptions & { port: number; uiPort: number; httpPort: number };

/** The `temporal server start-dev` arguments for one launch. */
export function devServerArgs(settings: LaunchSettings): string[] {
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(settings.port), '--ui-port', String(settings.uiPort), '--http-port', String(settings.httpPort), '--log-level', 'warn'];
  if (settings.dbFilename !== undefined) args.push('--db-filename', settings.dbFilename);
  if (settings.uiCodecEndpoint !== undefined) args.push('--ui-codec-endpoint', settings.uiCodecEndpoint);
  for (const { name, cliType } of searchAttributeRegistrations) args.push('--search-attribute', `${name}=${cliType}`);
  args.push(...devServerDynamicConfig);
  return args;
}

class DevServerStartError extends Error {
  override name = 'DevServerStartError';
  readonly portTaken: boolean;

  constructor(message: string, portTaken: boolean) {
    super(message);
    this.portTaken = portTaken;
  }
}

/** Starts the dev server and waits until it answers; failures carry the tail of its output. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cliPath = options.cliPath ?? requireTemporalCli();
  const given = [options.port ?? 0, options.uiPort ?? 0, options.httpPort ?? 0];
  const portNames = ['gRPC', 'Web UI', 'HTTP API'];
  for (const [index, port] of given.entries()) {
    if (port !== 0) await assertPortFree(ip, port, portNames[index]!);
  }
  const pickingPorts = given.includes(0);

  for (let attempt = 1; ; attempt += 1) {
    const free = await pickFreePorts(ip, 3);
    const [port = 0, uiPort = 0, httpPort = 0] = given.map((port, index) => (port !== 0 ? port : free[index]!));
    try {
      return await launch(cliPath, { ...options, port, uiPort, httpPort });
    } catch (error) {
      const retry = error instanceof DevServerStartError && error.portTaken && pickingPorts && attempt < portRaceAttempts;
      if (!retry) throw error;
    }
  }
}

async function launch(cliPath: string, options: LaunchSettings): Promise<DevServer> {
  const args = devServerArgs(options);
  const readyTimeoutMs = options.readyTimeoutMs ?? defaultReadyTimeoutMs;
  const address = `${ip}:${options.port}`;
  let tail = ''; // the last outputTailLimitChars characters of the child's output
  const logStream = options.logFile === undefined ? undefined : await openLogFile(options.logFile);

  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exitInfo: DevServerExit | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<DevServerExit>((resolve) => {
    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      exitInfo ??= { code, signal };
      resolve(exitInfo);
    };
    child.once('error', (error) => {
      spawnError = error;
      // A child that never started emits no 'exit'.
      if (child.pid === undefined) settle(null, null);
    });
    // Prefer 'close' to 'exit': by then all of the child's output has been read into the tail.
    // But a grandchild may hold the pipes open after the child died, so do not wait forever.
    child.once('close', settle);
    child.once('exit', (code, signal) => setTimeout(() => settle(code, signal), 1_000).unref());
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-outputTailLimitChars);
      logStream?.write(chunk);
    });
  }
  void exited.then(() => {
    process.removeListener('exit', killOnParentExit);
    logStream?.end();
  });
  // If this process exits without stop() (a crash, process.exit), do not leave the server behind.
  function killOnParentExit(): void {
    if (exitInfo === undefined) child.kill('SIGTERM');
  }
  process.on('exit', killOnParentExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo !== undefined) return;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), options.stopGraceMs ?? defaultStopGraceMs);
      await exited;
      clearTimeout(killTimer);
    })();
    return stopping;
  };

  const what = `Temporal dev server (${cliPath} ${args.slice(0, 2).join(' ')} on ${address})`;
  const failure = await waitUntilReady(address, Date.now() + readyTimeoutMs, exited);
  const pid = child.pid;
  if (failure === undefined && pid !== undefined) {
    return { address, uiUrl: `http://${ip}:${options.uiPort}`, httpUrl: `http://${ip}:${options.httpPort}`, namespace, pid, stop };
  }
  await stop();
  if (spawnError !== undefined && pid === undefined) {
    throw new DevServerStartError(
      `Could not run ${cliPath}: ${spawnError.message}. Install the Temporal CLI with node scripts/setup.js (npm start and npm test run it first) or point TEMPORAL_CLI_PATH at it.`,
      false,
    );
  }
  const output = tail.trimEnd() || '(no output)';
  const portTaken = /address already in use/i.test(output);
  const logNote = options.logFile === undefined ? '' : ` Full output: ${options.logFile}.`;
  if (failure !== undefined && 'exit' in failure) {
    throw new DevServerStartError(
      `${what} ${describeExit(failure.exit)} before it was ready.` +
        (portTaken ? ' A port it needs is already in use: pick other ports or stop the other server.' : ' Check its output:') +
        `\n${indent(output)}${logNote}`,
      portTaken,
    );
  }
  throw new DevServerStartError(
    `${what} did not answer within ${readyTimeoutMs / 1000} s (last problem: ${messageOf(failure?.problem)}). ` +
      `It was stopped. Its last output:\n${indent(output)}${logNote}`,
    portTaken,
  );
}

/** Opens `path` for appending; throws a readable error before anything is started if it cannot. */
async function openLogFile(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path, { flags: 'a' });
  await once(stream, 'open').catch((error: unknown) => {
    const message = `Cannot write the Temporal dev server log to ${path}: ${messageOf(error)}. Choose a writable log file.`;
    throw new Error(message, { cause: error });
  });
  // A later write failure (disk full) must not crash the process that runs the server.
  stream.on('error', () => undefined);
  return stream;
}

/**
 * Undefined once the server answers with our search attributes, else its exit or (at the
 * deadline) the last problem. A new connection per attempt: gRPC's reconnect backoff would add
 * seconds after a refused one.
 */
async function waitUntilReady(
  address: string,
  deadline: number,
  exited: Promise<DevServerExit>,
): Promise<{ exit: DevServerExit } | { problem: unknown } | undefined> {
  let lastProblem: unknown = new Error('no attempt finished');
  const exit = exited.then((info) => ({ exit: info }));
  while (Date.now() < deadline) {
    const outcome = await Promise.race([probe(address).then(() => undefined, (problem: unknown) => ({ problem })), exit]);
    if (outcome === undefined || 'exit' in outcome) return outcome;
    lastProblem = outcome.problem;
    await Promise.race([sleep(200), exited]);
  }
  return { problem: lastProblem };
}

async function probe(address: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = searchAttributeRegistrations.map(({ name }) => name).filter((name) => !(name in customAttributes));
    if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
