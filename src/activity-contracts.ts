/** What the workflows and their activities exchange (./contracts.ts re-exports it); not part of the callers' contract. */

export interface OrderObservation {
  userId: number;
  orderId: number;
  /** The expected order's state; `absent` when the user has no such order. */
  state: 'current' | 'cancelled' | 'processed' | 'absent';
  currentOrderId: number | null;
  paymentStatus: 'unpaid' | 'paid' | 'cancelled' | 'unknown';
  amountDue: string | null;
  total: string | null;
  /** The expected order was cancelled/processed by this run's own effect (a re-run after reset). */
  changedByThisRun: boolean;
}

/** An effect's ledger key and the run that makes it: every activity input about one effect has them. */
interface EffectKeyed {
  effectKey: string;
  workflowId: string;
}

export interface CreditEffectInput extends EffectKeyed {
  userId: number;
  creditAction: 'add' | 'subtract';
  amount: string;
  description: string;
  /** The order this credit refunds: the ledger refuses a second refund of an order, whatever run makes it. */
  refundOfOrderId?: number | undefined;
}

export interface CompensationInput extends EffectKeyed {
  /** The forward effect this undoes; nothing is done when it never took effect. */
  forwardEffectKey: string;
  userId: number;
  amount: string;
  description: string;
}

export interface OrderEffectInput extends EffectKeyed {
  userId: number;
  orderId: number;
  requester?: 'ADMIN' | 'BUYER' | undefined;
}

export interface BillEffectInput extends EffectKeyed {
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

export interface ResolveEffectInput extends EffectKeyed {
  resolution: 'resolved-applied' | 'resolved-not-applied';
  operator: string;
  /** The caller identity Temporal recorded for the operator's decision. */
  identity?: string | null | undefined;
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

/** Every activity the workflows call; each changing one makes its effect at most once per effect key. */
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
  markJustClickBillPaid(input: BillEffectInput): Promise<EffectResult>;
  /** Records an operator's resolution of an effect whose outcome was unknown. */
  resolveEffect(input: ResolveEffectInput): Promise<void>;
  /** Appends to the ledger's audit trail (outlives Temporal's history retention). */
  recordAudit(input: AuditInput): Promise<void>;
  /** Reads the run's own history: the caller identity Temporal recorded for a decision, and for the run's start. */
  recordedIdentity(input: RecordedIdentityInput): Promise<RecordedIdentity>;
  /** The worker's configured approval threshold (ORDERFLOW_APPROVAL_ABOVE), or null when approvals are off. */
  approvalThreshold(): Promise<ApprovalThreshold>;
}

/** Which decision's identity to read; the run is always the one that calls the activity (its activity info). */
export interface RecordedIdentityInput {
  /** The decision came as this update (its update id). */
  updateId?: string | undefined;
  /** The decision came as the n-th `operatorDecision` signal of this run (1-based, in history order). */
  signalNumber?: number | undefined;
}

export interface RecordedIdentity {
  /** The identity recorded for the update or signal; null when the history names none. */
  decidedBy: string | null;
  /** The identity recorded in WorkflowExecutionStarted. */
  startedBy: string | null;
}

export interface ApprovalThreshold {
  /** A credit change above this amount (decimal string) waits for a second person's approval; null: off. */
  above: string | null;
}
