/** The worker's telemetry: each activity's effect key for the API-call spans, and the awaiting-operator gauge. */
import type { ActivityInterceptorsFactory, NativeConnection } from '@temporalio/worker';
import { awaitingOperatorQuery } from '../search-attributes.ts';
import { currentEffectKey } from './api-calls.ts';
import type { OrderflowMetrics } from './metrics.ts';

function effectKeyOf(args: readonly unknown[]): string | undefined {
  const input = args[0];
  const key = typeof input === 'object' && input !== null && 'effectKey' in input ? input.effectKey : undefined;
  return typeof key === 'string' ? key : undefined;
}

/** Runs each activity with its input's effect key in {@link currentEffectKey}. */
export const effectKeyActivityInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    execute(input, next) {
      const effectKey = effectKeyOf(input.args);
      return effectKey === undefined ? next(input) : currentEffectKey.run(effectKey, () => next(input));
    },
  },
});

/** Sets `orderflow_runs_awaiting_operator` now and every `intervalMs`; returns the stop function. */
export function watchRunsAwaitingOperator(
  connection: NativeConnection,
  namespace: string,
  metrics: OrderflowMetrics,
  onError: (error: Error) => void,
  intervalMs = 15_000,
): () => void {
  let failing = false;
  const count = async (): Promise<void> => {
    try {
      const { count: awaiting } = await connection.workflowService.countWorkflowExecutions({
        namespace,
        query: `${awaitingOperatorQuery} AND ExecutionStatus = "Running"`,
      });
      metrics.runsAwaitingOperator(Number(awaiting ?? 0));
      failing = false;
    } catch (error) {
      if (!failing) onError(error instanceof Error ? error : new Error(String(error)));
      failing = true;
    }
  };
  void count();
  const timer = setInterval(() => void count(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
