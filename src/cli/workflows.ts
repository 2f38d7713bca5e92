/** `orderflow worker`, `orderflow start <workflow>` and `orderflow status`. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common';
import { workflowUiUrl } from '../client/connect.ts';
import { OtherWorkflowTypeError, RequestConflictError, startWorkflow } from '../client/starters.ts';
import { workflowRegistry } from '../client/workflow-registry.ts';
import { startInput, startOptions } from './start-options.ts';
import type { WorkflowTypeName } from '../client/workflow-registry.ts';
import type { RunStatus, StepState } from '../contracts.ts';
import { printable } from '../single-line-text.ts';
import { CommandFailure, UsageError, errorLine, exitCodes, leafCommand, line, watchUntilInterrupted } from './framework.ts';
import { ConfigError } from '../config.ts';
import { TemporalNotReadyError } from '../temporal/readiness.ts';
import { closedRunOutcome, describeOutcome, describeRecordedDecision, describeRefusedDecision, describeRun } from './temporal.ts';
import { queryStatus, statusQueryUnanswered, withTemporal } from './temporal.ts';
import { temporalVariables, workerVariables } from './environment.ts';
import type { CliContext, ExitCode, GroupCommand, LeafCommand } from './framework.ts';

/**
 * The last failed attempt of every pending activity that has failed at least once (as the UI's panel
 * shows them), and when the next is due (undefined while one runs or when none is scheduled).
 */
function failedAttempts(description: WorkflowExecutionDescription) {
  return (description.raw.pendingActivities ?? []).flatMap((pending) => {
    const cause = pending.lastFailure?.message;
    if (!cause) return [];
    return [{
      activity: pending.activityType?.name ?? 'activity',
      // While waiting for a retry, `attempt` is the next one; while one runs, it is that one.
      attempt: Math.max(1, (pending.attempt ?? 1) - 1),
      cause,
      nextAttemptAt: optionalTsToDate(pending.nextAttemptScheduleTime),
    }];
  });
}

