/**
 * Order activities: observe the user's current order, and the guarded changes of it
 * (cancel_order, process_order) once per effect key. The order list decides after an
 * unknown outcome: an order already in the target state counts as done.
 */
import { FailureType } from '../contracts.ts';
import type { EffectResult, ObserveOrderInput, OrderEffectInput, OrderObservation, OrderflowActivities } from '../contracts.ts';
import { ApiCallError } from '../apis/outcome.ts';
import type { WebTvOrder } from '../apis/webtv/types.ts';
import type { JsonValue } from '../ledger/types.ts';
import { formatCents } from '../money.ts';
import { failure } from './failures.ts';
import { attemptContext, didNotHappen, fromLedger, heartbeating, isDone, isUnresolved, oncePerBusinessKey, reading, signal } from './protocol.ts';
import { orderEffectKey } from '../business-keys.ts';
import type { Protocol } from './protocol.ts';

type OrderActivities = Pick<OrderflowActivities, 'observeOrder' | 'cancelCurrentOrder' | 'processCurrentOrder'>;

function orderFacts(orders: WebTvOrder[], orderId: number): { order: WebTvOrder | undefined; current: WebTvOrder | undefined } {
  return { order: orders.find((order) => order.id === orderId), current: orders.find((order) => order.status === 'current') };
}

export function createOrderActivities(protocol: Protocol): OrderActivities {
  const { ledger, deps: { webtv } } = protocol;

  function readOrders(userId: number, callSignal: AbortSignal | undefined = signal()): Promise<WebTvOrder[]> {
    return reading(`the orders of store user ${userId}`, () => webtv.listOrders(userId, callSignal));
  }

  /**
   * A guarded change of the current order (cancel or process): the current order must be
   * the expected one; an order already in the target state counts as done.
   */
  async function orderEffect(input: OrderEffectInput, change: 'cancel' | 'process'): Promise<EffectResult> {
    const { effectKey, userId, orderId } = input;
    const target = change === 'cancel' ? 'cancelled' : 'processed';
    const what = `order ${orderId} of store user ${userId} ${target}`;
    const context = attemptContext();
    // A cancellation holds the order's business key: the ledger refuses a second one from another run.
    const businessKey = change === 'cancel' ? orderEffectKey('cancel', userId, orderId) : undefined;
    const isTarget = (order: WebTvOrder | undefined): boolean =>
      order !== undefined && (change === 'cancel' ? order.status === 'cancelled' : order.status === 'processed' || order.paymentStatus === 'paid');

    // The row comes with the lock (one round trip): a recorded outcome is returned without calling.
    return protocol.underUserLock(userId, effectKey, async (callSignal, lock) => {
      let row = lock.effect;
      if (row && isDone(row)) return fromLedger(row, what);
      const { order, current } = orderFacts(await readOrders(userId, callSignal), orderId);
      const observed = {
        'order state': order ? `${order.status}, payment ${order.paymentStatus}` : 'no such order',
        'current order': current ? String(current.id) : 'none',
      };
      const observation: JsonValue = { orderId, state: order?.status ?? 'absent', paymentStatus: order?.paymentStatus ?? null, currentOrderId: current?.id ?? null };
      const request = { orderId, requester: input.requester ?? null };
      const effect = { kind: `order.${change}`, userId, request, observedBefore: observation, businessKey };

      if (isTarget(order)) {
        // Already so: our earlier attempt (pending/unknown) or someone else did it.
        const note = row ? `reconciled: the order is ${target}` : `the order was already ${target}; nothing to do`;
        if (row === undefined || didNotHappen(row)) await protocol.arm(effectKey, row, effect);
        await ledger.record(effectKey, 'resolved-applied', { ...context, observedAfter: observation, note });
        return { effectKey, status: 'applied', fromLedger: false, detail: `${what} (${note})` };
      }
      if (current?.id !== orderId) {
        if (row && isUnresolved(row)) {
          await ledger.record(effectKey, 'resolved-not-applied', { ...context, observedAfter: observation, note: 'the order is not current any more' });
        }
        throw failure(
          FailureType.OrderNotCurrent,
          `order ${orderId} is not the current order of store user ${userId} (${observed['order state']}; current order: ${observed['current order']}), so it cannot be ${target}.`,
          { nonRetryable: true, observed },
        );
      }
      // The expected order is current: arm and call.
      if (row && isUnresolved(row)) {
        protocol.refuseWhileAttemptMayLand(row, what, observed);
        const note = 'reconciled: the order is still current, the earlier attempt did not take effect';
        row = await ledger.record(effectKey, 'resolved-not-applied', { ...context, observedAfter: observation, note });
      }
      await protocol.arm(effectKey, row, effect);
      try {
        if (change === 'cancel') await webtv.cancelOrder(userId, input.requester ? { requester: input.requester } : undefined, callSignal);
        else await webtv.processOrder(userId, callSignal);
      } catch (error) {
        if (error instanceof ApiCallError && error.outcome === 'rejected' && error.code === 'ERROR_NO_ORDER') {
          // Someone else changed the order between our read and our call: look again.
          const again = orderFacts(await readOrders(userId, callSignal), orderId);
          if (isTarget(again.order)) {
            await ledger.record(effectKey, 'resolved-applied', { ...context, note: `the order became ${target} meanwhile` });
            return { effectKey, status: 'applied', fromLedger: false, detail: `${what} (it became ${target} meanwhile)` };
          }
        }
        throw await protocol.recordCallFailure(effectKey, error, observed);
      }
      await lock.recordAndRelease(effectKey, 'applied', { ...context, response: { ok: `order ${target}` } });
      return { effectKey, status: 'applied', fromLedger: false, detail: what };
    });
  }

  return {
    async observeOrder(input: ObserveOrderInput): Promise<OrderObservation> {
      const { userId, orderId } = input;
      // Three independent reads, at once: the orders, the cart, and what the ledger says of this run's change.
      const [orders, cart, change] = await Promise.all([
        readOrders(userId),
        reading(`the cart of store user ${userId}`, () => webtv.getCart(userId, signal())),
        ledger.get(input.changeEffectKey),
      ]);
      const { order, current } = orderFacts(orders, orderId);
      return {
        userId,
        orderId,
        state: order ? order.status : 'absent',
        currentOrderId: current?.id ?? cart.orderId,
        paymentStatus: order ? order.paymentStatus : 'unknown',
        amountDue: cart.orderId === orderId ? formatCents(cart.amountDue) : null,
        total: order ? formatCents(order.total) : null,
        changedByThisRun: isDone(change),
      };
    },
    cancelCurrentOrder: (input) => heartbeating(() => oncePerBusinessKey(() => orderEffect(input, 'cancel'))),
    processCurrentOrder: (input) => heartbeating(() => orderEffect(input, 'process')),
  };
}
