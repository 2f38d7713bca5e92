/**
 * The orderflow Grafana dashboard (deploy/grafana/dashboards/orderflow.json) queries only
 * metrics that exist: orderflow's (src/telemetry/metrics.ts) and the SDK's `temporal_*`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricNames } from '../../src/telemetry/metrics.ts';

interface Panel { title: string; type: string; targets?: Array<{ expr: string }> }

describe('the orderflow Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/dashboards/orderflow.json', import.meta.url), 'utf8')) as { uid: string; panels: Panel[] };

  it('queries orderflow metrics by their names, and shows what operations need', () => {
    const known = new Set<string>(Object.values(metricNames));
    const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    const used = new Set(exprs.flatMap((expr) => [...expr.matchAll(/\b(orderflow_[a-z_]+?)(?:_bucket|_count|_sum)?\b(?=[[{\s)])/g)].map((match) => match[1]!)));
    expect([...used].filter((name) => !known.has(name))).toEqual([]);
    expect(used).toEqual(new Set([metricNames.runsAwaitingOperator, metricNames.operatorDecisions, metricNames.effects, metricNames.reconciliations, metricNames.userLockWait, metricNames.apiCalls, metricNames.apiCallDuration]));
    expect(dashboard.panels.map((panel) => panel.title)).toEqual(
      expect.arrayContaining(['Runs awaiting an operator', 'Effect outcomes', 'API error rate by operation', 'API latency by operation (p50, p95)']),
    );
  });
});
