/** The typed search attributes every orderflow run carries, for finding runs in the UI (`orderflow setup` registers them). Pure. */
import { defineSearchAttributeKey } from '@temporalio/common';
import { RunState } from './contracts.ts';

export const orderflowSearchAttributes = {
  /** The run's {@link RunState}. */
  state: defineSearchAttributeKey('OrderflowState', 'KEYWORD'),
  /** The step the run is at (or stopped at), e.g. add-credit, cancel-order. */
  step: defineSearchAttributeKey('OrderflowStep', 'KEYWORD'),
  storeUserId: defineSearchAttributeKey('StoreUserId', 'INT'),
  storeOrderId: defineSearchAttributeKey('StoreOrderId', 'INT'),
  justClickBillId: defineSearchAttributeKey('JustClickBillId', 'KEYWORD'),
  /** The bulk a run belongs to (on the bulk and on each item it started), e.g. `bulk:refund-and-cancel:1f2e…`. */
  bulkId: defineSearchAttributeKey('OrderflowBulkId', 'KEYWORD'),
  /** A bulk's item counts. DOUBLE: SQL visibility stores allow three INT attributes, two are taken. */
  bulkDone: defineSearchAttributeKey('OrderflowBulkDone', 'DOUBLE'),
  bulkFailed: defineSearchAttributeKey('OrderflowBulkFailed', 'DOUBLE'),
  bulkWaiting: defineSearchAttributeKey('OrderflowBulkWaiting', 'DOUBLE'),
  /** While a run waits, e.g. `add-credit: retry|skip|abort (outcome unknown)` (docs/runbook-ui.md); never encrypted: our words only. */
  waitingFor: defineSearchAttributeKey('OrderflowWaitingFor', 'KEYWORD'),
} as const;

/** `NAME=Type` pairs for `temporal server start-dev --search-attribute` and `operator search-attribute create`. */
const cliTypes = { INT: 'Int', KEYWORD: 'Keyword', DOUBLE: 'Double' } as const;

export const searchAttributeRegistrations = Object.values(orderflowSearchAttributes)
  .map((key) => ({ name: key.name, cliType: cliTypes[key.type] }));

/** The visibility query for runs waiting for an operator (the CLI's `ops list`, the worker's gauge). */
export const awaitingOperatorQuery = `${orderflowSearchAttributes.state.name} = "${RunState.AwaitingOperator}"`;
