/**
 * The bulk's activities: `runBulkSlice` starts items through the project's starters and follows them for
 * one slice; the others only touch the rows and outcomes in the ledger's database (docs/architecture.md, "bulkRun").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { OtherWorkflowTypeError, RequestConflictError, startWorkflow } from '../../client/starters.ts';
import type { StarterOptions } from '../../client/starters.ts';
import { bulkLimits } from './contracts.ts';
import type {
  BulkActivities, BulkItem, BulkKind, BulkRowsActivities, BulkSettledCounts, BulkShownItem, BulkSliceRequest, BulkSliceResult,
} from './contracts.ts';
import { FailureType, RunState, queryNames } from '../../contracts.ts';
import type { RunResult, RunStatus } from '../../contracts.ts';
import { BulkRowConflictError } from '../../ledger/bulk-rows.ts';
import type { BulkRowOutcome, BulkRowStore } from '../../ledger/bulk-rows.ts';
import { orderflowSearchAttributes } from '../../search-attributes.ts';
import { InputError } from '../../validation.ts';
import { bulkItemJson, bulkItemWorkflowId, bulkItemWorkflowTypes, bulkRowsDigest, failureOf, validateBulkItem } from './client.ts';

export interface BulkActivityDependencies {
  client: Client;
  /** Where the rows and outcomes are (the worker's ledger). */
  rows: BulkRowStore;
  /** How often the items in flight are checked for waiting for an operator (and the activity heartbeats). Default 2 s. */
  checkEveryMs?: number;
}

/** Rows read per query while checking the digest. */
const checkPageRows = 1_000;

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true });
}

/** A stored row, parsed and validated again (where it acts), or why it is not a valid item. */
function parseStoredRow(kind: BulkKind, text: string): { item: BulkItem } | { problem: string } {
  try {
    return { item: validateBulkItem(kind, JSON.parse(text) as unknown) };
  } catch (error) {
    return { problem: error instanceof InputError || error instanceof SyntaxError ? error.message : String(error) };
  }
}

/** The workflow id a stored row's item runs as (with the bulk's prefix); undefined for an invalid row. */
function storedRowWorkflowId(kind: BulkKind, text: string, prefix: string | undefined): string | undefined {
  const checked = parseStoredRow(kind, text);
  return 'item' in checked ? `${prefix ?? ''}${bulkItemWorkflowId(kind, checked.item)}` : undefined;
}

async function settledCounts(rows: BulkRowStore, bulkId: string): Promise<BulkSettledCounts> {
  const { done, failed, waiting, notStarted } = await rows.counts(bulkId);
  return { done, failed, waiting, notStarted };
}

/** What an item's run ended with (its result), as its row's outcome. */
function outcomeOfResult(base: Omit<BulkRowOutcome, 'outcome' | 'detail'>, value: unknown): BulkRowOutcome {
  const result = value as Partial<RunResult> | null;
  const summary = typeof result?.summary === 'string' ? result.summary : 'completed';
  return result?.outcome === undefined || result.outcome === 'completed'
    ? { ...base, outcome: 'done', detail: summary }
    : { ...base, outcome: 'failed', detail: `${result.outcome}: ${summary}` };
}

/** Items in flight checked per visibility query. */
const idsPerQuery = 50;
/** Start requests in the air at once (each is one round trip to Temporal). */
const parallelStarts = 16;
/** Rows read from the database at a time. */
const rowsPerRead = 200;

