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
  /** Items started per run before continue-as-new (history stays bounded). */
  defaultItemsPerRun: 500,
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

/** What the bulk activity is given for one item. */
export interface BulkItemRequest {
  kind: BulkKind;
  item: BulkItem;
  index: number;
  bulkId: string;
  workflowIdPrefix?: string | undefined;
}

export interface BulkRunInput {
  bulkId: string;
  kind: BulkKind;
  /** The items not started yet, in file order (all of them in the first run). */
  items: BulkItem[];
  /** How many items the file has in all. */
  total: number;
  /** At most this many items running at once. */
  concurrency: number;
  /** At most this many item starts per second. */
  rate: number;
  /** Put before every item's workflow id (as the starters' workflowIdPrefix). */
  workflowIdPrefix?: string | undefined;
  /** Items started per run before continue-as-new; default {@link bulkLimits.defaultItemsPerRun}. */
  itemsPerRun?: number | undefined;
  /** Carried over continue-as-new. */
  carried?: BulkCarriedState | undefined;
}

export interface BulkCarriedState {
  outcomes: BulkItemOutcome[];
  state: 'running' | 'paused' | 'cancelled';
  startedAt: string;
  controls: BulkControlRecord[];
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

export interface BulkCounts {
  total: number;
  done: number;
  failed: number;
  waiting: number;
  running: number;
  notStarted: number;
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
  /** Items waiting for an operator (workflow ids), and failed items with a short reason. */
  waiting: Array<Pick<BulkItemOutcome, 'workflowId' | 'detail'>>;
  failed: Array<Pick<BulkItemOutcome, 'workflowId' | 'detail'>>;
  controls: BulkControlRecord[];
}

export interface BulkResult {
  bulkId: string;
  kind: BulkKind;
  state: 'finished' | 'cancelled';
  counts: BulkCounts;
  startedAt: string;
  finishedAt: string;
  /** Every item's outcome, in file order. */
  items: BulkItemOutcome[];
  controls: BulkControlRecord[];
}

export const bulkQueryNames = { progress: 'progress' } as const;
export const bulkUpdateNames = { pause: 'pause', resume: 'resume', cancel: 'cancel' } as const;
export const bulkWorkflowType = 'bulkRun';

/** The activity bulkRun calls (src/features/bulk/activities.ts implements it). */
export interface BulkActivities {
  /** Starts (or joins) one item's run and waits until it completes, fails or waits for an operator. */
  runBulkItem(request: BulkItemRequest): Promise<BulkItemOutcome>;
}
