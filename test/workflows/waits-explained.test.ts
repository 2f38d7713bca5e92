/**
 * Waits that explain themselves (issue 8), on a real Temporal server with the real
 * activities: a step being retried shows each failed attempt in `start --wait` and
 * `status`; a run waiting for an operator labels its wait with a timer whose summary the
 * UI shows on the run's default tab; and a decision holding a control character is refused
 * where it enters (the UI's update and signal), instead of stalling the run afterwards.
 */
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { startCancelOrder } from '../../src/client/starters.ts';
import { runCli } from '../../src/cli.ts';
import type { RunResult } from '../../src/contracts.ts';
import { eventually } from '../../harness/stack.ts';
import { temporalAvailable, testTemporalTarget } from '../../harness/temporal.ts';
import { awaitingOperatorAt, decide, updateRefusal, useWorkflowTestContext } from '../../harness/workflows.ts';

async function orderflow(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { env, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { code, stdout, stderr };
}

describe.skipIf(!temporalAvailable())('waits explained, on a real Temporal server', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'waits', firstUserId: 70, workflowIdPrefix: '' });
  const { customerWithOrder, billFor, withWorker } = context;

  it('start --wait and status show each failed attempt of a step being retried: cause, attempt, next attempt', async () => {
    const { userId, orderId } = await customerWithOrder();
    // The store answers HTTP 502 twice: confirm-order's read is retried (1 s, then 2 s later).
    context.stack.webtvSim.addFault({ operation: 'get_cart', kind: 'http-status', status: 502, count: 2 });
    await withWorker(async (starter) => {
      const target = testTemporalTarget();
      const env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: starter.taskQueue, USER: 'tester' };
      const waiting = orderflow(['start', 'cancel-order', '--user', String(userId), '--order', String(orderId), '--wait'], env);
      const status = await eventually('status to show a failed attempt', async () => {
        const shown = await orderflow(['status', `cancel-order:${userId}:${orderId}`], env);
        return shown.stdout.includes('↻') ? shown : undefined;
      });
      expect(status.stdout).toMatch(/↻ confirm-order \(observeOrder\): attempt (\d) failed: .*HTTP 502.*; (attempt \d at \d\d:\d\d:\d\d UTC \(in \d+ s\)|attempt \d is running)/);
      const followed = await waiting;
      expect(followed.code).toBe(0);
      // The follower reports the failed attempts it sees while it polls: on a loaded machine the
      // CLI may start after the first one was already retried (1 s), so at least the second.
      expect(followed.stdout).toMatch(/↻ confirm-order \(observeOrder\): attempt 2 failed: .*HTTP 502/);
      expect(followed.stdout).toMatch(/✓ confirm-order \(done\)/);
      expect(followed.stdout).toContain('Completed:');
    });
  });

  it('labels the wait for an operator with a timer summary, and refuses a decision with a control character from the UI path', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);
    context.stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '4' });

    const result = await withWorker(async (starter) => {
      const { handle } = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'ADMIN', reason: 'fraud' });
      await awaitingOperatorAt(handle, 'delete-justclick-bill');

      // The UI's History tab shows a pending timer with this summary.
      const history = await handle.fetchHistory();
      const timer = history.events?.find((event) => event.timerStartedEventAttributes);
      expect(timer?.userMetadata?.summary).toBeTruthy();
      const summary = defaultPayloadConverter.fromPayload<string>(timer!.userMetadata!.summary!);
      expect(summary).toBe('Waiting for an operator: Step delete-justclick-bill was refused by the API because of our credentials, signature or address.');

      // What the UI sends: an update (refused, with why) and a signal (ignored).
      const hostile = { action: 'skip' as const, note: 'done by hand', operator: 'eve\u001b[2J' };
      expect(await updateRefusal(decide(handle, hostile))).toMatch(/"operator" must be one line of printable text; it holds an escape character \(ESC\)/);
      expect(await updateRefusal(decide(handle, { ...hostile, operator: 'eve', note: 'line one\nline two' }))).toMatch(/"note" must be one line/);
      await handle.signal('operatorDecision', hostile);
      // Had the signal been taken, the run would no longer wait and this update would be refused.
      const reply = await decide(handle, { action: 'skip', note: 'will delete the bill by hand', operator: 'carla' });
      expect(reply).toMatchObject({ accepted: true, action: 'skip' });
      return (await handle.result()) as RunResult;
    });

    expect(result.outcome).toBe('completed');
    expect(result.decisions.map((decision) => decision.operator)).toEqual(['carla']);
    const audit = await context.stack.ledger.listAudit({ event: 'operator.skip' });
    expect(audit.some((entry) => entry.actor === 'carla')).toBe(true);
    expect(audit.some((entry) => entry.actor?.startsWith('eve'))).toBe(false);
  });
});
