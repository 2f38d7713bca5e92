/**
 * `orderflow worker`, `orderflow start <workflow>`, `orderflow status`, `orderflow decide`:
 * the commands that talk to Temporal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { workflowUiUrl } from '../client/connect.ts';
import { RequestConflictError, startWorkflow } from '../client/starters.ts';
import type { StartedRun } from '../client/starters.ts';
import { workflowRegistry } from '../client/workflow-registry.ts';
import { startOptions } from './start-options.ts';
import type { WorkflowTypeName } from '../client/workflow-registry.ts';
import { operatorActions, updateNames } from '../contracts.ts';
import type { OperatorDecision, OperatorDecisionReply, RunResult, RunStatus, StepState } from '../contracts.ts';
import { InputError } from '../validation.ts';
import { CommandFailure, UsageError, exitCodes, parseCommandArgs } from './framework.ts';
import { ConfigError } from '../config.ts';
import { TemporalNotReadyError } from '../temporal/readiness.ts';
import { queryStatus, withTemporal } from './temporal.ts';
import { describeFailedAttempt, failedAttempts } from './attempts.ts';
import { awaitingOperatorQuery, listRuns } from './ops.ts';
import type { CliContext, ExitCode, GroupCommand, LeafCommand } from './framework.ts';


function line(context: CliContext, text = ''): void {
  context.stdout.write(`${text}\n`);
}

function errorLine(context: CliContext, text: string): void {
  context.stderr.write(`${text}\n`);
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
  line(context, `Waiting for an operator at step ${awaiting.step} (since ${awaiting.since}).`);
  line(context, `  ${awaiting.reason}`);
  const failure = awaiting.failure;
  line(context, `  Failure: ${failure.type}${failure.code ? ` · ${failure.code}${failure.vendorText ? ` | ${failure.vendorText}` : ''}` : ''}`);
  line(context, `  ${failure.message}`);
  for (const [name, value] of Object.entries(failure.observed ?? {})) line(context, `  Observed ${name}: ${value}`);
  line(context, '  Choices:');
  for (const [action, meaning] of Object.entries(awaiting.choices)) line(context, `    ${action.padEnd(10)} ${meaning}`);
  line(context, `  Decide with: orderflow decide ${workflowId} --action <${Object.keys(awaiting.choices).join('|')}> --note "<why>" --operator "<you>"`);
}

/** Follows a run, printing each step as it changes; returns the exit status. */
async function follow(context: CliContext, handle: WorkflowHandle): Promise<ExitCode> {
  const printed = new Map<string, string>();
  for (;;) {
    const description = await handle.describe();
    const status = await queryStatus(handle);
    if (status) {
      for (const step of status.steps) {
        const text = describeStep(step);
        if (printed.get(step.name) !== text && step.state !== 'pending') {
          printed.set(step.name, text);
          line(context, text);
        }
      }
    }
    // A step being retried: each failed attempt once, with its cause and the next attempt's time.
    for (const failed of failedAttempts(description)) {
      const key = `attempt:${failed.activity}:${failed.attempt}`;
      if (printed.has(key)) continue;
      printed.set(key, '');
      line(context, describeFailedAttempt(failed, runningStep(status)));
    }
    if (description.status.name !== 'RUNNING') {
      try {
        const result = (await handle.result()) as RunResult;
        line(context, `Completed: ${result.summary}`);
        return exitCodes.ok;
      } catch (error) {
        const cause = error instanceof WorkflowFailedError && error.cause ? error.cause : error;
        errorLine(context, `Failed (${description.status.name}): ${cause instanceof Error ? cause.message : String(cause)}`);
        return exitCodes.failed;
      }
    }
    if (status?.state === 'awaiting-operator') {
      printAwaiting(context, status, handle.workflowId);
      return exitCodes.waitingForOperator;
    }
    await sleep(500);
  }
}

