/**
 * Chaos: an `orderflow worker` process is SIGKILLed while an effect call is in flight (the
 * simulator holds the call with a latency fault and commits it afterwards, although nobody
 * listens any more). A new worker process on the same task queue and ledger picks the
 * activity up after the heartbeat timeout (20 s), reconciles from the ledger's `pending`
 * row, and the run completes with every effect made exactly once.
 *
 * Each case takes about 30–60 s: the heartbeat timeout, plus a workflow bundle per worker.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { startRefundAndCancel } from '../../src/client/starters.ts';
import type { RunResult } from '../../src/contracts.ts';
import type { EffectRecord } from '../../src/ledger/types.ts';
import type { CallLogEntry } from '../../src/simulators/harness.ts';
import { centsFromInteger } from '../../src/money.ts';
import { connectTestClient, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { eventually, placeCurrentOrder, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import { runningWorkerProcesses, spawnWorkerProcess, stopAllWorkerProcesses } from './worker-process.ts';

/** Longer than the call takes to reach the simulator, shorter than the 20 s heartbeat timeout. */
const inFlightMs = 8_000;
const caseTimeoutMs = 240_000;

interface CrashCase {
  title: string;
  userId: number;
  amount: string;
  amountCents: number;
  /** The WebTV action held in flight while the worker is killed. */
  operation: 'add_subtract_credit' | 'cancel_order';
  /** The saga step and ledger kind of that call. */
  step: 'add-credit' | 'cancel-order';
  kind: 'credit.add' | 'order.cancel';
  /** How each effect must end in the ledger: the killed one is settled by reconciliation. */
  expectedStates: Record<'add-credit' | 'cancel-order' | 'delete-justclick-bill', 'applied' | 'resolved-applied'>;
}

const cases: CrashCase[] = [
  {
    title: 'in the pivot (cancel_order in flight)',
    userId: 41,
    amount: '5.50',
    amountCents: 550,
    operation: 'cancel_order',
    step: 'cancel-order',
    kind: 'order.cancel',
    expectedStates: { 'add-credit': 'applied', 'cancel-order': 'resolved-applied', 'delete-justclick-bill': 'applied' },
  },
  {
    title: 'in the add-credit step (add_subtract_credit in flight)',
    userId: 42,
    amount: '3.99',
    amountCents: 399,
    operation: 'add_subtract_credit',
    step: 'add-credit',
    kind: 'credit.add',
    expectedStates: { 'add-credit': 'resolved-applied', 'cancel-order': 'applied', 'delete-justclick-bill': 'applied' },
  },
];

