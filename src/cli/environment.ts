/**
 * Which environment variables each `orderflow` command reads, for its `--help` and for
 * what it checks: a command refuses a bad value of a variable it reads (exit 2, naming the
 * variable and the forms it takes: src/config.ts) and ignores the others, whatever they
 * hold. Variables and their meaning: `configVariables` in src/config.ts ("Configuration"
 * in README.md). Nothing here imports anything: `--help` stays fast.
 */

/** Read by every command that talks to Temporal (src/temporal/connection.ts, src/cli/temporal.ts). */
export const temporalVariables: readonly string[] = Object.freeze([
  'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY(_FILE)', 'TEMPORAL_TLS', 'TEMPORAL_TLS_*', 'TEMPORAL_GRPC_META_*',
  'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE', 'ORDERFLOW_TASK_QUEUE', 'TEMPORAL_UI_URL', 'ORDERFLOW_ENCRYPTION_KEYS(_FILE)', 'OTEL_* (tracing)',
]);

/**
 * Settings of the worker process alone, checked by `orderflow worker` and ignored by every
 * other command (they belong to the temporal section of the configuration, which the other
 * commands read for the connection).
 */
export const workerOnlyTemporalVariables: readonly string[] = Object.freeze(['ORDERFLOW_METRICS_PORT', 'ORDERFLOW_WORKFLOW_CACHE_MB', 'ORDERFLOW_APPROVAL_ABOVE']);

export const webTvVariables: readonly string[] = Object.freeze(['WEBTV_API_URL', 'WEBTV_KEY_ID(_FILE)', 'WEBTV_SHARED_SECRET(_FILE)']);
export const justClickVariables: readonly string[] = Object.freeze(['JUSTCLICK_LOGIN', 'JUSTCLICK_SECRET(_FILE)', 'JUSTCLICK_API_URL']);

/** Read by `orderflow codec-server` (src/cli/codec-server.ts). */
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

/** The help section that lists what a command reads. */
export function environmentHelp(variables: readonly string[], note?: string): string {
  const lines = ['Environment (read by this command; it ignores the other orderflow variables):'];
  let current = ' ';
  for (const name of variables) {
    if (current.length + name.length + 2 > 88) {
      lines.push(current.replace(/,$/, ','));
      current = ' ';
    }
    current += ` ${name},`;
  }
  lines.push(current.replace(/,$/, ''));
  if (note !== undefined) {
    let noteLine = '';
    for (const word of note.split(/\s+/)) {
      if (noteLine !== '' && noteLine.length + word.length + 1 > 88) {
        lines.push(noteLine);
        noteLine = word;
      } else noteLine = noteLine === '' ? word : `${noteLine} ${word}`;
    }
    lines.push(noteLine);
  }
  return lines.join('\n');
}
