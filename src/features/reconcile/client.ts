/**
 * Starting the reconcile workflow (src/features/reconcile/workflow.ts) once, and keeping its
 * Temporal Schedule: one schedule id, overlap policy SKIP (a reconcile still running when
 * the next is due makes that one skip), created or updated by the same call.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { StarterOptions } from '../../client/starters.ts';
import type { ReconcileInput } from './contracts.ts';

export const reconcileScheduleId = 'orderflow-reconcile';
export const reconcileWorkflowType = 'reconcile';
/** The run a finding waits for an operator in (src/workflows/reconcile-finding.ts), started by the reconcile. */
export const reconcileFindingWorkflowType = 'reconcileFinding';

type ReconcileClientOptions = Pick<StarterOptions, 'client' | 'taskQueue'>;

/** A reconcile run now; its id says when it was asked for (`reconcile:2026-12-01T23:30:00.000Z`). */
export async function startReconcile(options: ReconcileClientOptions, input: ReconcileInput, now = new Date()): Promise<WorkflowHandle> {
  return options.client.workflow.start(reconcileWorkflowType, {
    taskQueue: options.taskQueue,
    workflowId: `reconcile:${now.toISOString()}`,
    args: [input],
  });
}

/** Creates the schedule, or updates it to `everyMs` and `input`; returns whether it was created. */
export async function ensureReconcileSchedule(options: ReconcileClientOptions, everyMs: number, input: ReconcileInput): Promise<{ created: boolean }> {
  const action = {
    type: 'startWorkflow' as const,
    workflowType: reconcileWorkflowType,
    taskQueue: options.taskQueue,
    // The schedule appends the scheduled time to this id: one run id per tick.
    workflowId: 'reconcile:scheduled',
    args: [input],
  };
  const spec = { intervals: [{ every: everyMs }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP };
  try {
    await options.client.schedule.create({ scheduleId: reconcileScheduleId, spec, action, policies });
    return { created: true };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await options.client.schedule.getHandle(reconcileScheduleId).update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, ...policies } }));
  return { created: false };
}

/** Deletes the schedule; false when there was none. Running reconciles go on. */
export async function deleteReconcileSchedule(options: Pick<ReconcileClientOptions, 'client'>): Promise<boolean> {
  return options.client.schedule.getHandle(reconcileScheduleId).delete().then(() => true, (error: unknown) => {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  });
}
