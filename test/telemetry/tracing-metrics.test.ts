/**
 * Tracing and metrics of a real run: `orderflow worker` (a child process) and the
 * `orderflow` command export spans over OTLP/HTTP to a receiver on loopback; after the run
 * (a dropped answer reconciled, a refusal that waits for an operator, the operator's retry)
 * the worker's Prometheus endpoint is scraped for orderflow's metrics next to the SDK's.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, placeCurrentOrder, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import { temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { spawnWorkerProcess, stopAllWorkerProcesses } from '../chaos/worker-process.ts';
import { pickFreePorts } from '../../src/temporal/ports.ts';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  attributes: Record<string, string | number | boolean>;
}

interface OtlpValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: Array<{ key: string; value: OtlpValue }> }> }>;
  }>;
}

function valueOf(value: OtlpValue): string | number | boolean {
  return value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue);
}

/** An OTLP/HTTP (JSON) trace receiver on loopback. */
async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; rawBodies: string[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const rawBodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      rawBodies.push(body);
      const parsed = JSON.parse(body) as OtlpExport;
      for (const resourceSpan of parsed.resourceSpans ?? []) {
        const service = String(valueOf(resourceSpan.resource?.attributes?.find((entry) => entry.key === 'service.name')?.value ?? {}));
        for (const scope of resourceSpan.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              service,
              attributes: Object.fromEntries((span.attributes ?? []).map((entry) => [entry.key, valueOf(entry.value)])),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, rawBodies, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function freePort(): Promise<number> {
  const [port] = await pickFreePorts('127.0.0.1', 1);
  return port!;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
function orderflow(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(`${root}bin/orderflow`, args, { cwd: root, env: { PATH: `${root}node_modules/.bin:${process.env['PATH'] ?? '/usr/bin:/bin'}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The value of one sample line of a Prometheus text page (labels in any order); undefined if absent. */
function sample(page: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of page.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ([^ ]+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe.skipIf(!temporalAvailable())('tracing (OTLP) and metrics (Prometheus) of a run', () => {
  let stack: Stack;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  beforeAll(async () => {
    [stack, receiver] = await Promise.all([startStack(), startOtlpReceiver()]);
  });
  afterAll(async () => {
    await stopAllWorkerProcesses();
    await Promise.allSettled([stack?.close(), receiver?.close()]);
  });

  it('one trace from the start through each activity to each HTTP call; orderflow metrics next to the SDK\'s', { timeout: 150_000 }, async () => {
    const target = testTemporalTarget();
    const metricsPort = await freePort();
    const telemetry = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    const env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: uniqueTaskQueue('telemetry'), ...telemetry };
    const worker = spawnWorkerProcess({ PATH: process.env['PATH'], ...stack.env, ...env, ORDERFLOW_METRICS_PORT: String(metricsPort) });
    const started = await worker.waitUntilStarted();
    expect(started['tracing']).toBe(`OTLP to ${receiver.url}/v1/traces as orderflow-worker`);

    const userId = 71;
    const orderId = await placeCurrentOrder(stack, userId);
    const workflowId = `refund-and-cancel:${userId}:${orderId}`;
    // The credit is added but its answer lost (reconciled next attempt); the cancel is refused (an operator decides).
    stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'apply-then-drop', count: 1 });
    stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key', count: 1 });
    const run = await orderflow(['start', 'refund-and-cancel', '--user', String(userId), '--order', String(orderId), '--amount', '3.00', '--reason', 'traced', '--wait'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);

    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    await eventually('the gauge of runs awaiting an operator to count this run', async () => ((sample(await scrape(), 'orderflow_runs_awaiting_operator') ?? 0) >= 1 ? true : undefined), 30_000);

    const decided = await orderflow(['decide', workflowId, '--action', 'retry', '--note', 'key fixed', '--operator', 'anna'], env);
    expect(decided.code).toBe(0);
    const status = await eventually('the run to complete', async () => {
      const shown = await orderflow(['status', workflowId, '--json'], env);
      const parsed = JSON.parse(shown.stdout) as { temporalStatus: string };
      return parsed.temporalStatus === 'COMPLETED' ? parsed : undefined;
    }, 30_000);
    expect(status.temporalStatus).toBe('COMPLETED');

    // Metrics, scraped from the worker: orderflow's own next to the SDK's.
    const page = await eventually('the operator decision in the metrics', async () => {
      const text = await scrape();
      return sample(text, 'orderflow_operator_decisions', { action: 'retry', via: 'update' }) === 1 ? text : undefined;
    }, 15_000);
    expect(page).toMatch(/^temporal_workflow_completed\{/m);
    expect(sample(page, 'orderflow_api_calls', { api: 'webtv', operation: 'add_subtract_credit', outcome: 'unknown' })).toBe(1);
    expect(sample(page, 'orderflow_api_calls', { api: 'webtv', operation: 'cancel_order', outcome: 'rejected' })).toBe(1);
    expect(sample(page, 'orderflow_api_calls', { api: 'webtv', operation: 'cancel_order', outcome: 'ok' })).toBe(1);
    expect(sample(page, 'orderflow_api_call_duration_seconds_count', { api: 'webtv', operation: 'get_credit', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(sample(page, 'orderflow_api_call_duration_seconds_bucket', { api: 'webtv', operation: 'get_credit', outcome: 'ok', le: '30' })).toBeGreaterThanOrEqual(2);
    expect(sample(page, 'orderflow_effects', { kind: 'credit.add', state: 'unknown' })).toBe(1);
    expect(sample(page, 'orderflow_effects', { kind: 'credit.add', state: 'resolved-applied' })).toBe(1);
    expect(sample(page, 'orderflow_reconciliations', { kind: 'credit.add', verdict: 'applied' })).toBe(1);
    expect(sample(page, 'orderflow_effects', { kind: 'order.cancel', state: 'applied' })).toBe(1);
    expect(sample(page, 'orderflow_user_lock_wait_seconds_count', { outcome: 'acquired' })).toBeGreaterThanOrEqual(3);
    expect(sample(page, 'orderflow_runs_awaiting_operator')).toBeDefined();
    expect(page).not.toContain(stack.env['WEBTV_SHARED_SECRET']);

    // Spans: the CLI's start, the workflow, each activity and each HTTP call, in one trace.
    const startSpan = await eventually('the start span from the CLI', () => receiver.spans.find((span) => span.name === 'StartWorkflow:refundAndCancel'));
    expect(startSpan.service).toBe('orderflow-cli');
    const inTrace = (): ReceivedSpan[] => receiver.spans.filter((span) => span.traceId === startSpan.traceId);
    const creditCall = await eventually('the credit HTTP call span in the run\'s trace', () =>
      inTrace().find((span) => span.name === 'webtv add_subtract_credit' && span.attributes['orderflow.outcome'] === 'unknown'),
    );
    expect(creditCall.service).toBe('orderflow-worker');
    expect(creditCall.attributes).toEqual({
      'orderflow.api': 'webtv',
      'orderflow.operation': 'add_subtract_credit',
      'orderflow.outcome': 'unknown',
      'orderflow.effect_key': expect.stringMatching(new RegExp(`^refund-and-cancel:${userId}:${orderId}/add-credit`)),
    });
    const parent = inTrace().find((span) => span.spanId === creditCall.parentSpanId);
    expect(parent?.name).toMatch(/^RunActivity:/);
    await eventually('the rest of the run in its trace', () => {
      const names = new Set(inTrace().map((span) => span.name));
      return ['RunWorkflow:refundAndCancel', 'webtv cancel_order', 'webtv get_credit'].every((name) => names.has(name)) ? names : undefined;
    });
    const everything = receiver.rawBodies.join('\n');
    expect(everything).not.toContain(stack.env['WEBTV_SHARED_SECRET']);
    expect(everything).not.toMatch(/signature|api\.php\?/i);

    expect(await worker.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
