/** What the commands that talk to Temporal share: connecting from configuration, querying a run, its decisions' lines. */
import { hostname, userInfo } from 'node:os';
import { ServiceError, WorkflowFailedError, WorkflowNotFoundError, isGrpcServiceError } from '@temporalio/client';
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, TerminatedFailure } from '@temporalio/common';
import { ConfigError, loadConfig } from '../config.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import type { TemporalConfig } from '../config.ts';
import { connectClient } from '../client/connect.ts';
import { queryNames } from '../contracts.ts';
import type { RecordedDecision, RefusedDecision, RunResult, RunStatus } from '../contracts.ts';
import { explainTemporalFailure } from '../temporal/readiness.ts';
import { printable } from '../single-line-text.ts';
import { CommandFailure, exitCodes } from './framework.ts';
import { withoutWorkerSettings } from './environment.ts';
import { findPayloadKeyError } from '../temporal/encryption.ts';
import type { CliContext } from './framework.ts';

/** The identity Temporal records with every start, update and signal: what proves who decided (docs/decisions.md). */
function cliIdentity(env: CliContext['env']): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = env['USER'] ?? env['LOGNAME'];
  }
  return `orderflow-cli:${user || 'unknown-user'}@${hostname()}`;
}

/** Connects (checking the namespace and search attributes), runs `fn`, closes the connection. */
export async function withTemporal<T>(context: CliContext, fn: (client: Client, config: TemporalConfig) => Promise<T>): Promise<T> {
  // The worker's own settings (metrics port, cache size) are not this command's to check.
  const config = loadConfig(withoutWorkerSettings(context.env), ['temporal']).temporal;
  // With OTEL_EXPORTER_OTLP_* set, a start here begins the run's trace.
  const tracing = await startTracingIfAsked(context.env);
  const connecting = connectClient(config, { plugins: tracing === undefined ? [] : [tracing.plugin], identity: cliIdentity(context.env) });
  const client = await connecting.catch(async (error: unknown) => {
    await tracing?.shutdown().catch(() => undefined);
    throw error;
  });
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

/** The run's description; a workflow id without any run ends the command with exit 4. */
export async function describeRun(handle: WorkflowHandle, config: Pick<TemporalConfig, 'namespace' | 'address'>): Promise<WorkflowExecutionDescription> {
  return handle.describe().catch((error: unknown) => {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    throw new CommandFailure(
      `No run has the workflow id ${printable(JSON.stringify(handle.workflowId))} in namespace ${config.namespace} at ${config.address}: it was never started there, ` +
        "or its history is older than the namespace's retention. Check the id and the namespace (orderflow ops list shows the runs waiting for an operator).",
      { exitCode: exitCodes.notFound },
    );
  });
}

function failureText(error: unknown): { text: string; type?: string | undefined } {
  const cause = error instanceof WorkflowFailedError && error.cause ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { text: cause.message, type: cause.type ?? undefined };
  if (cause instanceof TerminatedFailure) return { text: `terminated${cause.message ? `: ${cause.message}` : ''}`, type: 'Terminated' };
  return { text: cause instanceof Error ? cause.message : String(cause), type: cause instanceof Error ? cause.name : undefined };
}

/**
 * How a run that is not running any more ended, from its history (no worker needed): one line of `text` (the result's
 * summary, or the failure's message) and the `failureType` (e.g. RunCompensated); undefined while it runs.
 */
export async function closedRunOutcome(handle: WorkflowHandle, description: WorkflowExecutionDescription) {
  const temporalStatus = description.status.name;
  if (temporalStatus === 'RUNNING') return undefined;
  const closedAt = description.closeTime?.toISOString();
  const run = handle.client.getHandle(handle.workflowId, description.runId, { followRuns: false });
  try {
    const result = (await run.result()) as Partial<RunResult> | null;
    return { temporalStatus, closedAt, text: printable(typeof result?.summary === 'string' ? result.summary : 'completed') };
  } catch (error) {
    const { text, type } = failureText(error);
    return { temporalStatus, closedAt, text: printable(text), failureType: type };
  }
}

/** `Outcome: FAILED at 2026-12-01T10:00:00.000Z (RunCompensated): …` */
export function describeOutcome(outcome: NonNullable<Awaited<ReturnType<typeof closedRunOutcome>>>): string {
  const when = outcome.closedAt === undefined ? '' : ` at ${outcome.closedAt}`;
  return `Outcome: ${outcome.temporalStatus}${when}${outcome.failureType === undefined ? '' : ` (${outcome.failureType})`}: ${outcome.text}`;
}

/** Why a run's status query went unanswered, in one line (the outcome of a closed run is shown apart). */
export function statusQueryUnanswered(description: WorkflowExecutionDescription): string {
  return description.status.name === 'RUNNING'
    ? `(the status query did not answer within ${queryDeadlineMs / 1000} s: is a worker running for task queue ${description.taskQueue}?)`
    : `(its steps are not shown: the status query of a closed run is answered by a worker for task queue ${description.taskQueue}, and none answered; the outcome above is from the run's history)`;
}

/** Tracing when an OTLP endpoint is set; without one the OpenTelemetry SDK is not even loaded (a short start-up). */
async function startTracingIfAsked(env: CliContext['env']): Promise<Tracing | undefined> {
  const endpointSet = ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'].some((name) => (env[name] ?? '').trim() !== '');
  if (!endpointSet) return undefined;
  const { readTracingSettings, startTracing } = await import('../telemetry/tracing.ts');
  const tracingSettings = readTracingSettings(env, 'orderflow-cli');
  if (tracingSettings.problems.length > 0) throw new ConfigError(tracingSettings.problems);
  return tracingSettings.settings === undefined ? undefined : await startTracing(tracingSettings.settings);
}

/** Without a worker Temporal would hold a query for its own long timeout, and `ops list` would stall on each run. */
const queryDeadlineMs = 5_000;

/** A query of the run, or undefined when no worker answers in time; an answer it cannot decrypt throws. */
export async function queryRun<T>(handle: WorkflowHandle, queryName: string): Promise<T | undefined> {
  return handle.client.withDeadline(Date.now() + queryDeadlineMs, () => handle.query<T>(queryName)).catch((error: unknown) => {
    const keyError = findPayloadKeyError(error);
    if (keyError !== undefined) throw keyError;
    return undefined;
  });
}

export function queryStatus(handle: WorkflowHandle): Promise<RunStatus | undefined> {
  return queryRun<RunStatus>(handle, queryNames.status);
}

const grpcInvalidArgument = 3;

/** Temporal's payload size limit (2 MB by default), or the SDK's check of it before sending. */
const sizeLimitRefusal = /size exceeds limit|exceeds size limit|exceeded the error limit|TMPRL1103/i;

/** A request Temporal refused as invalid (too large, a bad visibility query, another), explained; else undefined. */
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

/** One decision, with the identity Temporal recorded next to the self-declared operator. */
export function describeRecordedDecision(decision: RecordedDecision): string {
  const { operator, identity, action, waitId, at, via, note } = decision;
  return `${operator} (Temporal identity: ${identity ?? 'none recorded'}) chose ${action} at ${waitId} (${at}, via ${via}): ${note}`;
}

export function describeRefusedDecision(refused: RefusedDecision): string {
  const who = `${refused.operator ?? '?'}${refused.identity === null ? '' : ` (Temporal identity: ${refused.identity})`}`;
  return `${refused.at} ${refused.via} from ${who}, ${refused.action ?? '?'} for ${refused.waitId ?? 'no wait'}: ${refused.why}`;
}
