/**
 * Chaos: an activity that keeps failing is paused by ops with `temporal activity pause`,
 * the cause is fixed (the simulator's faults cleared), and `temporal activity unpause`
 * lets the run finish with every effect made once.
 *
 * The WebTV simulator answers every list_orders with HTTP 502, so refund-and-cancel's
 * first read (observeOrder) fails with an unknown outcome and Temporal keeps retrying it.
 * While paused, the activity is not retried even after its next retry would have been due.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodePendingActivityState } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { startRefundAndCancel } from '../../src/client/starters.ts';
import type { RunResult } from '../../src/contracts.ts';
import type { CallLogEntry } from '../../src/simulators/harness.ts';
import { requireTemporalCli } from '../../src/temporal/cli-binary.ts';
import { eventually, placeCurrentOrder } from '../../harness/stack.ts';
import { temporalAvailable, testTemporalTarget } from '../../harness/temporal.ts';
import { statusOf, useWorkflowTestContext } from '../../harness/workflows.ts';

const runCommand = promisify(execFile);

/** The pending activity of `activityType`, as `describe` reports it. */
interface PendingActivity {
  activityId: string;
  state: string | undefined;
  attempt: number;
  pausedBy: { identity: string; reason: string } | undefined;
  /** When the next attempt would be due if nothing paused it (ms since epoch), when known. */
  nextAttemptDueMs: number | undefined;
}

function millisOf(timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!timestamp || timestamp.seconds === undefined || timestamp.seconds === null) return undefined;
  return Number(timestamp.seconds) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

async function pendingActivity(handle: WorkflowHandle, activityType: string): Promise<PendingActivity | undefined> {
  const description = await handle.describe();
  const info = description.raw.pendingActivities?.find((activity) => activity.activityType?.name === activityType);
  if (!info) return undefined;
  const lastCompleted = millisOf(info.lastAttemptCompleteTime);
  // A paused activity's description carries no currentRetryInterval; derive the interval
  // from its retry policy: initial × coefficient^(failed attempts − 1), capped.
  const policy = info.activityOptions?.retryPolicy;
  const initial = millisOf(policy?.initialInterval);
  const maximum = millisOf(policy?.maximumInterval);
  const derived = initial !== undefined ? initial * (policy?.backoffCoefficient ?? 2) ** Math.max(0, (info.attempt ?? 1) - 2) : undefined;
  const retryInterval = millisOf(info.currentRetryInterval) ?? (derived !== undefined && maximum !== undefined ? Math.min(derived, maximum) : derived);
  const manual = info.pauseInfo?.manual;
  return {
    activityId: info.activityId ?? '',
    state: decodePendingActivityState(info.state),
    attempt: info.attempt ?? 0,
    pausedBy: manual ? { identity: manual.identity ?? '', reason: manual.reason ?? '' } : undefined,
    nextAttemptDueMs: lastCompleted !== undefined && retryInterval !== undefined ? lastCompleted + retryInterval : undefined,
  };
}

describe.skipIf(!temporalAvailable())('an activity paused and unpaused with the temporal CLI', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'chaos-pause', workflowIdPrefix: `chaos-pause-${randomUUID().slice(0, 8)}/` });

  /** Runs `temporal activity <args>` against the test server; returns its output. */
  async function temporalActivity(...args: string[]): Promise<string> {
    const target = testTemporalTarget();
    const cli = requireTemporalCli();
    try {
      const { stdout, stderr } = await runCommand(cli, ['activity', ...args, '--address', target.address, '--namespace', target.namespace], { timeout: 30_000 });
      return `${stdout}${stderr}`;
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`temporal activity ${args[0]} failed: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`, { cause: error });
    }
  }

  function webtvCalls(operation: string, userId: number): CallLogEntry[] {
    return context.stack.webtvSim.calls.filter((call) => call.operation === operation && call.query['iq'] === String(userId));
  }

  it('keeps a failing observeOrder paused until unpaused, then finishes with each effect once', { timeout: 180_000 }, async () => {
    const userId = 71;
    const orderId = await placeCurrentOrder(context.stack, userId);
    // Every list_orders answers 502 (an unknown outcome for a read: retried by Temporal).
    context.stack.webtvSim.addFault({ operation: 'list_orders', kind: 'http-status', status: 502, count: 10_000 });

    const result = await context.withWorker(async (starter) => {
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '3.30', reason: 'pause test', requestedBy: 'support' });

      // observeOrder fails and is retried.
      const failing = await eventually('observeOrder to fail and be retried', async () => {
        const activity = await pendingActivity(handle, 'observeOrder');
        return activity !== undefined && activity.attempt >= 2 ? activity : undefined;
      });
      expect(webtvCalls('list_orders', userId).every((call) => call.status === 502)).toBe(true);

      await temporalActivity(
        'pause',
        '--workflow-id', handle.workflowId,
        '--activity-id', failing.activityId,
        '--identity', 'ops-chaos',
        '--reason', 'WebTV answers 502; waiting for the vendor',
      );
      const paused = await eventually('observeOrder to be PAUSED', async () => {
        const activity = await pendingActivity(handle, 'observeOrder');
        return activity?.state === 'PAUSED' ? activity : undefined;
      });
      expect(paused.pausedBy).toEqual({ identity: 'ops-chaos', reason: 'WebTV answers 502; waiting for the vendor' });

      // The vendor is fixed. While paused, nothing retries the read, even once its next
      // attempt would have been due.
      context.stack.webtvSim.faults.clear();
      const readsWhilePaused = webtvCalls('list_orders', userId).length;
      expect(paused.nextAttemptDueMs).toBeDefined();
      await sleep(Math.max(0, (paused.nextAttemptDueMs ?? 0) - Date.now()) + 2_000);
      expect(webtvCalls('list_orders', userId)).toHaveLength(readsWhilePaused);
      expect((await pendingActivity(handle, 'observeOrder'))?.state).toBe('PAUSED');
      const statusWhilePaused = await statusOf(handle);
      expect(statusWhilePaused).toMatchObject({ state: 'running', step: 'confirm-order' });

      await temporalActivity('unpause', '--workflow-id', handle.workflowId, '--activity-id', paused.activityId);
      return (await handle.result()) as RunResult;
    });

    expect(result.outcome).toBe('completed');
    expect(result.steps.map((step) => [step.name, step.state])).toEqual([
      ['confirm-order', 'done'],
      ['add-credit', 'done'],
      ['cancel-order', 'done'],
      ['delete-justclick-bill', 'not-needed'],
    ]);
    // Each effect once.
    expect(webtvCalls('add_subtract_credit', userId).map((call) => call.fields['creditAction'])).toEqual(['add']);
    expect(webtvCalls('cancel_order', userId)).toHaveLength(1);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(330);
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => [effect.step.replace(/#.*$/, ''), effect.state])).toEqual([
      ['add-credit', 'applied'],
      ['cancel-order', 'applied'],
    ]);
  });
});
