/**
 * bulkRun: many items of one kind, each its ordinary single-run workflow with its business-key
 * id, started and followed by `runBulkSlice` activities over rows stored in the worker's database;
 * progress query, pause/resume/cancel updates, continue-as-new (docs/architecture.md, "bulkRun").
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  log,
  ActivityCancellationType,
  CancellationScope,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { bulkLimits, bulkQueryNames, bulkUpdateNames } from './contracts.ts';
import { bulkNameProblems, refuse, wholeNumber as whole } from './rows-workflow.ts';
import type {
  BulkActivities,
  BulkControl,
  BulkControlRecord,
  BulkCounts,
  BulkProgress,
  BulkResult,
  BulkRunInput,
  BulkSettledCounts,
  BulkShownItem,
  BulkSliceResult,
  BulkState,
} from './contracts.ts';
import { FailureType } from '../../contracts.ts';
import { escapeMarkdown } from '../../markdown.ts';
import { authorshipProblems } from '../../run-kit/operator.ts';
import { receivedWorkflowIdProblem } from '../../run-kit/run-identity.ts';
import { orderflowSearchAttributes } from '../../search-attributes.ts';

export const bulkProgressQuery = defineQuery<BulkProgress>(bulkQueryNames.progress);
export const pauseBulkUpdate = defineUpdate<BulkProgress, [BulkControl]>(bulkUpdateNames.pause);
export const resumeBulkUpdate = defineUpdate<BulkProgress, [BulkControl]>(bulkUpdateNames.resume);
export const cancelBulkUpdate = defineUpdate<BulkProgress, [BulkControl]>(bulkUpdateNames.cancel);

const { runBulkSlice } = proxyActivities<BulkActivities>({
  // A slice runs about five seconds (it ends early when cancelled by a pause or cancel).
  startToCloseTimeout: '10 minutes',
  // It heartbeats every second: a worker killed mid-slice is noticed in 30 s, and the slice
  // is retried from the same input (started rows are joined, recorded outcomes kept).
  heartbeatTimeout: '30 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});
const { checkBulkRows, closeBulkRows } = proxyActivities<BulkActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: [FailureType.InvalidInput] },
});

/** A pause, resume or cancel says who asks and why, by the same rule as an operator's decision. */
function controlProblems(control: unknown): string[] {
  if (typeof control !== 'object' || control === null) return ['give a JSON object like {"operator":"anna","note":"store maintenance"}'];
  return authorshipProblems(control, 'asks');
}

/** An activity's refusal of the bulk's rows (InvalidInput) fails the bulk with the refusal's own words. */
function failAsBulk(error: unknown): never {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === FailureType.InvalidInput) {
    throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: error.cause.message, nonRetryable: true });
  }
  throw error;
}

function inputProblems(input: BulkRunInput): string[] {
  const problems = bulkNameProblems(input);
  if (!whole(input.total, 1, bulkLimits.maxItems)) problems.push(`total must be 1 to ${bulkLimits.maxItems}`);
  if (typeof input.digest !== 'string' || !/^[0-9a-f]{64}$/.test(input.digest)) problems.push('digest must be the rows\' SHA-256 in hex');
  if (!whole(input.concurrency, 1, bulkLimits.maxConcurrency)) problems.push(`concurrency must be 1 to ${bulkLimits.maxConcurrency}`);
  if (!whole(input.rate, 1, bulkLimits.maxRate)) problems.push(`rate must be 1 to ${bulkLimits.maxRate} per second`);
  if (input.slicesPerRun !== undefined && !whole(input.slicesPerRun, 1, 10_000)) problems.push('slicesPerRun must be 1 to 10000');
  if (input.sliceMs !== undefined && !whole(input.sliceMs, 100, 600_000)) problems.push('sliceMs must be 100 to 600000');
  return problems;
}

