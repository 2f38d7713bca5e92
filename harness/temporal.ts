/**
 * Helpers for tests that need Temporal: the dev server that `test/global-setup.ts` starts
 * once per run, a client on it, and a worker running while a test body runs.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { joinWorkflowModules } from '../src/temporal/workflow-bundle.ts';
import type { DataConverter } from '@temporalio/common';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `ip:port` of the run's dev server; absent when the Temporal CLI is missing (outside CI). */
    temporalAddress?: string;
    temporalNamespace?: string;
    /** `http://ip:port` of the dev server's HTTP API. */
    temporalHttpUrl?: string;
    /** Why there is no dev server, when there is none. */
    temporalUnavailableReason?: string;
  }
}

let reasonPrinted = false;

/**
 * True when the global setup started a dev server. When false, prints (once per test file
 * process) why, so a skipped Temporal test says what to install:
 * `describe.skipIf(!temporalAvailable())(...)`.
 */
export function temporalAvailable(): boolean {
  if (inject('temporalAddress') !== undefined) return true;
  if (!reasonPrinted) {
    reasonPrinted = true;
    const reason = inject('temporalUnavailableReason') ?? 'the global setup provided no Temporal dev server address';
    console.warn(`Skipping Temporal tests: ${reason}`);
  }
  return false;
}

export interface TemporalTarget {
  address: string;
  namespace: string;
}

/** The run's dev server; throws when there is none (guard the test with {@link temporalAvailable}). */
export function testTemporalTarget(): TemporalTarget {
  const address = inject('temporalAddress');
  if (address === undefined) {
    throw new Error(
      `No Temporal dev server for this test run: ${inject('temporalUnavailableReason') ?? 'test/global-setup.ts provided none'}. ` +
        'Guard Temporal tests with temporalAvailable().',
    );
  }
  return { address, namespace: inject('temporalNamespace') ?? 'default' };
}

/**
 * A client on the run's dev server (or on `target`), with `dataConverter` when given (e.g.
 * payload encryption, src/temporal/encryption.ts). Close it with `client.connection.close()`.
 */
export async function connectTestClient(target: TemporalTarget = testTemporalTarget(), dataConverter?: DataConverter): Promise<Client> {
  const connection = await Connection.connect({ address: target.address });
  return new Client({ connection, namespace: target.namespace, ...(dataConverter === undefined ? {} : { dataConverter }) });
}

/** A task queue no other test (or earlier run on a persistent server) uses. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export interface RunWorkerOptions {
  /** Module whose exported functions are the workflows (a `.ts` file; its imports may carry `.ts`). */
  workflowsPath: string;
  activities?: object;
  taskQueue: string;
  /** Default: the run's dev server. */
  target?: TemporalTarget;
  /** Default: the SDK's; its failure converter is bundled with the workflows. */
  dataConverter?: DataConverter | undefined;
}

let runtimeConfigured = false;

/** Keep the SDK's own logging to warnings; must happen before the first connection or worker. */
function quietTemporalRuntime(): void {
  if (runtimeConfigured) return;
  runtimeConfigured = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed or instantiated by someone else in this process: keep theirs.
  }
}

/** Webpack bundling takes seconds: bundle each workflows module once per test file process. */
const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

function bundleFor(workflowsPath: string, failureConverterPath: string | undefined): Promise<WorkflowBundleWithSourceMap> {
  const key = `${workflowsPath}\n${failureConverterPath ?? ''}`;
  let bundle = bundles.get(key);
  if (bundle === undefined) {
    bundle = bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: new DefaultLogger('WARN'), webpackConfigHook: joinWorkflowModules });
    bundles.set(key, bundle);
    bundle.catch(() => bundles.delete(key));
  }
  return bundle;
}

/**
 * Run `fn` while a worker polls `taskQueue`; returns what `fn` returns. The worker shuts
 * down when `fn` settles; a worker failure fails the call.
 */
export async function runWorker<T>(options: RunWorkerOptions, fn: () => Promise<T>): Promise<T> {
  quietTemporalRuntime();
  const target = options.target ?? testTemporalTarget();
  const workflowBundle = await bundleFor(options.workflowsPath, options.dataConverter?.failureConverterPath);
  const connection = await NativeConnection.connect({ address: target.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: target.namespace,
      taskQueue: options.taskQueue,
      workflowBundle,
      ...(options.dataConverter !== undefined ? { dataConverter: options.dataConverter } : {}),
      ...(options.activities !== undefined ? { activities: options.activities } : {}),
    });
    return await worker.runUntil(fn);
  } finally {
    await connection.close();
  }
}
