/** The effect ledger, observed: effect states, reconciliation verdicts and per-user lock waits are counted; the rest passes through. */
import { UserLockTimeoutError } from '../ledger/errors.ts';
import type { EffectLedger, EffectRecord, EffectState, HeldUserLock } from '../ledger/types.ts';
import type { OrderflowMetrics } from './metrics.ts';

/** A `resolved-*` state is a verdict when it settles an `unknown` effect or a `pending` one "reconciled" (notes). */
function verdictOf(from: EffectState | undefined, to: EffectState, note: string | undefined): 'applied' | 'not-applied' | undefined {
  if (from !== 'unknown' && !(from === 'pending' && note?.startsWith('reconciled') === true)) return undefined;
  if (to === 'resolved-applied') return 'applied';
  if (to === 'resolved-not-applied') return 'not-applied';
  return undefined;
}

export function observeLedger(ledger: EffectLedger, metrics: OrderflowMetrics): EffectLedger {
  // Outcomes only: `pending` is a step on the way.
  const counted = (before: EffectState | undefined, after: EffectRecord, note: string | undefined): EffectRecord => {
    if (before !== after.state && after.state !== 'pending') {
      metrics.effectState(after.kind, after.state);
      const verdict = verdictOf(before, after.state, note);
      if (verdict !== undefined) metrics.reconciliation(after.kind, verdict);
    }
    return after;
  };
  const record: EffectLedger['record'] = async (key, state, options) => {
    const before = await ledger.get(key);
    return counted(before?.state, await ledger.record(key, state, options), options?.note);
  };
  // What `recordAndRelease` changes from is the row the lock read, or a new one: no extra read.
  const observedLock = (lock: HeldUserLock): HeldUserLock => ({
    ...lock,
    get signal() {
      return lock.signal;
    },
    recordAndRelease: async (key, state, options) => {
      const before = lock.effect?.key === key ? lock.effect.state : 'pending';
      return counted(before, await lock.recordAndRelease(key, state, options), options?.note);
    },
  });
  const withUserLock: EffectLedger['withUserLock'] = (userId, owner, fn, options) => {
    const startedAt = performance.now();
    let waited = false;
    const locked = (lock: HeldUserLock): ReturnType<typeof fn> => {
      waited = true;
      metrics.userLockWait('acquired', (performance.now() - startedAt) / 1000);
      return fn(observedLock(lock));
    };
    return ledger.withUserLock(userId, owner, locked, options).catch((error: unknown) => {
      if (!waited && error instanceof UserLockTimeoutError) metrics.userLockWait('timed-out', (performance.now() - startedAt) / 1000);
      throw error;
    });
  };
  return new Proxy(ledger, {
    get(target, property, receiver) {
      if (property === 'record') return record;
      if (property === 'withUserLock') return withUserLock;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
