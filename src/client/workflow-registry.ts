/**
 * The one table of orderflow's startable workflows. Each row says, for one workflow: its
 * type (the workflow function's name, typed by the function), how its input is checked,
 * its business-key id template, its id policies, which inputs make "the same request",
 * the search attributes and UI summary it starts with, the `orderflow start` options and
 * help, and the contract types of its messages.
 *
 * It drives the typed starters (./starters.ts), the CLI (src/cli/workflows.ts) and the
 * generated caller contract (contracts/orderflow.contract.json, which the PHP client
 * follows). Nothing here does I/O.
 */
import type { adjustCredit } from '../workflows/adjust-credit.ts';
import type { cancelOrder } from '../workflows/cancel-order.ts';
import type { processPaidOrder } from '../workflows/process-paid-order.ts';
import type { refundAndCancel } from '../workflows/refund-and-cancel.ts';
import { idTemplates } from '../business-keys.ts';
import { RunState, defaultPaymentDeadline } from '../contracts.ts';
import type { RunResult } from '../contracts.ts';
import { orderflowSearchAttributes } from '../search-attributes.ts';
import { validateAdjustCredit, validateCancelOrder, validateProcessPaidOrder, validateRefundAndCancel } from '../validation.ts';
import { adjustmentDigest, requestDigest } from './workflow-ids.ts';

export type CliValues = Readonly<Record<string, string | boolean | undefined>>;
export type CliEnvironment = Readonly<Record<string, string | undefined>>;
type SearchAttributeName = (typeof orderflowSearchAttributes)[keyof typeof orderflowSearchAttributes]['name'];

/** Every orderflow run starts with these id policies: the same request twice is one run. */
export const idPolicies = {
  /** A request sent while its run is going joins that run. */
  conflict: 'USE_EXISTING',
  /** After a success the same business key is refused (we answer with that run); after a failure a new run may start. */
  reuse: 'ALLOW_DUPLICATE_FAILED_ONLY',
} as const;

export interface WorkflowRegistration<W extends (input: never) => Promise<RunResult>> {
  /** The workflow type: the workflow function's name. */
  readonly workflowType: string;
  /** Checks and normalises the input (trimmed texts, amounts as "5.00"); throws InputError listing every problem. */
  readonly validate: (raw: unknown) => Parameters<W>[0];
  /** The business-key id, e.g. `refund-and-cancel:{userId}:{orderId}`; placeholders are filled from {@link idValues}. */
  readonly idTemplate: string;
  /** The values the id template needs (the input itself, plus derived ones). */
  readonly idValues: (input: Parameters<W>[0]) => Readonly<Record<string, string | number>>;
  /**
   * The inputs that make two requests for the same business key the same request. A start
   * whose values differ from the existing run's is refused as a conflict.
   */
  readonly sameRequestFields: ReadonlyArray<keyof Parameters<W>[0] & string>;
  /** Search attributes set at start, besides `OrderflowState = running`: attribute ← input field. */
  readonly searchAttributesAtStart: Readonly<Partial<Record<SearchAttributeName, keyof Parameters<W>[0] & string>>>;
  /** The UI's static summary, with `{field}` placeholders. */
  readonly summary: string;
  /** The UI's static details: one Markdown list row per label, from an input field, or the default when it has none (else the row is left out). */
  readonly details: ReadonlyArray<readonly [label: string, field: keyof Parameters<W>[0] & string, whenAbsent?: string]>;
  /** Names of types in src/contracts.ts, for the contract's JSON Schemas. */
  readonly contractTypes: { readonly input: string; readonly result: string };
  /** Signals this workflow accepts besides `operatorDecision` (every workflow takes that one). */
  readonly extraSignals: ReadonlyArray<{ readonly name: string; readonly argument: string }>;
  /** `orderflow start <name>` */
  readonly cli: {
    readonly name: string;
    readonly summary: string;
    readonly usage: string;
    readonly help: string;
    readonly options: Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;
    /** The workflow input from the parsed options (validation names anything wrong). */
    readonly input: (values: CliValues, env: CliEnvironment) => Record<string, unknown>;
  };
}

/** A number option as typed; anything not all digits is passed on as text so validation names it. */
function idOption(value: string | boolean | undefined): number | string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : value;
}

