/**
 * reconcile against a real Temporal dev server and the simulators: each kind of drift is
 * injected (a late landing with the WebTV simulator's admin hook, a JustClick bill
 * re-created by hand, an order reopened in the store, a stale pending effect), found once,
 * repaired (the bill) or left for an operator, and a second reconcile reports nothing new.
 */
import { describe, expect, it } from 'vitest';
import { createReconcileActivities } from '../../src/features/reconcile/activities.ts';
import { runCli } from '../../src/cli.ts';
import { reconcileScheduleId } from '../../src/features/reconcile/client.ts';
import { startProcessPaidOrder, startRefundAndCancel } from '../../src/client/starters.ts';
import type { ReconcileResult } from '../../src/features/reconcile/contracts.ts';
import type { RunResult } from '../../src/contracts.ts';
import { centsFromInteger } from '../../src/money.ts';
import { eventually } from '../../harness/stack.ts';
import { runWorker, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { awaitingOperatorAt, decide, failureOf, statusOf, useWorkflowTestContext, workflowsPath } from '../../harness/workflows.ts';

function capture(): { write(chunk: string): boolean; text(): string } {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk) > 0, text: () => chunks.join('') };
}

describe.skipIf(!temporalAvailable())('reconcile on a real Temporal server', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'reconcile', firstUserId: 70 });

  function reconcileActivities(): object {
    const { stack, client } = context;
    return {
      ...stack.activities,
      ...createReconcileActivities({ ledger: stack.ledger, webtv: stack.webtv, justclick: stack.justclick, client, inFlightWindowMs: 0, readsPerSecond: 50 }),
    };
  }

  async function orderflow(args: string[], taskQueue: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const target = testTemporalTarget();
    const env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: taskQueue, TEMPORAL_UI_URL: 'http://127.0.0.1:8233' };
    const stdout = capture();
    const stderr = capture();
    const code = await runCli(args, { env, stdout, stderr });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  it('finds each injected drift once, repairs the bill, hands the rest to an operator; a second reconcile finds nothing new', async () => {
    const { stack, client } = context;
    // 1. A refund that completed: credit added, order cancelled, bill deleted.
    const { userId, orderId } = await context.customerWithOrder();
    const billId = await context.billFor(userId);
    // And a paid order processed, its JustClick bill marked paid.
    const paid = await context.customerWithOrder(550);
    const paidBillId = await context.billFor(paid.userId);
    const [refund, processed] = await context.withWorker(async (starter) => {
      const started = await startRefundAndCancel(starter, { userId, orderId, amount: '5.50', justclickBillId: billId, reason: 'event cancelled', requestedBy: 'support' });
      const processing = await startProcessPaidOrder(starter, { userId: paid.userId, orderId: paid.orderId, justclickBillId: paidBillId });
      await Promise.all([started.handle.result(), processing.handle.result()]);
      return [started, processing];
    });
    // Drift by hand after they completed: the bill re-created, the order reopened, the paid bill set to "return".
    await context.billFor(userId);
    stack.webtvSim.state.reopenOrder(userId, orderId);
    stack.justclickSim.state.setStatus(paidBillId, 'return');

    // 2. A credit change decided "did not take effect" and retried, whose first request lands late.
    const lateUser = context.customerWithCredit(200);
    const lateKey = `${context.prefix}adjust-credit/${lateUser}/late/adjust-credit#run-1`;
    const observed = { creditCents: 200, credit: '2.00' };
    await stack.ledger.begin(lateKey, { kind: 'credit.add', userId: lateUser, request: { creditAction: 'add', amount: '3.00', description: 'goodwill' }, observedBefore: observed });
    // As an operator's `retry` records it (bookkeeping.resolveEffect): their name, and the identity Temporal recorded for the decision.
    await stack.ledger.record(lateKey, 'resolved-not-applied', { observedAfter: observed, actor: 'anna', note: 'anna (Temporal identity: orderflow-cli:anna@ops): resolved-not-applied — credit unchanged in the store admin' });
    await stack.ledger.record(lateKey, 'pending', { observedBefore: observed, note: 'test: new attempt' });
    await stack.ledger.record(lateKey, 'applied', { response: { ok: 'credit added' } });
    stack.webtvSim.state.setCredit(lateUser, centsFromInteger(500));
    stack.webtvSim.state.landLateCreditChange(lateUser, { creditAction: 'add', amount: centsFromInteger(300), description: 'goodwill' });

    // 3. An effect left pending by a run that is gone.
    const staleKey = `${context.prefix}cancel-order/${lateUser}/9/cancel-order#run-1`;
    await stack.ledger.begin(staleKey, { kind: 'order.cancel', userId: lateUser, request: { orderId: 9 } });

    const taskQueue = uniqueTaskQueue('reconcile');
    const activities = reconcileActivities();
    const { first, second, secondDetails, decided } = await runWorker({ workflowsPath, activities, taskQueue }, async () => {
      const run = (id: string) => client.workflow.execute('reconcile', { taskQueue, workflowId: `${context.prefix}reconcile/${id}`, args: [{}] }) as Promise<ReconcileResult>;
      const first = await run('first');
      // The operator takes the double credit back, and accepts the reopened order as it is.
      const findingRun = (kind: string) => client.workflow.getHandle(first.findings.find((finding) => finding.kind === kind)?.findingWorkflowId ?? `no ${kind} run`);
      const lateRun = findingRun('late-landing');
      const orderRun = findingRun('order-not-cancelled');
      const waiting = await awaitingOperatorAt(lateRun, 'decide');
      expect(Object.keys(waiting.awaiting?.choices ?? {}).sort()).toEqual(['abort', 'compensate', 'skip']);
      await decide(lateRun, { action: 'compensate', operator: 'anna', note: 'late request, checked the credit log' });
      await awaitingOperatorAt(orderRun, 'decide');
      expect(Object.keys((await statusOf(orderRun)).awaiting?.choices ?? {}).sort()).toEqual(['abort', 'skip']);
      await decide(orderRun, { action: 'skip', operator: 'anna', note: 'the buyer re-ordered by phone' });
      // … and settles the stale effect: it did take effect.
      const staleRun = findingRun('stale-effect');
      await awaitingOperatorAt(staleRun, 'decide');
      await decide(staleRun, { action: 'skip', operator: 'anna', note: 'the store shows the order cancelled' });
      const decided = [(await lateRun.result()) as RunResult, (await orderRun.result()) as RunResult, (await staleRun.result()) as RunResult];
      const second = await run('second');
      // The report is the run's current details (the Temporal UI shows them); a query needs the worker.
      const metadata = await client.workflow.getHandle(`${context.prefix}reconcile/second`).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      // The bill finding is closed without a verdict: nothing changes, and no run is left waiting.
      const billRun = findingRun('bill-not-paid');
      await awaitingOperatorAt(billRun, 'decide');
      await decide(billRun, { action: 'abort', operator: 'anna', note: 'finance handles returns' });
      expect((await failureOf(billRun)).type).toBe('RunAborted');
      return { first, second, secondDetails: metadata.currentDetails, decided };
    });

    const refundKeys = (await stack.ledger.listEffects({ workflowId: refund.workflowId })).map((effect) => [effect.kind, effect.key]);
    const keyOf = (kind: string) => refundKeys.find(([effectKind]) => effectKind === kind)?.[1];
    const markPaidKey = (await stack.ledger.listEffects({ workflowId: processed.workflowId, kind: 'justclick.mark-paid' }))[0]?.key;
    expect(first.findings.map((finding) => [finding.id, finding.isNew, finding.followUp]).sort()).toEqual(
      [
        [`bill-still-exists:${keyOf('justclick.delete')}`, true, 'repair'],
        [`bill-not-paid:${markPaidKey}`, true, 'operator'],
        [`late-landing:${lateKey}`, true, 'operator'],
        [`order-not-cancelled:${keyOf('order.cancel')}`, true, 'operator'],
        [`stale-effect:${staleKey}`, true, 'operator'],
      ].sort(),
    );
    expect(first).toMatchObject({ newFindings: 5, repaired: 1 });
    const late = first.findings.find((finding) => finding.kind === 'late-landing');
    expect(late?.userId).toBe(String(lateUser));
    expect(late?.evidence).toMatchObject({ change: '+3.00', 'credit expected': '5.00', 'credit now': '8.00' });
    expect(late?.evidence['decided by']).toBe('anna — anna (Temporal identity: orderflow-cli:anna@ops): resolved-not-applied — credit unchanged in the store admin');
    expect(first.report).toContain(`late-landing:${lateKey}`);
    expect(first.report).toContain('decided by: anna — anna (Temporal identity: orderflow-cli:anna@ops)');
    expect(first.report).toMatch(/5 finding\(s\), 5 new, 1 repaired/);
    // The safe repair happened, and is recorded.
    expect(stack.justclickSim.state.hasBill(billId)).toBe(false);
    expect((await stack.ledger.listAudit({ event: 'reconcile.repaired' })).map((event) => event.effectKey)).toEqual([keyOf('justclick.delete')]);
    // Money and orders changed only by the operator's decisions: the double credit taken back once, through the ledger.
    expect(decided.map((result) => result.outcome)).toEqual(['completed', 'completed', 'completed']);
    expect((await stack.ledger.get(staleKey))?.state).toBe('resolved-applied');
    expect(stack.webtvSim.state.creditOf(lateUser)).toBe(500);
    const lateRunId = first.findings.find((finding) => finding.kind === 'late-landing')?.findingWorkflowId ?? '';
    expect((await stack.ledger.listEffects({ workflowId: lateRunId })).map((effect) => [effect.kind, effect.state])).toEqual([['credit.subtract', 'applied']]);
    expect((await context.orderState(userId, orderId))).toBe('current');

    // The second reconcile: the repaired bill, the taken-back credit and the settled effect are gone from the report; the rest is known, nothing new.
    expect(second.newFindings).toBe(0);
    expect(second.findings.map((finding) => finding.id).sort()).toEqual([`bill-not-paid:${markPaidKey}`, `order-not-cancelled:${keyOf('order.cancel')}`].sort());
    // Each finding has one reconcile-finding run: the second reconcile did not start another.
    expect(second.findings.map((finding) => finding.findingWorkflowId)).toEqual(
      second.findings.map((finding) => first.findings.find((earlier) => earlier.id === finding.id)?.findingWorkflowId),
    );
    expect(second.findings.every((finding) => !finding.isNew)).toBe(true);
    expect((await stack.ledger.listAudit({ event: 'reconcile.finding' }))).toHaveLength(5);
    expect(secondDetails).toBe(second.report);
    expect(second.report).toMatch(/2 finding\(s\), 0 new, 0 repaired/);
  });

  it('orderflow reconcile --wait prints the report; known findings are not new (runs after the test above)', async () => {
    const taskQueue = uniqueTaskQueue('reconcile-cli');
    const result = await runWorker({ workflowsPath, activities: reconcileActivities(), taskQueue }, () => orderflow(['reconcile', '--since', '1h', '--wait'], taskQueue));
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^Started reconcile:\d{4}-\d\d-\d\dT/);
    expect(result.stdout).toMatch(/2 finding\(s\), 0 new, 0 repaired/);
    expect(result.code).toBe(3);
    const refused = await orderflow(['reconcile', '--since', '24x'], taskQueue);
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toContain('--since "24x" must be a duration like 30m, 24h or 7d');
  });

  it('orderflow schedule reconcile creates the Schedule once (overlap Skip), updates it, and --delete removes it', async () => {
    const { client } = context;
    const taskQueue = uniqueTaskQueue('reconcile-schedule');
    const created = await orderflow(['schedule', 'reconcile', '--every', '1h'], taskQueue);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain(`Created schedule ${reconcileScheduleId}: reconcile every 1h`);
    const again = await orderflow(['schedule', 'reconcile', '--every', '2h', '--since', '3h'], taskQueue);
    expect(again.stdout).toContain(`Updated schedule ${reconcileScheduleId}: reconcile every 2h, looking back 3h`);
    const description = await client.schedule.getHandle(reconcileScheduleId).describe();
    expect(description.policies.overlap).toBe('SKIP');
    expect(description.spec.intervals?.map((interval) => interval.every)).toEqual([2 * 3_600_000]);
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconcile', taskQueue, args: [{ sinceMs: 3 * 3_600_000 }] });
    // Its action is a valid reconcile: triggered now, it runs and reports.
    const report = await runWorker({ workflowsPath, activities: reconcileActivities(), taskQueue }, async () => {
      await client.schedule.getHandle(reconcileScheduleId).trigger();
      const workflowId = await eventually('the schedule to start a reconcile', async () => {
        const action = (await client.schedule.getHandle(reconcileScheduleId).describe()).info.recentActions[0]?.action;
        return action?.type === 'startWorkflow' ? action.workflow.workflowId : undefined;
      });
      expect(workflowId).toMatch(/^reconcile:scheduled-/);
      return ((await client.workflow.getHandle(workflowId).result()) as ReconcileResult).report;
    });
    expect(report).toMatch(/^## Drift report/);
    expect(await orderflow(['schedule', 'reconcile', '--delete'], taskQueue)).toMatchObject({ code: 0, stdout: `Deleted schedule ${reconcileScheduleId}.\n` });
    expect(await orderflow(['schedule', 'reconcile', '--delete'], taskQueue)).toMatchObject({ code: 0, stdout: `No schedule ${reconcileScheduleId}: nothing to delete.\n` });
    expect((await orderflow(['schedule', 'reconcile'], taskQueue)).code).toBe(2);
  });
  it('reports a run that has waited for an operator longer than the threshold (operator-wait), without a second run for it', async () => {
    const { stack, client } = context;
    const { userId, orderId } = await context.customerWithOrder();
    stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
    const taskQueue = uniqueTaskQueue('reconcile-wait');
    const starter = { client, taskQueue, workflowIdPrefix: context.prefix };
    const found = await runWorker({ workflowsPath, activities: reconcileActivities(), taskQueue }, async () => {
      const started = await startRefundAndCancel(starter, { userId, orderId, amount: '1.00', reason: 'operator wait test', requestedBy: 'test' });
      await awaitingOperatorAt(started.handle, 'cancel-order');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const result = (await client.workflow.execute('reconcile', {
        taskQueue,
        workflowId: `${context.prefix}reconcile/operator-wait`,
        args: [{ sinceMs: 60_000, operatorWaitMs: 1_000 }],
      })) as ReconcileResult;
      // The test leaves no run waiting: the operator takes the credit back.
      await decide(started.handle, { action: 'compensate', operator: 'anna', note: 'test over' });
      await started.handle.result().catch(() => undefined);
      return { result, workflowId: started.workflowId };
    });
    const finding = found.result.findings.find((candidate) => candidate.id === `operator-wait:${found.workflowId}`);
    expect(finding).toMatchObject({ kind: 'operator-wait', workflowId: found.workflowId, isNew: true, followUp: 'operator' });
    expect(finding?.summary).toContain('cancel-order');
    // The waiting run is the operator's handle already: no reconcileFinding run is started for it.
    expect(finding?.findingWorkflowId).toBeUndefined();
    expect(finding?.outcome).toBe(`decide in the waiting run itself: orderflow status ${found.workflowId}`);
    expect(found.result.report).toContain(`operator-wait:${found.workflowId}`);
  }, 90_000);
});