export async function bulkRun(input: BulkRunInput): Promise<BulkResult> {
  const idProblem = receivedWorkflowIdProblem();
  const problems = [...(idProblem === undefined ? [] : [idProblem]), ...inputProblems(input)];
  if (problems.length > 0) refuse('bulk input', problems);
  const info = workflowInfo();
  const carried = input.carried;
  const controls: BulkControlRecord[] = [...(carried?.controls ?? [])];
  const startedAt = carried?.startedAt ?? new Date().toISOString();
  let state: BulkState = carried?.state ?? 'running';
  /** The slice running now: a pause or cancel cancels it, and it reports at once. */
  let slice: CancellationScope | undefined;
  let next = carried?.next ?? 0;
  let inFlight: number[] = [...(carried?.inFlight ?? [])];
  let joinedInFlight: number[] = [...(carried?.joinedInFlight ?? [])];
  let settled: BulkSettledCounts = carried?.counts ?? { done: 0, failed: 0, waiting: 0, notStarted: 0 };
  const shown = { waiting: [...(carried?.waiting ?? [])], failed: [...(carried?.failed ?? [])] };

  function counts(): BulkCounts {
    const queued = state === 'finished' || state === 'cancelled' ? 0 : input.total - next;
    return { total: input.total, ...settled, running: inFlight.length, queued };
  }

  /** What the progress query and the result both tell. */
  function overview(): Omit<BulkProgress, 'state' | 'concurrency' | 'rate'> {
    const { bulkId, kind } = input;
    return { bulkId, kind, counts: counts(), startedAt, waiting: [...shown.waiting], failed: [...shown.failed], controls: [...controls] };
  }

  function progress(): BulkProgress {
    return { ...overview(), state, concurrency: input.concurrency, rate: input.rate };
  }

  const link = (workflowId: string): string =>
    `[${escapeMarkdown(workflowId)}](/namespaces/${encodeURIComponent(info.namespace)}/workflows/${encodeURIComponent(workflowId)})`;

  function renderDetails(): string {
    const current = counts();
    const lines = [
      `## Bulk ${input.kind}: ${state}`,
      '',
      `- **Settled:** ${current.done + current.failed + current.waiting + current.notStarted} of ${current.total}`,
      `- **Done:** ${current.done}`,
      `- **Failed:** ${current.failed}`,
      `- **Waiting for an operator:** ${current.waiting}`,
      `- **Running:** ${current.running}`,
      `- **Queued:** ${current.queued}`,
      ...(current.notStarted > 0 ? [`- **Not started (cancelled):** ${current.notStarted}`] : []),
      `- **Limits:** ${input.concurrency} at once, ${input.rate} starts per second`,
    ];
    const listed = (title: string, items: readonly BulkShownItem[], count: number): void => {
      if (count === 0) return;
      lines.push('', `### ${title}`, '');
      for (const item of items) lines.push(`- ${item.workflowId === '' ? '(not started)' : link(item.workflowId)}${item.detail ? `: ${escapeMarkdown(item.detail)}` : ''}`);
      if (count > items.length) lines.push(`- … and ${count - items.length} more (\`orderflow bulk status --wait --report\` lists them all)`);
    };
    listed('Waiting for an operator', shown.waiting, current.waiting);
    listed('Failed', shown.failed, current.failed);
    const last = controls[controls.length - 1];
    if (last) lines.push('', `Last control: **${escapeMarkdown(last.operator)}** chose **${last.action}** at ${last.at}: ${escapeMarkdown(last.note)}`);
    if (state === 'running' || state === 'paused') {
      lines.push('', 'Send the **pause**, **resume** or **cancel** update with `{"operator":"your name","note":"why"}`.');
    }
    return lines.join('\n');
  }

  let progressLogged: { at: number; settled: number; state: BulkState } | undefined;
  /** `npm start` shows these, not a line per item: on a state change, else at most every 2 s while items settle. */
  function logProgress(current: BulkCounts): void {
    const settled = current.done + current.failed + current.waiting + current.notStarted;
    const now = Date.now();
    if (progressLogged && progressLogged.state === state && (progressLogged.settled === settled || now - progressLogged.at < 2_000)) return;
    progressLogged = { at: now, settled, state };
    log.info('bulk progress', { bulkId: input.bulkId, state, ...current });
  }
  let attributesWrittenAt = 0;
  let written: { done: number; failed: number; waiting: number; state: BulkState } | undefined;
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

  setHandler(bulkProgressQuery, progress);
  const controlUpdates = [
    [pauseBulkUpdate, 'pause', ['running'], 'Stop starting new items (running ones go on)'],
    [resumeBulkUpdate, 'resume', ['paused'], 'Start items again after a pause'],
    [cancelBulkUpdate, 'cancel', ['running', 'paused'], 'Start no more items; running ones are left alone and reported'],
  ] as const;
  for (const [update, action, allowedFrom, what] of controlUpdates) {
    const validator = (request: BulkControl): void => {
      if (!(allowedFrom as readonly BulkState[]).includes(state)) {
        throw new Error(`cannot ${action} bulk ${input.bulkId}: it is ${state}${state === 'finished' ? '' : ` (${action} is possible when it is ${allowedFrom.join(' or ')})`}`);
      }
      const found = controlProblems(request);
      if (found.length > 0) throw new Error(`${action} refused: ${found.join('; ')}`);
    };
    const handler = (request: BulkControl): BulkProgress => {
      controls.push({ action, operator: request.operator.trim(), note: request.note.trim(), at: new Date().toISOString() });
      if (controls.length > bulkLimits.shownControls) controls.splice(0, controls.length - bulkLimits.shownControls);
      state = action === 'pause' ? 'paused' : action === 'resume' ? 'running' : 'cancelled';
      // The running slice stops starting items and reports now.
      if (action !== 'resume') slice?.cancel();
      publish(true);
      return progress();
    };
    setHandler(update, handler, { validator, description: `${what}: {"operator":"who","note":"why"}` });
  }
  publish(true);

  if (carried === undefined) {
    // The rows must be the ones this bulk was started with: nothing starts otherwise.
    await checkBulkRows({ bulkId: input.bulkId, total: input.total, digest: input.digest }).catch(failAsBulk);
  }

  const slicesPerRun = input.slicesPerRun ?? bulkLimits.defaultSlicesPerRun;
  const sliceMs = input.sliceMs ?? bulkLimits.sliceMs;
  let slices = 0;
  const keep = (list: BulkShownItem[], items: readonly BulkShownItem[]): void => {
    for (const item of items) if (list.length < bulkLimits.shownItems) list.push(item);
  };

  /** Nothing in flight, and nothing left to start (or cancelled). */
  const allSettled = (): boolean => inFlight.length === 0 && (state === 'cancelled' || next >= input.total);
  while (!allSettled()) {
    // Paused with nothing in flight: wait for resume or cancel.
    await condition(() => state !== 'paused' || inFlight.length > 0);
    if (slices >= slicesPerRun || workflowInfo().continueAsNewSuggested) break;
    const startNew = state === 'running';
    const scope: CancellationScope = new CancellationScope();
    slice = scope;
    const result: BulkSliceResult = await scope.run(() =>
      runBulkSlice({
        bulkId: input.bulkId,
        kind: input.kind,
        total: input.total,
        next,
        inFlight,
        joinedInFlight,
        concurrency: input.concurrency,
        rate: input.rate,
        startNew,
        sliceMs,
        workflowIdPrefix: input.workflowIdPrefix,
      }).catch(failAsBulk),
    );
    slice = undefined;
    slices++;
    next = result.next;
    inFlight = result.inFlight;
    joinedInFlight = result.joinedInFlight;
    settled = result.counts;
    keep(shown.waiting, result.waiting);
    keep(shown.failed, result.failed);
    publish();
  }

  if (!allSettled()) {
    publish(true);
    await condition(allHandlersFinished);
    return continueAsNew<typeof bulkRun>({
      ...input,
      carried: { state: state === 'paused' ? 'paused' : state === 'cancelled' ? 'cancelled' : 'running', startedAt, controls, next, inFlight, joinedInFlight, counts: settled, waiting: shown.waiting, failed: shown.failed },
    });
  }
  if (state === 'cancelled' && next < input.total) {
    settled = await closeBulkRows({ bulkId: input.bulkId, from: next });
    next = input.total;
  }
  const endState = state === 'cancelled' ? 'cancelled' : 'finished';
  state = endState;
  publish(true);
  await condition(allHandlersFinished);
  return { ...overview(), state: endState, finishedAt: new Date().toISOString() };
}
