/**
 * The 1.0 bulk, kept so that bulks started by 1.0 (the rows in their input, one
 * `runBulkItem` activity per item) replay and finish after an upgrade: `bulkRun` hands an
 * input with `items` to this function (./workflow.ts). New bulks never take this path.
 * The code is 1.0's, unchanged but for names; do not change what it does.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { bulkKinds, bulkLimits, bulkQueryNames, bulkUpdateNames } from './contracts.ts';
import type {
  BulkControl,
  BulkControlRecord,
  BulkCounts,
  BulkItemOutcome,
  BulkProgress,
  BulkState,
  LegacyBulkActivities,
  LegacyBulkResult,
  LegacyBulkRunInput,
} from './contracts.ts';
import { FailureType } from '../../contracts.ts';
import { escapeMarkdown } from '../../markdown.ts';
import { authorshipProblems } from '../../run-kit/operator.ts';
import { receivedWorkflowIdProblem } from '../../run-kit/received-id.ts';
import { orderflowSearchAttributes } from '../../search-attributes.ts';

/** The same query and updates as ./workflow.ts defines (by name). */
const bulkProgressQuery = defineQuery<BulkProgress>(bulkQueryNames.progress);
const pauseBulkUpdate = defineUpdate<BulkProgress, [BulkControl]>(bulkUpdateNames.pause);
const resumeBulkUpdate = defineUpdate<BulkProgress, [BulkControl]>(bulkUpdateNames.resume);
const cancelBulkUpdate = defineUpdate<BulkProgress, [BulkControl]>(bulkUpdateNames.cancel);
/** 1.0's items per run before continue-as-new. */
const legacyItemsPerRun = 500;

