/** What the bulk workflow, its activities and its callers share. Workflow code imports it: no I/O. */
import type { AdjustCreditInput, CancelOrderInput, RefundAndCancelInput } from '../../contracts.ts';

/** The single-run workflows a bulk can run, by their `orderflow start` command names. */
export const bulkKinds = ['refund-and-cancel', 'cancel-order', 'adjust-credit'] as const;
export type BulkKind = (typeof bulkKinds)[number];

/** One item: the kind's ordinary workflow input, validated by the caller. */
export type BulkItem = RefundAndCancelInput | CancelOrderInput | AdjustCreditInput;

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
  /** Rows go to the worker's database in uploads of at most (Temporal warns at 512 KiB per payload, refuses 2 MiB): */
  maxUploadBytes: 256 * 1024,
  maxUploadRows: 1_000,
  /** Outcomes per report page (each detail is at most 1,000 characters: a page stays far below 512 KiB). */
  reportPageRows: 200,
  /** Waiting and failed items the workflow keeps to show (the report has them all). */
  shownItems: 50,
  /** Operator controls the workflow keeps to show (the latest). */
  shownControls: 20,
} as const;

export interface BulkItemOutcome {
  /** The item's position in the file (0-based). */
  index: number;
  /** The item's workflow id (its business key); empty for an item never started. */
  workflowId: string;
  /** `waiting`: waits for an operator (counted, linked; the bulk goes on); `not-started`: the bulk was cancelled. */
  outcome: 'done' | 'failed' | 'waiting' | 'not-started';
  /** True when the item joined a run that existed before the bulk asked (running or completed). */
  joined?: boolean | undefined;
  /** For people: the run's summary, failure, or what it waits for. */
  detail?: string | undefined;
}

/** An item shown in the progress and the result (waiting or failed). */
export type BulkShownItem = Pick<BulkItemOutcome, 'workflowId' | 'detail'>;

/** The first {@link bulkLimits.shownItems} waiting and failed items. */
interface BulkShownItems {
  waiting: BulkShownItem[];
  failed: BulkShownItem[];
}

/** Rows started, not settled (the next slice finds their runs by business key); those that joined an existing run. */
interface BulkRowsInFlight {
  /** The next row to start. */
  next: number;
  inFlight: number[];
  joinedInFlight: number[];
}

/** Which rows (stored by {@link bulkRowsUploadWorkflowType} runs) and how fast; its size does not grow with them. */
export interface BulkRunInput {
  bulkId: string;
  kind: BulkKind;
  total: number;
  /** SHA-256 (hex) of the rows, {@link bulkRowsDigest}'s way: the bulk refuses stored rows that differ. */
  digest: string;
  /** At most this many items running at once, and item starts per second. */
  concurrency: number;
  rate: number;
  /** Put before every item's workflow id (as the starters' workflowIdPrefix). */
  workflowIdPrefix?: string | undefined;
  /** Defaults {@link bulkLimits.defaultSlicesPerRun} and {@link bulkLimits.sliceMs} (tests use less). */
  slicesPerRun?: number | undefined;
  sliceMs?: number | undefined;
  /** Carried over continue-as-new. */
  carried?: BulkCarriedState | undefined;
}

export interface BulkCarriedState extends BulkRowsInFlight, BulkShownItems {
  state: 'running' | 'paused' | 'cancelled';
  startedAt: string;
  controls: BulkControlRecord[];
  counts: BulkSettledCounts;
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

interface BulkOverview extends BulkShownItems {
  bulkId: string;
  kind: BulkKind;
  counts: BulkCounts;
  startedAt: string;
  controls: BulkControlRecord[];
}

/** The `progress` query's answer. */
export interface BulkProgress extends BulkOverview {
  /** `cancelled`: no new item starts; running ones finish. */
  state: BulkState;
  concurrency: number;
  rate: number;
}

/** How the bulk ended: counts, not items (every item's outcome is in the report, {@link bulkReportWorkflowType}). */
export interface BulkResult extends BulkOverview {
  state: 'finished' | 'cancelled';
  finishedAt: string;
}

export const bulkQueryNames = { progress: 'progress' } as const;
export const bulkUpdateNames = { pause: 'pause', resume: 'resume', cancel: 'cancel' } as const;
export const bulkWorkflowType = 'bulkRun';
/** Stores one upload of a bulk's rows in the worker's database (src/features/bulk/rows-workflow.ts). */
export const bulkRowsUploadWorkflowType = 'bulkRowsUpload';
/** Reads one page of a bulk's outcomes from the worker's database. */
export const bulkReportWorkflowType = 'bulkReportPage';

/** One upload: rows `firstRow` … of a bulk, validated by the caller (and again where they are stored). */
export interface BulkRowsUpload extends Pick<BulkRunInput, 'bulkId' | 'kind'> {
  firstRow: number;
  items: BulkItem[];
}

/** `workflowIdPrefix`: put before the workflow id shown for items never started. */
export interface BulkReportRequest extends Pick<BulkRunInput, 'bulkId' | 'kind' | 'workflowIdPrefix'> {
  /** First row (0-based) and how many ({@link bulkLimits.reportPageRows} at most). */
  from: number;
  count: number;
}

/** One report page: every row of the range that has an outcome, in file order. */
export interface BulkReportPage {
  items: BulkItemOutcome[];
}

/** One slice of a bulk: follow the rows in flight, start rows from `next` on, for at most `sliceMs`. */
export interface BulkSliceRequest
  extends BulkRowsInFlight, Pick<BulkRunInput, 'bulkId' | 'kind' | 'total' | 'concurrency' | 'rate' | 'workflowIdPrefix'> {
  /** False when paused or cancelled: only follow the rows in flight. */
  startNew: boolean;
  sliceMs: number;
}

/** `counts`: the whole bulk's, from the database (a retried slice counts nothing twice); shown items: this slice's. */
export interface BulkSliceResult extends BulkRowsInFlight, BulkShownItems {
  counts: BulkSettledCounts;
}

/** The activities of the bulk workflows (src/features/bulk/activities.ts). */
export interface BulkActivities {
  /** Checks that the rows stored for a bulk are the ones its start named (count and digest). */
  checkBulkRows(request: { bulkId: string; total: number; digest: string }): Promise<void>;
  runBulkSlice(request: BulkSliceRequest): Promise<BulkSliceResult>;
  /** A cancelled bulk: every row not started becomes `not-started`; the final counts. */
  closeBulkRows(request: { bulkId: string; from: number }): Promise<BulkSettledCounts>;
}

/** The local activities of the upload and report workflows. */
export interface BulkRowsActivities {
  storeBulkRows(upload: BulkRowsUpload): Promise<{ stored: number }>;
  readBulkReport(request: BulkReportRequest): Promise<BulkReportPage>;
}
