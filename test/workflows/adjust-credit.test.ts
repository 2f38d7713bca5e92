/**
 * adjustCredit against a real Temporal dev server (the global setup's) and the WebTV
 * simulator: one adjustment per request (by requestId or by content), a subtraction the
 * credit cannot cover, a lost answer, and input the starter refuses.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RequestConflictError, startAdjustCredit, workflowIdOf } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { AdjustCreditInput, FailureSummary, RunResult } from '../../src/contracts.ts';
import { orderflowSearchAttributes } from '../../src/search-attributes.ts';
import { InputError } from '../../src/validation.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { creditCalls } from '../../harness/stack.ts';
import { failureOf, statusOf, useWorkflowTestContext } from '../../harness/workflows.ts';

describe.skipIf(!temporalAvailable())('adjustCredit on a real Temporal server', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'adjust-credit', firstUserId: 10 });
  const { prefix, customerWithCredit, withWorker } = context;

  it('adds credit once, and the same request sent twice (no requestId) is one run', async () => {
    const userId = customerWithCredit(0);
    const input: AdjustCreditInput = { userId, action: 'add', amount: '3.00', description: 'Goodwill credit', reason: 'late delivery', requestedBy: 'support' };
    const callsBefore = creditCalls(context.stack);

    const result = await withWorker(async (starter) => {
      const [first, second] = await Promise.all([startAdjustCredit(starter, input), startAdjustCredit(starter, input)]);
      expect(first.workflowId).toMatch(new RegExp(`^${prefix}adjust-credit:${userId}:[0-9a-f]{20}$`));
      expect(first.workflowId).toBe(`${prefix}${workflowIdOf('adjustCredit', input)}`);
      expect(second.workflowId).toBe(first.workflowId);
      expect(second.runId).toBe(first.runId);
      const value = (await first.handle.result()) as RunResult;
      // After success, the same request is answered with the completed run; nothing new starts.
      const third = await startAdjustCredit(starter, { ...input });
      expect(third).toMatchObject({ started: false, workflowId: first.workflowId, runId: first.runId });
      expect((await statusOf(first.handle)).state).toBe('completed');
      const description = await first.handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('completed');
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.storeUserId)).toBe(userId);
      return value;
    });

    expect(result.outcome).toBe('completed');
    expect(result.summary).toBe(`Adding 3.00 credit to store user ${userId}: done.`);
    expect(result.steps).toEqual([expect.objectContaining({ name: 'adjust-credit', state: 'done', detail: expect.stringMatching(/credit 0\.00 → 3\.00/) })]);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(300);
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => [effect.kind, effect.state])).toEqual([['credit.add', 'applied']]);
  });

  it('keys the run by requestId: the same request again is the same run, other content under it is a conflict, a new requestId is another run', async () => {
    const userId = customerWithCredit(0);
    const requestId = `coupon-${randomUUID().slice(0, 8)}`;
    const callsBefore = creditCalls(context.stack);

    await withWorker(async (starter) => {
      const first = await startAdjustCredit(starter, { userId, action: 'add', amount: '1.50', description: 'Coupon', reason: 'coupon redeemed', requestId });
      expect(first.workflowId).toBe(`${prefix}adjust-credit:${userId}:${requestId}`);
      await first.handle.result();
      const again = await startAdjustCredit(starter, { userId, action: 'add', amount: '1.5', description: 'Coupon ', reason: 'resent', requestId });
      expect(again).toMatchObject({ started: false, workflowId: first.workflowId, runId: first.runId });
      const conflict = await startAdjustCredit(starter, { userId, action: 'add', amount: '9.99', description: 'Coupon (resent)', reason: 'coupon redeemed', requestId }).catch((error: unknown) => error);
      expect(conflict).toBeInstanceOf(RequestConflictError);
      expect(conflict).toMatchObject({
        workflowId: first.workflowId,
        runId: first.runId,
        differences: [
          { field: 'amount', existing: '1.50', requested: '9.99' },
          { field: 'description', existing: 'Coupon', requested: 'Coupon (resent)' },
        ],
      });
      expect((conflict as Error).message).toContain('amount "1.50" there, "9.99" now');
      const other = await startAdjustCredit(starter, { userId, action: 'add', amount: '1.50', description: 'Coupon', reason: 'coupon redeemed', requestId: `${requestId}-2` });
      expect(other.started).toBe(true);
      expect(other.workflowId).not.toBe(first.workflowId);
      await other.handle.result();
    });

    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(300);
    expect(creditCalls(context.stack) - callsBefore).toBe(2);
  });

  it('fails as CreditAlreadySpent when subtracting more than the credit, changing nothing', async () => {
    const userId = customerWithCredit(100);
    const callsBefore = creditCalls(context.stack);

    await withWorker(async (starter) => {
      const { handle } = await startAdjustCredit(starter, { userId, action: 'subtract', amount: '2.00', description: 'Clawback', reason: 'chargeback', requestedBy: 'finance' });
      const failure = await failureOf(handle);
      expect(failure.type).toBe(FailureType.CreditAlreadySpent);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(new RegExp(`^Subtracting 2\\.00 credit from store user ${userId} was refused: .*Nothing was changed\\.$`));
      expect(failure.details?.[0] as FailureSummary).toMatchObject({ type: FailureType.CreditAlreadySpent, api: 'webtv', code: 'ERROR_CANT_SUBTRACT' });
      const status = await statusOf(handle);
      expect(status.state).toBe('failed');
      expect(status.awaiting).toBeNull();
      expect(status.steps).toEqual([expect.objectContaining({ name: 'adjust-credit', state: 'failed', detail: expect.stringMatching(/ERROR_CANT_SUBTRACT/) })]);
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.state)).toBe('failed');
    });

    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(100);
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => [effect.kind, effect.state])).toEqual([['credit.subtract', 'rejected']]);
  });

  it('subtracts once when add_subtract_credit applies and then drops the connection', async () => {
    const userId = customerWithCredit(500);
    const callsBefore = creditCalls(context.stack);
    context.stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'apply-then-drop' });

    const result = await withWorker(async (starter) => {
      const { handle } = await startAdjustCredit(starter, { userId, action: 'subtract', amount: '2.00', description: 'Correction', reason: 'double refund', requestedBy: 'finance' });
      return (await handle.result()) as RunResult;
    });

    expect(result.outcome).toBe('completed');
    expect(result.steps[0]?.detail).toMatch(/reconciled: credit 5\.00 → 3\.00/);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(300);
    expect(creditCalls(context.stack) - callsBefore).toBe(1);
    expect(context.stack.webtvSim.calls.filter((call) => call.operation === 'add_subtract_credit' && call.query['iq'] === String(userId)).map((call) => call.fault)).toEqual(['apply-then-drop']);
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => [effect.kind, effect.state])).toEqual([['credit.subtract', 'resolved-applied']]);
  });

  it('runs two adjustments of the same user at once, each once, one after the other under the user lock', async () => {
    const userId = customerWithCredit(100);
    const callsBefore = creditCalls(context.stack);
    const results = await withWorker(async (starter) => {
      const runs = await Promise.all([
        startAdjustCredit(starter, { userId, action: 'add', amount: '2.00', description: 'First', reason: 'concurrent', requestId: `first-${userId}` }),
        startAdjustCredit(starter, { userId, action: 'subtract', amount: '0.50', description: 'Second', reason: 'concurrent', requestId: `second-${userId}` }),
      ]);
      expect(runs[0].workflowId).not.toBe(runs[1].workflowId);
      return Promise.all(runs.map(async (run) => (await run.handle.result()) as RunResult));
    });
    expect(results.map((result) => result.outcome)).toEqual(['completed', 'completed']);
    expect(context.stack.webtvSim.state.creditOf(userId)).toBe(250);
    expect(creditCalls(context.stack) - callsBefore).toBe(2);
    const effects = await context.stack.ledger.listEffects({ userId });
    expect(effects.map((effect) => effect.state)).toEqual(['applied', 'applied']);
    // Each run saw the other's change or none: the two observed balances are 1.00 and the other's result.
    const before = effects.map((effect) => (effect.observedBefore as { credit: string }).credit).sort();
    expect([['1.00', '3.00'], ['0.50', '1.00']]).toContainEqual(before);
  });

  it('refuses invalid input in the starter, before anything reaches Temporal or an API', async () => {
    const callsBefore = context.stack.webtvSim.calls.length;
    const input = { userId: 7, action: 'multiply', amount: '-1', description: '', reason: 'x', requestId: 'not allowed!' } as unknown as AdjustCreditInput;
    await withWorker(async (starter) => {
      const refusal = await startAdjustCredit(starter, input).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(InputError);
      const problems = (refusal as InputError).problems;
      expect(problems.length).toBeGreaterThanOrEqual(4);
      expect(problems.join('\n')).toMatch(/action/);
      expect(problems.join('\n')).toMatch(/amount/);
      expect(problems.join('\n')).toMatch(/description/);
      expect(problems.join('\n')).toMatch(/requestId/);
            await expect(context.client.workflow.getHandle(`${prefix}adjust-credit:7:not allowed!`).describe()).rejects.toThrow();
    });
    expect(context.stack.webtvSim.calls.length).toBe(callsBefore);
    expect(context.stack.webtvSim.state.creditOf(7)).toBe(0);
  });
});
