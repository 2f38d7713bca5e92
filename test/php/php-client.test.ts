/**
 * clients/php against the real dev server's HTTP API (the global setup's, with its
 * `--http-port`), a worker with the real activities and both simulators: every workflow
 * started and its result read, the same start twice, a conflicting start, status,
 * paymentReceived and decide from PHP. What needs no Temporal (the shared table of inputs,
 * bad input refused with no request sent, an unreachable Temporal, refused credentials,
 * answers of another shape, settings the client cannot use) is the client's own PHPUnit
 * suite, which test/php/phpunit.test.ts runs.
 */
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { centsFromInteger } from '../../src/money.ts';
import { eventually, creditCalls } from '../../harness/stack.ts';
import { phpForTests, runPhpFile } from '../../harness/php.ts';
import type { PhpRuntime } from '../../harness/php.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { demoOrderTotalCents, useWorkflowTestContext } from '../../harness/workflows.ts';

const php = phpForTests({ check: 'the PHP client tests', extensions: ['curl', 'json'] });
const callScript = fileURLToPath(new URL('../../clients/php/tests/Support/call.php', import.meta.url));

type PhpAnswer = { answer?: unknown; exception?: string; message?: string; [field: string]: unknown };

/** One call of Orderflow\Client from a php process. */
async function phpCall(runtime: PhpRuntime, options: Record<string, unknown>, method: string, args: unknown[]): Promise<PhpAnswer> {
  const run = await runPhpFile(runtime, callScript, { args: [JSON.stringify(options), method, JSON.stringify(args)], killAfterMs: 120_000 });
  if (run.exitCode !== 0 || run.stderr.trim() !== '') throw new Error(`php ${method} failed (exit ${String(run.exitCode)}):\n${run.stderr}${run.stdout}`);
  return JSON.parse(run.stdout) as PhpAnswer;
}

