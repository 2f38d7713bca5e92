/**
 * No side doors, against a real Temporal dev server (its gRPC and HTTP APIs) and the
 * simulators: a run whose id is not its input's business key, or whose type orderflow does
 * not have, is refused before any effect; a starter says when a business id holds a run of
 * another type; a second refund of one order is refused by the ledger whatever the run's id
 * (raced with a raw HTTP-API start); reconcileFinding acts only on a finding reconcile
 * recorded; resolveEffect settles only the named run's effect; and reconcile flags one
 * order refunded by two runs (as could happen before the ledger knew business keys).
 */
import { inject } from 'vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { createReconcileActivities } from '../../src/features/reconcile/activities.ts';
import { runCli } from '../../src/cli.ts';
import { OtherWorkflowTypeError, startRefundAndCancel } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { RefundAndCancelInput, RunResult } from '../../src/contracts.ts';
import { effectKey } from '../../src/ledger/keys.ts';
import { centsFromInteger } from '../../src/money.ts';
import type { DriftFinding, ReconcileResult } from '../../src/features/reconcile/contracts.ts';
import { reconcileFindingWorkflowId } from '../../src/features/reconcile/findings.ts';
import { creditCalls, eventually } from '../../harness/stack.ts';
import { runWorker, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { awaitingOperatorAt, callCountOf, decide, failureOf, statusOf, useWorkflowTestContext, workflowsPath } from '../../harness/workflows.ts';

function capture(): { write(chunk: string): boolean; text(): string } {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk) > 0, text: () => chunks.join('') };
}

