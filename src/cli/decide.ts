/** `orderflow decide`: an operator's decision for the wait of one run, or of each waiting run a query selects (docs/decisions.md). */
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { authorshipProblems, waitIdPattern } from '../run-kit/operator.ts';
import { operatorActions, updateNames } from '../contracts.ts';
import type { OperatorDecision, OperatorDecisionReply } from '../contracts.ts';
import { CommandFailure, UsageError, errorLine, exitCodes, leafCommand, line, progressBar, progressDisplay } from './framework.ts';
import { queryStatus, withTemporal } from './temporal.ts';
import { failureOf } from '../features/bulk/client.ts';
import { awaitingOperatorQuery } from '../search-attributes.ts';
import { listRuns } from './ops.ts';

/** The default decision id (update id): the same decision for the same wait, sent again, stays one decision. */
function defaultDecisionId(decision: OperatorDecision): string {
  const digest = createHash('sha256').update(JSON.stringify([decision.waitId, decision.action, decision.note, decision.operator])).digest('hex');
  return `decide:${decision.waitId}:${digest.slice(0, 20)}`;
}

/** Why the run's answer is not the decision sent (Temporal answers a known update id with its first outcome). */
function reusedDecisionId(sent: OperatorDecision, reply: OperatorDecisionReply, decisionId: string): string | undefined {
  const same = reply.waitId === sent.waitId && reply.action === sent.action && reply.note === sent.note.trim() && reply.operator === sent.operator.trim();
  if (same) return undefined;
  return `this decision id (${decisionId}) was already used for ${reply.action} at ${reply.waitId} by ${reply.operator} (Temporal identity: ${reply.identity ?? 'none recorded'}): "${reply.note}". Temporal answered with that first decision; yours (${sent.action} at ${sent.waitId}) was not taken. Send it with another --decision-id, after checking the run's status.`;
}

/** Why a decision found no run to go to: none ever had this id, or it is not running any more. */
async function notRunning(handle: WorkflowHandle): Promise<{ accepted: false; notFound: boolean; text: string }> {
  try {
    const description = await handle.describe();
    return { accepted: false, notFound: false, text: `refused: the run is not running any more (Temporal: ${description.status.name}); see orderflow status ${handle.workflowId}` };
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    return { accepted: false, notFound: true, text: 'refused: no run has this workflow id (check the id; orderflow ops list shows the runs waiting for an operator)' };
  }
}

async function sendDecision(handle: WorkflowHandle, decision: OperatorDecision, viaSignal: boolean, decisionId?: string): Promise<{ accepted: boolean; notFound?: boolean; text: string }> {
  if (viaSignal) {
    try {
      await handle.signal(updateNames.operatorDecision, decision);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return notRunning(handle);
      throw error;
    }
    return { accepted: true, text: `signal sent (${decision.action} for ${decision.waitId}); the run checks it: see orderflow status ${handle.workflowId} (a refused signal is listed there, with why)` };
  }
  const updateId = decisionId ?? defaultDecisionId(decision);
  try {
    const reply = await handle.executeUpdate<OperatorDecisionReply, [OperatorDecision]>(updateNames.operatorDecision, { args: [decision], updateId });
    const reused = reusedDecisionId(decision, reply, updateId);
    if (reused !== undefined) return { accepted: false, text: `refused: ${reused}` };
    return { accepted: true, text: `accepted: ${reply.action} at ${reply.waitId}, recorded as from ${reply.identity ?? 'no identity'}. ${reply.willHappen}` };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) return { accepted: false, text: `refused: ${failureOf(error)}` };
    if (error instanceof WorkflowNotFoundError) return notRunning(handle);
    throw error;
  }
}

const exampleQuery = 'OrderflowStep = "delete-justclick-bill"';