const { runBulkItem } = proxyActivities<LegacyBulkActivities>({
  // An item may retry its own steps for about ten minutes before it asks an operator;
  // past this the attempt is retried, which joins the same run again.
  startToCloseTimeout: '1 hour',
  // The activity heartbeats every second: a worker killed mid-item is noticed in 15 s.
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** A pause, resume or cancel says who asks and why, by the same rule as an operator's decision. */
function controlProblems(control: unknown): string[] {
  if (typeof control !== 'object' || control === null) return ['give a JSON object like {"operator":"anna","note":"store maintenance"}'];
  return authorshipProblems(control, 'asks');
}

function inputProblems(input: LegacyBulkRunInput): string[] {
  const problems: string[] = [];
  if (!(bulkKinds as readonly string[]).includes(input.kind)) problems.push(`kind must be one of ${bulkKinds.join(', ')}`);
  if (!Array.isArray(input.items)) problems.push('items must be a list');
  if (!Number.isSafeInteger(input.total) || input.total < 0 || input.total > bulkLimits.maxItems) {
    problems.push(`total must be 0 to ${bulkLimits.maxItems}`);
  }
  if (!Number.isSafeInteger(input.concurrency) || input.concurrency < 1 || input.concurrency > bulkLimits.maxConcurrency) {
    problems.push(`concurrency must be 1 to ${bulkLimits.maxConcurrency}`);
  }
  if (!Number.isSafeInteger(input.rate) || input.rate < 1 || input.rate > bulkLimits.maxRate) problems.push(`rate must be 1 to ${bulkLimits.maxRate} per second`);
  if (input.itemsPerRun !== undefined && (!Number.isSafeInteger(input.itemsPerRun) || input.itemsPerRun < 1)) problems.push('itemsPerRun must be ≥ 1');
  return problems;
}

export async function legacyBulkRun(input: LegacyBulkRunInput): Promise<LegacyBulkResult> {
  const idProblem = receivedWorkflowIdProblem();
  const problems = [...(idProblem === undefined ? [] : [idProblem]), ...inputProblems(input)];
  if (problems.length > 0) {
    throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: `bulk input refused: ${problems.join('; ')}`, nonRetryable: true });
  }
  const info = workflowInfo();
  const outcomes: BulkItemOutcome[] = [...(input.carried?.outcomes ?? [])];
  const controls: BulkControlRecord[] = [...(input.carried?.controls ?? [])];
  const startedAt = input.carried?.startedAt ?? new Date().toISOString();
  let state: BulkState = input.carried?.state ?? 'running';
  /** Index in the file of input.items[0]: every earlier item has settled (continue-as-new waits for that). */
  const firstIndex = outcomes.length;
  let next = 0;
  const running = new Set<number>();

  function counts(): BulkCounts {
    const tally = { done: 0, failed: 0, waiting: 0, notStarted: 0 };
    for (const outcome of outcomes) {
      if (outcome.outcome === 'not-started') tally.notStarted++;
      else tally[outcome.outcome]++;
    }
    const queued = state === 'finished' || state === 'cancelled' ? 0 : input.items.length - next;
    return { total: input.total, ...tally, running: running.size, queued };
  }

  function progress(): BulkProgress {
    const pick = (kind: BulkItemOutcome['outcome']) =>
      outcomes.filter((outcome) => outcome.outcome === kind).map(({ workflowId, detail }) => ({ workflowId, detail }));
    return {
      bulkId: input.bulkId,
      kind: input.kind,
      state,
      counts: counts(),
      concurrency: input.concurrency,
      rate: input.rate,
      startedAt,
      waiting: pick('waiting'),
      failed: pick('failed'),
      controls: [...controls],
    };
  }

  const link = (workflowId: string): string =>
    `[${escapeMarkdown(workflowId)}](/namespaces/${encodeURIComponent(info.namespace)}/workflows/${encodeURIComponent(workflowId)})`;

  function renderDetails(): string {
    const current = counts();
    const settled = current.done + current.failed + current.waiting + current.notStarted;
    const lines = [
      `## Bulk ${input.kind}: ${state}`,
      '',
      `- **Settled:** ${settled} of ${current.total}`,
      `- **Done:** ${current.done}`,
      `- **Failed:** ${current.failed}`,
      `- **Waiting for an operator:** ${current.waiting}`,
      `- **Running:** ${current.running}`,
      `- **Queued:** ${current.queued}`,
      ...(current.notStarted > 0 ? [`- **Not started (cancelled):** ${current.notStarted}`] : []),
      `- **Limits:** ${input.concurrency} at once, ${input.rate} starts per second`,
    ];
    const listed = (title: string, kind: BulkItemOutcome['outcome']): void => {
      const items = outcomes.filter((outcome) => outcome.outcome === kind && outcome.workflowId !== '');
      if (items.length === 0) return;
      lines.push('', `### ${title}`, '');
      for (const item of items.slice(0, 50)) lines.push(`- ${link(item.workflowId)}${item.detail ? `: ${escapeMarkdown(item.detail)}` : ''}`);
      if (items.length > 50) lines.push(`- … and ${items.length - 50} more (the \`progress\` query lists them all)`);
    };
    listed('Waiting for an operator', 'waiting');
    listed('Failed', 'failed');
    const last = controls[controls.length - 1];
    if (last) lines.push('', `Last control: **${escapeMarkdown(last.operator)}** chose **${last.action}** at ${last.at}: ${escapeMarkdown(last.note)}`);
    if (state === 'running' || state === 'paused') {
      lines.push('', 'Send the **pause**, **resume** or **cancel** update with `{"operator":"your name","note":"why"}`.');
    }
    return lines.join('\n');
  }

  let attributesWrittenAt = 0;
  let written: { done: number; failed: number; waiting: number; state: BulkState } | undefined;
  let progressLogged: { at: number; settled: number; state: BulkState } | undefined;
  /**
   * A `bulk progress` log line (one per progress step: `npm start`'s terminal shows these
   * instead of a line per item run): when the state changes, else at most every 2 s of
   * workflow time while items settle. Not written while a history replays.
   */
  function logProgress(current: BulkCounts): void {
    const settled = current.done + current.failed + current.waiting + current.notStarted;
    const now = Date.now();
    if (progressLogged && progressLogged.state === state && (progressLogged.settled === settled || now - progressLogged.at < 2_000)) return;
    progressLogged = { at: now, settled, state };
    log.info('bulk progress', {
      bulkId: input.bulkId,
      state,
      total: current.total,
      done: current.done,
      failed: current.failed,
      waiting: current.waiting,
      notStarted: current.notStarted,
      running: current.running,
      queued: current.queued,
    });
  }
  /**
   * Current details always; search attributes when something changed — a new failed or
   * waiting item, or the state, at once; the done count at most once a second of workflow
   * time (each upsert is a history event).
   */
  function publish(force = false): void {
    setCurrentDetails(renderDetails());
    const current = counts();
    logProgress(current);
    const { done, failed, waiting } = current;
    if (written && written.done === done && written.failed === failed && written.waiting === waiting && written.state === state) return;
    const urgent = force || !written || written.failed !== failed || written.waiting !== waiting || written.state !== state;
    const now = Date.now();
    if (!urgent && now - attributesWrittenAt < 1_000) return;
    attributesWrittenAt = now;
    written = { done, failed, waiting, state };
    upsertSearchAttributes([
      { key: orderflowSearchAttributes.bulkId, value: input.bulkId },
      { key: orderflowSearchAttributes.state, value: state === 'finished' ? 'completed' : state },
      { key: orderflowSearchAttributes.bulkDone, value: done },
      { key: orderflowSearchAttributes.bulkFailed, value: failed },
      { key: orderflowSearchAttributes.bulkWaiting, value: waiting },
    ]);
  }

  function control(action: BulkControlRecord['action'], allowedFrom: readonly BulkState[]) {
    return {
      validator: (request: BulkControl): void => {
        if (!allowedFrom.includes(state)) {
          throw new Error(`cannot ${action} bulk ${input.bulkId}: it is ${state}${state === 'finished' ? '' : ` (${action} is possible when it is ${allowedFrom.join(' or ')})`}`);
        }
        const found = controlProblems(request);
        if (found.length > 0) throw new Error(`${action} refused: ${found.join('; ')}`);
      },
      handler: (request: BulkControl): BulkProgress => {
        controls.push({ action, operator: request.operator.trim(), note: request.note.trim(), at: new Date().toISOString() });
        state = action === 'pause' ? 'paused' : action === 'resume' ? 'running' : 'cancelled';
        publish(true);
        return progress();
      },
    };
  }
  setHandler(bulkProgressQuery, progress);
  const pause = control('pause', ['running']);
  const resume = control('resume', ['paused']);
  const cancel = control('cancel', ['running', 'paused']);
  setHandler(pauseBulkUpdate, pause.handler, { validator: pause.validator, description: 'Stop starting new items (running ones go on): {"operator":"who","note":"why"}' });
  setHandler(resumeBulkUpdate, resume.handler, { validator: resume.validator, description: 'Start items again after a pause: {"operator":"who","note":"why"}' });
  setHandler(cancelBulkUpdate, cancel.handler, {
    validator: cancel.validator,
    description: 'Start no more items; running ones are left alone and reported: {"operator":"who","note":"why"}',
  });
  publish(true);

  const itemsPerRun = input.itemsPerRun ?? legacyItemsPerRun;
  let startedThisRun = 0;
  /** Workflow times of the starts in the last second: a sliding window, so no second ever sees more than `rate`. */
  const recentStarts: number[] = [];

  const launch = (position: number): void => {
    const index = firstIndex + position;
    const item = input.items[position]!;
    running.add(index);
    void runBulkItem({ kind: input.kind, item, index, bulkId: input.bulkId, workflowIdPrefix: input.workflowIdPrefix })
      .then(
        (outcome) => outcomes.push(outcome),
        (error: unknown) =>
          outcomes.push({ index, workflowId: '', outcome: 'failed', detail: `the bulk could not run this item: ${error instanceof Error ? error.message : String(error)}` }),
      )
      .finally(() => {
        running.delete(index);
        publish();
      });
  };

  while (next < input.items.length) {
    await condition(() => state === 'cancelled' || (state === 'running' && running.size < input.concurrency));
    if (state === 'cancelled') break;
    if (startedThisRun >= itemsPerRun || workflowInfo().continueAsNewSuggested) break;
    const now = Date.now();
    while (recentStarts.length > 0 && recentStarts[0]! <= now - 1_000) recentStarts.shift();
    if (recentStarts.length >= input.rate) {
      await sleep(recentStarts[0]! + 1_000 - now);
      continue;
    }
    recentStarts.push(now);
    startedThisRun++;
    launch(next);
    next++;
  }

  await condition(() => running.size === 0);
  if (next < input.items.length && state !== 'cancelled') {
    publish(true);
    await condition(allHandlersFinished);
    return continueAsNew<typeof legacyBulkRun>({
      ...input,
      items: input.items.slice(next),
      carried: { outcomes, state, startedAt, controls },
    });
  }
  for (let position = next; position < input.items.length; position++) {
    outcomes.push({ index: firstIndex + position, workflowId: '', outcome: 'not-started', detail: 'the bulk was cancelled before this item started' });
  }
  const endState = state === 'cancelled' ? 'cancelled' : 'finished';
  state = endState;
  publish(true);
  await condition(allHandlersFinished);
  return {
    bulkId: input.bulkId,
    kind: input.kind,
    state: endState,
    counts: counts(),
    startedAt,
    finishedAt: new Date().toISOString(),
    items: [...outcomes].sort((a, b) => a.index - b.index),
    controls,
  };
}
