/** The composition root, config → clients → ledger → activities → Worker, and `orderflow worker`, which runs it until SIGINT/SIGTERM. */
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';
import { jsonLogLine } from './run-events.ts';
import type { LogEntry } from './run-events.ts';
import { createActivities } from './activities/index.ts';
import { createBulkActivities } from './features/bulk/activities.ts';
import { createReconcileActivities } from './features/reconcile/activities.ts';
import { createJustClickClient } from './apis/justclick/client.ts';
import { createWebTvClient } from './apis/webtv/client.ts';
import { ConfigError, isSectionSet, loadConfig } from './config.ts';
import { messageOf } from './config-reader.ts';
import type { Config, Environment } from './config.ts';
import { openLedger } from './ledger/index.ts';
import { apiCallObserver, effectKeyActivityInterceptor } from './telemetry/api-calls.ts';
import { observeLedger } from './telemetry/ledger.ts';
import { createOrderflowMetrics, histogramBucketOverrides } from './telemetry/metrics.ts';
import { readTracingSettings, startTracing } from './telemetry/tracing.ts';
import type { Tracing } from './telemetry/tracing.ts';
import { TemporalNotReadyError } from './temporal/readiness.ts';
import { connectChecked } from './client/connect.ts';
import type { TemporalConnectionSettings } from './temporal/connection.ts';
import type { EffectLedger } from './ledger/types.ts';
import { bundleWorkflowsApart, joinWorkflowModules } from './temporal/workflow-bundle.ts';
import { restartWithWorkerHeapLimits, withWorkflowThreadHeapLimits, workflowCacheRuns, workflowTaskSlots } from './temporal/worker-memory.ts';
import { orderflowDataConverter } from './temporal/encryption.ts';
import { TemporalWaitStopped, untilTemporalReady } from './temporal/wait-for-cluster.ts';
import type { WaitForTemporalOptions } from './temporal/wait-for-cluster.ts';

/** A module next to this file: src/*.ts in a checkout, dist/*.js when built. */
const sourceExtension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const besideThis = (module: string): string => fileURLToPath(new URL(`./${module}${sourceExtension}`, import.meta.url));
export const workflowsPath = besideThis('workflows/index');
/** Workflow interceptors counting operator decisions (bundled with the workflows). */
const workflowMetricsInterceptorsPath = besideThis('run-kit/metrics-interceptors');

const logToStderr = (entry: LogEntry): void => void process.stderr.write(jsonLogLine(entry));

let runtimeInstalled = false;
/** The logger given to the Temporal runtime, also used for orderflow's own lines (it outlives the runtime). */
let processLogger = new DefaultLogger('INFO', logToStderr);

/** Installs the Temporal runtime once per process: logger (JSON lines on stderr unless `logSink`) and optional metrics. */
export function installRuntime(options: { metricsPort?: number | undefined; logLevel?: LogLevel; logSink?: (entry: LogEntry) => void }): void {
  if (runtimeInstalled) return;
  processLogger = new DefaultLogger(options.logLevel ?? 'INFO', options.logSink ?? logToStderr);
  Runtime.install({
    logger: processLogger,
    telemetryOptions: {
      logging: { filter: { core: 'WARN' }, forward: {} },
      ...(options.metricsPort === undefined
        ? {}
        : { metrics: { prometheus: { bindAddress: `0.0.0.0:${options.metricsPort}`, histogramBucketOverrides } } }),
    },
  });
  runtimeInstalled = true;
}

export interface OrderflowWorker {
  readonly worker: Worker;
  readonly ledger: EffectLedger;
  /** Runs until shutdown, then releases every resource. */
  run(): Promise<void>;
  shutdown(): void;
}

export interface CreateWorkerOptions {
  env?: Environment;
  /** Wins over `env`. */
  config?: WorkerConfig;
  /** Tests and benchmarks: this task queue instead of the configured one. */
  taskQueue?: string;
  tracing?: Tracing;
  /** Wait for an unreachable Temporal instead of failing at once (`orderflow worker` does). */
  waitForTemporal?: Pick<WaitForTemporalOptions, 'signal'>;
}

