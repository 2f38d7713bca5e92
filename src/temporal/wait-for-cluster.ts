/** Waiting for a Temporal cluster that is not there yet: capped, jittered backoff, one log line per attempt (docs/configuration.md). */
import { setTimeout as sleep } from 'node:timers/promises';
import { TemporalNotReadyError } from './readiness.ts';
import type { TemporalConnectionSummary } from './connection.ts';

export interface WaitForTemporalOptions {
  log: (message: string, fields: Record<string, unknown>) => void;
  /** Stops the wait: it then rejects with {@link TemporalWaitStopped}. */
  signal?: AbortSignal | undefined;
  /** Defaults: 1 s, 30 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** How long a cluster that just came up may lack its namespace or search attributes. Default 20 s. */
  settleMs?: number;
  random?: () => number;
}

export class TemporalWaitStopped extends Error {
  override readonly name = 'TemporalWaitStopped';
}

const defaults = { initialDelayMs: 1_000, maxDelayMs: 30_000, settleMs: 20_000 } as const;

/** The delay before attempt `attempt + 1`; "equal jitter", so workers restarted at once do not retry in step. */
export function backoffDelayMs(attempt: number, options: Pick<WaitForTemporalOptions, 'initialDelayMs' | 'maxDelayMs' | 'random'> = {}): number {
  const initial = options.initialDelayMs ?? defaults.initialDelayMs;
  const cap = options.maxDelayMs ?? defaults.maxDelayMs;
  const ceiling = Math.min(cap, initial * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(ceiling / 2 + (options.random ?? Math.random)() * (ceiling / 2));
}

/** Runs `attempt` until it succeeds, retrying while Temporal is unreachable or just came up. */
export async function untilTemporalReady<T>(
  attempt: () => Promise<T>,
  target: Pick<TemporalConnectionSummary, 'address' | 'namespace'>,
  options: WaitForTemporalOptions,
): Promise<T> {
  const settleMs = options.settleMs ?? defaults.settleMs;
  let reachedAt: number | undefined;
  let wasUnreachable = false;
  for (let attempts = 1; ; attempts++) {
    if (options.signal?.aborted) throw new TemporalWaitStopped('stopped while waiting for Temporal');
    let problem: TemporalNotReadyError;
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof TemporalNotReadyError)) throw error;
      problem = error;
    }
    let waitingFor: string;
    if (problem.problem === 'unreachable') {
      wasUnreachable = true;
      reachedAt = undefined;
      waitingFor = `Temporal at ${target.address} to answer`;
    } else if (wasUnreachable && (problem.problem === 'namespace-not-found' || problem.problem === 'search-attributes-missing')) {
      reachedAt ??= Date.now();
      if (Date.now() - reachedAt >= settleMs) throw problem;
      waitingFor = `Temporal at ${target.address}, which just came up, to have ${problem.problem === 'namespace-not-found' ? `the namespace ${target.namespace}` : "orderflow's search attributes"}`;
    } else {
      throw problem;
    }
    const delayMs = backoffDelayMs(attempts, options);
    options.log('waiting for Temporal', {
      waitingFor,
      namespace: target.namespace,
      attempt: attempts,
      nextAttemptInSeconds: Math.round(delayMs / 100) / 10,
      nextAttemptAt: new Date(Date.now() + delayMs).toISOString(),
      reason: problem.message,
    });
    await sleep(delayMs, undefined, { signal: options.signal }).catch((error: unknown) => {
      throw options.signal?.aborted ? new TemporalWaitStopped('stopped while waiting for Temporal', { cause: error }) : error;
    });
  }
}
