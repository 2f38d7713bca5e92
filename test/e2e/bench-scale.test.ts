/**
 * The bulk half of `npm run bench:scale` (harness/bulk-scale.ts) at its smoke size (a 200-row
 * bulk, bare start loops of 100 runs): it runs end to end on its own stack and measures what
 * it must — every item done exactly once, the payload warnings, the history size, the
 * ceiling and the bulk's pace. It tests the harness, not the speed (no figure is compared
 * with a target here).
 */
import { describe, expect, it } from 'vitest';
import { measureBulkScale } from '../../harness/bulk-scale.ts';
import { temporalAvailable } from '../../harness/temporal.ts';

describe.skipIf(!temporalAvailable())('npm run bench:scale, the bulk (smoke size)', () => {
  it('runs a 200-row bulk beside the bare start loop and measures every figure', { timeout: 300_000 }, async () => {
    const measured = await measureBulkScale({ rows: 200, rate: 100, concurrency: 200, bareRuns: 100 });
    expect(measured.result.counts).toMatchObject({ total: 200, done: 200, failed: 0, waiting: 0 });
    expect(measured.wrongItems).toEqual([]);
    expect(measured.payloadWarnings).toBe(0);
    expect(measured.bare).toHaveLength(2);
    expect(measured.ceiling).toBeGreaterThan(0);
    expect(measured.startsPerSecond).toBeGreaterThan(0);
    expect(measured.historyBytes).toBeGreaterThan(0);
    expect(measured.runsInChain).toBeGreaterThanOrEqual(1);
    // The bulk's payloads hold no rows: far below one row per item.
    expect(measured.largestPayloadBytes).toBeLessThan(16 * 1_024);
    expect(measured.workerPeakRssMb).toBeGreaterThan(0);
  });
});
