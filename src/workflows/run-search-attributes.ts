/** Mirrors a run's state and step (and whom it is about) into typed search attributes, so ops find it in the UI. */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { orderflowSearchAttributes as attributes } from '../search-attributes.ts';
import type { RunState } from '../contracts.ts';

export interface RunIdentity {
  userId?: number | undefined;
  orderId?: number | undefined;
  justclickBillId?: string | undefined;
}

export function publishRunStart(state: RunState, step: string, identity: RunIdentity): void {
  const pairs: SearchAttributeUpdatePair[] = [{ key: attributes.state, value: state }, { key: attributes.step, value: step }];
  if (identity.userId !== undefined) pairs.push({ key: attributes.storeUserId, value: identity.userId });
  if (identity.orderId !== undefined) pairs.push({ key: attributes.storeOrderId, value: identity.orderId });
  if (identity.justclickBillId !== undefined) pairs.push({ key: attributes.justClickBillId, value: identity.justclickBillId });
  upsertSearchAttributes(pairs);
}

export const publishState = (state: RunState): void => upsertSearchAttributes([{ key: attributes.state, value: state }]);
export const publishStep = (step: string): void => upsertSearchAttributes([{ key: attributes.step, value: step }]);
