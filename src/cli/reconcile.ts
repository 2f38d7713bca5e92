/**
 * `orderflow reconcile [--since 24h] [--wait]` and `orderflow schedule reconcile --every 1h
 * [--since 24h] | --delete`: the drift report (src/features/reconcile/workflow.ts), once or on a
 * Temporal Schedule.
 */
import { workflowUiUrl } from '../client/connect.ts';
import { deleteReconcileSchedule, ensureReconcileSchedule, reconcileScheduleId, startReconcile } from '../features/reconcile/client.ts';
import type { ReconcileResult } from '../features/reconcile/contracts.ts';
import { UsageError, exitCodes, parseCommandArgs } from './framework.ts';
import type { CliContext, GroupCommand, LeafCommand } from './framework.ts';
import { withTemporal } from './temporal.ts';

const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `24h`, `7d` → milliseconds; refuses anything else, naming the option. */
export function parseDurationOption(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const match = /^([1-9]\d{0,3})([mhd])$/.exec(value);
  const ms = match ? Number(match[1]) * unitMs[match[2] as keyof typeof unitMs] : NaN;
  if (!(ms >= 60_000 && ms <= 366 * unitMs.d)) {
    throw new UsageError(`--${name} ${JSON.stringify(value)} must be a duration like 30m, 24h or 7d (1 minute to 366 days).`);
  }
  return ms;
}

function line(context: CliContext, text = ''): void {
  context.stdout.write(`${text}\n`);
}

export const reconcileCommand: LeafCommand = {
  name: 'reconcile',
  summary: 'Report drift no retry can see: stale effects, late landings, orders and bills changed by hand',
  usage: 'reconcile [--since 24h] [--wait]',
  help: `Starts a reconcile run: it reads the effect ledger, the store and JustClick (reads only,
a few per second) and reports drift (README, "Drift"). A JustClick bill that a completed run
deleted and that exists again is deleted again; everything touching money waits for you.

Options:
  --since <duration>   Look at effects changed in the last 30m / 24h / 7d (default 24h)
  --wait               Wait for the report and print it

Exit status with --wait: 0 no drift needs you; 3 some findings wait for an operator.`,
  async run(args, context) {
    const { values } = parseCommandArgs(args, { options: { since: { type: 'string' }, wait: { type: 'boolean' } }, allowPositionals: false });
    const sinceMs = parseDurationOption('since', values.since, 24 * unitMs.h);
    return withTemporal(context, async (client, config) => {
      const handle = await startReconcile({ client, taskQueue: config.taskQueue }, { sinceMs });
      line(context, `Started ${handle.workflowId}`);
      line(context, `  ${workflowUiUrl(config, handle.workflowId)}`);
      if (values.wait !== true) return exitCodes.ok;
      const result = (await handle.result()) as ReconcileResult;
      line(context);
      line(context, result.report);
      return result.findings.some((finding) => finding.followUp === 'operator') ? exitCodes.waitingForOperator : exitCodes.ok;
    });
  },
};

const scheduleReconcileCommand: LeafCommand = {
  name: 'reconcile',
  summary: 'Run reconcile on a Temporal Schedule (or --delete it)',
  usage: 'schedule reconcile --every <duration> [--since <duration>] | --delete',
  help: `Creates the Temporal Schedule ${reconcileScheduleId}, or updates it when it exists: a
reconcile every --every (e.g. 1h), looking back --since (default 24h). A reconcile still
running when the next is due makes that one skip (overlap policy Skip). --delete removes
the schedule; running reconciles go on.`,
  async run(args, context) {
    const { values } = parseCommandArgs(args, {
      options: { every: { type: 'string' }, since: { type: 'string' }, delete: { type: 'boolean' } },
      allowPositionals: false,
    });
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
};

export const scheduleGroup: GroupCommand = {
  name: 'schedule',
  summary: 'Temporal Schedules for recurring orderflow work',
  help: 'Creates, updates or deletes the Temporal Schedules orderflow uses.',
  subcommands: [scheduleReconcileCommand],
};
