/** What the reconcile workflow finds and returns. Workflow-safe: types and constants only. */

/**
 * The kinds of drift, as docs/runbook.md ("Drift") explains them, and what follows a finding of
 * each: a safe repair done by the reconcile run, or an operator's decision.
 */
export const followUpOfKind = Object.freeze({
  'stale-effect': 'operator',
  'late-landing': 'operator',
  'order-not-cancelled': 'operator',
  'bill-still-exists': 'repair',
  'bill-not-paid': 'operator',
  'operator-wait': 'operator',
  'double-effect': 'operator',
} as const);
export type DriftKind = keyof typeof followUpOfKind;
export const driftKinds = Object.keys(followUpOfKind) as DriftKind[];

export interface DriftFinding {
  /** Stable: `<kind>:<effect key or workflow id>`; the same drift found again has the same id. */
  id: string;
  kind: DriftKind;
  /** The run the drift belongs to. */
  workflowId: string;
  effectKey: string | null;
  userId: string | null;
  summary: string;
  /** Amounts, states, timeline (UTC ISO times). */
  evidence: Record<string, string>;
  /** late-landing, double-effect of a refund: the credit change that is there twice (what `compensate` takes back once). */
  credit?: { userId: number; action: 'add' | 'subtract'; amount: string } | undefined;
}

export interface SettledFinding extends DriftFinding {
  /** false: an earlier reconcile reported it already. */
  isNew: boolean;
  followUp: (typeof followUpOfKind)[DriftKind];
  /** What was done: the repair's outcome, or what the operator must decide. */
  outcome: string;
  /** The `reconcile-finding` run where an operator decides (operator follow-ups only). */
  findingWorkflowId?: string | undefined;
}

/** The input of a `reconcileFinding` run: one finding an operator decides on. */
export interface ReconcileFindingInput {
  finding: DriftFinding;
}

export interface ReconcileInput {
  /** Look at effects changed in the last this many milliseconds ({@link reconcileDefaults}). */
  sinceMs?: number;
  /** A run waiting for an operator longer than this is a finding. */
  operatorWaitMs?: number;
}

export interface ReconcileResult {
  since: string;
  checkedAt: string;
  findings: SettledFinding[];
  newFindings: number;
  repaired: number;
  /** The Markdown report (also the run's current details). */
  report: string;
}

export const reconcileDefaults = Object.freeze({
  sinceMs: 24 * 3_600_000,
  operatorWaitMs: 24 * 3_600_000,
  /** At most this many API reads per second (the store API is one PHP installation). */
  readsPerSecond: 5,
  /**
   * A checkpoint is this much before the time it counted from, so the next reconcile also reads
   * changes written just before (a write in flight, a database clock behind): skipping one would hide drift.
   */
  checkpointOverlapMs: 5 * 60_000,
});

/** The audit events a reconcile writes to the ledger (how a later reconcile knows a finding is not new). */
export const reconcileAuditEvents = Object.freeze({ finding: 'reconcile.finding', repaired: 'reconcile.repaired', checkpoint: 'reconcile.checkpoint' });

export interface FindDriftInput {
  /** UTC ISO times: the window's start (changes since the checkpoint, not before this), and the workflow's now. */
  since: string;
  now: string;
  operatorWaitMs: number;
  /** Every effect changed in the window, whatever the checkpoint: a sweep for drift made by hand long after. */
  fullWindow?: boolean | undefined;
}

export interface SettleDriftInput {
  reconcileWorkflowId: string;
  findings: DriftFinding[];
  /** findDrift's `now`: the checkpoint moves there (less the overlap) once all is recorded; absent: none is written. */
  checkedAt?: string | undefined;
}

export interface ReconcileActivities {
  findDrift(input: FindDriftInput): Promise<DriftFinding[]>;
  settleDrift(input: SettleDriftInput): Promise<SettledFinding[]>;
  /** The finding as reconcile recorded it; InvalidInput when unknown, different, or not the calling run's finding. */
  recordedFinding(input: { finding: DriftFinding }): Promise<DriftFinding>;
}
