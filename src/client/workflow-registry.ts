/** The one table of the startable workflows: it drives the starters (./starters.ts), the CLI and the contract (`npm run contract`). */
import type { adjustCredit } from '../workflows/adjust-credit.ts';
import type { cancelOrder } from '../workflows/cancel-order.ts';
import type { processPaidOrder } from '../workflows/process-paid-order.ts';
import type { refundAndCancel } from '../workflows/refund-and-cancel.ts';
import { adjustmentDigest, idTemplates } from '../business-keys.ts';
import { RunState, defaultPaymentDeadline, queryNames, signalNames, updateNames } from '../contracts.ts';
import type { RunResult } from '../contracts.ts';
import { orderflowSearchAttributes } from '../search-attributes.ts';
import { validateAdjustCredit, validateCancelOrder, validateProcessPaidOrder, validateRefundAndCancel } from '../validation.ts';
import { requestDigest } from './workflow-ids.ts';

type SearchAttributeName = (typeof orderflowSearchAttributes)[keyof typeof orderflowSearchAttributes]['name'];

/** Every orderflow run starts with these id policies: the same request twice is one run. */
export const idPolicies = {
  /** A request sent while its run is going joins that run. */
  conflict: 'USE_EXISTING',
  /** After a success the same business key is refused (we answer with that run); after a failure a new run may start. */
  reuse: 'ALLOW_DUPLICATE_FAILED_ONLY',
} as const;

export interface WorkflowRegistration<W extends (input: never) => Promise<RunResult>> {
  /** Checks and normalises the input (trimmed texts, amounts as "5.00"); throws InputError listing every problem. */
  readonly validate: (raw: unknown) => Parameters<W>[0];
  /** The business-key id, e.g. `refund-and-cancel:{userId}:{orderId}`, filled from {@link idValues}. */
  readonly idTemplate: string;
  /** The values the id template needs when the input alone does not have them (default: the input). */
  readonly idValues?: (input: Parameters<W>[0]) => Readonly<Record<string, string | number>>;
  /** The inputs that make two requests for the same business key the same request (else a conflict). */
  readonly sameRequestFields: ReadonlyArray<keyof Parameters<W>[0] & string>;
  /** Search attributes set at start, besides `OrderflowState = running`: attribute ← input field. */
  readonly searchAttributesAtStart: Readonly<Partial<Record<SearchAttributeName, keyof Parameters<W>[0] & string>>>;
  /** The UI's static summary, with `{field}` placeholders. */
  readonly summary: string;
  /** The UI's static details: a Markdown row per label, from an input field or the default (else left out). */
  readonly details: ReadonlyArray<readonly [label: string, field: keyof Parameters<W>[0] & string, whenAbsent?: string]>;
  /** Names of types in src/contracts.ts, for the contract's JSON Schemas. */
  readonly contractTypes: { readonly input: string; readonly result: string };
  /** Signals this workflow accepts besides `operatorDecision` (every workflow takes that one). */
  readonly extraSignals: ReadonlyArray<{ readonly name: string; readonly argument: string }>;
}

const refundAndCancelRegistration: WorkflowRegistration<typeof refundAndCancel> = {
  validate: validateRefundAndCancel,
  idTemplate: idTemplates.refundAndCancel,
  sameRequestFields: ['userId', 'orderId', 'amount', 'justclickBillId'],
  searchAttributesAtStart: { StoreUserId: 'userId', StoreOrderId: 'orderId', JustClickBillId: 'justclickBillId' },
  summary: 'Refund {amount} and cancel order {orderId} for store user {userId}',
  details: [['user', 'userId'], ['order', 'orderId'], ['amount', 'amount'], ['JustClick bill', 'justclickBillId'], ['reason', 'reason'], ['requested by', 'requestedBy']],
  contractTypes: { input: 'RefundAndCancelInput', result: 'RunResult' },
  extraSignals: [],
};

const processPaidOrderRegistration: WorkflowRegistration<typeof processPaidOrder> = {
  validate: validateProcessPaidOrder,
  idTemplate: idTemplates.processPaidOrder,
  sameRequestFields: ['userId', 'orderId', 'justclickBillId', 'paymentDeadline'],
  searchAttributesAtStart: { StoreUserId: 'userId', StoreOrderId: 'orderId', JustClickBillId: 'justclickBillId' },
  summary: 'Process paid order {orderId} for store user {userId}',
  details: [['user', 'userId'], ['order', 'orderId'], ['JustClick bill', 'justclickBillId'], ['payment deadline', 'paymentDeadline', defaultPaymentDeadline]],
  contractTypes: { input: 'ProcessPaidOrderInput', result: 'RunResult' },
  extraSignals: [{ name: signalNames.paymentReceived, argument: 'PaymentReceived' }],
};

const adjustCreditRegistration: WorkflowRegistration<typeof adjustCredit> = {
  validate: validateAdjustCredit,
  idTemplate: idTemplates.adjustCredit,
  idValues: (input) => ({
    userId: input.userId,
    requestId: input.requestId ?? requestDigest(adjustmentDigest.fields.map((field) => input[field])),
  }),
  sameRequestFields: ['userId', 'action', 'amount', 'description'],
  searchAttributesAtStart: { StoreUserId: 'userId' },
  summary: 'Adjust the credit of store user {userId}: {action} {amount}',
  details: [['user', 'userId'], ['action', 'action'], ['amount', 'amount'], ['description', 'description'], ['reason', 'reason'], ['requested by', 'requestedBy'], ['request id', 'requestId']],
  contractTypes: { input: 'AdjustCreditInput', result: 'RunResult' },
  extraSignals: [],
};

const cancelOrderRegistration: WorkflowRegistration<typeof cancelOrder> = {
  validate: validateCancelOrder,
  idTemplate: idTemplates.cancelOrder,
  sameRequestFields: ['userId', 'orderId', 'justclickBillId', 'requester'],
  searchAttributesAtStart: { StoreUserId: 'userId', StoreOrderId: 'orderId', JustClickBillId: 'justclickBillId' },
  summary: 'Cancel order {orderId} for store user {userId} (requested by {requester})',
  details: [['user', 'userId'], ['order', 'orderId'], ['JustClick bill', 'justclickBillId'], ['requester', 'requester'], ['reason', 'reason']],
  contractTypes: { input: 'CancelOrderInput', result: 'RunResult' },
  extraSignals: [],
};

/** Every startable workflow, by workflow type (the workflow function's name). */
export const workflowRegistry = {
  refundAndCancel: refundAndCancelRegistration,
  processPaidOrder: processPaidOrderRegistration,
  adjustCredit: adjustCreditRegistration,
  cancelOrder: cancelOrderRegistration,
} as const;

export type WorkflowTypeName = keyof typeof workflowRegistry;
export type WorkflowInput<T extends WorkflowTypeName> = ReturnType<(typeof workflowRegistry)[T]['validate']>;

/** Messages every workflow accepts (the operator protocol), with their contract types. */
export const operatorMessages = {
  signals: [{ name: signalNames.operatorDecision, argument: 'OperatorDecision' }],
  updates: [{ name: updateNames.operatorDecision, argument: 'OperatorDecision', result: 'OperatorDecisionReply' }],
  queries: [{ name: queryNames.status, result: 'RunStatus' }],
} as const;

/** `OrderflowState` at start. */
export const stateAtStart = { attribute: orderflowSearchAttributes.state.name, value: RunState.Running } as const;
