/**
 * Waiting for a Temporal cluster (src/temporal/wait-for-cluster.ts): which failures are
 * waited out and which end the wait at once, one log line per failed attempt, and a capped,
 * jittered backoff.
 */
import { describe, expect, it } from 'vitest';
import { TemporalNotReadyError } from '../../src/temporal/readiness.ts';
import type { TemporalProblem } from '../../src/temporal/readiness.ts';
import { TemporalWaitStopped, backoffDelayMs, untilTemporalReady } from '../../src/temporal/wait-for-cluster.ts';

const target = { address: '127.0.0.1:7233', namespace: 'default' };
const notReady = (problem: TemporalProblem): TemporalNotReadyError => new TemporalNotReadyError(problem, `problem: ${problem}`);

/** An attempt that fails with `failures` in turn, then answers 'connected'. */
function attempts(failures: readonly TemporalProblem[]): { attempt: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    attempt: async () => {
      const failure = failures[calls++];
      if (failure !== undefined) throw notReady(failure);
      return 'connected';
    },
    calls: () => calls,
  };
}

describe('waiting for Temporal', () => {
  it('doubles the delay from 1 s up to 30 s, each between half and all of it', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => backoffDelayMs(attempt, { random: () => 0.999999 }))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect([1, 2, 6].map((attempt) => backoffDelayMs(attempt, { random: () => 0 }))).toEqual([500, 1000, 15000]);
  });

  it('waits while Temporal is unreachable, logging one line per failed attempt, then answers', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const { attempt, calls } = attempts(['unreachable', 'unreachable']);
    const result = await untilTemporalReady(attempt, target, { initialDelayMs: 2, log: (message, fields) => lines.push({ message, ...fields }) });
    expect(result).toBe('connected');
    expect(calls()).toBe(3);
    expect(lines.map((line) => [line['message'], line['attempt'], line['waitingFor'], line['reason']])).toEqual([
      ['waiting for Temporal', 1, 'Temporal at 127.0.0.1:7233 to answer', 'problem: unreachable'],
      ['waiting for Temporal', 2, 'Temporal at 127.0.0.1:7233 to answer', 'problem: unreachable'],
    ]);
    expect(Date.parse(String(lines[0]!['nextAttemptAt']))).not.toBeNaN();
  });

  it.each(['tls-failed', 'credential-refused', 'namespace-not-found', 'search-attributes-missing'] as const)('ends the wait at once for %s', async (problem) => {
    const lines: unknown[] = [];
    const { attempt, calls } = attempts([problem]);
    await expect(untilTemporalReady(attempt, target, { initialDelayMs: 2, log: (line) => lines.push(line) })).rejects.toThrow(`problem: ${problem}`);
    expect(calls()).toBe(1);
    expect(lines).toEqual([]);
  });

  it('gives a cluster that just came up a moment to register its namespace and search attributes, then gives up', async () => {
    const settling = attempts(['unreachable', 'search-attributes-missing', 'namespace-not-found']);
    await expect(untilTemporalReady(settling.attempt, target, { initialDelayMs: 2, log: () => undefined })).resolves.toBe('connected');
    const never = attempts(['unreachable', ...Array<TemporalProblem>(1000).fill('search-attributes-missing')]);
    await expect(untilTemporalReady(never.attempt, target, { initialDelayMs: 2, maxDelayMs: 4, settleMs: 50, log: () => undefined })).rejects.toThrow('problem: search-attributes-missing');
  });

  it('stops waiting when asked (a signal)', async () => {
    const stop = new AbortController();
    const { attempt } = attempts(Array<TemporalProblem>(1000).fill('unreachable'));
    const waiting = untilTemporalReady(attempt, target, { signal: stop.signal, log: () => stop.abort() });
    await expect(waiting).rejects.toBeInstanceOf(TemporalWaitStopped);
  });
});
