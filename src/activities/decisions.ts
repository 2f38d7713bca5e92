/**
 * `recordedIdentity`: who sent a decision (and who started the run), as Temporal recorded it in the
 * history of the run that calls it (its own activity info, never an input): workflow code cannot see
 * it. `approvalThreshold`: the worker's ORDERFLOW_APPROVAL_ABOVE, recorded in the run's history.
 */
import { Context } from '@temporalio/activity';
import { signalNames } from '../contracts.ts';
import type { ActivityDeps } from './protocol.ts';
import type { ApprovalThreshold, OrderflowActivities, RecordedIdentity, RecordedIdentityInput } from '../contracts.ts';

export function createDecisionActivities(
  deps: Pick<ActivityDeps, 'approvalAbove'>,
): Pick<OrderflowActivities, 'recordedIdentity' | 'approvalThreshold'> {
  return {
    async recordedIdentity(input: RecordedIdentityInput): Promise<RecordedIdentity> {
      const context = Context.current();
      const execution = context.info.workflowExecution;
      if (execution === undefined) throw new Error('recordedIdentity reads the history of the run that calls it; it was not called by a workflow');
      const { workflowId, runId } = execution;
      const history = await context.client.workflow.getHandle(workflowId, runId).fetchHistory();
      let startedBy: string | null = null;
      let signals = 0;
      for (const event of history.events ?? []) {
        const started = event.workflowExecutionStartedEventAttributes;
        if (started) startedBy = started.identity || null;
        const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta;
        if (input.updateId !== undefined && update?.updateId === input.updateId) return { decidedBy: update.identity || null, startedBy };
        const signaled = event.workflowExecutionSignaledEventAttributes;
        if (input.signalNumber !== undefined && signaled?.signalName === signalNames.operatorDecision && ++signals === input.signalNumber) {
          return { decidedBy: signaled.identity || null, startedBy };
        }
      }
      // The event is written before this activity is scheduled; not finding it is a bug, not a state to act on.
      throw new Error(
        `the history of ${workflowId} (run ${runId}) has no ${input.updateId !== undefined ? `accepted update ${input.updateId}` : `operatorDecision signal number ${input.signalNumber ?? '?'}`}`,
      );
    },

    async approvalThreshold(): Promise<ApprovalThreshold> {
      return { above: deps.approvalAbove ?? null };
    },
  };
}
