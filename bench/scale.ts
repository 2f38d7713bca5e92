/**
 * Scale benchmark (`npm run bench:scale`; `BENCH_SMOKE=1` for a ~200-row run that checks the
 * harness): its bulk half — a 10,000-row adjust-credit bulk with 120-character descriptions
 * at `--rate 100 --concurrency 200` beside a bare start loop, measured by
 * harness/bulk-scale.ts. `BENCH_SCALE_ROWS`, `BENCH_SCALE_RATE`, `BENCH_SCALE_CONCURRENCY`
 * and `BENCH_SCALE_BARE_RUNS` change the sizes. The reconcile half of the scale benchmark
 * is its own measurement beside this one.
 */
import { measureBulkScale } from '../harness/bulk-scale.ts';
import type { BulkScaleMeasurement, BulkScaleSettings } from '../harness/bulk-scale.ts';
import { fixed, machineLine, markdownTable, ratio } from './lib/measure.ts';

const smoke = process.env['BENCH_SMOKE'] === '1';
const numberFrom = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1`);
  return value;
};

export function bulkScaleTable(m: BulkScaleMeasurement): string {
  const target = Math.min(m.settings.rate, m.ceiling);
  return markdownTable(
    ['measure', 'value'],
    [
      ['rows (adjust-credit, 120-character descriptions)', String(m.settings.rows)],
      ['--rate / --concurrency', `${m.settings.rate} / ${m.settings.concurrency}`],
      ['upload of the rows + start of the bulk', `${fixed(m.uploadSeconds)} s`],
      ['wall time (upload to result)', `${fixed(m.wallSeconds)} s`],
      ['bulk item starts/s', fixed(m.startsPerSecond)],
      ['bare start loop, starts/s (before, after)', m.bare.map((round) => fixed(round.startsPerSecond)).join(', ')],
      ['ceiling (median of the bare rounds)', fixed(m.ceiling)],
      ['bulk ÷ min(rate, ceiling) (target ≥ 0.9)', ratio(m.startsPerSecond, target)],
      ['bare runs completed/s (before, after; median)', `${m.bare.map((round) => fixed(round.completedPerSecond)).join(', ')}; ${fixed(m.bareCompletedPerSecond)}`],
      ['bulk items settled/s (after the upload)', fixed(m.settledPerSecond)],
      ['bulk settled ÷ bare completed', ratio(m.settledPerSecond, m.bareCompletedPerSecond)],
      ['worker peak RSS', `${fixed(m.workerPeakRssMb, 0)} MB`],
      ["bulk's history (all runs of the chain)", `${m.historyBytes} bytes, ${m.historyEvents} events, ${m.runsInChain} runs`],
      ['largest payload in the bulk history', `${m.largestPayloadBytes} bytes`],
      ['outcome', `${m.result.counts.done} done, ${m.result.counts.failed} failed, ${m.result.counts.waiting} waiting`],
      ['items credited other than exactly once', String(m.wrongItems.length)],
      ['payload warnings (TMPRL1103) in the worker log', String(m.payloadWarnings)],
    ],
  );
}

if (import.meta.main) {
  const settings: BulkScaleSettings = {
    rows: numberFrom('BENCH_SCALE_ROWS', smoke ? 200 : 10_000),
    rate: numberFrom('BENCH_SCALE_RATE', 100),
    concurrency: numberFrom('BENCH_SCALE_CONCURRENCY', 200),
    bareRuns: numberFrom('BENCH_SCALE_BARE_RUNS', smoke ? 100 : 1_000),
    log: (line) => console.log(line),
  };
  console.log(`bench:scale${smoke ? ' (smoke)' : ''}: ${settings.rows}-row bulk at rate ${settings.rate}, concurrency ${settings.concurrency}; bare start loops of ${settings.bareRuns} runs before and after`);
  const measurement = await measureBulkScale(settings);
  console.log(`\n### bench:scale, the bulk${smoke ? ' (smoke)' : ''}\n\nMachine: ${machineLine()}\n`);
  console.log(bulkScaleTable(measurement));
  const problems = [
    ...(measurement.wrongItems.length > 0 ? [`${measurement.wrongItems.length} items not credited exactly once: ${measurement.wrongItems.slice(0, 5).join('; ')}`] : []),
    ...(measurement.payloadWarnings > 0 ? [`${measurement.payloadWarnings} payload warnings in the worker log`] : []),
    ...(measurement.result.counts.done !== settings.rows ? [`${measurement.result.counts.done} of ${settings.rows} items done`] : []),
  ];
  if (problems.length > 0) {
    console.error(`\nbench:scale: ${problems.join('; ')}`);
    process.exitCode = 1;
  }
}
