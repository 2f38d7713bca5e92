/** orderflow's own metrics, through the Temporal runtime's meter next to the SDK's (docs/configuration.md); no id or secret in a label. */
import type { MetricMeter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { awaitingOperatorQuery } from '../search-attributes.ts';

export const metricNames = Object.freeze({
  apiCalls: 'orderflow_api_calls',
  apiCallDuration: 'orderflow_api_call_duration_seconds',
  effects: 'orderflow_effects',
  reconciliations: 'orderflow_reconciliations',
  userLockWait: 'orderflow_user_lock_wait_seconds',
  operatorDecisions: 'orderflow_operator_decisions',
  runsAwaitingOperator: 'orderflow_runs_awaiting_operator',
  driftFindings: 'orderflow_drift_findings',
});

/** Bucket bounds in seconds for our histograms (the runtime's defaults are for milliseconds). */
const secondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export const histogramBucketOverrides = { [metricNames.apiCallDuration]: secondsBuckets, [metricNames.userLockWait]: secondsBuckets };

export type ApiCallOutcomeLabel = 'ok' | 'rejected' | 'not-sent' | 'unknown' | 'error';

export type OrderflowMetrics = ReturnType<typeof createOrderflowMetrics>;

export function createOrderflowMetrics(meter: MetricMeter) {
  const apiCalls = meter.createCounter(metricNames.apiCalls, '1', 'Calls to the WebTV and JustClick APIs, by outcome');
  const apiCallDuration = meter.createHistogram(metricNames.apiCallDuration, 'float', 's', 'Duration of API calls');
  const effects = meter.createCounter(metricNames.effects, '1', 'Effects reaching a state in the ledger, by kind');
  const reconciliations = meter.createCounter(metricNames.reconciliations, '1', 'Reconciliations of effects whose outcome was unknown, by verdict');
  const userLockWait = meter.createHistogram(metricNames.userLockWait, 'float', 's', 'Time waited for the per-user lock');
  const awaiting = meter.createGauge(metricNames.runsAwaitingOperator, 'int', '1', 'Runs waiting for an operator decision');
  return {
    apiCall({ api, operation, outcome, seconds }: { api: string; operation: string; outcome: ApiCallOutcomeLabel; seconds: number }): void {
      const tags = { api, operation, outcome };
      apiCalls.add(1, tags);
      apiCallDuration.record(seconds, tags);
    },
    effectState(kind: string, state: string): void {
      effects.add(1, { kind, state });
    },
    reconciliation(kind: string, verdict: 'applied' | 'not-applied'): void {
      reconciliations.add(1, { kind, verdict });
    },
    userLockWait(outcome: 'acquired' | 'timed-out', seconds: number): void {
      userLockWait.record(seconds, { outcome });
    },
    /** Sets the awaiting-operator gauge from a visibility count now and every 15 s; returns the stop function. */
    watchRunsAwaitingOperator(connection: NativeConnection, namespace: string, onError: (error: Error) => void): () => void {
      let failing = false;
      const count = async (): Promise<void> => {
        try {
          const query = `${awaitingOperatorQuery} AND ExecutionStatus = "Running"`;
          const { count: runs } = await connection.workflowService.countWorkflowExecutions({ namespace, query });
          awaiting.set(Number(runs ?? 0));
          failing = false;
        } catch (error) {
          if (!failing) onError(error instanceof Error ? error : new Error(String(error)));
          failing = true;
        }
      };
      void count();
      const timer = setInterval(() => void count(), 15_000).unref();
      return () => clearInterval(timer);
    },
  };
}
