/**
 * What the bulk workflow, its activity and its callers share: the kinds of bulk, its input,
 * its progress and its result, and the names of its query and updates.
 *
 * Workflow code imports this module, so it imports nothing with I/O.
 */
import type { AdjustCreditInput, CancelOrderInput, RefundAndCancelInput } from '../../contracts.ts';

/** The single-run workflows a bulk can run, by their `orderflow start` command names. */
export const bulkKinds = ['refund-and-cancel', 'cancel-order', 'adjust-credit'] as const;
export type BulkKind = (typeof bulkKinds)[number];

export interface BulkItemInputs {
  'refund-and-cancel': RefundAndCancelInput;
  'cancel-order': CancelOrderInput;
  'adjust-credit': AdjustCreditInput;
}

/** One item: the kind's ordinary workflow input, validated by the caller. */
export type BulkItem = BulkItemInputs[BulkKind];

/** Limits a bulk accepts; the CLI and the workflow both check them. */
export const bulkLimits = {
  maxItems: 10_000,
  maxConcurrency: 200,
  maxRate: 100,
  defaultConcurrency: 20,
  defaultRate: 10,
  /** Slices (src/features/bulk/activities.ts) per run before continue-as-new. */
  defaultSlicesPerRun: 100,
  /** How long one slice starts and follows items before it reports to the workflow. */
  sliceMs: 5_000,
  /**
   * The rows travel to the worker's database in uploads of at most this many bytes of JSON
   * (Temporal warns at 512 KiB per payload and refuses 2 MiB) …
   */
  maxUploadBytes: 256 * 1024,
  /** … and at most this many rows. */
  maxUploadRows: 1_000,
  /** Outcomes per report page (each detail is at most 1,000 characters: a page stays far below 512 KiB). */
  reportPageRows: 200,
  /** Waiting and failed items the workflow keeps to show (the report has them all). */
  shownItems: 50,
  /** Operator controls the workflow keeps to show (the latest). */
  shownControls: 20,
} as const;

/**
 * How an item ended, as far as the bulk is concerned:
 * `done` completed; `failed` failed, compensated or aborted; `waiting` waits for an
 * operator (counted and linked; the bulk goes on); `not-started` the bulk was cancelled first.
 */
export type BulkItemOutcomeKind = 'done' | 'failed' | 'waiting' | 'not-started';

export interface BulkItemOutcome {
  /** The item's position in the file (0-based). */
  index: number;
  /** The item's workflow id (its business key); empty for an item never started. */
  workflowId: string;
  outcome: BulkItemOutcomeKind;
  /** True when the item joined a run that existed before the bulk asked (running or completed). */
  joined?: boolean | undefined;
  /** For people: the run's summary, failure, or what it waits for. */
  detail?: string | undefined;
}

/** An item shown in the progress and the result (waiting or failed). */
export type BulkShownItem = Pick<BulkItemOutcome, 'workflowId' | 'detail'>;

/**
 * The bulk's input: which rows (stored in the worker's database by {@link bulkRowsUploadWorkflowType}
 * runs) and how fast. Its size does not depend on the rows.
 */
export interface BulkRunInput {
  bulkId: string;
  kind: BulkKind;
  /** How many rows the file has. */
  total: number;
  /** SHA-256 (hex) of the rows, {@link bulkRowsDigest}'s way: the bulk refuses stored rows that differ. */
  digest: string;
  /** At most this many items running at once. */
  concurrency: number;
  /** At most this many item starts per second. */
  rate: number;
  /** Put before every item's workflow id (as the starters' workflowIdPrefix). */
  workflowIdPrefix?: string | undefined;
  /** Slices per run before continue-as-new; default {@link bulkLimits.defaultSlicesPerRun}. */
  slicesPerRun?: number | undefined;
  /** How long one slice runs, in ms; default {@link bulkLimits.sliceMs} (tests use less). */
  sliceMs?: number | undefined;
  /** Carried over continue-as-new. */
  carried?: BulkCarriedState | undefined;
}

export interface BulkCarriedState {
  state: 'running' | 'paused' | 'cancelled';
  startedAt: string;
  controls: BulkControlRecord[];
  /** The next row to start. */
  next: number;
  /** Rows started and not settled yet (at most `concurrency`), and those of them that joined a run already there. */
  inFlight: number[];
  joinedInFlight: number[];
  counts: BulkSettledCounts;
  waiting: BulkShownItem[];
  failed: BulkShownItem[];
}

export interface BulkControl {
  operator: string;
  note: string;
}

