/** What the commands that talk to Temporal share: connecting from configuration, querying a run. */
import { ServiceError, WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config.ts';
import { readTracingSettings, startTracing } from '../telemetry/tracing.ts';
import type { TemporalConfig } from '../config.ts';
import { connectClient } from '../client/connect.ts';
import { queryNames } from '../contracts.ts';
import type { RunStatus } from '../contracts.ts';
import { explainTemporalFailure } from '../temporal/readiness.ts';
import { CommandFailure } from './framework.ts';
import type { CliContext } from './framework.ts';

/**
 * Connects with the Temporal settings (src/temporal/connection.ts), checks the namespace and
 * our search attributes, runs `fn`, closes the connection. A Temporal that is not ready
 * ends the command with a {@link TemporalNotReadyError} (its message says what to do).
 */
export async function withTemporal<T>(context: CliContext, fn: (client: Client, config: TemporalConfig) => Promise<T>): Promise<T> {
  const config = loadConfig(context.env, ['temporal']).temporal;
  const tracingSettings = readTracingSettings(context.env, 'orderflow-cli');
  if (tracingSettings.problems.length > 0) throw new ConfigError(tracingSettings.problems);
  // With OTEL_EXPORTER_OTLP_* set, a start here begins the run's trace.
  const tracing = tracingSettings.settings === undefined ? undefined : startTracing(tracingSettings.settings);
  let client: Client;
  try {
    client = await connectClient(config, { plugins: tracing === undefined ? [] : [tracing.plugin] });
  } catch (error) {
    await tracing?.shutdown().catch(() => undefined);
    throw error;
  }
  try {
    return await fn(client, config);
  } catch (error) {
    const explained = explainTemporalFailure(error, config.connection, false);
    if (explained !== undefined) throw explained;
    if (error instanceof WorkflowNotFoundError) {
      throw new CommandFailure(
        `No such workflow ${error.workflowId ?? ''} in namespace ${config.namespace} at ${config.address}: ${error.message}. Check the id (orderflow ops list shows waiting runs).`,
      );
    }
    throw explainTemporalRefusal(error, config) ?? error;
  } finally {
    await Promise.allSettled([client.connection.close(), tracing?.shutdown()]);
  }
}

/**
 * How long a command waits for a run's query. A query is answered by a worker: with
 * none polling the run's task queue, Temporal would hold it for its own long timeout, and
 * `ops list` over many runs would stall that long for each one.
 */
const queryDeadlineMs = 5_000;

/** A query of the run, or undefined when no worker answers in time (or the run refuses it). */
export async function queryRun<T>(handle: WorkflowHandle, queryName: string): Promise<T | undefined> {
  try {
    return await handle.client.withDeadline(Date.now() + queryDeadlineMs, () => handle.query<T>(queryName));
  } catch {
    return undefined;
  }
}

/** The run's `status` query, or undefined when no worker answers. */
export function queryStatus(handle: WorkflowHandle): Promise<RunStatus | undefined> {
  return queryRun<RunStatus>(handle, queryNames.status);
}

const grpcInvalidArgument = 3;

/** Temporal's own size limits (a payload over 2 MB by default, or the SDK's check of it before sending). */
const sizeLimitRefusal = /size exceeds limit|exceeds size limit|exceeded the error limit|TMPRL1103/i;

/**
 * A request Temporal refused as invalid, as a message that says which kind of refusal it
 * is: a payload over Temporal's size limit, a visibility query it cannot parse, or another
 * invalid request; undefined for anything else. Connection, namespace and credential
 * problems are explained by explainTemporalFailure (src/temporal/readiness.ts).
 */
export function explainTemporalRefusal(error: unknown, config: Pick<TemporalConfig, 'address'>): CommandFailure | undefined {
  const grpc = isGrpcServiceError(error) ? error : error instanceof ServiceError && isGrpcServiceError(error.cause) ? error.cause : undefined;
  if (grpc?.code !== grpcInvalidArgument) return undefined;
  const detail = (grpc.details || grpc.message).trim().replace(/\.+$/, '');
  if (sizeLimitRefusal.test(detail)) {
    return new CommandFailure(
      `Temporal at ${config.address} refused the request because it carries more data than Temporal accepts in one payload (${detail}). ` +
        'This is a size limit of the Temporal server (2 MB per payload by default), not a mistake in what you typed; nothing was started. Send less in one request.',
    );
  }
  if (/query/i.test(detail)) return new CommandFailure(`Temporal at ${config.address} refused the request as invalid: ${detail}. Check the syntax of --query.`);
  return new CommandFailure(`Temporal at ${config.address} refused the request as invalid: ${detail}. Nothing was changed; check the values you gave.`);
}