function inHowLong(at: Date, now: number): string {
  const seconds = Math.max(0, Math.round((at.getTime() - now) / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** One line for a terminal: `attempt 1 of applyCreditChange failed: …; attempt 2 at 21:03:05 UTC (in 58 s)`. */
function describeFailedAttempt(failed: ReturnType<typeof failedAttempts>[number], step: string | undefined, now = Date.now()): string {
  const where = step === undefined ? failed.activity : `${step} (${failed.activity})`;
  const next = failed.nextAttemptAt === undefined
    ? `attempt ${failed.attempt + 1} is running`
    : `attempt ${failed.attempt + 1} at ${failed.nextAttemptAt.toISOString().slice(11, 19)} UTC (in ${inHowLong(failed.nextAttemptAt, now)})`;
  return printable(`  ↻ ${where}: attempt ${failed.attempt} failed: ${failed.cause.replace(/\.$/, '')}; ${next}`);
}

/** The step the run is on while one is running (what a pending activity belongs to). */
function runningStep(status: RunStatus | undefined): string | undefined {
  const running = status?.steps.filter((step) => step.state === 'running') ?? [];
  return running.length === 1 ? running[0]?.name : undefined;
}

function describeStep(step: RunStatus['steps'][number]): string {
  const marks: Record<StepState, string> = { done: '✓', skipped: '↷', failed: '✗', running: '…', pending: '·', 'not-needed': '–' };
  return `  ${marks[step.state]} ${step.name} (${step.state})${step.detail ? `: ${step.detail}` : ''}`;
}

function printAwaiting(context: CliContext, status: RunStatus, workflowId: string): void {
  const awaiting = status.awaiting;
  if (!awaiting) return;
  line(context, `Waiting for an operator at step ${awaiting.step}, wait ${awaiting.waitId} (since ${awaiting.since}).`);
  line(context, `  ${awaiting.reason}`);
  const failure = awaiting.failure;
  line(context, `  Failure: ${failure.type}${failure.code ? ` · ${failure.code}${failure.vendorText ? ` | ${failure.vendorText}` : ''}` : ''}`);
  line(context, `  ${failure.message}`);
  for (const [name, value] of Object.entries(failure.observed ?? {})) line(context, `  Observed ${name}: ${value}`);
  if (awaiting.secondPerson === true) line(context, '  A second person approves: an approve from the identity that started the run is refused.');
  line(context, '  Choices:');
  for (const [action, meaning] of Object.entries(awaiting.choices)) line(context, `    ${action.padEnd(10)} ${meaning}`);
  line(context, `  Decide with: orderflow decide ${workflowId} --wait ${awaiting.waitId} --action <${Object.keys(awaiting.choices).join('|')}> --note "<why>" --operator "<you>"`);
}

/** Follows a run, printing each step as it changes; returns the exit status. */
function follow(context: CliContext, handle: WorkflowHandle): Promise<ExitCode> {
  const printed = new Map<string, string>();
  const client = handle.client;
  const stopped = { whatGoesOn: 'the run goes on', followWith: `orderflow status ${handle.workflowId}` };
  return watchUntilInterrupted(context, stopped, async (step) => {
    for (;;) {
      const description = await step((signal) => client.withAbortSignal(signal, () => handle.describe()));
      const status = await step((signal) => client.withAbortSignal(signal, () => queryStatus(handle)));
      for (const runStep of status?.steps ?? []) {
        const text = describeStep(runStep);
        if (printed.get(runStep.name) !== text && runStep.state !== 'pending') {
          printed.set(runStep.name, text);
          line(context, text);
        }
      }
      // A step being retried: each failed attempt once, with its cause and the next attempt's time.
      for (const failed of failedAttempts(description)) {
        const key = `attempt:${failed.activity}:${failed.attempt}`;
        if (printed.has(key)) continue;
        printed.set(key, '');
        line(context, describeFailedAttempt(failed, runningStep(status)));
      }
      const outcome = await closedRunOutcome(handle, description);
      if (outcome !== undefined) {
        const completed = outcome.temporalStatus === 'COMPLETED';
        if (completed) line(context, `Completed: ${outcome.text}`);
        else errorLine(context, `Failed (${outcome.temporalStatus}): ${outcome.text}`);
        return completed ? exitCodes.ok : exitCodes.failed;
      }
      if (status?.state === 'awaiting-operator') {
        printAwaiting(context, status, handle.workflowId);
        return exitCodes.waitingForOperator;
      }
      await step((signal) => sleep(500, undefined, { signal }));
    }
  });
}

function startCommand(workflowType: WorkflowTypeName): LeafCommand {
  const { requestedBy, ...spec } = startOptions[workflowType];
  return {
    ...spec,
    environment: { variables: requestedBy === true ? [...temporalVariables, 'USER (the default requested-by)'] : temporalVariables },
    async run({ values }, context) {
      // Bad input is refused before anything connects, so it is named even when Temporal is down.
      const input = workflowRegistry[workflowType].validate(startInput(startOptions[workflowType], values, context.env));
      return withTemporal(context, async (client, config) => {
        const starter = { client, taskQueue: config.taskQueue };
        const started = await startWorkflow(starter, workflowType, input as never).catch((error: unknown) => {
          if (error instanceof RequestConflictError) throw new CommandFailure(`Refused: ${error.message} See: orderflow status ${error.workflowId}`);
          if (error instanceof OtherWorkflowTypeError) throw new CommandFailure(`Refused: ${error.message}`);
          throw error;
        });
        line(context, started.started ? `Started ${started.workflowId}` : `Already there (same request): ${started.workflowId}`);
        line(context, `  run ${started.runId}`);
        line(context, `  ${workflowUiUrl(config, started.workflowId)}`);
        if (started.differentDetails.length > 0) {
          const listed = started.differentDetails.map((difference) => `${difference.field} ${JSON.stringify(difference.existing ?? null)} (you gave ${JSON.stringify(difference.requested ?? null)})`);
          line(context, printable(`  It was asked for with ${listed.join(', ')}: who asks and why do not make another request, so this run answers for both.`));
        }
        return values['wait'] === true ? follow(context, started.handle) : exitCodes.ok;
      });
    },
  };
}

export const startGroup: GroupCommand = {
  name: 'start',
  summary: 'Start a workflow (refund-and-cancel, process-paid-order, adjust-credit, cancel-order)',
  help: `Starts one workflow on Temporal and prints its id and Temporal UI link. Input is checked
before anything is sent (exit 2 on bad input). Needs a running worker to make progress.`,
  subcommands: (Object.keys(workflowRegistry) as WorkflowTypeName[]).map(startCommand),
};

export const statusCommand = leafCommand({
  name: 'status',
  summary: "Show a run's state, each step, and what it waits for",
  usage: 'status <workflowId> [--json]',
  help: `Shows the run's Temporal status, orderflow state, each step (from the status query a worker
answers), operator decisions, and what it waits for. A run that ended shows its outcome first,
from its history (no worker needed).`,
  options: { json: { type: 'boolean', help: 'Print all of it as JSON' } },
  positionals: true,
  notes: `Exit status: 0 the run was found (whatever its outcome: see the Outcome line); 4 no run has
this workflow id; 1 Temporal could not be asked; 2 bad usage.`,
  async run({ values, positionals }, context) {
    const [workflowId, ...extra] = positionals;
    if (workflowId === undefined || extra.length > 0) throw new UsageError('give exactly one workflow id, e.g. refund-and-cancel:7:319.');
    return withTemporal(context, async (client, config) => {
      const handle = client.workflow.getHandle(workflowId);
      const description = await describeRun(handle, config);
      const outcome = await closedRunOutcome(handle, description);
      const status = await queryStatus(handle);
      if (values.json === true) {
        line(context, JSON.stringify({ temporalStatus: description.status.name, runId: description.runId, outcome: outcome ?? null, status: status ?? null, failedAttempts: failedAttempts(description) }, null, 2));
        return exitCodes.ok;
      }
      line(context, `${workflowId} (${description.type}) — Temporal: ${description.status.name}, run ${description.runId}`);
      line(context, `  ${workflowUiUrl(config, workflowId)}`);
      if (outcome) line(context, describeOutcome(outcome));
      if (!status) {
        line(context, `  ${statusQueryUnanswered(description)}`);
        return exitCodes.ok;
      }
      line(context, `State: ${status.state}, step: ${status.step}`);
      for (const step of status.steps) line(context, describeStep(step));
      for (const failed of failedAttempts(description)) line(context, describeFailedAttempt(failed, runningStep(status)));
      for (const decision of status.decisions) line(context, `  decision: ${describeRecordedDecision(decision)}`);
      for (const refused of status.refused ?? []) line(context, `  refused: ${describeRefusedDecision(refused)}`);
      if (status.startedBy !== undefined) line(context, `  started by (Temporal identity): ${status.startedBy ?? 'none recorded'}`);
      printAwaiting(context, status, workflowId);
      return exitCodes.ok;
    });
  },
});

export const workerCommand: LeafCommand = {
  name: 'worker',
  summary: 'Run an orderflow worker until Ctrl-C',
  usage: 'worker',
  environment: { variables: workerVariables },
  help: `Runs a worker: polls ORDERFLOW_TASK_QUEUE, calls the APIs (WEBTV_*, JUSTCLICK_*), records
effects in ORDERFLOW_LEDGER; JSON logs on stderr, metrics on ORDERFLOW_METRICS_PORT; stops
gracefully on SIGINT/SIGTERM. While Temporal cannot be reached it waits, trying again up to 30 s
apart; it exits (code 2) for what waiting cannot fix: a TLS failure, a refused credential, an
unknown namespace, missing search attributes (orderflow setup). See docs/production.md.`,
  async run(_args, context) {
    const { runWorkerProcess } = await import('../worker.ts');
    await runWorkerProcess(context.env).catch((error: unknown) => {
      if (error instanceof ConfigError || error instanceof TemporalNotReadyError) throw error;
      throw new CommandFailure(`The worker stopped: ${error instanceof Error ? error.message : String(error)}`);
    });
    return exitCodes.ok;
  },
};