export const decideCommand = leafCommand({
  name: 'decide',
  summary: 'Resume runs that wait for an operator: retry, skip, compensate, abort or approve',
  usage: 'decide (<workflowId> [--wait <step>#<n>] [--decision-id <id>] | --query <visibility query> (--yes | --max <n> | --dry-run)) --action retry|skip|compensate|abort|approve --note <text> --operator <name> [--signal]',
  help: `Sends the operatorDecision update (the run validates it and answers what will happen) or,
with --signal, the signal (a refused one is listed in orderflow status). A decision names the
wait it answers (e.g. cancel-order#2, as status shows it), so a stale or retried one never
lands on the next wait; sent twice, it is one decision. With --query, it prints how many
waiting runs match, then decides each at its current wait. See docs/decisions.md.`,
  options: {
    action: { type: 'string', value: '<action>', help: "retry | skip | compensate | abort | approve (only the run's offered choices)" },
    note: { type: 'string', value: '<text>', help: 'Why: what you checked (required; recorded in the run and the ledger)' },
    operator: { type: 'string', value: '<name>', help: 'Who decides (required)' },
    wait: { type: 'string', value: '<step>#<n>', help: "The wait this decision answers (default: the one its status shows now)" },
    'decision-id': { type: 'string', value: '<id>', help: 'Its Temporal update id: a retry elsewhere with the same id is one decision' },
    query: { type: 'string', value: '<query>', help: `Instead of one workflow id: every waiting run that matches, e.g. '${exampleQuery}'` },
    yes: { type: 'boolean', help: 'With --query: send to every match' },
    max: { type: 'string', value: '<n>', help: 'With --query: send only when at most n runs match' },
    'dry-run': { type: 'boolean', help: 'With --query: show what would happen, send nothing' },
    signal: { type: 'boolean', help: 'Send a signal instead of an update' },
  },
  positionals: true,
  notes: `Exit status: 0 when every decision was accepted; 1 when any was refused (or nothing was
sent); 4 (one workflow id) no run has that id; 2 bad usage.

Examples:
  orderflow decide refund-and-cancel:7:319 --wait add-credit#1 --action skip --note "store admin shows the credit" --operator anna
  orderflow decide --query '${exampleQuery}' --action retry --note "JustClick is back" --operator anna --dry-run
  orderflow decide --query '${exampleQuery}' --action retry --note "JustClick is back" --operator anna --max 20`,
  async run({ values, positionals }, context) {
    const [workflowId, ...extra] = positionals;
    const problems: string[] = [];
    const many = values.query !== undefined;
    if (!many && (workflowId === undefined || extra.length > 0)) problems.push('give exactly one workflow id, or --query');
    if (many && positionals.length > 0) problems.push('give either a workflow id or --query, not both');
    if (!many && (values['dry-run'] === true || values.yes === true || values.max !== undefined)) problems.push('--dry-run, --yes and --max go with --query');
    if (many && values.wait !== undefined) problems.push('--wait names one run\'s wait; with --query each run\'s current wait is taken from its status');
    if (many && values['decision-id'] !== undefined) problems.push('--decision-id names one decision; with --query each run gets its own');
    if (values.wait !== undefined && !waitIdPattern.test(values.wait)) {
      const shape = '<step>#<number>, e.g. cancel-order#2, as orderflow status shows it';
      problems.push(`--wait ${JSON.stringify(values.wait)} is not a wait id: ${shape}`);
    }
    if (values['decision-id'] !== undefined && !/^[A-Za-z0-9_.:#-]{1,200}$/.test(values['decision-id'])) problems.push('--decision-id must be 1-200 letters, digits or . _ : # -');
    const max = values.max === undefined ? undefined : /^[1-9][0-9]{0,6}$/.test(values.max) ? Number(values.max) : NaN;
    if (Number.isNaN(max)) problems.push(`--max must be a whole number of runs, 1 or more (got ${JSON.stringify(values.max)})`);
    if (!values.action || !(operatorActions as readonly string[]).includes(values.action)) problems.push(`--action must be one of ${operatorActions.join(', ')}`);
    // Who decides and why: the runs' own rule (run-kit/operator.ts), with the options' names.
    problems.push(...authorshipProblems({ note: values.note, operator: values.operator }, 'decides').map((problem) => problem.replace(/^"(\w+)"/, '--$1')));
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    const what = { action: values.action as OperatorDecision['action'], note: values.note!, operator: values.operator! };
    const viaSignal = values.signal === true;

    return withTemporal(context, async (client) => {
      if (!many) {
        const handle = client.workflow.getHandle(workflowId!);
        let waitId = values.wait;
        if (waitId === undefined) {
          const status = await queryStatus(handle);
          if (status === undefined) {
            // No answer: a run that ended (or never existed) says so; a running one needs its worker.
            const ended = await notRunning(handle).catch(() => undefined);
            if (ended !== undefined && (ended.notFound || !/not running any more \(Temporal: RUNNING\)/.test(ended.text))) {
              errorLine(context, `${workflowId}: ${ended.text}`);
              return ended.notFound ? exitCodes.notFound : exitCodes.failed;
            }
            throw new CommandFailure(`${workflowId}: its status did not answer, so its wait is unknown; give --wait <step>#<n> (is a worker running?).`);
          }
          if (status.awaiting === null) {
            errorLine(context, `${workflowId}: refused: the run waits for no decision now (state ${status.state}, step ${status.step}); nothing was sent.`);
            return exitCodes.failed;
          }
          waitId = status.awaiting.waitId;
          line(context, `No --wait given: deciding ${waitId} (step ${status.awaiting.step}), the wait the run's status shows now.`);
        }
        const decision: OperatorDecision = { waitId, step: waitId.slice(0, waitId.indexOf('#')), ...what };
        const outcome = await sendDecision(handle, decision, viaSignal, values['decision-id']);
        (outcome.accepted ? context.stdout : context.stderr).write(`${workflowId}: ${outcome.text}\n`);
        return outcome.accepted ? exitCodes.ok : outcome.notFound === true ? exitCodes.notFound : exitCodes.failed;
      }
      const query = `${awaitingOperatorQuery} AND (${values.query})`;
      const runs = await listRuns(client, query);
      if (runs.length === 0) {
        line(context, `No run waiting for an operator matches ${query}.`);
        return exitCodes.ok;
      }
      line(context, `${runs.length} run(s) waiting for an operator match ${query}.`);
      if (values['dry-run'] === true) {
        line(context, `Dry run: ${what.action} would be sent to ${runs.length} run(s):`);
        for (const run of runs) {
          const status = await queryStatus(client.workflow.getHandle(run.workflowId));
          const choice = status?.awaiting?.choices[what.action];
          line(context, `  ${run.workflowId} at ${run.waitId ?? run.step}: ${choice ?? `not possible there (choices: ${Object.keys(status?.awaiting?.choices ?? {}).join(', ') || 'none'})`}`);
        }
        return exitCodes.ok;
      }
      if (values.yes !== true && max === undefined) {
        errorLine(context, `Nothing sent: to decide ${runs.length} run(s) at once, add --yes, or --max <n> to send only when at most n match (--dry-run shows each).`);
        return exitCodes.failed;
      }
      if (max !== undefined && runs.length > max) {
        errorLine(context, `Nothing sent: ${runs.length} runs match, more than --max ${max}. Narrow --query, or raise --max after checking with --dry-run.`);
        return exitCodes.failed;
      }
      const progress = progressDisplay(context);
      const outcomes: Array<{ workflowId: string; accepted: boolean; text: string }> = [];
      progress.show(progressBar(0, runs.length));
      for (const [index, run] of runs.entries()) {
        const outcome =
          run.waitId === undefined
            ? { accepted: false, text: 'refused: its status did not answer, so its wait is unknown; nothing was sent' }
            : await sendDecision(client.workflow.getHandle(run.workflowId), { waitId: run.waitId, step: run.step, ...what }, viaSignal);
        outcomes.push({ workflowId: run.workflowId, ...outcome });
        progress.show(`${progressBar(index + 1, runs.length)} ${run.workflowId}`, index + 1 === runs.length);
      }
      for (const outcome of outcomes) line(context, `${outcome.workflowId}: ${outcome.text}`);
      const refused = outcomes.filter((outcome) => !outcome.accepted).length;
      line(context, `${outcomes.length - refused} accepted, ${refused} refused.`);
      return refused === 0 ? exitCodes.ok : exitCodes.failed;
    });
  },
});