function stepOf(effect: EffectRecord): string {
  return effect.step.replace(/#.*$/, '');
}

describe.skipIf(!temporalAvailable())('a worker SIGKILLed mid-saga and restarted', () => {
  let stack: Stack;
  let client: Client;
  const workflowIdPrefix = `chaos-${randomUUID().slice(0, 8)}/`;

  beforeAll(async () => {
    stack = await startStack();
    client = await connectTestClient();
  });

  afterEach(async () => {
    await stopAllWorkerProcesses();
  });

  afterAll(async () => {
    await stopAllWorkerProcesses();
    await client?.connection.close();
    await stack?.close();
  });

  function workerEnv(taskQueue: string): NodeJS.ProcessEnv {
    const target = testTemporalTarget();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...stack.env,
      TEMPORAL_ADDRESS: target.address,
      TEMPORAL_NAMESPACE: target.namespace,
      ORDERFLOW_TASK_QUEUE: taskQueue,
    };
    delete env['ORDERFLOW_METRICS_PORT'];
    return env;
  }

  function webtvCalls(operation: string, userId: number): CallLogEntry[] {
    return stack.webtvSim.calls.filter((call) => call.operation === operation && call.query['iq'] === String(userId));
  }

  function billDeletions(billId: string): CallLogEntry[] {
    return stack.justclickSim.calls.filter((call) => call.operation === 'DeleteOrder' && call.fields['bill_id'] === billId);
  }

  async function orderState(userId: number, orderId: number): Promise<string | undefined> {
    return (await stack.webtv.listOrders(userId)).find((order) => order.id === orderId)?.status;
  }

  for (const crash of cases) {
    it(`finishes with each effect once when the worker dies ${crash.title}`, async () => {
      const { userId } = crash;
      const orderId = await placeCurrentOrder(stack, userId);
      const billId = `chaos-bill-${userId}-${randomUUID().slice(0, 8)}`;
      await stack.justclick.createOrder({ billId, email: 'buyer@example.com', goods: [{ name: 'Order', sum: centsFromInteger(crash.amountCents) }] });
      const taskQueue = uniqueTaskQueue('chaos-worker-crash');

      // 1. The first worker process.
      const first = spawnWorkerProcess(workerEnv(taskQueue));
      const startLine = await first.waitUntilStarted();
      expect(startLine['taskQueue']).toBe(taskQueue);

      // 2. Start the run with the chosen call held in flight, and kill the worker as soon as the call arrives.
      stack.webtvSim.addFault({ operation: crash.operation, kind: 'latency', ms: inFlightMs });
      const { handle } = await startRefundAndCancel(
        { client, taskQueue, workflowIdPrefix },
        { userId, orderId, amount: crash.amount, justclickBillId: billId, reason: 'chaos: worker killed', requestedBy: 'chaos-test' },
      );
      const heldCall = await eventually(
        `the ${crash.operation} call of store user ${userId} to reach the WebTV simulator`,
        () => webtvCalls(crash.operation, userId).find((call) => call.fault === 'latency'),
        120_000,
      );
      const killed = await first.kill('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');

      // The effect was in flight: armed in the ledger, not yet committed by the simulator.
      const armed = await stack.ledger.listEffects({ userId, kind: crash.kind });
      expect(armed.map((effect) => [effect.state, effect.attempts])).toEqual([['pending', 1]]);
      expect(heldCall.status).toBeNull();
      if (crash.operation === 'cancel_order') expect(stack.webtvSim.state.currentOrder(userId)?.id).toBe(orderId);
      else expect(stack.webtvSim.state.creditOf(userId)).toBe(0);

      // 3. A new worker process on the same task queue and ledger finishes the run.
      const second = spawnWorkerProcess(workerEnv(taskQueue));
      await second.waitUntilStarted();
      const result = (await handle.result()) as RunResult;

      // 4. Completed, and every effect happened exactly once.
      expect(result.outcome).toBe('completed');
      expect(result.steps.map((step) => [step.name, step.state])).toEqual([
        ['confirm-order', 'done'],
        ['add-credit', 'done'],
        ['cancel-order', 'done'],
        ['delete-justclick-bill', 'done'],
      ]);
      expect(result.steps.find((step) => step.name === crash.step)?.detail).toMatch(/reconciled/);
      // The held call was committed by the simulator after the worker had died.
      expect(heldCall.status).toBe(200);

      expect(stack.webtvSim.state.creditOf(userId)).toBe(crash.amountCents);
      expect(webtvCalls('add_subtract_credit', userId)).toHaveLength(1);
      expect(await orderState(userId, orderId)).toBe('cancelled');
      expect(stack.justclickSim.state.hasBill(billId)).toBe(false);

      const effects = await stack.ledger.listEffects({ userId });
      expect(effects.map((effect) => [stepOf(effect), effect.state])).toEqual(Object.entries(crash.expectedStates));
      // Every call the ledger did not count would be a second effect: calls made = attempts armed.
      const callsPerStep: Record<string, number> = {
        'add-credit': webtvCalls('add_subtract_credit', userId).length,
        'cancel-order': webtvCalls('cancel_order', userId).length,
        'delete-justclick-bill': billDeletions(billId).length,
      };
      for (const effect of effects) {
        expect(callsPerStep[stepOf(effect)], `calls made for ${effect.key}`).toBe(effect.attempts);
        expect(effect.attempts, `attempts of ${effect.key}`).toBeLessThanOrEqual(stepOf(effect) === 'cancel-order' ? 2 : 1);
        const outcomes = await stack.ledger.listAudit({ effectKey: effect.key });
        const done = outcomes.filter((event) => event.event === 'effect.applied' || event.event === 'effect.resolved-applied');
        expect(done.map((event) => event.event), `terminal events of ${effect.key}`).toHaveLength(1);
      }

      // The killed worker armed the effect; the new worker settled it.
      const killedEffect = effects.find((effect) => stepOf(effect) === crash.step)!;
      const trail = await stack.ledger.listAudit({ effectKey: killedEffect.key });
      expect(trail.find((event) => event.event === 'effect.pending')?.actor).toMatch(new RegExp(`:${first.pid} attempt 1$`));
      expect(trail.find((event) => event.event === 'effect.resolved-applied')?.actor).toMatch(new RegExp(`:${second.pid} attempt \\d+$`));

      await stopAllWorkerProcesses();
      expect(runningWorkerProcesses()).toBe(0);
    }, caseTimeoutMs);
  }
});
