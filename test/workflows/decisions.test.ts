/**
 * Operator decisions you can trust, against a real Temporal dev server and both simulators:
 * every wait has an id and a decision must name it (missing, malformed, stale, other step,
 * unknown field: refused, saying what the run waits for now); the same update id twice is
 * one decision (and Temporal answers a reused id with the first decision, which the CLI and
 * the PHP client rely on); refused signals are listed in `status`; the identity Temporal
 * recorded for each decision (including the UI's "<email> - webui") is in the status, the
 * result and the ledger's audit trail; above ORDERFLOW_APPROVAL_ABOVE a second person
 * approves, and an approval by the run's starter is refused.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { createDecisionActivities } from '../../src/activities/decisions.ts';
import { startAdjustCredit, startProcessPaidOrder, startRefundAndCancel } from '../../src/client/starters.ts';
import type { StarterOptions } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { OperatorDecision, OperatorDecisionReply, RunResult } from '../../src/contracts.ts';
import { centsFromInteger } from '../../src/money.ts';
import { eventually } from '../../harness/stack.ts';
import { runWorker, temporalAvailable, uniqueTaskQueue } from '../../harness/temporal.ts';
import { awaitingOperatorAt, callsOf, decide, failureOf, statusOf, updateRefusal, useWorkflowTestContext, workflowsPath } from '../../harness/workflows.ts';

describe.skipIf(!temporalAvailable())('operator decisions on a real Temporal server', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'decisions', firstUserId: 60 });
  const { customerWithOrder, customerWithCredit, withWorker } = context;

  /** A client on the test connection that Temporal knows by `identity`. */
  function clientAs(identity: string): Client {
    return new Client({ connection: context.client.connection, namespace: context.client.options.namespace, identity });
  }

  function send(handle: WorkflowHandle, decision: unknown, updateId?: string): Promise<OperatorDecisionReply> {
    return handle.executeUpdate<OperatorDecisionReply, [OperatorDecision]>('operatorDecision', {
      args: [decision as OperatorDecision],
      ...(updateId === undefined ? {} : { updateId }),
    });
  }

  function creditCallsFor(userId: number): number {
    return callsOf(context.stack.webtvSim, 'add_subtract_credit').filter((call) => call.query['iq'] === String(userId)).length;
  }

  it('refuses a decision without its wait, for another wait or step, malformed or with unknown fields, naming the current wait; one update id is one decision', async () => {
    const { userId, orderId } = await customerWithOrder();
    context.stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
    context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
    await withWorker(async (starter) => {
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '1.00', reason: 'wait ids', requestedBy: 'support' });
      const first = await awaitingOperatorAt(handle, 'add-credit');
      expect(first.awaiting?.waitId).toBe('add-credit#1');
      const base = { action: 'retry', note: 'key fixed', operator: 'anna' };

      expect(await updateRefusal(send(handle, { step: 'add-credit', ...base }))).toContain(
        '"waitId" is missing: name the wait this decision answers; the run waits for add-credit#1 (step add-credit; choices retry, skip, compensate, abort)',
      );
      expect(await updateRefusal(send(handle, { waitId: 'add-credit', step: 'add-credit', ...base }))).toContain('"waitId" "add-credit" is not a wait id (<step>#<number>');
      expect(await updateRefusal(send(handle, { waitId: 'add-credit#1', step: 'cancel-order', ...base }))).toContain('"step" "cancel-order" is not the step of "add-credit#1"');
      expect(await updateRefusal(send(handle, { waitId: 'add-credit#1', step: 'add-credit', ...base, stepName: 'add-credit' }))).toContain('unknown field "stepName"');
      expect(await updateRefusal(send(handle, { waitId: 'add-credit#1', step: 'add-credit', ...base, action: 'approve' }))).toContain('"approve" is not possible here');
      expect((await statusOf(handle)).decisions).toEqual([]);

      // The same decision sent twice with the same update id: one decision, the same answer.
      const decision = { waitId: 'add-credit#1', step: 'add-credit', ...base };
      const reply = await send(handle, decision, 'dec-1');
      expect(reply).toMatchObject({ accepted: true, waitId: 'add-credit#1', action: 'retry', operator: 'anna', note: 'key fixed' });
      expect(await send(handle, decision, 'dec-1')).toEqual(reply);

      const second = await awaitingOperatorAt(handle, 'cancel-order');
      expect(second.awaiting?.waitId).toBe('cancel-order#2');
      expect(second.decisions.map((recorded) => recorded.waitId)).toEqual(['add-credit#1']);

      // The id reused for another decision: Temporal answers with the first one and takes nothing new.
      const reused = await send(handle, { waitId: 'cancel-order#2', step: 'cancel-order', action: 'skip', note: 'cancelled by hand', operator: 'ben' }, 'dec-1');
      expect(reused).toEqual(reply);
      // A retried (new id) or stale decision for the wait that is over is refused, naming the current one.
      expect(await updateRefusal(send(handle, decision, 'dec-2'))).toContain(
        'this decision is for add-credit#1, not the current wait: the run waits for cancel-order#2 (step cancel-order;',
      );
      const still = await statusOf(handle);
      expect(still.awaiting?.waitId).toBe('cancel-order#2');
      expect(still.decisions).toHaveLength(1);

      await decide(handle, { action: 'retry', note: 'key fixed again', operator: 'anna' });
      const result = (await handle.result()) as RunResult;
      expect(result.decisions.map((recorded) => [recorded.waitId, recorded.step, recorded.action])).toEqual([
        ['add-credit#1', 'add-credit', 'retry'],
        ['cancel-order#2', 'cancel-order', 'retry'],
      ]);
    });
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(centsFromInteger(100));
  });

  it('refuses a decision while the run waits for no decision, saying so', async () => {
    const { userId, orderId } = await customerWithOrder();
    await withWorker(async (starter) => {
      const { handle } = await startProcessPaidOrder(starter, { userId, orderId });
      await eventually('the run to wait for the payment', async () => ((await statusOf(handle)).state === 'waiting-for-payment' ? true : undefined));
      const refusal = await updateRefusal(send(handle, { waitId: 'process-order#1', step: 'process-order', action: 'retry', note: 'paid', operator: 'anna' }));
      expect(refusal).toContain('this decision is for process-order#1, which is over: the run waits for no decision now (state waiting-for-payment, step process-order)');
      expect((await statusOf(handle)).decisions).toEqual([]);
      await handle.terminate('test over');
    });
  });

  it('lists refused signals in status, takes a valid one, and records the identity Temporal saw (the UI\'s "<email> - webui" too) in status, result and audit trail', async () => {
    const { userId, orderId } = await customerWithOrder();
    context.stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
    context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
    const ui = clientAs('anna@example.com - webui');
    const backend = clientAs('orderflow-php:shop-backend');
    await withWorker(async (starter) => {
      const { handle, workflowId } = await startRefundAndCancel(starter, { userId, orderId, amount: '1.00', reason: 'identities', requestedBy: 'support' });
      await awaitingOperatorAt(handle, 'add-credit');
      // An Update sent with the identity the Temporal UI sends for a signed-in user.
      const reply = await send(ui.workflow.getHandle(workflowId), { waitId: 'add-credit#1', step: 'add-credit', action: 'retry', note: 'key fixed', operator: 'anna' });
      expect(reply.identity).toBe('anna@example.com - webui');
      await awaitingOperatorAt(handle, 'cancel-order');

      // Signals: one for the wait that is over, one malformed; both refused and listed with why; the run keeps waiting.
      const signalled = backend.workflow.getHandle(workflowId);
      await signalled.signal('operatorDecision', { waitId: 'add-credit#1', step: 'add-credit', action: 'skip', note: 'late tab', operator: 'ben' });
      await signalled.signal('operatorDecision', { step: 'cancel-order', action: 'skip', note: 'no wait id', operator: 'ben' });
      const refused = await eventually('both refused signals in status', async () => {
        const status = await statusOf(handle);
        return status.refused.length === 2 ? status : undefined;
      });
      expect(refused.awaiting?.waitId).toBe('cancel-order#2');
      expect(refused.refused.map((entry) => [entry.via, entry.waitId, entry.operator])).toEqual([
        ['signal', 'add-credit#1', 'ben'],
        ['signal', null, 'ben'],
      ]);
      expect(refused.refused[0]?.why).toContain('this decision is for add-credit#1, not the current wait: the run waits for cancel-order#2');
      expect(refused.refused[1]?.why).toContain('"waitId" is missing');

      await signalled.signal('operatorDecision', { waitId: 'cancel-order#2', step: 'cancel-order', action: 'retry', note: 'key fixed', operator: 'ben' });
      const result = (await handle.result()) as RunResult;
      expect(result.decisions.map((recorded) => [recorded.waitId, recorded.operator, recorded.identity, recorded.via])).toEqual([
        ['add-credit#1', 'anna', 'anna@example.com - webui', 'update'],
        ['cancel-order#2', 'ben', 'orderflow-php:shop-backend', 'signal'],
      ]);
      const status = await statusOf(handle);
      expect(status.startedBy).toBe(context.client.options.identity);
      const audit = await context.stack.ledger.listAudit({ workflowId });
      const decisions = audit.filter((event) => event.event.startsWith('operator.'));
      expect(decisions.map((event) => [event.event, event.actor, (event.details as { identity?: string }).identity, (event.details as { waitId?: string }).waitId])).toEqual([
        ['operator.retry', 'anna', 'anna@example.com - webui', 'add-credit#1'],
        ['operator.retry', 'ben', 'orderflow-php:shop-backend', 'cancel-order#2'],
      ]);
    });
  });

  describe('above ORDERFLOW_APPROVAL_ABOVE (3.00 on this worker)', () => {
    function withApprovalWorker<T>(fn: (starter: StarterOptions) => Promise<T>): Promise<T> {
      const taskQueue = uniqueTaskQueue('approvals');
      const activities = { ...context.stack.activities, ...createDecisionActivities({ approvalAbove: '3.00' }) };
      return runWorker({ workflowsPath, activities, taskQueue }, () => fn({ client: clientAs('shop-backend'), taskQueue, workflowIdPrefix: context.prefix }));
    }

    it('waits for approve before the credit; the starter\'s own approve is refused (recorded, still waiting); a second person\'s is taken', async () => {
      const { userId, orderId } = await customerWithOrder();
      await withApprovalWorker(async (starter) => {
        const { handle, workflowId } = await startRefundAndCancel(starter, { userId, orderId, amount: '4.00', reason: 'large refund', requestedBy: 'support' });
        const waiting = await awaitingOperatorAt(handle, 'approve-credit');
        expect(waiting.awaiting).toMatchObject({ waitId: 'approve-credit#1', secondPerson: true });
        expect(Object.keys(waiting.awaiting?.choices ?? {})).toEqual(['approve', 'abort']);
        expect(waiting.steps.map((step) => step.name)).toEqual(['confirm-order', 'approve-credit', 'add-credit', 'cancel-order', 'delete-justclick-bill']);
        expect(creditCallsFor(userId)).toBe(0);

        const approve = { waitId: 'approve-credit#1', step: 'approve-credit', action: 'approve', note: 'looks right', operator: 'shop' };
        const refusal = await updateRefusal(send(starter.client.workflow.getHandle(workflowId), approve));
        expect(refusal).toContain('approve refused: Temporal recorded it from shop-backend, the identity that started this run; a second person must approve');
        const after = await statusOf(handle);
        expect(after.awaiting?.waitId).toBe('approve-credit#1');
        expect(after.refused).toMatchObject([{ via: 'update', waitId: 'approve-credit#1', action: 'approve', identity: 'shop-backend' }]);
        expect(after.decisions).toEqual([]);
        expect(creditCallsFor(userId)).toBe(0);

        const reply = await send(clientAs('orderflow-cli:carla@ops').workflow.getHandle(workflowId), { ...approve, operator: 'carla' });
        expect(reply).toMatchObject({ action: 'approve', identity: 'orderflow-cli:carla@ops' });
        const result = (await handle.result()) as RunResult;
        expect(result.steps.map((step) => [step.name, step.state])).toEqual([
          ['confirm-order', 'done'],
          ['approve-credit', 'done'],
          ['add-credit', 'done'],
          ['cancel-order', 'done'],
          ['delete-justclick-bill', 'not-needed'],
        ]);
        expect(result.decisions).toMatchObject([{ action: 'approve', operator: 'carla', identity: 'orderflow-cli:carla@ops' }]);
      });
      expect(context.stack.webtvSim.state.creditOf(userId)).toBe(centsFromInteger(400));
    });

    it('a raw start (not through the starters) waits for approval too; the starter\'s approve by signal is refused and listed; abort changes nothing', async () => {
      const { userId, orderId } = await customerWithOrder();
      await withApprovalWorker(async (starter) => {
        const workflowId = `${context.prefix}refund-and-cancel:${userId}:${orderId}`;
        const handle = await starter.client.workflow.start('refundAndCancel', {
          taskQueue: starter.taskQueue,
          workflowId,
          args: [{ userId, orderId, amount: '5.00', reason: 'raw start', requestedBy: 'someone' }],
        });
        await awaitingOperatorAt(handle, 'approve-credit');
        await handle.signal('operatorDecision', { waitId: 'approve-credit#1', step: 'approve-credit', action: 'approve', note: 'me', operator: 'shop' });
        const refused = await eventually('the refused approval in status', async () => {
          const status = await statusOf(handle);
          return status.refused.length === 1 ? status : undefined;
        });
        expect(refused.refused[0]).toMatchObject({ via: 'signal', action: 'approve', identity: 'shop-backend' });
        expect(refused.awaiting?.waitId).toBe('approve-credit#1');
        await decide(handle, { action: 'abort', note: 'not approved', operator: 'shop' });
        const failure = await failureOf(handle);
        expect(failure.type).toBe(FailureType.RunAborted);
        expect(failure.message).toContain('was not approved; nothing was changed.');
      });
      expect(creditCallsFor(userId)).toBe(0);
      expect(await context.orderState(userId, orderId)).toBe('current');
    });

    it('a change at or below the threshold needs no approval', async () => {
      const userId = customerWithCredit(0);
      await withApprovalWorker(async (starter) => {
        const { handle } = await startAdjustCredit(starter, { userId, action: 'add', amount: '3.00', description: 'goodwill', reason: 'below', requestId: `below-${userId}` });
        const result = (await handle.result()) as RunResult;
        expect(result.steps.map((step) => step.name)).toEqual(['adjust-credit']);
        expect(result.decisions).toEqual([]);
      });
      expect(context.stack.webtvSim.state.creditOf(userId)).toBe(centsFromInteger(300));
    });
  });
});