function text(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const waitHelp = `  --wait                 Follow the run: print each step as it happens (and each failed
                         attempt of a step that is being retried) and end with the result.
                         Exit 0 completed, 1 failed, 3 waiting for an operator; Ctrl-C
                         stops following, not the run (exit 130).

Values are read leniently where the meaning is certain: spaces around a value are
ignored (" 5.00" is 5.00) and so are leading zeros of ids (07 is user 7). Texts must be
one line without control characters. Each option may be given once.`;

/**
 * The one rule for --reason, as the starters (src/validation.ts) and the contract have it:
 * required where money moves, optional for cancel-order, never empty.
 */
const reasonRule = `--reason: required for refund-and-cancel and adjust-credit (as for every starter and
the HTTP contract: a backend must say why money moves), optional for cancel-order. There is
no default text, and an empty or blank --reason is refused everywhere: give a reason, or
(cancel-order) leave --reason out.`;

const refundAndCancelRegistration: WorkflowRegistration<typeof refundAndCancel> = {
  workflowType: 'refundAndCancel',
  validate: validateRefundAndCancel,
  idTemplate: idTemplates.refundAndCancel,
  idValues: (input) => ({ userId: input.userId, orderId: input.orderId }),
  sameRequestFields: ['userId', 'orderId', 'amount', 'justclickBillId'],
  searchAttributesAtStart: { StoreUserId: 'userId', StoreOrderId: 'orderId', JustClickBillId: 'justclickBillId' },
  summary: 'Refund {amount} and cancel order {orderId} for store user {userId}',
  details: [['user', 'userId'], ['order', 'orderId'], ['amount', 'amount'], ['JustClick bill', 'justclickBillId'], ['reason', 'reason'], ['requested by', 'requestedBy']],
  contractTypes: { input: 'RefundAndCancelInput', result: 'RunResult' },
  extraSignals: [],
  cli: {
    name: 'refund-and-cancel',
    summary: 'Refund an order as store credit, cancel it, delete its JustClick bill',
    usage: 'start refund-and-cancel --user <id> --order <id> --amount <decimal> --reason <text> [--justclick-bill <id>] [--requested-by <name>] [--wait]',
    help: `Starts refundAndCancel: confirm the order is the user's current one, add the credit, cancel
the order (the pivot), delete the mirrored JustClick bill. Before the pivot a failure takes
the credit back; after it, steps only go forward. The workflow id is
refund-and-cancel:<user>:<order>: the same request twice is one run; another amount or bill
for the same order is refused as a conflict.

Options:
  --user <id>            Store user id (required)
  --order <id>           The order being refunded; must be the user's current order (required)
  --amount <decimal>     Credit to add, e.g. 5.50 (required)
  --reason <text>        Why: recorded in the run, the UI and the ledger (required)
  --justclick-bill <id>  The mirrored JustClick bill to delete
  --requested-by <name>  Who asks (default: $USER)

${reasonRule}
${waitHelp}

Example:
  orderflow start refund-and-cancel --user 7 --order 319 --amount 5.50 --reason damaged --wait`,
    options: {
      user: { type: 'string' }, order: { type: 'string' }, amount: { type: 'string' }, 'justclick-bill': { type: 'string' },
      reason: { type: 'string' }, 'requested-by': { type: 'string' }, wait: { type: 'boolean' },
    },
    input: (values, env) => ({
      userId: idOption(values['user']),
      orderId: idOption(values['order']),
      amount: text(values['amount']),
      justclickBillId: text(values['justclick-bill']),
      reason: text(values['reason']),
      requestedBy: text(values['requested-by']) ?? env['USER'] ?? 'orderflow-cli',
    }),
  },
};

const processPaidOrderRegistration: WorkflowRegistration<typeof processPaidOrder> = {
  workflowType: 'processPaidOrder',
  validate: validateProcessPaidOrder,
  idTemplate: idTemplates.processPaidOrder,
  idValues: (input) => ({ userId: input.userId, orderId: input.orderId }),
  sameRequestFields: ['userId', 'orderId', 'justclickBillId', 'paymentDeadline'],
  searchAttributesAtStart: { StoreUserId: 'userId', StoreOrderId: 'orderId', JustClickBillId: 'justclickBillId' },
  summary: 'Process paid order {orderId} for store user {userId}',
  details: [['user', 'userId'], ['order', 'orderId'], ['JustClick bill', 'justclickBillId'], ['payment deadline', 'paymentDeadline', defaultPaymentDeadline]],
  contractTypes: { input: 'ProcessPaidOrderInput', result: 'RunResult' },
  extraSignals: [{ name: 'paymentReceived', argument: 'PaymentReceived' }],
  cli: {
    name: 'process-paid-order',
    summary: 'Process the current order once paid, waiting for payment if an amount is due',
    usage: 'start process-paid-order --user <id> --order <id> [--justclick-bill <id>] [--payment-deadline <duration>] [--wait]',
    help: `Starts processPaidOrder: confirm the order, process it (marks it paid and delivers its
products); while an amount is due, wait for the paymentReceived signal up to the deadline,
then ask an operator; finally mark the JustClick bill paid.

Options:
  --user <id>                     Store user id (required)
  --order <id>                    The user's current order (required)
  --justclick-bill <id>           The mirrored JustClick bill to mark paid
  --payment-deadline <duration>   How long to wait for a payment, e.g. "30 minutes" (default ${defaultPaymentDeadline})
${waitHelp}`,
    options: {
      user: { type: 'string' }, order: { type: 'string' }, 'justclick-bill': { type: 'string' },
      'payment-deadline': { type: 'string' }, wait: { type: 'boolean' },
    },
    input: (values) => ({
      userId: idOption(values['user']),
      orderId: idOption(values['order']),
      justclickBillId: text(values['justclick-bill']),
      paymentDeadline: text(values['payment-deadline']),
    }),
  },
};

const adjustCreditRegistration: WorkflowRegistration<typeof adjustCredit> = {
  workflowType: 'adjustCredit',
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
  cli: {
    name: 'adjust-credit',
    summary: "Add or subtract a user's credit, exactly once",
    usage: 'start adjust-credit --user <id> --action add|subtract --amount <decimal> --description <text> --reason <text> [--request-id <id>] [--wait]',
    help: `Starts adjustCredit: one add_subtract_credit, exactly once. The workflow id is
adjust-credit:<user>:<request id> (or a digest of the request): the same request twice is one
run; another action, amount or description under the same request id is refused as a conflict.

Options:
  --user <id>             Store user id (required)
  --action add|subtract   (required)
  --amount <decimal>      e.g. 5.00 (required)
  --description <text>    Shown to the user in the store (required)
  --reason <text>         Why: recorded in the run, the UI and the ledger (required)
  --request-id <id>       Your idempotency key, e.g. a coupon redemption id

Who asks is recorded as $USER.

${reasonRule}
${waitHelp}`,
    options: {
      user: { type: 'string' }, action: { type: 'string' }, amount: { type: 'string' }, description: { type: 'string' },
      reason: { type: 'string' }, 'request-id': { type: 'string' }, wait: { type: 'boolean' },
    },
    input: (values, env) => ({
      userId: idOption(values['user']),
      action: text(values['action']),
      amount: text(values['amount']),
      description: text(values['description']),
      reason: text(values['reason']),
      requestedBy: env['USER'] ?? 'orderflow-cli',
      requestId: text(values['request-id']),
    }),
  },
};

const cancelOrderRegistration: WorkflowRegistration<typeof cancelOrder> = {
  workflowType: 'cancelOrder',
  validate: validateCancelOrder,
  idTemplate: idTemplates.cancelOrder,
  idValues: (input) => ({ userId: input.userId, orderId: input.orderId }),
  sameRequestFields: ['userId', 'orderId', 'justclickBillId', 'requester'],
  searchAttributesAtStart: { StoreUserId: 'userId', StoreOrderId: 'orderId', JustClickBillId: 'justclickBillId' },
  summary: 'Cancel order {orderId} for store user {userId} (requested by {requester})',
  details: [['user', 'userId'], ['order', 'orderId'], ['JustClick bill', 'justclickBillId'], ['requester', 'requester'], ['reason', 'reason']],
  contractTypes: { input: 'CancelOrderInput', result: 'RunResult' },
  extraSignals: [],
  cli: {
    name: 'cancel-order',
    summary: "Cancel a user's current order and delete its JustClick bill",
    usage: 'start cancel-order --user <id> --order <id> [--justclick-bill <id>] [--requester ADMIN|BUYER] [--reason <text>] [--wait]',
    help: `Starts cancelOrder: confirm the order is current, cancel it (already cancelled counts as
done), delete the mirrored JustClick bill.

Options:
  --user <id>               Store user id (required)
  --order <id>              The user's current order (required)
  --justclick-bill <id>     The mirrored JustClick bill to delete
  --requester ADMIN|BUYER   Who asks for the cancellation (default ADMIN)
  --reason <text>           Why (optional: leave it out to record none)

${reasonRule}
${waitHelp}`,
    options: {
      user: { type: 'string' }, order: { type: 'string' }, 'justclick-bill': { type: 'string' },
      requester: { type: 'string' }, reason: { type: 'string' }, wait: { type: 'boolean' },
    },
    input: (values) => ({
      userId: idOption(values['user']),
      orderId: idOption(values['order']),
      justclickBillId: text(values['justclick-bill']),
      requester: text(values['requester']) ?? 'ADMIN',
      reason: text(values['reason']),
    }),
  },
};

/** Every startable workflow, by workflow type. */
export const workflowRegistry = {
  refundAndCancel: refundAndCancelRegistration,
  processPaidOrder: processPaidOrderRegistration,
  adjustCredit: adjustCreditRegistration,
  cancelOrder: cancelOrderRegistration,
} as const satisfies { readonly [Type in string]: { readonly workflowType: Type } };

export type WorkflowTypeName = keyof typeof workflowRegistry;
export type WorkflowFunctions = {
  refundAndCancel: typeof refundAndCancel;
  processPaidOrder: typeof processPaidOrder;
  adjustCredit: typeof adjustCredit;
  cancelOrder: typeof cancelOrder;
};
export type WorkflowInput<T extends WorkflowTypeName> = Parameters<WorkflowFunctions[T]>[0];

/** Messages every workflow accepts (the operator protocol), with their contract types. */
export const operatorMessages = {
  signals: [{ name: 'operatorDecision', argument: 'OperatorDecision' }],
  updates: [{ name: 'operatorDecision', argument: 'OperatorDecision', result: 'OperatorDecisionReply' }],
  queries: [{ name: 'status', result: 'RunStatus' }],
} as const;

/** `OrderflowState` at start. */
export const stateAtStart = { attribute: orderflowSearchAttributes.state.name, value: RunState.Running } as const;