function quoted(id: string): string {
  return `'${id.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Of `workflowIds`, the runs that wait for an operator (one visibility query per {@link idsPerQuery}). */
async function waitingForOperator(client: Client, workflowIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < workflowIds.length; i += idsPerQuery) {
    const ids = workflowIds.slice(i, i + idsPerQuery);
    const query = `ExecutionStatus = 'Running' AND ${orderflowSearchAttributes.state.name} = '${RunState.AwaitingOperator}' AND WorkflowId IN (${ids.map(quoted).join(', ')})`;
    for await (const execution of client.workflow.list({ query, pageSize: idsPerQuery })) found.add(execution.workflowId);
  }
  return found;
}

/** What a waiting run asks of an operator. */
async function waitingDetail(handle: WorkflowHandle): Promise<string> {
  const status = await handle.client
    .withDeadline(Date.now() + 5_000, () => handle.query<RunStatus>(queryNames.status))
    .catch(() => undefined);
  const awaiting = status?.awaiting;
  return awaiting ? `waits for an operator at ${awaiting.step}: ${awaiting.reason}` : 'waits for an operator';
}

/** A row in flight: its run, and since when it is followed (0: carried in from an earlier slice). */
type Followed = Pick<BulkRowOutcome, 'row' | 'workflowId' | 'joined'> & { since: number };

export function createBulkActivities(dependencies: BulkActivityDependencies): BulkActivities & BulkRowsActivities {
  const { client, rows } = dependencies;
  const checkEveryMs = dependencies.checkEveryMs ?? 2_000;

  async function runBulkSlice(request: BulkSliceRequest): Promise<BulkSliceResult> {
    const context = Context.current();
    const { bulkId, kind, total, concurrency, rate } = request;
    const starterOptions: StarterOptions = { client, taskQueue: context.info.taskQueue, workflowIdPrefix: request.workflowIdPrefix, bulkId };
    const endAt = Date.now() + request.sliceMs;
    let stopping = false;
    context.cancelled.catch(() => {
      // Pause or cancel (or the worker shuts down): start nothing more, report where we are.
      stopping = true;
      wake();
    });
    const stopFollowing = new AbortController();
    const following = new Map<number, Followed>();
    const toRecord: BulkRowOutcome[] = [];
    const shown: { waiting: BulkShownItem[]; failed: BulkShownItem[] } = { waiting: [], failed: [] };
    let wake: () => void = () => undefined;
    let failure: unknown;

    /** `followed`: the item was in flight (an item settles once: a waiting item's run may end later). */
    const settle = (outcome: BulkRowOutcome, followed = false): void => {
      if (followed && !following.delete(outcome.row)) return;
      toRecord.push(outcome);
      if (outcome.outcome === 'waiting' || outcome.outcome === 'failed') {
        const list = shown[outcome.outcome];
        if (list.length < bulkLimits.shownItems) list.push({ workflowId: outcome.workflowId, detail: outcome.detail });
      }
      wake();
    };
    /** `carried`: in flight since an earlier slice (checked for waiting for an operator at once). */
    const follow = (entry: Omit<Followed, 'since'>, carried = false): void => {
      following.set(entry.row, { ...entry, since: carried ? 0 : Date.now() });
      const failed = (error: unknown): BulkRowOutcome => ({ ...entry, outcome: 'failed', detail: failureOf(error) });
      void client
        .withAbortSignal(stopFollowing.signal, () => client.workflow.getHandle(entry.workflowId).result())
        .then((value) => outcomeOfResult(entry, value), failed)
        .then((outcome) => {
          if (!stopFollowing.signal.aborted) settle(outcome, true);
        });
    };
    // The rows in flight: their runs by business key (the starters' ids), followed again.
    const joinedBefore = new Set(request.joinedInFlight);
    for (const { row, item } of await rows.readRows(bulkId, request.inFlight)) {
      const workflowId = storedRowWorkflowId(kind, item, request.workflowIdPrefix);
      if (workflowId !== undefined) follow({ row, workflowId, joined: joinedBefore.has(row) }, true);
    }

    let next = request.next;
    let buffered: Array<{ row: number; item: string }> = [];
    const recentStarts: number[] = [];
    const start = async (row: number, text: string): Promise<void> => {
      const checked = parseStoredRow(kind, text);
      if ('problem' in checked) {
        settle({ row, workflowId: '', joined: false, outcome: 'failed', detail: `row ${row + 1} refused: ${checked.problem}` });
        return;
      }
      try {
        // The starter `orderflow start <kind>` uses.
        const started = await startWorkflow(starterOptions, bulkItemWorkflowTypes[kind], checked.item);
        follow({ row, workflowId: started.workflowId, joined: !started.started });
      } catch (error) {
        // A refused item (an older client?), or a run with a different request (or of another
        // type) for the same business key, fails alone, named; anything else fails the slice (retried).
        if (error instanceof InputError) settle({ row, workflowId: '', joined: false, outcome: 'failed', detail: error.message });
        else if (error instanceof RequestConflictError || error instanceof OtherWorkflowTypeError) settle({ row, workflowId: error.workflowId, joined: true, outcome: 'failed', detail: error.message });
        else failure ??= error;
      }
    };

    // The first pass checks the rows carried in from the last slice; new ones once they are checkEveryMs old.
    let lastCheck = 0;
    let lastHeartbeat = 0;
    const launching = new Set<Promise<void>>();
    while (failure === undefined) {
      const now = Date.now();
      if (now - lastHeartbeat >= 1_000) {
        context.heartbeat({ next, inFlight: following.size });
        lastHeartbeat = now;
      }
      if (toRecord.length >= 100) await rows.recordOutcomes(bulkId, toRecord.splice(0));
      if (launching.size === 0 && (now >= endAt || stopping || (!request.startNew && following.size === 0))) break;
      if (now - lastCheck >= checkEveryMs) {
        lastCheck = now;
        const old = [...following.values()].filter((entry) => now - entry.since >= checkEveryMs);
        for (const id of await waitingForOperator(client, old.map((entry) => entry.workflowId))) {
          const entry = old.find((candidate) => candidate.workflowId === id)!;
          settle({ row: entry.row, workflowId: id, joined: entry.joined, outcome: 'waiting', detail: await waitingDetail(client.workflow.getHandle(id)) }, true);
        }
      }
      while (recentStarts.length > 0 && recentStarts[0]! <= now - 1_000) recentStarts.shift();
      const canStart = request.startNew && !stopping && now < endAt && next < total && recentStarts.length < rate &&
        following.size + launching.size < concurrency && launching.size < parallelStarts;
      if (canStart) {
        if (buffered.length === 0) {
          buffered = await rows.read(bulkId, next, Math.min(rowsPerRead, total - next));
          if (buffered[0]?.row !== next) throw refused(`bulk ${bulkId}: row ${next + 1} is not stored; no more items start.`);
        }
        const { row, item } = buffered.shift()!;
        next = row + 1;
        recentStarts.push(now);
        const launch = start(row, item).finally(() => {
          launching.delete(launch);
          wake();
        });
        launching.add(launch);
        continue;
      }
      // Wait for something to happen: an item settles, a start returns, the rate window or the slice's end.
      const untilRate = recentStarts.length >= rate ? recentStarts[0]! + 1_000 - now : checkEveryMs;
      const wait = Math.max(1, Math.min(untilRate, checkEveryMs, 1_000, Math.max(0, endAt - now)));
      const woken = new AbortController();
      wake = () => woken.abort();
      await sleep(wait, undefined, { signal: woken.signal }).catch(() => undefined);
    }
    await Promise.allSettled([...launching]);
    stopFollowing.abort();
    await rows.recordOutcomes(bulkId, toRecord.splice(0));
    if (failure !== undefined) throw failure;
    return {
      next,
      inFlight: [...following.keys()],
      joinedInFlight: [...following.values()].filter((entry) => entry.joined).map((entry) => entry.row),
      counts: await settledCounts(rows, bulkId),
      waiting: shown.waiting,
      failed: shown.failed,
    };
  }

  return {
    runBulkSlice,

    async storeBulkRows(upload) {
      const texts = upload.items.map(bulkItemJson);
      const problems = texts.flatMap((text, offset) => {
        const checked = parseStoredRow(upload.kind, text);
        return 'problem' in checked ? [`row ${upload.firstRow + offset + 1}: ${checked.problem}`] : [];
      });
      if (problems.length > 0) throw refused(`bulk ${upload.bulkId}: rows refused, nothing stored: ${problems.slice(0, 10).join('; ')}`);
      const stored = await rows.store(upload.bulkId, upload.firstRow, texts).catch((error: unknown) => {
        throw error instanceof BulkRowConflictError ? refused(error.message) : error;
      });
      return { stored };
    },

    async checkBulkRows({ bulkId, total, digest }) {
      // Read a page at a time, up to the first row missing.
      const stored: string[] = [];
      for (let from = 0; from < total && stored.length === from; from += checkPageRows) {
        for (const row of await rows.read(bulkId, from, Math.min(checkPageRows, total - from))) {
          if (row.row !== stored.length) break;
          stored.push(row.item);
        }
      }
      const count = stored.length;
      if (count < total) {
        throw refused(`bulk ${bulkId}: ${count} of its ${total} rows are stored (row ${count + 1} is missing); no item was started. Start the bulk again with the same file: the client uploads its rows first.`);
      }
      const extra = await rows.read(bulkId, total, 1);
      const found = bulkRowsDigest(stored);
      if (found !== digest || extra.length > 0) {
        throw refused(`bulk ${bulkId}: the rows stored for it are not the rows it was started with (digest ${found.slice(0, 12)}…, expected ${digest.slice(0, 12)}…${extra.length > 0 ? `, and more than ${total} rows` : ''}); no item was started.`);
      }
    },

    async closeBulkRows({ bulkId, from }) {
      await rows.markNotStarted(bulkId, from, 'the bulk was cancelled before this item started');
      return settledCounts(rows, bulkId);
    },

    async readBulkReport({ bulkId, kind, from, count, workflowIdPrefix }) {
      const size = Math.min(count, bulkLimits.reportPageRows);
      const outcomes = await rows.outcomes(bulkId, from, size);
      // Rows never started: the workflow id they would have had, so the report names every row.
      const stored = outcomes.some((outcome) => outcome.workflowId === '') ? await rows.read(bulkId, from, size) : [];
      const wouldBe = new Map(stored.map(({ row, item }) => [row, storedRowWorkflowId(kind, item, workflowIdPrefix)]));
      return {
        items: outcomes.map((outcome) => ({
          index: outcome.row,
          workflowId: outcome.workflowId !== '' ? outcome.workflowId : (wouldBe.get(outcome.row) ?? ''),
          outcome: outcome.outcome,
          joined: outcome.joined,
          detail: outcome.detail,
        })),
      };
    },
  };
}