function startCommand(workflowType: WorkflowTypeName): LeafCommand {
  const spec = startOptions[workflowType];
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    help: spec.help,
    async run(args, context) {
      const { values } = parseCommandArgs(args, { options: spec.options, allowPositionals: false });
      // Bad input is refused before anything connects, so it is named even when Temporal is down.
      let input: unknown;
      try {
        input = workflowRegistry[workflowType].validate(spec.input(values, context.env));
      } catch (error) {
        if (error instanceof InputError) throw new UsageError(error.message);
        throw error;
      }
      return withTemporal(context, async (client, config) => {
        let started: StartedRun;
        try {
          started = await startWorkflow({ client, taskQueue: config.taskQueue }, workflowType, input as never);
        } catch (error) {
          if (error instanceof RequestConflictError) throw new CommandFailure(`Refused: ${error.message} See: orderflow status ${error.workflowId}`);
          throw error;
        }
        line(context, `${started.started ? 'Started' : 'Already there (same request): '} ${started.workflowId}`.replace(':  ', ': '));
        line(context, `  run ${started.runId}`);
        line(context, `  ${workflowUiUrl(config, started.workflowId)}`);
        if (values['wait'] !== true) return exitCodes.ok;
        return follow(context, started.handle);
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

export const statusCommand: LeafCommand = {
  name: 'status',
  summary: "Show a run's state, each step, and what it waits for",
  usage: 'status <workflowId> [--json]',
  help: `Shows the run's Temporal status, orderflow state, each step, operator decisions, and, when it
waits for an operator, why and the choices. --json prints the status query's answer as JSON.`,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, { options: { json: { type: 'boolean' } }, allowPositionals: true });
    const [workflowId, ...extra] = positionals;
    if (workflowId === undefined || extra.length > 0) throw new UsageError('give exactly one workflow id, e.g. refund-and-cancel:7:319.');
    return withTemporal(context, async (client, config) => {
      const handle = client.workflow.getHandle(workflowId);
      const description = await handle.describe();
      const status = await queryStatus(handle);
      if (values.json === true) {
        line(context, JSON.stringify({ temporalStatus: description.status.name, runId: description.runId, status: status ?? null, failedAttempts: failedAttempts(description) }, null, 2));
        return exitCodes.ok;
      }
      line(context, `${workflowId} (${description.type}) — Temporal: ${description.status.name}, run ${description.runId}`);
      line(context, `  ${workflowUiUrl(config, workflowId)}`);
      if (!status) {
        line(context, '  (the status query did not answer: is a worker running for this task queue?)');
        return exitCodes.ok;
      }
      line(context, `State: ${status.state}, step: ${status.step}`);
      for (const step of status.steps) line(context, describeStep(step));
      for (const failed of failedAttempts(description)) line(context, describeFailedAttempt(failed, runningStep(status)));
      for (const decision of status.decisions) {
        line(context, `  decision: ${decision.operator} chose ${decision.action} at ${decision.step} (${decision.at}, via ${decision.via}): ${decision.note}`);
      }
      printAwaiting(context, status, workflowId);
      return exitCodes.ok;
    });
  },
};

/** A progress bar on stderr: redrawn in place on a terminal, one line per step otherwise. */
function progress(context: CliContext, total: number): (done: number, label: string) => void {
  const tty = 'isTTY' in context.stderr && context.stderr.isTTY === true;
  return (done, label) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
    context.stderr.write(tty ? `\r${bar.slice(0, 120).padEnd(120)}${done === total ? '\n' : ''}` : `${bar}\n`);
  };
}

async function sendDecision(handle: WorkflowHandle, decision: OperatorDecision, viaSignal: boolean): Promise<{ accepted: boolean; text: string }> {
  if (viaSignal) {
    await handle.signal(updateNames.operatorDecision, decision);
    return { accepted: true, text: `signal sent (${decision.action}); check with orderflow status ${handle.workflowId}` };
  }
  try {
    const reply = await handle.executeUpdate<OperatorDecisionReply, [OperatorDecision]>(updateNames.operatorDecision, { args: [decision] });
    return { accepted: true, text: `accepted: ${reply.action}. ${reply.willHappen}` };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      return { accepted: false, text: `refused: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}` };
    }
    if (error instanceof WorkflowNotFoundError) {
      return { accepted: false, text: `refused: the run is not running any more (${error.message}); see orderflow status ${handle.workflowId}` };
    }
    throw error;
  }
}

