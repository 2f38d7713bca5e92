/**
 * Which environment variables each `orderflow` command reads, for its `--help` and for what
 * it checks: a bad value of one it reads is refused (exit 2), the others are ignored.
 */

/** Read by every command that talks to Temporal. */
export const temporalVariables: readonly string[] = Object.freeze([
  'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY(_FILE)', 'TEMPORAL_TLS', 'TEMPORAL_TLS_*', 'TEMPORAL_GRPC_META_*',
  'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'ORDERFLOW_TASK_QUEUE', 'TEMPORAL_UI_URL', 'ORDERFLOW_ENCRYPTION_KEYS(_FILE)', 'OTEL_* (tracing)',
]);

/** Settings of the worker process alone (in the temporal section), ignored by every other command. */
const workerOnlyTemporalVariables: readonly string[] = Object.freeze(['ORDERFLOW_METRICS_PORT', 'ORDERFLOW_WORKFLOW_CACHE_MB', 'ORDERFLOW_APPROVAL_ABOVE']);

export const webTvVariables: readonly string[] = Object.freeze(['WEBTV_API_URL', 'WEBTV_KEY_ID(_FILE)', 'WEBTV_SHARED_SECRET(_FILE)']);
export const justClickVariables: readonly string[] = Object.freeze(['JUSTCLICK_LOGIN', 'JUSTCLICK_SECRET(_FILE)', 'JUSTCLICK_API_URL']);

export const codecServerVariables: readonly string[] = Object.freeze([
  'ORDERFLOW_ENCRYPTION_KEYS(_FILE)', 'ORDERFLOW_CODEC_SERVER_LISTEN', 'ORDERFLOW_CODEC_SERVER_TOKEN(_FILE)', 'ORDERFLOW_CODEC_SERVER_JWKS_URL',
  'ORDERFLOW_CODEC_SERVER_ISSUER', 'ORDERFLOW_CODEC_SERVER_AUDIENCE', 'ORDERFLOW_CODEC_SERVER_CORS_ORIGINS',
]);

export const workerVariables: readonly string[] = Object.freeze([
  ...temporalVariables, ...workerOnlyTemporalVariables, 'ORDERFLOW_LEDGER(_FILE)', ...webTvVariables, ...justClickVariables,
]);

/** `env` without the worker's own settings: what a command other than the worker checks. */
export function withoutWorkerSettings<T extends Readonly<Record<string, string | undefined>>>(env: T): T {
  const copy: Record<string, string | undefined> = { ...env };
  for (const name of workerOnlyTemporalVariables) delete copy[name];
  return copy as T;
}
