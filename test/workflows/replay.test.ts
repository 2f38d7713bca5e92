/**
 * Replays recorded event histories (test/fixtures/histories/*.json) against the CURRENT
 * workflow code (src/workflows/index.ts, bundled as the worker bundles it) and fails on
 * any nondeterminism: a change that would break runs already in flight in production.
 *
 * The fixtures are the recorded 1.0 histories: real runs on a Temporal dev server with the
 * real activities and both simulators, recorded once by `npm run record-histories`
 * (scripts/record-histories.ts), which records new scenarios only.
 *
 * From 1.0 on (docs/versioning.md) every change to workflow code is gated by `patched()`
 * and must replay every one of these histories. When this test fails after a change, the
 * fix is to gate the change, NOT to re-record: re-recording makes the test pass and leaves
 * every running workflow of the 1.0 shape stuck on a nondeterminism error. Adding a
 * scenario to the script (and its fixture) is always fine.
 *
 * Needs no Temporal server: the replay worker runs histories in-process.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { History, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historiesDirectory, historyFromJson, scenarios } from '../../harness/histories.ts';
import { joinWorkflowModules } from '../../src/temporal/workflow-bundle.ts';

const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));

const fixtureFiles = (await readdir(historiesDirectory)).filter((file) => file.endsWith('.json')).sort();

async function loadFixture(file: string): Promise<History> {
  const text = await readFile(join(historiesDirectory, file), 'utf8');
  try {
    return historyFromJson(JSON.parse(text));
  } catch (error) {
    throw new Error(
      `test/fixtures/histories/${file} is not a readable Temporal history (${error instanceof Error ? error.message : String(error)}); it is a recorded 1.0 history: restore it from git, do not re-record it`,
      { cause: error },
    );
  }
}

/** The workflow id the history was recorded under (newer servers write it into the start event). */
function workflowIdOf(history: History, file: string): string {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId || `replay/${file}`;
}

function workflowTypeOf(history: History): string | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? undefined;
}

type HistoryEvent = NonNullable<History['events']>[number];

/** The activity an event schedules: a normal activity, or a local one (its marker's data names it). */
function activityTypesOf(event: HistoryEvent): string[] {
  const scheduled = event.activityTaskScheduledEventAttributes?.activityType?.name;
  if (scheduled) return [scheduled];
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.['data']?.payloads?.[0]?.data : undefined;
  if (!data) return [];
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: unknown };
  return typeof parsed.activity_type === 'string' ? [parsed.activity_type] : [];
}

describe('replay of recorded histories against the current workflow code', () => {
  let workflowBundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('WARN') });
    } catch {
      // Already installed in this process: keep it.
    }
    workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN'), webpackConfigHook: joinWorkflowModules });
  });

  it('has a fixture for every scenario of harness/histories.ts', () => {
    // Extra fixtures are fine: a history of a retired scenario still stands for runs in production.
    expect(fixtureFiles).toEqual(expect.arrayContaining(scenarios.map((scenario) => `${scenario.name}.json`)));
  });

  it('covers every workflow type, the operator protocol, a compensation and a payment signal', async () => {
    const histories = await Promise.all(fixtureFiles.map(loadFixture));
    expect(new Set(histories.map(workflowTypeOf))).toEqual(new Set(['bulkRun', 'refundAndCancel', 'processPaidOrder', 'adjustCredit', 'cancelOrder']));
    const events = histories.flatMap((history) => history.events ?? []);
    expect(events.some((event) => event.workflowExecutionUpdateAcceptedEventAttributes)).toBe(true);
    expect(events.some((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'operatorDecision')).toBe(true);
    expect(events.some((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'paymentReceived')).toBe(true);
    expect(events.some((event) => event.timerFiredEventAttributes)).toBe(true);
    expect(events.flatMap(activityTypesOf)).toContain('undoCreditChange');
    // Both shapes of an effect: a local first attempt, and one that failed there and continued
    // as a normal activity.
    expect(events.some((event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toBe(true);
    expect(events.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'applyCreditChange')).toBe(true);
    // The 1.0 baseline: no history carries a patch marker.
    expect(events.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch')).toEqual([]);
    // Each decision's identity is read from the run's own history by an activity.
    expect(events.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'recordedIdentity')).toBe(true);
  });

  it.each(fixtureFiles)('replays %s without nondeterminism', async (file) => {
    const history = await loadFixture(file);
    expect(history.events?.length).toBeGreaterThan(5);
    await Worker.runReplayHistory({ workflowBundle, replayName: file }, history, workflowIdOf(history, file));
  });

  it('fails on a history the current code would not produce (a swapped activity)', async () => {
    // The guard against a vacuous replay: edit one recorded command, as if the code that
    // produced the history had called another activity first, and expect the replay to refuse.
    const file = 'process-paid-order-payment-signal.json';
    const history = await loadFixture(file);
    const firstActivity = history.events?.find((event) => event.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
    expect(firstActivity?.activityType?.name).toBe('observeOrder');
    firstActivity!.activityType = { name: 'processCurrentOrder' };
    const replay = Worker.runReplayHistory({ workflowBundle, replayName: `${file} (edited)` }, history, workflowIdOf(history, file));
    await expect(replay).rejects.toThrow(DeterminismViolationError);
    await expect(replay).rejects.toThrow(/processCurrentOrder|observeOrder/);
  });
});