describe.skipIf(!temporalAvailable())('no side doors, on a real Temporal server', () => {
  // A ':' prefix: Temporal's HTTP API cannot address an id with '/'.
  const context = useWorkflowTestContext({ taskQueuePrefix: 'side-doors', firstUserId: 20, workflowIdPrefix: `side-${crypto.randomUUID().slice(0, 8)}:` });
  const { prefix, customerWithOrder, withWorker } = context;
  let httpApiUrl = '';
  beforeAll(() => {
    httpApiUrl = inject('temporalHttpUrl') ?? '';
    expect(httpApiUrl, 'the global setup provides the dev server HTTP API').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  /** A raw start through Temporal's HTTP API, as any backend could send it. */
  async function rawHttpStart(workflowId: string, workflowType: string, taskQueue: string, input: unknown): Promise<void> {
    const { namespace } = testTemporalTarget();
    const response = await fetch(`${httpApiUrl}/api/v1/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ workflowType: { name: workflowType }, taskQueue: { name: taskQueue }, input: [input], requestId: crypto.randomUUID() }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
  }

  function reconcileActivities(): object {
    const { stack, client } = context;
    return {
      ...stack.activities,
      ...createReconcileActivities({ ledger: stack.ledger, webtv: stack.webtv, justclick: stack.justclick, client, inFlightWindowMs: 0, readsPerSecond: 50 }),
    };
  }

  it('refuses a run whose workflow id is not its input\'s business key, before any effect', async () => {
    const { userId, orderId } = await customerWithOrder();
    const other = await customerWithOrder();
    const callsBefore = creditCalls(context.stack);
    const input: RefundAndCancelInput = { userId, orderId, amount: '5.00', reason: 'side door', requestedBy: 'someone' };
    await withWorker(async ({ client, taskQueue }) => {
      // Another order's business key, a free-form id, and another workflow's key: each refused at once.
      const ids = [`${prefix}refund-and-cancel:${other.userId}:${other.orderId}`, `my-own-refund-${userId}-${orderId}-${prefix}`, `${prefix}cancel-order:${userId}:${orderId}`];
      for (const workflowId of ids) {
        const handle = await client.workflow.start('refundAndCancel', { taskQueue, workflowId, args: [input] });
        const failure = await failureOf(handle);
        expect(failure.type).toBe(FailureType.WorkflowIdMismatch);
        expect(failure.message).toContain(`the workflow id ${JSON.stringify(workflowId)} does not match its input's business key "refund-and-cancel:${userId}:${orderId}"`);
        expect((await handle.fetchHistory()).events?.some((event) => event.activityTaskScheduledEventAttributes || event.markerRecordedEventAttributes)).toBe(false);
        // `status` (the CLI, ops, the PHP client) says why, instead of asking whether a worker runs.
        const status = await statusOf(handle);
        expect(status).toMatchObject({ workflowType: 'refundAndCancel', state: 'failed', step: 'start', awaiting: null });
        expect(status.steps[0]?.detail).toBe(failure.message);
      }
      // The same holds for the other workflows (an adjustment keyed by its request id).
      const adjust = await client.workflow.start('adjustCredit', {
        taskQueue,
        workflowId: `${prefix}adjust-credit:${userId}:coupon-2`,
        args: [{ userId, action: 'add', amount: '9.00', description: 'x', reason: 'y', requestId: 'coupon-1' }],
      });
      expect((await failureOf(adjust)).type).toBe(FailureType.WorkflowIdMismatch);
      const cancel = await client.workflow.start('cancelOrder', { taskQueue, workflowId: `${prefix}cancel-order:${other.userId}:${orderId}`, args: [{ userId, orderId, requester: 'ADMIN' }] });
      expect((await failureOf(cancel)).type).toBe(FailureType.WorkflowIdMismatch);
    });
    expect(creditCalls(context.stack) - callsBefore).toBe(0);
    expect(await context.orderState(userId, orderId)).toBe('current');
    expect(await context.orderState(other.userId, other.orderId)).toBe('current');
  });

  it('fails a run of a type orderflow does not have at once; the starters and the CLI name another type under a business id', async () => {
    const { userId, orderId } = await customerWithOrder();
    const input: RefundAndCancelInput = { userId, orderId, amount: '1.00', reason: 'typo in the type', requestedBy: 'backend' };
    const workflowId = `${prefix}refund-and-cancel:${userId}:${orderId}`;
    // No worker polls: the mistyped run stays there, and a start for the business key says what it is.
    const idle = { client: context.client, taskQueue: uniqueTaskQueue('nobody-polls'), workflowIdPrefix: prefix };
    await rawHttpStart(workflowId, 'refundAndCancelX', idle.taskQueue, input);
    const refused = await startRefundAndCancel(idle, input).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OtherWorkflowTypeError);
    expect(refused).toMatchObject({ workflowId, existingType: 'refundAndCancelX', requestedType: 'refundAndCancel' });
    expect((refused as Error).message).toContain(`is a run of workflow type "refundAndCancelX", not refundAndCancel`);

    // The CLI (no prefix) says so too, and exits 1.
    const plainId = `refund-and-cancel:${userId}:${orderId}`;
    await rawHttpStart(plainId, 'refundAndCancelX', idle.taskQueue, input);
    const target = testTemporalTarget();
    const stdout = capture();
    const stderr = capture();
    const env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: idle.taskQueue };
    const code = await runCli(['start', 'refund-and-cancel', '--user', String(userId), '--order', String(orderId), '--amount', '1.00', '--reason', 'side door check'], { env, stdout, stderr });
    expect(code).toBe(1);
    expect(stdout.text()).not.toContain('Already there');
    expect(stderr.text()).toContain(`${plainId} (run `);
    expect(stderr.text()).toContain('is a run of workflow type "refundAndCancelX", not refundAndCancel');
    await context.client.workflow.getHandle(plainId).terminate('test over');

    // With a worker, such a run fails at once (nothing runs), and the business key starts its own run afterwards.
    const callsBefore = creditCalls(context.stack);
    await withWorker(async (starter) => {
      await context.client.workflow.getHandle(workflowId).terminate('moved to a polled queue');
      await rawHttpStart(workflowId, 'refundAndCancelX', starter.taskQueue, input);
      const failure = await failureOf(context.client.workflow.getHandle(workflowId));
      expect(failure.type).toBe(FailureType.UnknownWorkflowType);
      expect(failure.message).toContain(`orderflow has no workflow type "refundAndCancelX" (it runs refundAndCancel, processPaidOrder, adjustCredit, cancelOrder, bulkRun, reconcile, reconcileFinding)`);
      expect(await statusOf(context.client.workflow.getHandle(workflowId))).toMatchObject({ workflowType: 'refundAndCancelX', state: 'failed', step: 'start' });
      const started = await startRefundAndCancel(starter, input);
      expect(started.started).toBe(true);
      expect(((await started.handle.result()) as RunResult).outcome).toBe('completed');
    });
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
  });

  it('adds the credit once when a raw HTTP-API start under another prefix races a normal start', async () => {
    const { userId, orderId } = await customerWithOrder();
    const callsBefore = creditCalls(context.stack);
    const input: RefundAndCancelInput = { userId, orderId, amount: '5.00', reason: 'race', requestedBy: 'shop' };
    const outcomes = await withWorker(async (starter) => {
      const sideId = `other-prefix:refund-and-cancel:${userId}:${orderId}`;
      const [normal] = await Promise.all([startRefundAndCancel(starter, input), rawHttpStart(sideId, 'refundAndCancel', starter.taskQueue, input)]);
      const handles: WorkflowHandle[] = [normal.handle, context.client.workflow.getHandle(sideId)];
      return Promise.all(handles.map((handle) => handle.result().then((value) => ({ ok: true as const, value: value as RunResult }), (error: unknown) => ({ ok: false as const, error }))));
    });
    // One completed; the other refused, by the ledger or (when it came second) by confirm-order.
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(500);
    expect(await context.orderState(userId, orderId)).toBe('cancelled');
  });

  it('refuses a second refund of an order by another run in the ledger, before any API call, and frees the order once the first is undone', async () => {
    const { userId, orderId } = await customerWithOrder();
    const input: RefundAndCancelInput = { userId, orderId, amount: '2.00', reason: 'first', requestedBy: 'shop' };
    await withWorker(async (starter) => {
      // The first refund (under another prefix) adds its credit, then waits for an operator at cancel-order.
      context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
      const sideId = `other-prefix:refund-and-cancel:${userId}:${orderId}`;
      await rawHttpStart(sideId, 'refundAndCancel', starter.taskQueue, input);
      const first = context.client.workflow.getHandle(sideId);
      await awaitingOperatorAt(first, 'cancel-order');
      const callsBefore = creditCalls(context.stack);

      // The normal start for the same order: its order is still current, and the ledger refuses its credit.
      const second = await startRefundAndCancel(starter, { ...input, reason: 'second' });
      const failure = await failureOf(second.handle);
      expect(failure.type).toBe(FailureType.RunCompensated);
      expect(failure.message).toContain(`failed at add-credit: Effect "${second.workflowId}/add-credit#${second.runId}" is refused: refund:${userId}:${orderId} is already held by effect`);
      expect(failure.message).toContain(`of run ${sideId} (applied)`);
      expect((await statusOf(second.handle)).steps.find((step) => step.name === 'add-credit')).toMatchObject({ state: 'failed' });
      expect(creditCalls(context.stack) - callsBefore).toBe(0);
      expect(context.stack.webtvSim.state.creditOf(userId)).toBe(200);
      expect(await context.stack.ledger.get(effectKey(second.workflowId, 'add-credit', second.runId))).toBeUndefined();

      // The operator compensates the first: its credit is taken back and the order's refund key let go.
      await decide(first, { action: 'compensate', note: 'duplicate test', operator: 'anna' });
      expect((await failureOf(first)).type).toBe(FailureType.RunCompensated);
      expect(context.stack.webtvSim.state.creditOf(userId)).toBe(0);
      expect(await context.stack.ledger.businessKeyHolder(`refund:${userId}:${orderId}`)).toMatchObject({ workflowId: sideId, released: true });
      // Now the business key's own run refunds the order once.
      const third = await startRefundAndCancel(starter, { ...input, reason: 'third' });
      expect(((await third.handle.result()) as RunResult).outcome).toBe('completed');
    });
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(200);
    expect(await context.orderState(userId, orderId)).toBe('cancelled');
  });

  it('the activities refuse a second cancellation (already cancelled) and a second refund of an order from another run, before any call', async () => {
    const { stack } = context;
    const { userId, orderId } = await customerWithOrder();
    const runs = [`${prefix}cancel-order:${userId}:${orderId}`, `elsewhere:refund-and-cancel:${userId}:${orderId}`];
    const cancelOf = (workflowId: string) => ({ effectKey: effectKey(workflowId, 'cancel-order', 'run-1'), workflowId, userId, orderId, requester: 'ADMIN' as const });
    const creditOf = (workflowId: string) => ({ effectKey: effectKey(workflowId, 'add-credit', 'run-1'), workflowId, userId, creditAction: 'add' as const, amount: '1.00', description: 'Refund', refundOfOrderId: orderId });
    const cancelsBefore = callCountOf(stack.webtvSim, 'cancel_order');
    const creditsBefore = creditCalls(stack);
    expect((await stack.activities.cancelCurrentOrder(cancelOf(runs[0]!))).status).toBe('applied');
    expect((await stack.activities.applyCreditChange(creditOf(runs[0]!))).status).toBe('applied');
    // The order is cancelled now: before business keys, "already cancelled" counted as done for any run.
    for (const attempt of [stack.activities.cancelCurrentOrder(cancelOf(runs[1]!)), stack.activities.applyCreditChange(creditOf(runs[1]!))]) {
      const refused = await attempt.catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ApplicationFailure);
      expect(refused).toMatchObject({ type: FailureType.AlreadyDoneByAnotherRun, nonRetryable: true });
      expect((refused as Error).message).toContain(`of run ${runs[0]} (applied)`);
    }
    expect(await stack.ledger.listEffects({ workflowId: runs[1] })).toEqual([]);
    expect(callCountOf(stack.webtvSim, 'cancel_order') - cancelsBefore).toBe(1);
    expect(creditCalls(stack) - creditsBefore).toBe(1);
    expect(stack.webtvSim.state.creditOf(userId)).toBe(100);
  });

  it('resolveEffect refuses an effect key of another run than the one it names, or asked by another run', async () => {
    const ownKey = effectKey(`${prefix}refund-and-cancel:1:2`, 'add-credit', 'run-1');
    const foreignKey = effectKey(`${prefix}refund-and-cancel:3:4`, 'add-credit', 'run-1');
    await context.stack.ledger.begin(foreignKey, { kind: 'credit.add', userId: 3, request: { amount: '1.00' } });
    const mismatched = await context.stack.activities
      .resolveEffect({ effectKey: foreignKey, workflowId: `${prefix}refund-and-cancel:1:2`, resolution: 'resolved-not-applied', operator: 'mallory', note: 'forged' })
      .catch((error: unknown) => error);
    expect((mismatched as Error).message).toBe(
      `resolveEffect: effect ${JSON.stringify(foreignKey)} belongs to run ${prefix}refund-and-cancel:3:4, not to ${prefix}refund-and-cancel:1:2, the run named. Nothing was recorded.`,
    );
    // Named right, but asked by another run (no recorded stale-effect finding makes it that effect's finding run).
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'reconcile-finding:stale-effect:forged', runId: 'r' } });
    const foreignRun = await env
      .run(context.stack.activities.resolveEffect, { effectKey: foreignKey, workflowId: `${prefix}refund-and-cancel:3:4`, resolution: 'resolved-not-applied' as const, operator: 'mallory', note: 'forged' })
      .catch((error: unknown) => error);
    expect((foreignRun as Error).message).toContain('resolveEffect: run reconcile-finding:stale-effect:forged may not settle effect');
    expect((await context.stack.ledger.get(foreignKey))?.state).toBe('pending');
    expect(ownKey).not.toBe(foreignKey);
  });

  it('reconcileFinding acts only on a finding reconcile recorded; reconcile flags one order refunded by two runs', async () => {
    const { stack, client } = context;
    const userId = context.customerWithCredit(0);
    const orderId = 4242;
    // Two refunds and two cancellations of one order, as orderflow could record them before the ledger knew business keys.
    const runs = [`${prefix}refund-and-cancel:${userId}:${orderId}`, `my-own-refund:refund-and-cancel:${userId}:${orderId}`];
    for (const [index, workflowId] of runs.entries()) {
      const credit = effectKey(workflowId, 'add-credit', `run-${index}`);
      await stack.ledger.begin(credit, { kind: 'credit.add', userId, request: { creditAction: 'add', amount: '5.00', description: 'Refund' }, observedBefore: { creditCents: index * 500 } });
      await stack.ledger.record(credit, 'applied', { response: { ok: 'credit added' } });
      const cancel = effectKey(workflowId, 'cancel-order', `run-${index}`);
      await stack.ledger.begin(cancel, { kind: 'order.cancel', userId, request: { orderId } });
      await stack.ledger.record(cancel, 'resolved-applied', { note: 'the order was already cancelled; nothing to do' });
    }
    stack.webtvSim.state.setCredit(userId, centsFromInteger(1000));

    const taskQueue = uniqueTaskQueue('side-doors-reconcile');
    await runWorker({ workflowsPath, activities: reconcileActivities(), taskQueue }, async () => {
      const report = (await client.workflow.execute('reconcile', { taskQueue, workflowId: `${prefix}reconcile/double`, args: [{}] })) as ReconcileResult;
      const refund = report.findings.find((finding) => finding.id === `double-effect:refund:${userId}:${orderId}`);
      const cancel = report.findings.find((finding) => finding.id === `double-effect:cancel:${userId}:${orderId}`);
      expect(refund).toMatchObject({ kind: 'double-effect', isNew: true, followUp: 'operator', workflowId: runs[1], credit: { userId, action: 'add', amount: '5.00' } });
      expect(refund?.summary).toBe(`Order ${orderId} of store user ${userId} was refunded by 2 runs (${runs.join(', ')}), and each stands; first by ${runs[0]}.`);
      expect(cancel).toMatchObject({ kind: 'double-effect', isNew: true });
      expect(cancel?.credit).toBeUndefined();
      expect(report.report).toContain('### double-effect (2)');

      // Forged findings: unknown, altered, or run under another id. Each fails before anything, changing nothing.
      const recorded: DriftFinding = { id: refund!.id, kind: refund!.kind, workflowId: refund!.workflowId, effectKey: refund!.effectKey, userId: refund!.userId, summary: refund!.summary, evidence: refund!.evidence, credit: refund!.credit };
      const forgedCases: Array<[string, DriftFinding, string]> = [
        ['unknown', { ...recorded, id: `late-landing:${runs[0]}/add-credit#x`, kind: 'late-landing', credit: { userId: 1, action: 'add', amount: '900.00' } }, 'reconcile never recorded a finding'],
        ['altered', { ...recorded, credit: { userId: 1, action: 'subtract', amount: '5.00' } }, 'differs from the one reconcile recorded in the ledger'],
        ['malformed', { ...recorded, effectKey: 'not an effect key' }, 'is malformed: Effect key "not an effect key"'],
      ];
      for (const [name, finding, message] of forgedCases) {
        const handle = await client.workflow.start('reconcileFinding', { taskQueue, workflowId: `${reconcileFindingWorkflowId(finding)}:${name}`, args: [{ finding }] });
        const failure = await failureOf(handle);
        expect(failure.type).toBe(FailureType.InvalidInput);
        expect(failure.message).toContain(message);
        expect(await statusOf(handle)).toMatchObject({ workflowType: 'reconcileFinding', state: 'failed', step: 'start' });
      }
      const elsewhere = await client.workflow.start('reconcileFinding', { taskQueue, workflowId: `${prefix}not-its-run`, args: [{ finding: recorded }] });
      expect((await failureOf(elsewhere)).message).toContain(`run ${prefix}not-its-run is not the run of finding`);

      // The recorded finding's own run: the operator takes the second refund back, once.
      const findingRun = client.workflow.getHandle(refund?.findingWorkflowId ?? 'none');
      await awaitingOperatorAt(findingRun, 'decide');
      await decide(findingRun, { action: 'compensate', note: 'refunded twice', operator: 'anna' });
      expect(((await findingRun.result()) as RunResult).outcome).toBe('completed');
      const cancelRun = client.workflow.getHandle(cancel?.findingWorkflowId ?? 'none');
      await awaitingOperatorAt(cancelRun, 'decide');
      await decide(cancelRun, { action: 'skip', note: 'cancelled is cancelled', operator: 'anna' });
      await cancelRun.result();
    });
    await eventually('the credit taken back', () => (stack.webtvSim.state.creditOf(userId) === 500 ? true : undefined));
    const takenBack = (await stack.ledger.listEffects({ userId, kind: 'credit.subtract' })).map((effect) => [effect.state, effect.request]);
    expect(takenBack).toEqual([['applied', { creditAction: 'subtract', amount: '5.00', description: 'Correction: the order was refunded twice' }]]);
    expect(stack.webtvSim.state.creditOf(userId)).toBe(500);
  });
});
