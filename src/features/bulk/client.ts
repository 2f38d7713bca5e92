/** Starting a bulk (its id derives from its items), its rows as stored, and its report (docs/architecture.md, "bulkRun"). */
import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { WorkflowClient } from '@temporalio/client';
import { bulkLimits, bulkReportWorkflowType, bulkRowsUploadWorkflowType, bulkWorkflowType } from './contracts.ts';
import type { BulkItem, BulkItemOutcome, BulkKind, BulkReportPage, BulkReportRequest, BulkRowsUpload, BulkRunInput } from './contracts.ts';
import { orderflowSearchAttributes } from '../../search-attributes.ts';
import { InputError } from '../../validation.ts';
import { workflowIdOf } from '../../client/starters.ts';
import type { StarterOptions } from '../../client/starters.ts';
import { workflowRegistry } from '../../client/workflow-registry.ts';
import type { WorkflowTypeName } from '../../client/workflow-registry.ts';
import { workflowIds } from '../../client/workflow-ids.ts';

/** The workflow type each item of a bulk kind runs as (src/client/workflow-registry.ts). */
export const bulkItemWorkflowTypes = {
  'refund-and-cancel': 'refundAndCancel',
  'cancel-order': 'cancelOrder',
  'adjust-credit': 'adjustCredit',
} as const satisfies { [K in BulkKind]: WorkflowTypeName };

/** The single-run validation of a bulk kind's item (the one `orderflow start` uses). */
export function validateBulkItem(kind: BulkKind, input: unknown): BulkItem {
  return workflowRegistry[bulkItemWorkflowTypes[kind]].validate(input);
}

/** The business key (workflow id, without prefix) of one validated item: the starters' own. */
export function bulkItemWorkflowId(kind: BulkKind, item: BulkItem): string {
  return workflowIdOf(bulkItemWorkflowTypes[kind], item);
}

export interface BulkRequest {
  kind: BulkKind;
  /** Validated items ({@link validateBulkItem}). */
  items: BulkItem[];
  concurrency?: number | undefined;
  rate?: number | undefined;
  /** What the bulk's id derives from (default: the items); the CLI gives the file's rows as written. */
  contentKey?: readonly object[] | undefined;
  /** Slices per run before continue-as-new, and a slice's length in ms (tests use small numbers). */
  slicesPerRun?: number | undefined;
  sliceMs?: number | undefined;
}

function limitProblems(request: BulkRequest): string[] {
  const problems: string[] = [];
  if (request.items.length === 0) problems.push('the file has no items');
  if (request.items.length > bulkLimits.maxItems) problems.push(`at most ${bulkLimits.maxItems} items per bulk (got ${request.items.length}); split the file`);
  const check = (name: string, value: number | undefined, max: number): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1 || value > max)) problems.push(`${name} must be a whole number from 1 to ${max}`);
  };
  check('concurrency', request.concurrency, bulkLimits.maxConcurrency);
  check('rate', request.rate, bulkLimits.maxRate);
  return problems;
}

/** One item as stored in `bulk_rows` (and as the digest reads it). */
export function bulkItemJson(item: BulkItem): string {
  return JSON.stringify(item);
}

/** SHA-256 (hex) over the rows' JSON texts, in order, each followed by a newline. */
export function bulkRowsDigest(rows: Iterable<string>): string {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(row).update('\n');
  return hash.digest('hex');
}

export function bulkIdOf(options: Pick<StarterOptions, 'workflowIdPrefix'>, request: Pick<BulkRequest, 'kind' | 'items' | 'contentKey'>): string {
  return `${options.workflowIdPrefix ?? ''}${workflowIds.bulk(request.kind, request.contentKey ?? request.items)}`;
}

/** The rows in uploads of at most {@link bulkLimits.maxUploadBytes} bytes and {@link bulkLimits.maxUploadRows} rows. */
export function uploadsOf(bulkId: string, kind: BulkKind, items: readonly BulkItem[]): BulkRowsUpload[] {
  const uploads: BulkRowsUpload[] = [];
  let current: BulkRowsUpload | undefined;
  let bytes = 0;
  items.forEach((item, row) => {
    // The JSON text plus the payload's own framing, counted generously.
    const size = Buffer.byteLength(bulkItemJson(item)) + 16;
    if (current === undefined || current.items.length >= bulkLimits.maxUploadRows || bytes + size > bulkLimits.maxUploadBytes) {
      current = { bulkId, kind, firstRow: row, items: [] };
      uploads.push(current);
      bytes = 0;
    }
    current.items.push(item);
    bytes += size;
  });
  return uploads;
}

/** Short runs on the worker at once (uploads, report pages). */
const parallelRuns = 4;

/** A bulk's rows could not be stored or read by the worker; the message says why. */
export class BulkRowsError extends Error {
  override readonly name = 'BulkRowsError';
}

