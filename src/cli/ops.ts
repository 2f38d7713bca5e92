/** `orderflow ops list` and `orderflow ops show`: the Temporal UI's story of stuck runs, in a terminal. */
import type { Client } from '@temporalio/client';
import { awaitingOperatorQuery, orderflowSearchAttributes } from '../search-attributes.ts';
import { workflowUiUrl } from '../client/connect.ts';
import { UsageError, exitCodes, leafCommand, line } from './framework.ts';
import type { GroupCommand } from './framework.ts';
import { closedRunOutcome, describeOutcome, describeRecordedDecision, describeRefusedDecision, describeRun } from './temporal.ts';
import { queryRun, queryStatus, statusQueryUnanswered, withTemporal } from './temporal.ts';

function age(since: Date | string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - new Date(since).getTime()) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/** Runs matching a visibility query, with what they wait for (the wait's id when the run's status answered). */
export async function listRuns(client: Client, query: string, limit = 1000) {
  const runs = [];
  for await (const execution of client.workflow.list({ query })) {
    const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
    const status = await queryStatus(handle);
    runs.push({
      workflowId: execution.workflowId,
      workflowType: execution.type,
      step: status?.awaiting?.step ?? String(execution.typedSearchAttributes.get(orderflowSearchAttributes.step) ?? '?'),
      waitId: status?.awaiting?.waitId,
      reason: status?.awaiting?.reason ?? (status ? `state ${status.state}` : 'no answer to the status query (is a worker running?)'),
      since: status?.awaiting?.since ?? execution.startTime.toISOString(),
    });
    if (runs.length >= limit) break;
  }
  return runs;
}

const listCommand = leafCommand({
  name: 'list',
  summary: 'List the runs waiting for an operator, with step, reason and age',
  usage: 'ops list [--query <visibility query>] [--json]',
  help: `Lists every run whose OrderflowState is "awaiting-operator" (the same filter as in the
Temporal UI: ${awaitingOperatorQuery}).`,
  options: {
    query: { type: 'string', value: '<query>', help: "Only the runs that also match this visibility query, e.g. 'StoreUserId = 7'" },
    json: { type: 'boolean', help: 'Print the list as JSON' },
  },
  notes: `Examples:
  orderflow ops list
  orderflow ops list --query 'OrderflowStep = "undo-add-credit"' --json`,
  async run({ values }, context) {
    const query = values.query ? `${awaitingOperatorQuery} AND (${values.query})` : awaitingOperatorQuery;
    return withTemporal(context, async (client) => {
      const runs = await listRuns(client, query);
      if (values.json === true) {
        line(context, JSON.stringify(runs, null, 2));
        return exitCodes.ok;
      }
      if (runs.length === 0) {
        line(context, `No run waits for an operator (${query}).`);
        return exitCodes.ok;
      }
      const idWidth = Math.max(...runs.map((run) => run.workflowId.length), 11);
      const waitWidth = Math.max(...runs.map((run) => (run.waitId ?? run.step).length), 4);
      line(context, `${'WORKFLOW ID'.padEnd(idWidth)}  ${'WAIT'.padEnd(waitWidth)}  ${'AGE'.padStart(4)}  REASON`);
      for (const run of runs) {
        line(context, `${run.workflowId.padEnd(idWidth)}  ${(run.waitId ?? run.step).padEnd(waitWidth)}  ${age(run.since).padStart(4)}  ${run.reason}`);
      }
      line(context, `${runs.length} run(s). Details: orderflow ops show <workflow id>`);
      return exitCodes.ok;
    });
  },
});

const showCommand = leafCommand({
  name: 'show',
  summary: 'Show the whole story of one run: summary, current details, steps, decisions',
  usage: 'ops show <workflowId>',
  help: `Shows what the Temporal UI shows for a run: its summary and details, its current details
(which step failed and why, what was observed, what each decision would do), each step, and
the decisions so far. A run that ended shows its outcome, from its history.

Exit status: 0 the run was found; 4 no run has this workflow id; 1 Temporal could not be
asked; 2 bad usage.`,
  positionals: true,
  async run({ positionals }, context) {
    const [workflowId, ...extra] = positionals;
    if (workflowId === undefined || extra.length > 0) throw new UsageError('give exactly one workflow id.');
    return withTemporal(context, async (client, config) => {
      const handle = client.workflow.getHandle(workflowId);
      const description = await describeRun(handle, config);
      line(context, `# ${workflowId}`);
      line(context, `${(await description.staticSummary()) ?? description.type} — Temporal: ${description.status.name}, started ${description.startTime.toISOString()} (${age(description.startTime)} ago)`);
      line(context, workflowUiUrl(config, workflowId));
      const outcome = await closedRunOutcome(handle, description);
      if (outcome) line(context, `\n${describeOutcome(outcome)}`);
      const details = await description.staticDetails();
      if (details) line(context, `\n${details}`);
      const metadata = await queryRun<{ currentDetails?: string }>(handle, '__temporal_workflow_metadata');
      if (metadata?.currentDetails) line(context, `\n${metadata.currentDetails}`);
      // Both queries are answered by a worker: when none answered the first, do not wait for the second.
      const status = metadata === undefined ? undefined : await queryStatus(handle);
      if (!status) {
        line(context, `\n${statusQueryUnanswered(description)}`);
        return exitCodes.ok;
      }
      line(context, `\n## Steps (state: ${status.state})`);
      for (const step of status.steps) line(context, `- ${step.name}: ${step.state}${step.detail ? ` — ${step.detail}` : ''}`);
      if (status.awaiting) line(context, `\n## Waiting for: ${status.awaiting.waitId} (step ${status.awaiting.step}; choices ${Object.keys(status.awaiting.choices).join(', ')})`);
      if (status.startedBy !== undefined) line(context, `\nStarted by (Temporal identity): ${status.startedBy ?? 'none recorded'}`);
      if (status.decisions.length > 0) {
        line(context, '\n## Decisions');
        for (const decision of status.decisions) line(context, `- ${describeRecordedDecision(decision)}`);
      }
      if ((status.refused ?? []).length > 0) {
        line(context, '\n## Refused decisions');
        for (const refused of status.refused) line(context, `- ${describeRefusedDecision(refused)}`);
      }
      return exitCodes.ok;
    });
  },
});

export const opsGroup: GroupCommand = {
  name: 'ops',
  summary: 'For the operator on call: list stuck runs, show one',
  help: `For the operator on call, the terminal twin of the Temporal UI. Decide with
'orderflow decide <workflowId> ...' or, for many runs at once, 'orderflow decide --query ...'.`,
  subcommands: [listCommand, showCommand],
};
