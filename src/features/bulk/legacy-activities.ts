/**
 * 1.0's bulk activity, kept for bulks started by 1.0 that are still running after an upgrade
 * (./legacy-workflow.ts): `runBulkItem` starts (or joins) one item's run and follows it until
 * it completes, fails or waits for an operator. New bulks use `runBulkSlice` (./activities.ts).
 * The code is 1.0's, unchanged but for names.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { OtherWorkflowTypeError, RequestConflictError, startAdjustCredit, startCancelOrder, startRefundAndCancel } from '../../client/starters.ts';
import type { StartedRun, StarterOptions } from '../../client/starters.ts';
import type { BulkItemOutcome, BulkKind, LegacyBulkActivities } from './contracts.ts';
import { RunState, queryNames } from '../../contracts.ts';
import type { AdjustCreditInput, CancelOrderInput, RefundAndCancelInput, RunResult, RunStatus } from '../../contracts.ts';
import { orderflowSearchAttributes } from '../../search-attributes.ts';
import { InputError } from '../../validation.ts';

export interface LegacyBulkActivityDependencies {
  client: Client;
  /** How often a followed run is checked for waiting for an operator (and the activity heartbeats). Default 1 s. */
  checkEveryMs?: number;
}

/** The starter of each bulk kind: the same function `orderflow start <kind>` uses. */
const startersByKind: { [K in BulkKind]: (options: StarterOptions, input: never) => Promise<StartedRun> } = {
  'refund-and-cancel': startRefundAndCancel as (options: StarterOptions, input: RefundAndCancelInput) => Promise<StartedRun>,
  'cancel-order': startCancelOrder as (options: StarterOptions, input: CancelOrderInput) => Promise<StartedRun>,
  'adjust-credit': startAdjustCredit as (options: StarterOptions, input: AdjustCreditInput) => Promise<StartedRun>,
};

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

function failureText(error: unknown): string {
  const cause = error instanceof WorkflowFailedError && error.cause ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

function outcomeOfResult(base: Omit<BulkItemOutcome, 'outcome'>, settled: Settled): BulkItemOutcome {
  if (!settled.ok) return { ...base, outcome: 'failed', detail: failureText(settled.error) };
  const result = settled.value as Partial<RunResult> | null;
  const summary = typeof result?.summary === 'string' ? result.summary : 'completed';
  return result?.outcome === undefined || result.outcome === 'completed'
    ? { ...base, outcome: 'done', detail: summary }
    : { ...base, outcome: 'failed', detail: `${result.outcome}: ${summary}` };
}

/** The run's request to an operator, when it waits for one. */
async function awaitingOperator(handle: WorkflowHandle): Promise<string | undefined> {
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') return undefined;
  if (description.typedSearchAttributes.get(orderflowSearchAttributes.state) !== RunState.AwaitingOperator) return undefined;
  const status = await handle.query<RunStatus>(queryNames.status).catch(() => undefined);
  const awaiting = status?.awaiting;
  return awaiting ? `waits for an operator at ${awaiting.step}: ${awaiting.reason}` : 'waits for an operator';
}

export function createLegacyBulkActivities(dependencies: LegacyBulkActivityDependencies): LegacyBulkActivities {
  const { client } = dependencies;
  const checkEveryMs = dependencies.checkEveryMs ?? 1_000;

  return {
    async runBulkItem(request) {
      const context = Context.current();
      const starterOptions: StarterOptions = {
        client,
        taskQueue: context.info.taskQueue,
        workflowIdPrefix: request.workflowIdPrefix,
        bulkId: request.bulkId,
      };
      let started: StartedRun;
      try {
        started = await startersByKind[request.kind](starterOptions, request.item as never);
      } catch (error) {
        // The CLI validated the file; an item refused here (an older client?) fails alone.
        if (error instanceof InputError) return { index: request.index, workflowId: '', outcome: 'failed', detail: error.message };
        // A run for the same business key with a different request exists: that item fails
        // alone, naming the run (retrying could never succeed).
        if (error instanceof RequestConflictError || error instanceof OtherWorkflowTypeError) return { index: request.index, workflowId: error.workflowId, outcome: 'failed', detail: error.message };
        throw error;
      }
      const base = { index: request.index, workflowId: started.workflowId, joined: !started.started };
      const handle = client.workflow.getHandle(started.workflowId);
      const stopFollowing = new AbortController();
      const settled: Promise<Settled> = client
        .withAbortSignal(stopFollowing.signal, () => handle.result())
        .then((value): Settled => ({ ok: true, value }), (error: unknown): Settled => ({ ok: false, error }));
      try {
        for (;;) {
          // Most items end within the first wait: their result arrives by the long poll.
          const result = await Promise.race([settled, context.sleep(checkEveryMs).then(() => undefined)]);
          if (result !== undefined) return outcomeOfResult(base, result);
          context.heartbeat();
          const waiting = await awaitingOperator(handle);
          if (waiting !== undefined) return { ...base, outcome: 'waiting', detail: waiting };
        }
      } finally {
        stopFollowing.abort();
      }
    },
  };
}