/** What a failed run or a refused update says: the message of its cause (the workflow's failure). */
export function failureOf(error: unknown): string {
  const cause = (error instanceof WorkflowFailedError || error instanceof WorkflowUpdateFailedError) && error.cause ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** A short run on the worker; its failure becomes a {@link BulkRowsError} saying what it could not do. */
function onWorker<T>(couldNot: string, run: () => Promise<T>): Promise<T> {
  return run().catch((error: unknown) => {
    if (!(error instanceof WorkflowFailedError)) throw error;
    throw new BulkRowsError(`The worker could not ${couldNot}: ${failureOf(error)}`);
  });
}

/** Stores the rows in the worker's database (idempotent: the same rows again change nothing). */
export async function uploadBulkRows(options: StarterOptions, bulkId: string, kind: BulkKind, items: readonly BulkItem[]): Promise<void> {
  const store = (upload: BulkRowsUpload): Promise<unknown> => {
    const rows = `${upload.firstRow + 1}–${upload.firstRow + upload.items.length}`;
    return onWorker(`store rows ${rows} of bulk ${bulkId}`, () =>
      options.client.workflow.execute(bulkRowsUploadWorkflowType, {
        taskQueue: options.taskQueue,
        workflowId: `${bulkId}:rows:${upload.firstRow}`,
        args: [upload],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        // The bulk's id: its log lines are the bulk's (npm start shows progress lines, not a line per run).
        typedSearchAttributes: [{ key: orderflowSearchAttributes.bulkId, value: bulkId }],
        staticSummary: `Rows ${rows} of ${bulkId}`,
      }),
    );
  };
  const uploads = uploadsOf(bulkId, kind, items);
  for (let i = 0; i < uploads.length; i += parallelRuns) await Promise.all(uploads.slice(i, i + parallelRuns).map(store));
}

/** Every item's outcome, a page at a time, in file order (read from the worker's database). */
export async function* bulkReport(
  client: WorkflowClient,
  taskQueue: string,
  bulk: { bulkId: string; kind: BulkKind; total: number; workflowIdPrefix?: string | undefined },
): AsyncGenerator<BulkItemOutcome[]> {
  const pages: BulkReportRequest[] = [];
  for (let from = 0; from < bulk.total; from += bulkLimits.reportPageRows) {
    pages.push({ bulkId: bulk.bulkId, kind: bulk.kind, from, count: Math.min(bulkLimits.reportPageRows, bulk.total - from), workflowIdPrefix: bulk.workflowIdPrefix });
  }
  for (let i = 0; i < pages.length; i += parallelRuns) {
    const batch = pages.slice(i, i + parallelRuns).map((page) =>
      onWorker(`read the report of bulk ${bulk.bulkId} (rows ${page.from + 1}–${page.from + page.count})`, () =>
        client.execute<(request: BulkReportRequest) => Promise<BulkReportPage>>(bulkReportWorkflowType, {
          taskQueue,
          workflowId: `${bulk.bulkId}:report:${page.from}:${Date.now()}`,
          args: [page],
          typedSearchAttributes: [{ key: orderflowSearchAttributes.bulkId, value: bulk.bulkId }],
        }),
      ),
    );
    for (const page of await Promise.all(batch)) yield page.items;
  }
}

/**
 * Starts the bulk of these items, or answers with the one there (`started` false: the same items, running or finished),
 * naming the run that answered (`runId`: the first of its continue-as-new chain when just started).
 */
export async function startBulk(options: StarterOptions, request: BulkRequest) {
  const problems = limitProblems(request);
  if (problems.length > 0) throw new InputError(`bulk ${request.kind}`, problems);
  const workflowId = bulkIdOf(options, request);
  const input: BulkRunInput = {
    bulkId: workflowId,
    kind: request.kind,
    total: request.items.length,
    digest: bulkRowsDigest(request.items.map(bulkItemJson)),
    concurrency: request.concurrency ?? bulkLimits.defaultConcurrency,
    rate: request.rate ?? bulkLimits.defaultRate,
    workflowIdPrefix: options.workflowIdPrefix,
    slicesPerRun: request.slicesPerRun,
    sliceMs: request.sliceMs,
  };
  const before = await options.client.workflow.getHandle(workflowId).describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  });
  const runningBefore = before?.status.name === 'RUNNING' ? before.runId : undefined;
  // A bulk running or completed answers as it is; otherwise (new, or its last run failed) its rows go first.
  if (before === undefined || !['RUNNING', 'COMPLETED', 'CONTINUED_AS_NEW'].includes(before.status.name)) {
    await uploadBulkRows(options, workflowId, request.kind, request.items);
  }
  try {
    const handle = await options.client.workflow.start(bulkWorkflowType, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [{ key: orderflowSearchAttributes.bulkId, value: workflowId }],
      staticSummary: `Bulk ${request.kind}: ${request.items.length} items`,
      staticDetails: `- **items:** ${request.items.length}\n- **at once:** ${input.concurrency}\n- **starts per second:** ${input.rate}`,
    });
    const started = runningBefore === undefined || runningBefore !== handle.firstExecutionRunId;
    return { workflowId, started, runId: handle.firstExecutionRunId, handle: options.client.workflow.getHandle(workflowId) };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      return { workflowId, started: false, runId: undefined, handle: options.client.workflow.getHandle(workflowId) };
    }
    throw error;
  }
}
