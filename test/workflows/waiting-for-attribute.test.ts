/**
 * Where an operator looks first: a run waiting for an operator says at which step, what the
 * choices are and (in orderflow's words, never an API's or a customer's text) why, in the
 * OrderflowWaitingFor search attribute, which the UI's workflow list shows as a column
 * (docs/runbook-ui.md). It is removed when the run goes on. On a real Temporal server.
 */
import { describe, expect, it } from 'vitest';
import { startCancelOrder } from '../../src/client/starters.ts';
import type { RunResult } from '../../src/contracts.ts';
import { orderflowSearchAttributes } from '../../src/search-attributes.ts';
import { eventually } from '../../harness/stack.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { awaitingOperatorAt, decide, useWorkflowTestContext } from '../../harness/workflows.ts';

describe.skipIf(!temporalAvailable())('OrderflowWaitingFor, on a real Temporal server', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'waiting-for', firstUserId: 93 });
  const { customerWithOrder, billFor, withWorker } = context;

  it('names the step, the choices and the reason while a run waits, findable by a list query; removed once it goes on', async () => {
    const { userId, orderId } = await customerWithOrder();
    const billId = await billFor(userId);
    // JustClick refuses our signature: the run waits at delete-justclick-bill.
    context.stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '4' });
    const result = await withWorker(async (starter) => {
      const { handle } = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'ADMIN', reason: 'customer name Müller' });
      await awaitingOperatorAt(handle, 'delete-justclick-bill');
      const label = 'delete-justclick-bill: retry|skip|abort (API refused our credentials)';
      expect((await handle.describe()).typedSearchAttributes.get(orderflowSearchAttributes.waitingFor)).toBe(label);
      // What the list shows, and what a saved view can filter on.
      await eventually('the list query to find the waiting run', async () => {
        for await (const run of context.client.workflow.list({ query: `OrderflowWaitingFor STARTS_WITH "delete-justclick-bill:" AND StoreUserId = ${userId}` })) {
          if (run.workflowId === handle.workflowId) return true;
        }
        return undefined;
      });

      await decide(handle, { action: 'skip', note: 'deleted by hand', operator: 'dana' });
      const done = (await handle.result()) as RunResult;
      expect((await handle.describe()).typedSearchAttributes.get(orderflowSearchAttributes.waitingFor)).toBeUndefined();
      return done;
    });
    expect(result.outcome).toBe('completed');
  });
});