export type WorkerConfig = Config<'webtv' | 'temporal' | 'ledger'> & Partial<Config<'justclick'>>;

/** The worker's configuration; JustClick is optional (without it, JustClick steps ask an operator). */
export function loadWorkerConfig(env: Environment): WorkerConfig {
  return isSectionSet(env, 'justclick')
    ? loadConfig(env, ['webtv', 'justclick', 'temporal', 'ledger'])
    : loadConfig(env, ['webtv', 'temporal', 'ledger']);
}

/** The worker's connection, checked ready for orderflow; else a {@link TemporalNotReadyError} saying what to fix. */
export function connectWorkerToTemporal(settings: TemporalConnectionSettings): Promise<NativeConnection> {
  return connectChecked(settings, () => NativeConnection.connect(settings.connectionOptions()));
}

export async function createOrderflowWorker(options: CreateWorkerOptions = {}): Promise<OrderflowWorker> {
  const config = options.config ?? loadWorkerConfig(options.env ?? process.env);

  const metrics = createOrderflowMetrics(Runtime.instance().metricMeter);
  const observeCall = apiCallObserver(metrics);
  const webtv = createWebTvClient(config.webtv, { observeCall });
  const justclick = config.justclick ? createJustClickClient(config.justclick, { observeCall }) : undefined;
  const openedLedger = await openLedger(config.ledger, {
    // Lease renewals and lock releases run in the background: a failure there must be seen.
    onBackgroundError: (error, context) => processLogger.warn('effect ledger background failure', { context, error: error.message }),
  });
  const ledger = observeLedger(openedLedger, metrics);
  const closeAll = async (connection?: NativeConnection): Promise<void> => {
    await Promise.allSettled([webtv.close(), justclick?.close(), ledger.close(), connection?.close()]);
  };
  let connection: NativeConnection;
  try {
    // A bare cluster is refused (exit 2) naming the fix; an unreachable one is waited for with `waitForTemporal` (wait-for-cluster.ts).
    const settings = config.temporal.connection;
    connection =
      options.waitForTemporal === undefined
        ? await connectWorkerToTemporal(settings)
        : await untilTemporalReady(() => connectWorkerToTemporal(settings), settings, {
            signal: options.waitForTemporal.signal,
            log: (message, fields) => processLogger.warn(message, fields),
          });
  } catch (error) {
    await closeAll();
    throw error;
  }
  // A payload this worker cannot decrypt fails its workflow task, retried until the key is added (docs/encryption.md): one line each.
  const dataConverter = orderflowDataConverter(config.temporal.encryption, {
    onKeyError: (error, workflowId) => processLogger.error('cannot decrypt a payload: the run waits until its key is configured', { workflowId, keyId: error.keyId, error: error.message }),
  });
  const workflowClient = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
  let worker: Worker;
  try {
    worker = await withWorkflowThreadHeapLimits(async () => Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: options.taskQueue ?? config.temporal.taskQueue,
      // Bundled in a child process (webpack stays out of this one), unless the tracing plugin adds interceptors at bundle time.
      ...(options.tracing === undefined
        ? { workflowBundle: { code: await bundleWorkflowsApart(workflowsPath, [workflowMetricsInterceptorsPath], dataConverter.failureConverterPath) } }
        : { workflowsPath, bundlerOptions: { webpackConfigHook: joinWorkflowModules } }),
      dataConverter,
      // Both decided in src/temporal/worker-memory.ts: the cache is derived from the slots.
      maxCachedWorkflows: workflowCacheRuns,
      maxConcurrentWorkflowTaskExecutions: workflowTaskSlots,
      activities: {
        ...createActivities({ webtv, justclick, ledger, approvalAbove: config.temporal.approvalAbove }),
        // Bulk and reconcile start and look up runs through a client on the worker's connection.
        ...createBulkActivities({ client: workflowClient, rows: ledger.bulkRows }),
        ...createReconcileActivities({ ledger, webtv, justclick, client: workflowClient }),
      },
      interceptors: {
        activity: [effectKeyActivityInterceptor],
        ...(options.tracing === undefined ? {} : { workflowModules: [workflowMetricsInterceptorsPath] }),
      },
      plugins: options.tracing === undefined ? [] : [options.tracing.plugin],
    }));
  } catch (error) {
    await closeAll(connection);
    throw error;
  }
  return {
    worker,
    ledger,
    async run() {
      const stopWatching = metrics.watchRunsAwaitingOperator(connection, config.temporal.namespace, (error) =>
        processLogger.warn('cannot count the runs awaiting an operator', { error: error.message }),
      );
      try {
        await worker.run();
      } finally {
        stopWatching();
        await closeAll(connection);
      }
    },
    shutdown: () => worker.shutdown(),
  };
}

