/**
 * Typed starters for backend systems: one function per workflow.
 *
 * Input is validated before anything is sent to Temporal. The workflow id is the
 * business key (./workflow-ids.ts), with conflict policy USE_EXISTING (a request sent
 * while its run is going joins that run) and reuse policy ALLOW_DUPLICATE_FAILED_ONLY
 * (after a success, the same request is refused by Temporal and we answer with the
 * existing run; after a failure, a new run may start).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
import { orderflowSearchAttributes } from '../search-attributes.ts';
import { RunState, defaultPaymentDeadline } from '../contracts.ts';
import type { AdjustCreditInput, CancelOrderInput, ProcessPaidOrderInput, RefundAndCancelInput } from '../contracts.ts';
import { validateAdjustCredit, validateCancelOrder, validateProcessPaidOrder, validateRefundAndCancel } from '../validation.ts';
import { explainStartRefusal } from '../temporal/readiness.ts';
import { workflowIds } from './workflow-ids.ts';

export interface StarterOptions {
  client: Client;
  taskQueue: string;
  /**
   * Put before every workflow id, e.g. `shop-eu/` when several shops share one namespace
   * (and in tests, to keep runs apart). Default: none.
   */
  workflowIdPrefix?: string | undefined;
  /** The bulk that starts this run (`orderflow bulk`): set as its OrderflowBulkId search attribute. */
  bulkId?: string | undefined;
}

export interface StartedRun {
  workflowId: string;
  /** The run that answers for this business key (the new one, or the one that existed). */
  runId: string | undefined;
  /**
   * False when the run was already there before this call (running, or completed). Two
   * identical requests racing may both say true; they still get the same run.
   */
  started: boolean;
  handle: WorkflowHandle;
}

export type WorkflowTypeName = 'refundAndCancel' | 'processPaidOrder' | 'adjustCredit' | 'cancelOrder';

interface StartPlan {
  workflowType: WorkflowTypeName;
  workflowId: string;
  input: object;
  summary: string;
  details: string;
  searchAttributes: TypedSearchAttributes | Array<{ key: (typeof orderflowSearchAttributes)[keyof typeof orderflowSearchAttributes]; value: string | number }>;
}

function identityAttributes(userId: number, orderId?: number, billId?: string): StartPlan['searchAttributes'] {
  const pairs: Array<{ key: (typeof orderflowSearchAttributes)[keyof typeof orderflowSearchAttributes]; value: string | number }> = [
    { key: orderflowSearchAttributes.state, value: RunState.Running },
    { key: orderflowSearchAttributes.storeUserId, value: userId },
  ];
  if (orderId !== undefined) pairs.push({ key: orderflowSearchAttributes.storeOrderId, value: orderId });
  if (billId !== undefined) pairs.push({ key: orderflowSearchAttributes.justClickBillId, value: billId });
  return pairs;
}

