/**
 * A lost user lock is honoured (issue 10, item 5). The activities run against the
 * simulators and a SQLite ledger whose lock lease is short (900 ms, renewed every 300 ms).
 * Mid-activity the lease "runs out" (as it does for a worker that stalled or lost its
 * database) and another holder takes the user; the renewal then fails and the lock's
 * signal aborts. A call in flight ends as an unknown outcome that the next attempt
 * reconciles; a call not yet sent is never sent.
 */
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities/index.ts';
import { FailureType } from '../../src/contracts.ts';
import type { CreditEffectInput } from '../../src/contracts.ts';
import { loadConfig } from '../../src/config.ts';
import { openLedger } from '../../src/ledger/index.ts';
import type { EffectLedger } from '../../src/ledger/types.ts';
import type { CallLogEntry } from '../../src/simulators/harness.ts';
import { eventually, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';

/** Long enough for the renewal (every 300 ms) to notice the loss while the call is held. */
const heldMs = 3_000;

describe('a user lock whose lease is lost mid-activity', () => {
  let stack: Stack;
  /** The worker's ledger: same database, short lease. */
  let workerLedger: EffectLedger;
  let database: DatabaseSync;

  beforeAll(async () => {
    stack = await startStack();
    const ledgerConfig = loadConfig({ ORDERFLOW_LEDGER: stack.ledgerUrl }, ['ledger']).ledger;
    if (ledgerConfig.kind !== 'sqlite') throw new Error('the test stack uses a SQLite ledger');
    workerLedger = await openLedger(ledgerConfig, { lockLeaseMs: 900 });
    database = new DatabaseSync(ledgerConfig.path);
    database.exec('PRAGMA busy_timeout = 5000');
  });

  afterAll(async () => {
    database?.close();
    await workerLedger?.close();
    await stack?.close();
  });

  function creditInput(userId: number): CreditEffectInput {
    const workflowId = `adjust-credit/${userId}/lease`;
    return { effectKey: `${workflowId}/adjust-credit#run`, workflowId, userId, creditAction: 'add', amount: '1.00', description: 'lease test' };
  }

  function callsOf(operation: string, userId: number): CallLogEntry[] {
    return stack.webtvSim.calls.filter((call) => call.operation === operation && call.query['iq'] === String(userId));
  }

  /**
   * What another worker does once our lease has run out: the lease is made to run out now
   * (as if our renewals had stalled), and the other worker takes the user's lock and holds
   * it until `until` settles.
   */
  async function anotherWorkerTakesTheUser(userId: number, until: Promise<unknown>): Promise<void> {
    database.prepare('UPDATE user_locks SET expires_at = 0 WHERE user_id = ?').run(String(userId));
    const taken = Promise.withResolvers<void>();
    void stack.ledger.withUserLock(userId, 'other-worker', async () => {
      taken.resolve();
      await until.catch(() => undefined);
    }, { waitMs: 5_000 }).catch((error: unknown) => taken.reject(error));
    await taken.promise;
  }

  async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
    const error = await promise.then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(ApplicationFailure);
    return error as ApplicationFailure;
  }

  it('ends a call in flight as unknown, and the next attempt reconciles it without calling again', async () => {
    const userId = 91;
    const input = creditInput(userId);
    const activities = createActivities({ webtv: stack.webtv, ledger: workerLedger, inFlightWindowMs: 60_000 });
    stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'latency', ms: heldMs });

    const attempt = activities.applyCreditChange(input);
    const held = await eventually('the credit call to reach the simulator', () => callsOf('add_subtract_credit', userId)[0]);
    await anotherWorkerTakesTheUser(userId, attempt);

    const failure = await failureOf(attempt);
    expect(failure.type).toBe(FailureType.OutcomePending);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/stopped while in flight \(Lost the lock on store user "91"/);
    const afterLoss = await stack.ledger.get(input.effectKey);
    expect(afterLoss).toMatchObject({ state: 'unknown', attempts: 1 });
    expect(afterLoss?.response).toMatchObject({ outcome: 'unknown', code: 'ABORTED' });

    // The simulator applies the held call after all; the next attempt sees it in the balance.
    await eventually('the held call to be applied', () => (held.status === null ? undefined : held.status));
    expect(stack.webtvSim.state.creditOf(userId)).toBe(100);
    const retried = await activities.applyCreditChange(input);
    expect(retried.detail).toMatch(/reconciled: credit 0\.00 → 1\.00/);
    expect(callsOf('add_subtract_credit', userId)).toHaveLength(1);
    expect((await stack.ledger.get(input.effectKey))?.state).toBe('resolved-applied');
  });

  it('does not send a call that was not yet sent when the lease was lost', async () => {
    const userId = 92;
    const input = creditInput(userId);
    const activities = createActivities({ webtv: stack.webtv, ledger: workerLedger, inFlightWindowMs: 60_000 });
    // The observation before the call is held; the lease is lost meanwhile.
    stack.webtvSim.addFault({ operation: 'get_credit', kind: 'latency', ms: heldMs });

    const attempt = activities.applyCreditChange(input);
    await eventually('the credit read to reach the simulator', () => callsOf('get_credit', userId)[0]);
    await anotherWorkerTakesTheUser(userId, attempt);

    const failure = await failureOf(attempt);
    expect(failure.message).toMatch(/Lost the lock on store user "92"/);
    // Nothing was armed and nothing was sent, not even after the held read completes.
    expect(await stack.ledger.get(input.effectKey)).toBeUndefined();
    await eventually('the held read to complete', () => (callsOf('get_credit', userId)[0]?.status ?? undefined));
    expect(callsOf('add_subtract_credit', userId)).toHaveLength(0);
    expect(stack.webtvSim.state.creditOf(userId)).toBe(0);

    // The retry does the work once.
    expect(await activities.applyCreditChange(input)).toMatchObject({ status: 'applied', fromLedger: false });
    expect(callsOf('add_subtract_credit', userId)).toHaveLength(1);
    expect(stack.webtvSim.state.creditOf(userId)).toBe(100);
  });
});