/** `orderflow worker`: runs until SIGINT/SIGTERM. */
export async function runWorkerProcess(env: Environment = process.env): Promise<void> {
  // The main isolate's heap limits are given when Node starts: start again with them (same pid).
  restartWithWorkerHeapLimits();
  // Configuration first: a bad one is refused, with every problem, before the Temporal runtime starts.
  const tracingSettings = readTracingSettings(env, 'orderflow-worker');
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(env);
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError([...error.problems, ...tracingSettings.problems]) : error;
  }
  if (tracingSettings.problems.length > 0) throw new ConfigError(tracingSettings.problems);
  const metricsPort = config.temporal.metricsPort;
  installRuntime({ metricsPort });
  const tracing = tracingSettings.settings === undefined ? undefined : await startTracing(tracingSettings.settings);
  // Until the worker runs (and the SDK handles them), SIGINT/SIGTERM stop the wait for Temporal.
  const stopWaiting = new AbortController();
  const onSignal = (): void => stopWaiting.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  let orderflow: OrderflowWorker;
  try {
    orderflow = await createOrderflowWorker({ config, tracing, waitForTemporal: { signal: stopWaiting.signal } });
  } catch (error) {
    // Release the runtime, or its native threads keep the process alive after the error.
    await Promise.allSettled([Runtime.instance().shutdown(), tracing?.shutdown()]);
    if (error instanceof TemporalWaitStopped) {
      processLogger.info('orderflow worker stopped before Temporal could be reached');
      return;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  processLogger.info('orderflow worker started', {
    temporal: config.temporal.connection.describe(),
    taskQueue: orderflow.worker.options.taskQueue,
    namespace: orderflow.worker.options.namespace,
    ledger: orderflow.ledger.location,
    // Key ids only, never key material.
    encryption: config.temporal.encryption === undefined ? 'off' : `on, encrypting with ${config.temporal.encryption.encryptingKeyId}, decrypting ${config.temporal.encryption.keyIds.join(', ')}`,
    metrics: metricsPort === undefined ? 'off' : `http://0.0.0.0:${metricsPort}/metrics`,
    // Origin and path only: a query string could carry a token.
    tracing: tracing === undefined ? 'off' : `OTLP to ${new URL(tracing.settings.tracesUrl).origin}${new URL(tracing.settings.tracesUrl).pathname} as ${tracing.settings.serviceName}`,
  });
  try {
    await orderflow.run();
  } finally {
    await tracing?.shutdown().catch((error: unknown) => processLogger.warn('could not send the last spans', { error: String(error) }));
  }
  processLogger.info('orderflow worker stopped');
}

if (import.meta.main) {
  // `node src/worker.ts` is the worker's own process too (the chaos tests and bench:scale start it so).
  restartWithWorkerHeapLimits({ ownProcess: true });
  runWorkerProcess().catch((error: unknown) => {
    // Exits: the Temporal runtime would keep the process alive.
    process.stderr.write(`orderflow worker: ${messageOf(error)}\n`);
    process.exit(error instanceof TemporalNotReadyError ? error.exitCode : 1);
  });
}
