/** `orderflow reconcile` and `orderflow schedule reconcile`: the drift report, once or on a Temporal Schedule. */
import { workflowUiUrl } from '../client/connect.ts';
import { deleteReconcileSchedule, ensureReconcileSchedule, reconcileFindingWorkflowType, reconcileScheduleId, startReconcile } from '../features/reconcile/client.ts';
import type { ReconcileResult } from '../features/reconcile/contracts.ts';
import { CommandFailure, UsageError, exitCodes, leafCommand, line, watchUntilInterrupted } from './framework.ts';
import type { GroupCommand } from './framework.ts';
import { withTemporal } from './temporal.ts';
import { failureOf } from '../features/bulk/client.ts';
import { temporalVariables } from './environment.ts';

const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `24h`, `7d` → milliseconds; refuses anything else, naming the option. */
function parseDurationOption(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const match = /^([1-9]\d{0,3})([mhd])$/.exec(value);
  const ms = match ? Number(match[1]) * unitMs[match[2] as keyof typeof unitMs] : NaN;
  if (!(ms >= 60_000 && ms <= 366 * unitMs.d)) {
    throw new UsageError(`--${name} ${JSON.stringify(value)} must be a duration like 30m, 24h or 7d (1 minute to 366 days).`);
  }
  return ms;
}

const reconcileEnvironment = {
  variables: temporalVariables,
  note: "The reconcile runs on the worker: it reads the ledger and calls the APIs with the worker's settings (ORDERFLOW_LEDGER, WEBTV_*, JUSTCLICK_* where the worker runs), not with this shell's; a bad ORDERFLOW_LEDGER here changes nothing, a bad one there stops the worker.",
} as const;

const sinceOption = {
  since: { type: 'string', value: '<duration>', help: 'Look at effects changed in the last 30m / 24h / 7d (default 24h)' },
} as const;

export const reconcileCommand = leafCommand({
  name: 'reconcile',
  summary: 'Report drift no retry can see: stale effects, late landings, orders and bills changed by hand',
  usage: 'reconcile [--since 24h] [--wait]',
  environment: reconcileEnvironment,
  help: `Starts a reconcile run: it reads the effect ledger, the store and JustClick (reads only,
a few per second) and reports drift (README, "Drift"). A JustClick bill that a completed run
deleted and that exists again is deleted again; everything touching money waits for you.`,
  options: { ...sinceOption, wait: { type: 'boolean', help: 'Wait for the report and print it' } },
  notes: `Exit status with --wait: 0 nothing waits for you; 3 findings (new, or reported earlier and
not decided yet) wait for an operator; 1 the reconcile failed; 130 Ctrl-C stopped waiting (the
reconcile goes on). Without --wait: 0 started.`,
  async run({ values }, context) {
    const sinceMs = parseDurationOption('since', values.since, 24 * unitMs.h);
    return withTemporal(context, async (client, config) => {
      const handle = await startReconcile({ client, taskQueue: config.taskQueue }, { sinceMs });
      line(context, `Started ${handle.workflowId}`);
      line(context, `  ${workflowUiUrl(config, handle.workflowId)}`);
      if (values.wait !== true) return exitCodes.ok;
      const stopped = { whatGoesOn: 'the reconcile goes on', followWith: `orderflow status ${handle.workflowId}` };
      return watchUntilInterrupted(context, stopped, async (step) => {
        const result = await step((signal) =>
          (client.withAbortSignal(signal, () => handle.result()) as Promise<ReconcileResult>).catch((error: unknown) => {
            throw new CommandFailure(`Reconcile ${handle.workflowId} failed: ${failureOf(error)} (see ${stopped.followWith}).`);
          }),
        );
        line(context);
        line(context, result.report);
        // Whether found again this time or not: every finding an operator has not decided yet (its run still runs).
        const waitingHere = result.findings.filter((finding) => finding.followUp === 'operator');
        const reportedHere = new Set(waitingHere.map((finding) => finding.findingWorkflowId));
        const type = JSON.stringify(reconcileFindingWorkflowType);
        const query = `WorkflowType = ${type} AND ExecutionStatus = "Running" AND TaskQueue = ${JSON.stringify(config.taskQueue)}`;
        const waitingBefore: string[] = [];
        for await (const { workflowId } of client.workflow.list({ query })) {
          if (!reportedHere.has(workflowId)) waitingBefore.push(workflowId);
        }
        if (waitingBefore.length > 0) {
          line(context);
          line(context, `${waitingBefore.length} finding(s) reported earlier still wait for an operator (not found again this time):`);
          for (const id of waitingBefore) line(context, `  ${id} (orderflow status ${id})`);
        }
        return waitingHere.length + waitingBefore.length > 0 ? exitCodes.waitingForOperator : exitCodes.ok;
      });
    });
  },
});

const scheduleReconcileCommand = leafCommand({
  name: 'reconcile',
  summary: 'Run reconcile on a Temporal Schedule (or --delete it)',
  usage: 'schedule reconcile --every <duration> [--since <duration>] | --delete',
  environment: reconcileEnvironment,
  help: `Creates the Temporal Schedule ${reconcileScheduleId}, or updates it when it exists. A reconcile
still running when the next is due makes that one skip (overlap policy Skip).`,
  options: {
    every: { type: 'string', value: '<duration>', help: 'Run a reconcile every 30m / 1h / 1d' },
    ...sinceOption,
    delete: { type: 'boolean', help: 'Remove the schedule; running reconciles go on' },
  },
  async run({ values }, context) {
    if (values.delete === true) {
      if (values.every !== undefined || values.since !== undefined) throw new UsageError('--delete takes no other option.');
      return withTemporal(context, async (client) => {
        const deleted = await deleteReconcileSchedule({ client });
        line(context, deleted ? `Deleted schedule ${reconcileScheduleId}.` : `No schedule ${reconcileScheduleId}: nothing to delete.`);
        return exitCodes.ok;
      });
    }
    if (values.every === undefined) throw new UsageError('give --every <duration> (e.g. --every 1h), or --delete.');
    const everyMs = parseDurationOption('every', values.every, 0);
    const sinceMs = parseDurationOption('since', values.since, 24 * unitMs.h);
    return withTemporal(context, async (client, config) => {
      const { created } = await ensureReconcileSchedule({ client, taskQueue: config.taskQueue }, everyMs, { sinceMs });
      line(context, `${created ? 'Created' : 'Updated'} schedule ${reconcileScheduleId}: reconcile every ${values.every}, looking back ${values.since ?? '24h'}, overlap Skip.`);
      line(context, `  remove it: orderflow schedule reconcile --delete`);
      return exitCodes.ok;
    });
  },
});

export const scheduleGroup: GroupCommand = {
  name: 'schedule',
  summary: 'Temporal Schedules for recurring orderflow work',
  help: 'Creates, updates or deletes the Temporal Schedules orderflow uses.',
  subcommands: [scheduleReconcileCommand],
};
