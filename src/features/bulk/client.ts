/**
 * Starting a bulk (`orderflow bulk`, or a backend system): validate every item with the
 * single-run validation, derive the bulk's workflow id from the validated items (the same
 * file twice is the same bulk), start `bulkRun` with USE_EXISTING.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { bulkLimits, bulkWorkflowType } from './contracts.ts';
import type { BulkItem, BulkKind, BulkRunInput } from './contracts.ts';
import { orderflowSearchAttributes } from '../../search-attributes.ts';
import { InputError, validateAdjustCredit, validateCancelOrder, validateRefundAndCancel } from '../../validation.ts';
import { workflowIdOf } from '../../client/starters.ts';
import type { StarterOptions } from '../../client/starters.ts';
import type { WorkflowTypeName } from '../../client/workflow-registry.ts';
import { workflowIds } from '../../client/workflow-ids.ts';

/** The single-run validation of each bulk kind (the same `orderflow start` uses). */
export const bulkItemValidators: { [K in BulkKind]: (input: unknown) => BulkItem } = {
  'refund-and-cancel': validateRefundAndCancel,
  'cancel-order': validateCancelOrder,
  'adjust-credit': validateAdjustCredit,
};

/** The workflow type each item of a bulk kind runs as. */
const itemWorkflowTypes = {
  'refund-and-cancel': 'refundAndCancel',
  'cancel-order': 'cancelOrder',
  'adjust-credit': 'adjustCredit',
} as const satisfies { [K in BulkKind]: WorkflowTypeName };

/** The business key (workflow id, without prefix) of one validated item: the starters' own (src/client/workflow-registry.ts). */
export function bulkItemWorkflowId(kind: BulkKind, item: BulkItem): string {
  return workflowIdOf(itemWorkflowTypes[kind], item);
}

export interface BulkRequest {
  kind: BulkKind;
  /** Validated items ({@link bulkItemValidators}). */
  items: BulkItem[];
  concurrency?: number | undefined;
  rate?: number | undefined;
  /**
   * What the bulk's id is derived from (default: the items). The CLI gives the file's rows as
   * written, so that the same file is the same bulk whoever runs it.
   */
  contentKey?: readonly object[] | undefined;
  /** Items per run before continue-as-new (tests use small numbers). */
  itemsPerRun?: number | undefined;
}

export interface StartedBulk {
  workflowId: string;
  /** False when this bulk (the same items) was already there, running or finished. */
  started: boolean;
  /** The run that answered (the first of its continue-as-new chain when just started). */
  runId: string | undefined;
  handle: WorkflowHandle;
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

export function bulkIdOf(options: Pick<StarterOptions, 'workflowIdPrefix'>, request: Pick<BulkRequest, 'kind' | 'items' | 'contentKey'>): string {
  return `${options.workflowIdPrefix ?? ''}${workflowIds.bulk(request.kind, request.contentKey ?? request.items)}`;
}

export async function startBulk(options: StarterOptions, request: BulkRequest): Promise<StartedBulk> {
  const problems = limitProblems(request);
  if (problems.length > 0) throw new InputError(`bulk ${request.kind}`, problems);
  const workflowId = bulkIdOf(options, request);
  const input: BulkRunInput = {
    bulkId: workflowId,
    kind: request.kind,
    items: request.items,
    total: request.items.length,
    concurrency: request.concurrency ?? bulkLimits.defaultConcurrency,
    rate: request.rate ?? bulkLimits.defaultRate,
    workflowIdPrefix: options.workflowIdPrefix,
    itemsPerRun: request.itemsPerRun,
  };
  const runningBefore = await options.client.workflow
    .getHandle(workflowId)
    .describe()
    .then((description) => (description.status.name === 'RUNNING' ? description.runId : undefined))
    .catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    });
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