/** Static details as a Markdown list (the UI renders tables without cell padding). */
function detailsList(rows: Record<string, string | number | undefined>): string {
  return Object.entries(rows)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => `- **${name}:** ${String(value).replace(/([\\`*_[\]<>])/g, '\\$1')}`)
    .join('\n');
}

/** Is a run with this id going right now? Informational only (the start itself is atomic). */
async function runningRunId(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING' ? description.runId : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

async function start(options: StarterOptions, plan: StartPlan): Promise<StartedRun> {
  try {
    return await startOrJoin(options, plan);
  } catch (error) {
    // A bare cluster: say which search attributes are missing and how to register them.
    throw (await explainStartRefusal(error, options.client.connection, options.client.options.namespace)) ?? error;
  }
}

async function startOrJoin(options: StarterOptions, unprefixed: StartPlan): Promise<StartedRun> {
  const plan = { ...unprefixed, workflowId: `${options.workflowIdPrefix ?? ''}${unprefixed.workflowId}` };
  if (options.bulkId !== undefined && Array.isArray(plan.searchAttributes)) {
    plan.searchAttributes = [...plan.searchAttributes, { key: orderflowSearchAttributes.bulkId, value: options.bulkId }];
  }
  const runningBefore = await runningRunId(options.client, plan.workflowId);
  try {
    const handle = await options.client.workflow.start(plan.workflowType, {
      taskQueue: options.taskQueue,
      workflowId: plan.workflowId,
      args: [plan.input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: plan.searchAttributes as never,
      staticSummary: plan.summary,
      staticDetails: plan.details,
    });
    const started = runningBefore === undefined || runningBefore !== handle.firstExecutionRunId;
    return { workflowId: plan.workflowId, runId: handle.firstExecutionRunId, started, handle };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      // Refused by the reuse policy: a run with this business key already succeeded.
      const handle = options.client.workflow.getHandle(plan.workflowId);
      const description = await handle.describe();
      return { workflowId: plan.workflowId, runId: description.runId, started: false, handle };
    }
    throw error;
  }
}

export async function startRefundAndCancel(options: StarterOptions, rawInput: RefundAndCancelInput): Promise<StartedRun> {
  const input = validateRefundAndCancel(rawInput);
  return start(options, {
    workflowType: 'refundAndCancel',
    workflowId: workflowIds.refundAndCancel(input),
    input,
    summary: `Refund ${input.amount} and cancel order ${input.orderId} for store user ${input.userId}`,
    details: detailsList({
      user: input.userId,
      order: input.orderId,
      amount: input.amount,
      'JustClick bill': input.justclickBillId,
      reason: input.reason,
      'requested by': input.requestedBy,
    }),
    searchAttributes: identityAttributes(input.userId, input.orderId, input.justclickBillId),
  });
}

export async function startProcessPaidOrder(options: StarterOptions, rawInput: ProcessPaidOrderInput): Promise<StartedRun> {
  const input = validateProcessPaidOrder(rawInput);
  return start(options, {
    workflowType: 'processPaidOrder',
    workflowId: workflowIds.processPaidOrder(input),
    input,
    summary: `Process paid order ${input.orderId} for store user ${input.userId}`,
    details: detailsList({
      user: input.userId,
      order: input.orderId,
      'JustClick bill': input.justclickBillId,
      'payment deadline': input.paymentDeadline ?? defaultPaymentDeadline,
    }),
    searchAttributes: identityAttributes(input.userId, input.orderId, input.justclickBillId),
  });
}

export async function startAdjustCredit(options: StarterOptions, rawInput: AdjustCreditInput): Promise<StartedRun> {
  const input = validateAdjustCredit(rawInput);
  return start(options, {
    workflowType: 'adjustCredit',
    workflowId: workflowIds.adjustCredit(input),
    input,
    summary: `${input.action === 'add' ? 'Add' : 'Subtract'} ${input.amount} credit ${input.action === 'add' ? 'to' : 'from'} store user ${input.userId}`,
    details: detailsList({
      user: input.userId,
      action: input.action,
      amount: input.amount,
      description: input.description,
      reason: input.reason,
      'requested by': input.requestedBy,
      'request id': input.requestId,
    }),
    searchAttributes: identityAttributes(input.userId),
  });
}

export async function startCancelOrder(options: StarterOptions, rawInput: CancelOrderInput): Promise<StartedRun> {
  const input = validateCancelOrder(rawInput);
  return start(options, {
    workflowType: 'cancelOrder',
    workflowId: workflowIds.cancelOrder(input),
    input,
    summary: `Cancel order ${input.orderId} for store user ${input.userId} (requested by ${input.requester})`,
    details: detailsList({
      user: input.userId,
      order: input.orderId,
      'JustClick bill': input.justclickBillId,
      requester: input.requester,
      reason: input.reason,
    }),
    searchAttributes: identityAttributes(input.userId, input.orderId, input.justclickBillId),
  });
}
