/**
 * The seven API calls of one refund-and-cancel saga, in the four groups orderflow's
 * activities make them (observe the order; read and add credit; read orders and cancel;
 * delete the JustClick bill), without a ledger, a lock or search attributes. The bare
 * Temporal workflow runs each group as one activity; the plain script calls them in a row.
 */
import type { JustClickClient } from '../src/apis/justclick/client.ts';
import type { WebTvClient } from '../src/apis/webtv/client.ts';
import { parsePositiveAmount } from '../src/money.ts';

export interface SagaInput {
  userId: number;
  orderId: number;
  amount: string;
  justclickBillId: string;
}

export interface SagaCalls {
  observeOrder(input: SagaInput): Promise<{ current: boolean }>;
  addCredit(input: SagaInput): Promise<{ creditBeforeCents: number }>;
  cancelOrder(input: SagaInput): Promise<{ cancelled: boolean }>;
  deleteBill(input: SagaInput): Promise<{ deleted: boolean }>;
}

export function createSagaCalls(webtv: WebTvClient, justclick: JustClickClient): SagaCalls {
  return {
    async observeOrder(input) {
      const orders = await webtv.listOrders(input.userId);
      await webtv.getCart(input.userId);
      return { current: orders.some((order) => order.id === input.orderId && order.status === 'current') };
    },
    async addCredit(input) {
      const credit = await webtv.getCredit(input.userId);
      await webtv.addSubtractCredit(input.userId, { creditAction: 'add', amount: parsePositiveAmount(input.amount), description: `bench refund of order ${input.orderId}` });
      return { creditBeforeCents: credit.buyerCredit };
    },
    async cancelOrder(input) {
      const orders = await webtv.listOrders(input.userId);
      if (!orders.some((order) => order.id === input.orderId && order.status === 'current')) return { cancelled: false };
      await webtv.cancelOrder(input.userId, { requester: 'ADMIN' });
      return { cancelled: true };
    },
    async deleteBill(input) {
      const outcome = await justclick.deleteOrder(input.justclickBillId);
      return { deleted: outcome.status === 'deleted' };
    },
  };
}

/** The saga: the calls one after another. The plain script runs it in this process; the bare workflow runs it with each group as an activity. */
export async function runSagaDirectly(calls: SagaCalls, input: SagaInput): Promise<void> {
  const observed = await calls.observeOrder(input);
  if (!observed.current) throw new Error(`order ${input.orderId} of user ${input.userId} is not current`);
  await calls.addCredit(input);
  const cancelled = await calls.cancelOrder(input);
  if (!cancelled.cancelled) throw new Error(`order ${input.orderId} of user ${input.userId} was not cancelled`);
  await calls.deleteBill(input);
}
