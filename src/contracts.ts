/**
 * What workflows, activities and callers share: inputs, results, failure type names,
 * the operator protocol's messages, run states and step names.
 *
 * Workflow code imports this module, so it imports nothing with I/O (only types and
 * @temporalio/common through ./search-attributes.ts).
 */

// ---------------------------------------------------------------------------------------
// Failure types: the `type` of every ApplicationFailure an activity or workflow throws.
// Callers and workflow code branch on these names, never on message text.
// ---------------------------------------------------------------------------------------
export const FailureType = {
  /** Input refused before anything was sent to Temporal or an API. */
  InvalidInput: 'InvalidInput',
  /** The API answered a documented, final error (nothing changed). */
  ApiRejected: 'ApiRejected',
  /** The API refused our credentials, signature or address: ops must fix configuration. */
  ApiAccessDenied: 'ApiAccessDenied',
  /** The API answered a documented error that may succeed later (Temporal retries it). */
  ApiRetryableRejection: 'ApiRetryableRejection',
  /** The request never reached the API (Temporal retries it). */
  ApiNotReached: 'ApiNotReached',
  /**
   * The last attempt may have taken effect (the API layer's OutcomeUnknownError, or an
   * earlier attempt that may still be in flight): Temporal tries again later, and the next
   * attempt reconciles before acting. Retryable.
   */
  OutcomePending: 'OutcomePending',
  /**
   * The evidence cannot decide whether an effect happened: a person must look and decide
   * (retry or skip). Non-retryable.
   */
  OutcomeNeedsOperator: 'OutcomeNeedsOperator',
  /** The user's current order is not the order the run is about. Non-retryable. */
  OrderNotCurrent: 'OrderNotCurrent',
  /** process_order refused: the order still has an amount due. Non-retryable. */
  AmountDue: 'AmountDue',
  /** subtract refused: the user does not have that much credit (already spent). Non-retryable. */
  CreditAlreadySpent: 'CreditAlreadySpent',
  /** Another effect for the same user is unresolved; retried until it is. */
  UserBusy: 'UserBusy',
  /** The JustClick answer's signature did not verify; treated as an unknown outcome. */
  ResponseNotTrusted: 'ResponseNotTrusted',
  /** The whole run ended after undoing its effects. */
  RunCompensated: 'RunCompensated',
  /** An operator chose `abort`. */
  RunAborted: 'RunAborted',
  /**
   * Undoing the run's effects could not complete and an operator chose `abort` there: some
   * effects stay (run state `partially-compensated`).
   */
  RunPartiallyCompensated: 'RunPartiallyCompensated',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

// ---------------------------------------------------------------------------------------
// Run states and steps (values of the OrderflowState / OrderflowStep search attributes).
// ---------------------------------------------------------------------------------------
export const RunState = {
  Running: 'running',
  AwaitingOperator: 'awaiting-operator',
  WaitingForPayment: 'waiting-for-payment',
  Compensating: 'compensating',
  Completed: 'completed',
  Compensated: 'compensated',
  PartiallyCompensated: 'partially-compensated',
  Aborted: 'aborted',
  Failed: 'failed',
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'not-needed';

export interface StepStatus {
  name: string;
  state: StepState;
  /** A short line for people: what happened, e.g. `credit 0.00 → 5.00` or `ERROR_NO_ORDER | There is no order to cancel`. */
  detail?: string | undefined;
  /** The ledger key of the effect this step makes, when it makes one. */
  effectKey?: string | undefined;
}

// ---------------------------------------------------------------------------------------
// The operator protocol.
// ---------------------------------------------------------------------------------------
export const operatorActions = ['retry', 'skip', 'compensate', 'abort'] as const;
export type OperatorAction = (typeof operatorActions)[number];

/** What an operator sends, from the UI (Update or Signal `operatorDecision`) or the CLI. */
export interface OperatorDecision {
  action: OperatorAction;
  note: string;
  operator: string;
}

/** What the `operatorDecision` update answers: what will happen now. */
export interface OperatorDecisionReply {
  accepted: true;
  action: OperatorAction;
  willHappen: string;
}

export interface RecordedDecision extends OperatorDecision {
  step: string;
  at: string;
  via: 'update' | 'signal';
}

/** Why a run is waiting for an operator, shown in `status` and the UI's current details. */
export interface OperatorRequest {
  step: string;
  reason: string;
  /** The failure as an API or activity reported it: code, vendor text, message. */
  failure: FailureSummary;
  /** What each available action would do; only these actions are accepted. */
  choices: Partial<Record<OperatorAction, string>>;
  since: string;
}

export interface FailureSummary {
  type: string;
  message: string;
  api?: string | undefined;
  operation?: string | undefined;
  code?: string | undefined;
  vendorText?: string | undefined;
  observed?: Record<string, string> | undefined;
}

export interface RunStatus {
  workflowType: string;
  state: RunState;
  step: string;
  steps: StepStatus[];
  awaiting: OperatorRequest | null;
  decisions: RecordedDecision[];
}

export const signalNames = {
  operatorDecision: 'operatorDecision',
  paymentReceived: 'paymentReceived',
} as const;
export const updateNames = { operatorDecision: 'operatorDecision' } as const;
export const queryNames = { status: 'status' } as const;

// ---------------------------------------------------------------------------------------
// Workflow inputs and results. Money crosses boundaries as decimal strings ("5.00").
// ---------------------------------------------------------------------------------------
export interface RefundAndCancelInput {
  userId: number;
  orderId: number;
  /** Decimal string with at most two places, > 0. */
  amount: string;
  justclickBillId?: string | undefined;
  reason: string;
  requestedBy: string;
}

/** How long processPaidOrder waits for a payment when its input names no deadline. */
export const defaultPaymentDeadline = '24 hours';

export interface ProcessPaidOrderInput {
  userId: number;
  orderId: number;
  justclickBillId?: string | undefined;
  /** How long to wait for `paymentReceived` while an amount is due, e.g. `30 minutes`; default {@link defaultPaymentDeadline}. */
  paymentDeadline?: string | undefined;
}

export interface AdjustCreditInput {
  userId: number;
  action: 'add' | 'subtract';
  amount: string;
  description: string;
  reason: string;
  /** Who asked; defaults to `backend`. */
  requestedBy?: string | undefined;
  /**
   * The caller's idempotency key for this adjustment (e.g. a coupon redemption id). The
   * workflow id is built from it; without it, from the adjustment's content, so that the
   * same request sent twice is one run.
   */
  requestId?: string | undefined;
}

export interface CancelOrderInput {
  userId: number;
  orderId: number;
  justclickBillId?: string | undefined;
  requester: 'ADMIN' | 'BUYER';
  reason?: string | undefined;
}

export interface PaymentReceived {
  note?: string | undefined;
  by?: string | undefined;
}

export interface RunResult {
  workflowType: string;
  outcome: 'completed' | 'compensated' | 'partially-compensated' | 'aborted';
  summary: string;
  steps: StepStatus[];
  decisions: RecordedDecision[];
}

// ---------------------------------------------------------------------------------------
// Activity inputs and results (the activity functions live in src/activities).
// ---------------------------------------------------------------------------------------
export type CurrentOrderState = 'current' | 'cancelled' | 'processed' | 'absent';

export interface OrderObservation {
  userId: number;
  orderId: number;
  /** The expected order's state; `absent` when the user has no such order. */
  state: CurrentOrderState;
  /** The user's current order id, if any. */
  currentOrderId: number | null;
  paymentStatus: 'unpaid' | 'paid' | 'cancelled' | 'unknown';
  amountDue: string | null;
  total: string | null;
  /** The expected order was cancelled/processed by this run's own effect (a re-run after reset). */
  changedByThisRun: boolean;
}

export interface CreditEffectInput {
  effectKey: string;
  workflowId: string;
  userId: number;
  creditAction: 'add' | 'subtract';
  amount: string;
  description: string;
}

export interface CompensationInput {
  effectKey: string;
  /** The forward effect this undoes; nothing is done when it never took effect. */
  forwardEffectKey: string;
  workflowId: string;
  userId: number;
  amount: string;
  description: string;
}

export interface OrderEffectInput {
  effectKey: string;
  workflowId: string;
  userId: number;
  orderId: number;
  requester?: 'ADMIN' | 'BUYER' | undefined;
}

export interface BillEffectInput {
  effectKey: string;
  workflowId: string;
  billId: string;
  userId?: number | undefined;
}

export interface EffectResult {
  effectKey: string;
  /** `applied`: done now or earlier (recorded); `not-needed`: nothing to do (already so, or nothing to undo). */
  status: 'applied' | 'not-needed';
  /** True when the result came from the ledger without calling the API. */
  fromLedger: boolean;
  detail: string;
}

export interface ResolveEffectInput {
  effectKey: string;
  workflowId: string;
  resolution: 'resolved-applied' | 'resolved-not-applied';
  operator: string;
  note: string;
}

export interface AuditInput {
  workflowId: string;
  event: string;
  actor?: string | undefined;
  details: Record<string, unknown>;
  userId?: number | undefined;
}

export interface ObserveOrderInput {
  userId: number;
  orderId: number;
  /** The effect key of this run's own change to the order (cancel/process), to recognise a re-run. */
  changeEffectKey: string;
}

/**
 * Every activity orderflow's workflows call; `createActivities(deps)` in src/activities
 * returns exactly this. Each changing activity takes an effect key and makes its effect
 * at most once (see src/ledger).
 */
export interface OrderflowActivities {
  /** Reads get_cart and list_orders: is the expected order the user's current one? */
  observeOrder(input: ObserveOrderInput): Promise<OrderObservation>;
  /** add_subtract_credit, once per effect key; reconciles from get_credit after an unknown outcome. */
  applyCreditChange(input: CreditEffectInput): Promise<EffectResult>;
  /** Undoes a credit change (subtracts what was added), once; nothing when the forward effect never happened. */
  undoCreditChange(input: CompensationInput): Promise<EffectResult>;
  /** cancel_order, guarded: the current order must be the expected one; already cancelled counts as done. */
  cancelCurrentOrder(input: OrderEffectInput): Promise<EffectResult>;
  /** process_order, guarded: already paid counts as done; an amount due fails as AmountDue. */
  processCurrentOrder(input: OrderEffectInput): Promise<EffectResult>;
  /** JustClick DeleteOrder; absent counts as deleted. */
  deleteJustClickBill(input: BillEffectInput): Promise<EffectResult>;
  /** JustClick UpdateOrderStatus to paid. */
  markJustClickBillPaid(input: BillEffectInput): Promise<EffectResult>;
  /** Records an operator's resolution of an effect whose outcome was unknown. */
  resolveEffect(input: ResolveEffectInput): Promise<void>;
  /** Appends to the ledger's audit trail (outlives Temporal's history retention). */
  recordAudit(input: AuditInput): Promise<void>;
}