export interface BulkControlRecord extends BulkControl {
  action: 'pause' | 'resume' | 'cancel';
  at: string;
}

export type BulkState = 'running' | 'paused' | 'cancelled' | 'finished';

export interface BulkSettledCounts {
  done: number;
  failed: number;
  waiting: number;
  notStarted: number;
}

export interface BulkCounts extends BulkSettledCounts {
  total: number;
  running: number;
  /** Not started yet (and not cancelled). */
  queued: number;
}

/** The `progress` query's answer. */
export interface BulkProgress {
  bulkId: string;
  kind: BulkKind;
  /** `cancelled`: no new item starts; running ones finish. */
  state: BulkState;
  counts: BulkCounts;
  concurrency: number;
  rate: number;
  startedAt: string;
  /** Items waiting for an operator and failed items with a short reason (the first {@link bulkLimits.shownItems}). */
  waiting: BulkShownItem[];
  failed: BulkShownItem[];
  controls: BulkControlRecord[];
}

/** How the bulk ended: counts, not items (every item's outcome is in the report, {@link bulkReportWorkflowType}). */
export interface BulkResult {
  bulkId: string;
  kind: BulkKind;
  state: 'finished' | 'cancelled';
  counts: BulkCounts;
  startedAt: string;
  finishedAt: string;
  /** The first {@link bulkLimits.shownItems} waiting and failed items. */
  waiting: BulkShownItem[];
  failed: BulkShownItem[];
  controls: BulkControlRecord[];
}

export const bulkQueryNames = { progress: 'progress' } as const;
export const bulkUpdateNames = { pause: 'pause', resume: 'resume', cancel: 'cancel' } as const;
export const bulkWorkflowType = 'bulkRun';
/** Stores one upload of a bulk's rows in the worker's database (src/features/bulk/rows-workflow.ts). */
export const bulkRowsUploadWorkflowType = 'bulkRowsUpload';
/** Reads one page of a bulk's outcomes from the worker's database. */
export const bulkReportWorkflowType = 'bulkReportPage';

/** One upload: rows `firstRow` … of a bulk, validated by the caller (and again where they are stored). */
export interface BulkRowsUpload {
  bulkId: string;
  kind: BulkKind;
  firstRow: number;
  items: BulkItem[];
}

export interface BulkReportRequest {
  bulkId: string;
  kind: BulkKind;
  /** First row (0-based) and how many ({@link bulkLimits.reportPageRows} at most). */
  from: number;
  count: number;
  /** Put before the workflow id shown for items never started. */
  workflowIdPrefix?: string | undefined;
}

/** One report page: every row of the range that has an outcome, in file order. */
export interface BulkReportPage {
  items: BulkItemOutcome[];
}

/** One slice of a bulk: follow the rows in flight, start rows from `next` on, for at most `sliceMs`. */
export interface BulkSliceRequest {
  bulkId: string;
  kind: BulkKind;
  total: number;
  next: number;
  /** Rows started and not settled yet (row numbers: the next slice finds their runs by business key), and those that joined a run already there. */
  inFlight: number[];
  joinedInFlight: number[];
  concurrency: number;
  rate: number;
  /** False when paused or cancelled: only follow the rows in flight. */
  startNew: boolean;
  sliceMs: number;
  workflowIdPrefix?: string | undefined;
}

export interface BulkSliceResult {
  next: number;
  inFlight: number[];
  joinedInFlight: number[];
  /** Settled so far, over the whole bulk (from the database: a retried slice counts nothing twice). */
  counts: BulkSettledCounts;
  /** Items that settled waiting or failed in this slice (at most {@link bulkLimits.shownItems} each). */
  waiting: BulkShownItem[];
  failed: BulkShownItem[];
}

/** The activities of the bulk workflows (src/features/bulk/activities.ts and rows-activities.ts). */
export interface BulkActivities {
  /** Checks that the rows stored for a bulk are the ones its start named (count and digest). */
  checkBulkRows(request: { bulkId: string; total: number; digest: string }): Promise<void>;
  /** Starts and follows items for one slice. */
  runBulkSlice(request: BulkSliceRequest): Promise<BulkSliceResult>;
  /** A cancelled bulk: every row not started becomes `not-started`; the final counts. */
  closeBulkRows(request: { bulkId: string; from: number }): Promise<BulkSettledCounts>;
}

/** The local activities of the upload and report workflows. */
export interface BulkRowsActivities {
  storeBulkRows(upload: BulkRowsUpload): Promise<{ stored: number }>;
  readBulkReport(request: BulkReportRequest): Promise<BulkReportPage>;
}
