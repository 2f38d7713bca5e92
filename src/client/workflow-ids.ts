/**
 * Workflow ids are business keys, decided here and nowhere else: the same request sent
 * twice maps to the same id, hence to the same run.
 */
import { createHash } from 'node:crypto';
import type { AdjustCreditInput, CancelOrderInput, ProcessPaidOrderInput, RefundAndCancelInput } from '../contracts.ts';

export const workflowIds = {
  refundAndCancel: (input: Pick<RefundAndCancelInput, 'userId' | 'orderId'>): string => `refund-and-cancel/${input.userId}/${input.orderId}`,
  processPaidOrder: (input: Pick<ProcessPaidOrderInput, 'userId' | 'orderId'>): string => `process-paid-order/${input.userId}/${input.orderId}`,
  cancelOrder: (input: Pick<CancelOrderInput, 'userId' | 'orderId'>): string => `cancel-order/${input.userId}/${input.orderId}`,
  /** `adjust-credit/<userId>/<requestId>`, or a digest of the adjustment when no requestId is given. */
  adjustCredit: (input: AdjustCreditInput): string => {
    const key = input.requestId ?? createHash('sha256')
      .update(JSON.stringify([input.userId, input.action, input.amount, input.description, input.reason]))
      .digest('hex')
      .slice(0, 20);
    return `adjust-credit/${input.userId}/${key}`;
  },
  /** `bulk:<kind>:<digest>`: the digest of the bulk's validated items, so the same file twice is one bulk. */
  bulk: (kind: string, items: readonly object[]): string =>
    `bulk:${kind}:${createHash('sha256').update(JSON.stringify([kind, items])).digest('hex').slice(0, 20)}`,
} as const;