describe.skipIf(php === undefined || !temporalAvailable())('the PHP client on a real Temporal server', () => {
  const runtime = php as PhpRuntime;
  const context = useWorkflowTestContext({ taskQueuePrefix: 'php', firstUserId: 50, workflowIdPrefix: `php-${randomUUID().slice(0, 8)}:` });
  const { prefix, customerWithOrder, customerWithCredit, withWorker } = context;
  let httpApiUrl = '';
  beforeAll(() => {
    httpApiUrl = inject('temporalHttpUrl') ?? '';
    expect(httpApiUrl, 'the global setup provides the dev server HTTP API').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('starts every workflow and reads its result; the same start twice is one run; another request is a conflict', { timeout: 120_000 }, async () => {
    const refund = await customerWithOrder();
    const cancel = await customerWithOrder();
    const adjustUser = customerWithCredit(0);
    const callsBefore = creditCalls(context.stack);

    await withWorker(async (starter) => {
      const options = { httpApiUrl, taskQueue: starter.taskQueue, workflowIdPrefix: prefix, uiUrl: 'http://127.0.0.1:8233' };
      const refundInput = { userId: refund.userId, orderId: refund.orderId, amount: '2.5', reason: 'damaged', requestedBy: 'shop-backend' };
      const started = await phpCall(runtime, options, 'refundAndCancel', [refundInput]);
      const workflowId = `${prefix}refund-and-cancel:${refund.userId}:${refund.orderId}`;
      expect(started.answer).toMatchObject({ workflowId, started: true, uiUrl: `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}` });
      const runId = (started.answer as { runId: string }).runId;

      const again = await phpCall(runtime, options, 'refundAndCancel', [{ ...refundInput, amount: '2.50', requestedBy: 'retry' }]);
      expect(again.answer).toMatchObject({ workflowId, runId, started: false });

      const result = await phpCall(runtime, options, 'result', [workflowId, 60]);
      expect(result.answer).toMatchObject({ workflowType: 'refundAndCancel', outcome: 'completed' });
      const description = await context.client.workflow.getHandle(workflowId).describe();
      expect(await description.staticSummary()).toBe(`Refund 2.50 and cancel order ${refund.orderId} for store user ${refund.userId}`);

      const afterCompletion = await phpCall(runtime, options, 'refundAndCancel', [refundInput]);
      expect(afterCompletion.answer).toMatchObject({ workflowId, runId, started: false });
      const conflict = await phpCall(runtime, options, 'refundAndCancel', [{ ...refundInput, amount: '3.00' }]);
      expect(conflict).toMatchObject({
        exception: 'Orderflow\\Exception\\ConflictException',
        workflowId,
        runId,
        differences: [{ field: 'amount', existing: '2.50', requested: '3.00' }],
      });
      expect(conflict.message).toContain('amount "2.50" there, "3.00" now');

      const adjusted = await phpCall(runtime, options, 'adjustCredit', [{ userId: adjustUser, action: 'add', amount: '1.00', description: 'Goodwill', reason: 'php test' }]);
      const adjustedId = (adjusted.answer as { workflowId: string }).workflowId;
      expect(adjustedId).toMatch(new RegExp(`^${prefix}adjust-credit:${adjustUser}:[0-9a-f]{20}$`));
      expect((await phpCall(runtime, options, 'result', [adjustedId, 60])).answer).toMatchObject({ outcome: 'completed' });

      const cancelled = await phpCall(runtime, options, 'cancelOrder', [{ userId: cancel.userId, orderId: cancel.orderId, requester: 'BUYER' }]);
      expect((await phpCall(runtime, options, 'result', [(cancelled.answer as { workflowId: string }).workflowId, 60])).answer).toMatchObject({ outcome: 'completed' });

      // A run that ends without a result: RunFailedException with the failure's type.
      const compensated = await customerWithOrder();
      context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR_NO_ORDER' });
      const failing = await phpCall(runtime, options, 'refundAndCancel', [{ userId: compensated.userId, orderId: compensated.orderId, amount: '1.00', reason: 'pivot fails', requestedBy: 'shop' }]);
      const failingId = (failing.answer as { workflowId: string }).workflowId;
      const failed = await phpCall(runtime, options, 'result', [failingId, 60]);
      expect(failed).toMatchObject({ exception: 'Orderflow\\Exception\\RunFailedException', workflowId: failingId, failureType: 'RunCompensated' });
      expect(failed.message).toMatch(new RegExp(`^${failingId} failed \\(RunCompensated\\): .*failed at cancel-order`));

      const missing = await phpCall(runtime, options, 'status', [`${prefix}refund-and-cancel:1:1`]);
      expect(missing.exception).toBe('Orderflow\\Exception\\NotFoundException');
    });
    expect(creditCalls(context.stack) - callsBefore).toBe(4);
    expect(context.stack.webtvSim.state.creditOf(refund.userId)).toBe(250);
    expect(await context.orderState(cancel.userId, cancel.orderId)).toBe('cancelled');
  });

  it('says when the business key holds a run of another workflow type, instead of answering with it', async () => {
    const input = { userId: 903, orderId: 5002, amount: '5.00', reason: 'mistyped type', requestedBy: 'test' };
    const workflowId = `${prefix}refund-and-cancel:903:5002`;
    const other = await context.client.workflow.start('refundAndCancelX', { taskQueue: 'nobody-polls-this', workflowId, args: [input] });
    try {
      const answer = await phpCall(runtime, { httpApiUrl, taskQueue: 'nobody-polls-this', workflowIdPrefix: prefix }, 'refundAndCancel', [input]);
      expect(answer).toMatchObject({
        exception: 'Orderflow\\Exception\\OtherWorkflowTypeException',
        workflowId,
        runId: other.firstExecutionRunId,
        existingType: 'refundAndCancelX',
        requestedType: 'refundAndCancel',
      });
      expect(answer.message).toContain(`${workflowId} (run ${other.firstExecutionRunId}) is a run of workflow type "refundAndCancelX", not refundAndCancel`);
    } finally {
      await other.terminate('test over');
    }
  });

  it('reads status, sends paymentReceived, and resumes a run waiting for an operator with decide', { timeout: 120_000 }, async () => {
    const paying = await customerWithOrder();
    const stuck = await customerWithOrder();
    await withWorker(async (starter) => {
      const options = { httpApiUrl, taskQueue: starter.taskQueue, workflowIdPrefix: prefix };
      const processing = await phpCall(runtime, options, 'processPaidOrder', [{ userId: paying.userId, orderId: paying.orderId }]);
      const processId = (processing.answer as { workflowId: string }).workflowId;
      // Search attributes and UI details at start, as the contract says (the same as the TS starters set).
      const description = await context.client.workflow.getHandle(processId).describe();
      expect(await description.staticDetails()).toBe(`- **user:** ${paying.userId}\n- **order:** ${paying.orderId}\n- **payment deadline:** 24 hours`);
      expect(description.searchAttributes).toMatchObject({ StoreUserId: [paying.userId], StoreOrderId: [paying.orderId] });
      await eventually('the run to wait for payment', async () => {
        const status = await phpCall(runtime, options, 'status', [processId]);
        return (status.answer as { state?: string } | undefined)?.state === 'waiting-for-payment' ? true : undefined;
      });
      context.stack.webtvSim.state.recordPayment(paying.userId, centsFromInteger(demoOrderTotalCents));
      expect(await phpCall(runtime, options, 'paymentReceived', [processId, 'gateway confirmed', 'payments'])).toEqual({ answer: null });
      expect((await phpCall(runtime, options, 'result', [processId, 60])).answer).toMatchObject({ outcome: 'completed' });

      context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
      const refund = await phpCall(runtime, options, 'refundAndCancel', [{ userId: stuck.userId, orderId: stuck.orderId, amount: '1.00', reason: 'php', requestedBy: 'shop' }]);
      const refundId = (refund.answer as { workflowId: string }).workflowId;
      const waiting = await eventually('the run to wait for an operator', async () => {
        const status = await phpCall(runtime, options, 'status', [refundId]);
        const answer = status.answer as { state?: string; awaiting?: { step: string; choices: Record<string, string> } } | undefined;
        return answer?.state === 'awaiting-operator' ? answer : undefined;
      });
      expect(waiting.awaiting?.step).toBe('cancel-order');
      // The wait's id is in the PHP client's status, as in every other view.
      expect((waiting.awaiting as { waitId?: string } | undefined)?.waitId).toBe('cancel-order#1');

      // A wait id that is malformed is refused by the client; one for another wait, by the run.
      const malformed = await phpCall(runtime, options, 'decide', [refundId, 'retry', 'key fixed', 'anna', null, 'cancel-order']);
      expect(malformed.exception).toBe('Orderflow\\Exception\\InvalidInputException');
      const stale = await phpCall(runtime, options, 'decide', [refundId, 'skip', 'meant for the credit', 'anna', null, 'add-credit#1']);
      expect(stale.exception).toBe('Orderflow\\Exception\\DecisionRefusedException');
      expect(stale.message).toContain('this decision is for add-credit#1, not the current wait: the run waits for cancel-order#1');

      // The run's own validator refuses (the client checks only what it can: action, non-empty texts).
      const refused = await phpCall(runtime, options, 'decide', [refundId, 'retry', 'x'.repeat(2_001), 'anna']);
      expect(refused.exception).toBe('Orderflow\\Exception\\DecisionRefusedException');
      expect(refused.message).toContain('"note" must be at most 2000 characters');

      // No wait id given: the client takes the one status shows. Temporal records the client's identity (default orderflow-php:<hostname>).
      const decided = await phpCall(runtime, options, 'decide', [refundId, 'retry', 'key fixed', 'anna', 'decision-1']);
      const phpIdentity = `orderflow-php:${hostname()}`;
      expect(decided.answer).toMatchObject({ accepted: true, action: 'retry', waitId: 'cancel-order#1', identity: phpIdentity });
      const repeated = await phpCall(runtime, options, 'decide', [refundId, 'retry', 'key fixed', 'anna', 'decision-1', 'cancel-order#1']);
      expect(repeated.answer).toEqual(decided.answer);
      // The same decision id with another decision: Temporal answers with the first one; the client says so.
      const reused = await phpCall(runtime, options, 'decide', [refundId, 'skip', 'it is cancelled', 'ben', 'decision-1', 'cancel-order#1']);
      expect(reused.exception).toBe('Orderflow\\Exception\\DecisionIdReusedException');
      expect(reused.message).toContain('this decision id (decision-1) was already used for retry at cancel-order#1 by anna');
      const result = await phpCall(runtime, options, 'result', [refundId, 60]);
      expect(result.answer).toMatchObject({
        outcome: 'completed',
        decisions: [expect.objectContaining({ action: 'retry', operator: 'anna', waitId: 'cancel-order#1', identity: phpIdentity })],
      });
    });
    expect(await context.orderState(paying.userId, paying.orderId)).toBe('processed');
  });
});
