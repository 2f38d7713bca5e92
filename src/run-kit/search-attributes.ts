/**
 * Mirrors a run's state and step (and whom it is about) into search attributes. Every upsert is a
 * history event and a visibility write, so a run upserts only what its start did not set, and its
 * step only with each state change (where a run stops, Step says where): a happy run upserts once.
 */
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { orderflowSearchAttributes as attributes } from '../search-attributes.ts';
import type { RunState } from '../contracts.ts';

export interface RunIdentity {
  userId?: number | undefined;
  orderId?: number | undefined;
  justclickBillId?: string | undefined;
}

export class SearchAttributeMirror {
  constructor(state: RunState, identity: RunIdentity) {
    const pairs: SearchAttributeUpdatePair[] = [{ key: attributes.state, value: state }];
    if (identity.userId !== undefined) pairs.push({ key: attributes.storeUserId, value: identity.userId });
    if (identity.orderId !== undefined) pairs.push({ key: attributes.storeOrderId, value: identity.orderId });
    if (identity.justclickBillId !== undefined) pairs.push({ key: attributes.justClickBillId, value: identity.justclickBillId });
    this.upsert(pairs);
  }

  /** `also`: more pairs to write in the same upsert (one history event). */
  stateChanged(state: RunState, step: string, also: readonly SearchAttributeUpdatePair[] = []): void {
    this.upsert([{ key: attributes.state, value: state }, { key: attributes.step, value: step }, ...also]);
  }

  /** Upserts the pairs whose value is not already set. */
  private upsert(pairs: SearchAttributeUpdatePair[]): void {
    const changed = pairs.filter((pair) => workflowInfo().typedSearchAttributes.get(pair.key as never) !== pair.value);
    if (changed.length > 0) upsertSearchAttributes(changed);
  }
}
