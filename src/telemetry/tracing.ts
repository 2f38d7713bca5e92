/**
 * Tracing with Temporal's OpenTelemetry plugin over OTLP/HTTP when the `OTEL_*` variables ask for it
 * (docs/configuration.md). The OpenTelemetry SDK is loaded only then: a process without tracing never
 * holds it (about 4 MB of a worker's memory).
 */
import type { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import type { Environment } from '../config-reader.ts';

export interface TracingSettings {
  readonly tracesUrl: string;
  readonly serviceName: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface Tracing {
  readonly settings: TracingSettings;
  readonly plugin: OpenTelemetryPlugin;
  shutdown(): Promise<void>;
}

/** The value without surrounding whitespace; undefined when unset or blank. */
function set(env: Environment, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/** Reads the OTLP settings: undefined when tracing is off; problems name variables, never header values. */
export function readTracingSettings(env: Environment, defaultServiceName: string): { settings: TracingSettings | undefined; problems: string[] } {
  const problems: string[] = [];
  if (set(env, 'OTEL_TRACES_EXPORTER') === 'none' || set(env, 'OTEL_SDK_DISABLED') === 'true') return { settings: undefined, problems };
  const tracesEndpoint = set(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = set(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (tracesEndpoint === undefined && baseEndpoint === undefined) return { settings: undefined, problems };
  const name = tracesEndpoint !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const tracesUrl = tracesEndpoint ?? `${baseEndpoint!.replace(/\/+$/, '')}/v1/traces`;
  const url = URL.parse(tracesUrl);
  if (url === null) {
    problems.push(`${name} is not a valid URL; write e.g. http://otel-collector:4318${tracesEndpoint === undefined ? '' : '/v1/traces'}.`);
  }
  if (url !== null && url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${name} must be an http(s) URL (OTLP over HTTP), e.g. http://otel-collector:4318.`);
  }
  if (url !== null && (url.username !== '' || url.password !== '')) {
    problems.push(`${name} contains a user name or password; send credentials with OTEL_EXPORTER_OTLP_HEADERS instead.`);
  }
  const protocol = set(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? set(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol !== 'http/json') {
    problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL (${JSON.stringify(protocol)}) is not supported: orderflow exports OTLP over HTTP as JSON (http/json); unset it or set http/json.`);
  }
  const headers: Record<string, string> = {};
  const headersName = set(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  for (const pair of (set(env, headersName) ?? '').split(',').filter((part) => part.trim() !== '')) {
    const at = pair.indexOf('=');
    if (at <= 0) {
      problems.push(`${headersName} must be key=value pairs separated by commas; one entry has no "=" (values are not shown).`);
      continue;
    }
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  if (problems.length > 0) return { settings: undefined, problems };
  return { settings: Object.freeze({ tracesUrl, serviceName: set(env, 'OTEL_SERVICE_NAME') ?? defaultServiceName, headers: Object.freeze(headers) }), problems };
}

/** Loads the OpenTelemetry SDK, registers the process's tracer provider and returns the Temporal plugin that uses it. */
export async function startTracing(settings: TracingSettings): Promise<Tracing> {
  const [{ OTLPTraceExporter }, { Resource }, { BatchSpanProcessor }, { NodeTracerProvider }, { OpenTelemetryPlugin }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  const resource = new Resource({ 'service.name': settings.serviceName });
  const exporter = new OTLPTraceExporter({ url: settings.tracesUrl, headers: { ...settings.headers } });
  const spanProcessor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    settings,
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor }),
    shutdown: () => provider.shutdown(),
  };
}