export const decideCommand: LeafCommand = {
  name: 'decide',
  summary: 'Resume runs that wait for an operator: retry, skip, compensate or abort',
  usage: 'decide (<workflowId> | --query <visibility query> [--dry-run]) --action retry|skip|compensate|abort --note <text> --operator <name> [--signal]',
  help: `Sends the operatorDecision update (validated by the run, which answers what will happen)
or, with --signal, the equivalent signal (not validated: an invalid decision is ignored).

For many runs at once, --query selects every run waiting for an operator that also matches
the visibility query (e.g. 'OrderflowStep = "delete-justclick-bill"'); --dry-run lists them
and what the decision would do to each, sending nothing. A progress bar shows on stderr.

Options:
  --action <action>   retry | skip | compensate | abort (only the run's offered choices are accepted)
  --note <text>       Why: what you checked (required; recorded in the run and the ledger)
  --operator <name>   Who decides (required)
  --query <query>     Decide for every waiting run that matches (instead of one workflow id)
  --dry-run           With --query: show what would happen, send nothing
  --signal            Send a signal instead of an update

Exit status: 0 when every decision was accepted; 1 when any was refused.

Examples:
  orderflow decide refund-and-cancel:7:319 --action skip --note "store admin shows the credit" --operator anna
  orderflow decide --query 'OrderflowStep = "delete-justclick-bill"' --action retry --note "JustClick is back" --operator anna --dry-run`,
  async run(args, context) {
    const { values, positionals } = parseCommandArgs(args, { options: {
          action: { type: 'string' }, note: { type: 'string' }, operator: { type: 'string' }, signal: { type: 'boolean' },
          query: { type: 'string' }, 'dry-run': { type: 'boolean' },
        },
        allowPositionals: true });
    const [workflowId, ...extra] = positionals;
    const problems: string[] = [];
    if (values.query === undefined && (workflowId === undefined || extra.length > 0)) problems.push('give exactly one workflow id, or --query');
    if (values.query !== undefined && positionals.length > 0) problems.push('give either a workflow id or --query, not both');
    if (values['dry-run'] === true && values.query === undefined) problems.push('--dry-run goes with --query');
    if (!values.action || !(operatorActions as readonly string[]).includes(values.action)) problems.push(`--action must be one of ${operatorActions.join(', ')}`);
    if (!values.note?.trim()) problems.push('--note must say why');
    if (!values.operator?.trim()) problems.push('--operator must name who decides');
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    const decision = { action: values.action, note: values.note, operator: values.operator } as OperatorDecision;
    const viaSignal = values.signal === true;

    return withTemporal(context, async (client) => {
      if (values.query === undefined) {
        const outcome = await sendDecision(client.workflow.getHandle(workflowId!), decision, viaSignal);
        (outcome.accepted ? context.stdout : context.stderr).write(`${workflowId}: ${outcome.text}\n`);
        return outcome.accepted ? exitCodes.ok : exitCodes.failed;
      }
      const query = `${awaitingOperatorQuery} AND (${values.query})`;
      const runs = await listRuns(client, query);
      if (runs.length === 0) {
        line(context, `No run waiting for an operator matches ${query}.`);
        return exitCodes.ok;
      }
      if (values['dry-run'] === true) {
        line(context, `Dry run: ${decision.action} would be sent to ${runs.length} run(s) (${query}):`);
        for (const run of runs) {
          const status = await queryStatus(client.workflow.getHandle(run.workflowId));
          const choice = status?.awaiting?.choices[decision.action];
          line(context, `  ${run.workflowId} at ${run.step}: ${choice ?? `not possible there (choices: ${Object.keys(status?.awaiting?.choices ?? {}).join(', ') || 'none'})`}`);
        }
        return exitCodes.ok;
      }
      const report = progress(context, runs.length);
      const outcomes: Array<{ workflowId: string; accepted: boolean; text: string }> = [];
      report(0, '');
      for (const [index, run] of runs.entries()) {
        const outcome = await sendDecision(client.workflow.getHandle(run.workflowId), decision, viaSignal);
        outcomes.push({ workflowId: run.workflowId, ...outcome });
        report(index + 1, run.workflowId);
      }
      for (const outcome of outcomes) line(context, `${outcome.workflowId}: ${outcome.text}`);
      const refused = outcomes.filter((outcome) => !outcome.accepted).length;
      line(context, `${outcomes.length - refused} accepted, ${refused} refused.`);
      return refused === 0 ? exitCodes.ok : exitCodes.failed;
    });
  },
};

export const workerCommand: LeafCommand = {
  name: 'worker',
  summary: 'Run an orderflow worker until Ctrl-C',
  usage: 'worker',
  help: `Runs a worker: connects to Temporal (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE), polls
ORDERFLOW_TASK_QUEUE, calls the APIs configured by WEBTV_* and JUSTCLICK_*, records effects in
ORDERFLOW_LEDGER. Logs JSON lines on stderr; serves Prometheus metrics when
ORDERFLOW_METRICS_PORT is set. Stops gracefully on SIGINT/SIGTERM.`,
  async run(args, context) {
    parseCommandArgs(args, { options: {}, allowPositionals: false });
    const { runWorkerProcess } = await import('../worker.ts');
    try {
      await runWorkerProcess(context.env);
    } catch (error) {
      if (error instanceof ConfigError || error instanceof TemporalNotReadyError) throw error;
      throw new CommandFailure(`The worker stopped: ${error instanceof Error ? error.message : String(error)}`);
    }
    return exitCodes.ok;
  },
};

