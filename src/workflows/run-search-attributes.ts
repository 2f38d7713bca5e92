/**
 * Mirrors a run's state and step (and whom it is about) into typed search attributes, so
 * ops find runs in the UI, at a cost the server notices: every upsert is a history event
 * and a visibility write.
 *
 * Since `search-attributes-on-state-changes` (a patch: runs recorded before it replay as
 * they ran), a run upserts only what its start did not already set, and publishes its step
 * together with each state change (waiting for an operator or a payment, compensating,
 * ending) instead of on every step: where a run stops, the Step attribute says where.
 * A happy run thus upserts once (its end) instead of five times.
 */
import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { orderflowSearchAttributes as attributes } from '../search-attributes.ts';
import type { RunState } from '../contracts.ts';

export interface RunIdentity {
  userId?: number | undefined;
  orderId?: number | undefined;
  justclickBillId?: string | undefined;
}

export const stateChangesOnlyPatch = 'search-attributes-on-state-changes';

export class SearchAttributeMirror {
  /** False while replaying a run recorded before the patch: it upserts as it did then. */
  private readonly onStateChangesOnly: boolean;

  constructor(state: RunState, step: string, identity: RunIdentity) {
    this.onStateChangesOnly = patched(stateChangesOnlyPatch);
    const pairs: SearchAttributeUpdatePair[] = [{ key: attributes.state, value: state }];
    if (!this.onStateChangesOnly) pairs.push({ key: attributes.step, value: step });
    if (identity.userId !== undefined) pairs.push({ key: attributes.storeUserId, value: identity.userId });
    if (identity.orderId !== undefined) pairs.push({ key: attributes.storeOrderId, value: identity.orderId });
    if (identity.justclickBillId !== undefined) pairs.push({ key: attributes.justClickBillId, value: identity.justclickBillId });
    this.upsert(pairs);
  }

  /** `also`: more pairs to write in the same upsert (one history event). */
  stateChanged(state: RunState, step: string, also: readonly SearchAttributeUpdatePair[] = []): void {
    this.upsert([
      ...(this.onStateChangesOnly ? [{ key: attributes.state, value: state }, { key: attributes.step, value: step }] : [{ key: attributes.state, value: state }]),
      ...also,
    ]);
  }

  stepStarted(step: string): void {
    if (!this.onStateChangesOnly) this.upsert([{ key: attributes.step, value: step }]);
  }

  /** Upserts the pairs (with the patch: only those whose value is not already set). */
  private upsert(pairs: SearchAttributeUpdatePair[]): void {
    const changed = this.onStateChangesOnly ? pairs.filter((pair) => workflowInfo().typedSearchAttributes.get(pair.key as never) !== pair.value) : pairs;
    if (changed.length > 0) upsertSearchAttributes(changed);
  }
}
