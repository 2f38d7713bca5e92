/**
 * JustClick bill activities. JustClick's changes are idempotent by bill id, so calling
 * again is how an unknown outcome is settled; the ledger still answers repeats.
 */
import { FailureType } from '../contracts.ts';
import type { BillEffectInput, EffectResult, OrderflowActivities } from '../contracts.ts';
import type { JustClickClient } from '../apis/justclick/client.ts';
import { failure } from './failures.ts';
import { attemptContext, didNotHappen, fromLedger, heartbeating, isDone, signal } from './protocol.ts';
import type { Protocol } from './protocol.ts';

const billEffects = {
  'justclick.delete': { operation: 'DeleteOrder', done: 'deleted' },
  'justclick.mark-paid': { operation: 'UpdateOrderStatus', done: 'marked paid' },
} as const;

export function createBillActivities(protocol: Protocol): Pick<OrderflowActivities, 'deleteJustClickBill' | 'markJustClickBillPaid'> {
  const { ledger, deps } = protocol;

  async function billEffect(input: BillEffectInput, kind: keyof typeof billEffects, call: (client: JustClickClient) => Promise<string>): Promise<EffectResult> {
    const { effectKey, billId } = input;
    const context = attemptContext();
    const { operation, done } = billEffects[kind];
    const recorded = await ledger.get(effectKey);
    if (recorded && isDone(recorded)) return fromLedger(recorded, `JustClick bill ${billId} ${done}`);
    const client = deps.justclick;
    if (!client) {
      throw failure(
        FailureType.ApiAccessDenied,
        `JustClick ${operation} cannot run: JustClick is not configured on this worker (set JUSTCLICK_LOGIN and JUSTCLICK_SECRET, restart the worker, then retry).`,
        { nonRetryable: true },
      );
    }
    if (recorded === undefined || didNotHappen(recorded)) {
      await protocol.arm(effectKey, recorded, { kind, userId: input.userId ?? null, request: { billId }, observedBefore: { billId } });
    } else {
      await ledger.recordAttempt(effectKey, context);
    }
    const detail = await protocol.call(effectKey, {}, () => call(client));
    // Still unknown (recordAttempt keeps the state) after an earlier unknown outcome; pending otherwise.
    await ledger.record(effectKey, recorded?.state === 'unknown' ? 'resolved-applied' : 'applied', { ...context, response: { ok: detail } });
    return { effectKey, status: 'applied', fromLedger: false, detail };
  }

  return {
    deleteJustClickBill: (input) =>
      heartbeating(() =>
        billEffect(input, 'justclick.delete', async (client) => {
          const outcome = await client.deleteOrder(input.billId, signal());
          return outcome.status === 'deleted'
            ? `JustClick bill ${input.billId} deleted`
            : `JustClick bill ${input.billId} was already absent (${outcome.code} ${outcome.text})`;
        }),
      ),
    markJustClickBillPaid: (input) =>
      heartbeating(() =>
        billEffect(input, 'justclick.mark-paid', async (client) => {
          await client.updateOrderStatus(input.billId, 'paid', { date: Math.floor(Date.now() / 1000) }, signal());
          return `JustClick bill ${input.billId} marked paid`;
        }),
      ),
  };
}
