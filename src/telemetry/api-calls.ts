/** One span (a child of the activity's) and one metric sample per API call; what they carry: docs/configuration.md, "Tracing". */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { isApiCallError } from '../apis/outcome.ts';
import type { ApiCallOutcomeLabel, OrderflowMetrics } from './metrics.ts';

const tracer = trace.getTracer('orderflow');

/** The effect key of the activity running in this async context. */
const currentEffectKey = new AsyncLocalStorage<string>();

/** The worker's activity interceptor: runs each activity with its input's effect key in {@link currentEffectKey}. */
export const effectKeyActivityInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    execute(input, next) {
      const [first] = input.args;
      const effectKey = typeof first === 'object' && first !== null && 'effectKey' in first ? first.effectKey : undefined;
      return typeof effectKey === 'string' ? currentEffectKey.run(effectKey, () => next(input)) : next(input);
    },
  },
});

export type ApiCallObserver = <T>(call: { api: string; operation: string }, send: () => Promise<T>) => Promise<T>;

export const unobserved: ApiCallObserver = (_call, send) => send();

/** Traces each call (when a tracer provider is registered) and records its metrics. */
export function apiCallObserver(metrics: OrderflowMetrics): ApiCallObserver {
  return (call, send) =>
    tracer.startActiveSpan(`${call.api} ${call.operation}`, async (span) => {
      const effectKey = currentEffectKey.getStore();
      span.setAttributes({ 'orderflow.api': call.api, 'orderflow.operation': call.operation });
      if (effectKey !== undefined) span.setAttribute('orderflow.effect_key', effectKey);
      const startedAt = performance.now();
      let outcome: ApiCallOutcomeLabel = 'ok';
      try {
        return await send();
      } catch (error) {
        outcome = isApiCallError(error) ? error.outcome : 'error';
        // The outcome, not the message: messages name endpoints and vendor text.
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        throw error;
      } finally {
        span.setAttribute('orderflow.outcome', outcome);
        span.end();
        metrics.apiCall({ ...call, outcome, seconds: (performance.now() - startedAt) / 1000 });
      }
    });
}
