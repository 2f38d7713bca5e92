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
import { findPayloadKeyError } from '../temporal/encryption.ts';
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

/**
 * A query of the run, or undefined when no worker answers in time (or the run refuses it).
 * An answer this command cannot decrypt is not "no answer": its PayloadKeyError is thrown.
 */
export async function queryRun<T>(handle: WorkflowHandle, queryName: string): Promise<T | undefined> {
  try {
    return await handle.client.withDeadline(Date.now() + queryDeadlineMs, () => handle.query<T>(queryName));
  } catch (error) {
    const keyError = findPayloadKeyError(error);
    if (keyError !== undefined) throw keyError;
    return undefined;
  }
}

/** The run's `status` query, or undefined when no worker answers. */
export function queryStatus(handle: WorkflowHandle): Promise<RunStatus | undefined> {
  return queryRun<RunStatus>(handle, queryNames.status);
}

const grpcInvalidArgument = 3;

/**
 * A request Temporal refused as invalid (e.g. a visibility query it cannot parse), as a
 * message; undefined for anything else. Connection, namespace and credential problems are
 * explained by explainTemporalFailure (src/temporal/readiness.ts).
 */
export function explainTemporalRefusal(error: unknown, config: Pick<TemporalConfig, 'address'>): CommandFailure | undefined {
  const grpc = isGrpcServiceError(error) ? error : error instanceof ServiceError && isGrpcServiceError(error.cause) ? error.cause : undefined;
  if (grpc?.code !== grpcInvalidArgument) return undefined;
  const detail = (grpc.details || grpc.message).trim();
  return new CommandFailure(`Temporal at ${config.address} refused the request as invalid: ${detail}. Check what you gave (e.g. the syntax of --query).`);
}
