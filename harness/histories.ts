/**
 * The recorded 1.0 histories (test/fixtures/histories/<scenario>.json): the scenarios that
 * produce them, and their JSON form. Shared by the replay test (test/workflows/replay.test.ts)
 * and the script that records them (scripts/record-histories.ts, which says when to record).
 *
 * Each scenario drives one run on the test stack (./stack.ts: both simulators in-process,
 * a SQLite ledger, the real activities) through the typed starters, so every run starts as
 * in production. Each fixture is the history as Temporal's own tools write it
 * (`historyToJSON`, the format of `temporal workflow show --output json`), pretty-printed.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/worker';
import { startBulk } from '../src/features/bulk/client.ts';
import { startAdjustCredit, startCancelOrder, startProcessPaidOrder, startRefundAndCancel } from '../src/client/starters.ts';
import type { StarterOptions } from '../src/client/starters.ts';
import type { OperatorDecision, OperatorDecisionReply, PaymentReceived, RunStatus } from '../src/contracts.ts';
import { centsFromInteger } from '../src/money.ts';
import { eventually, placeCurrentOrder } from './stack.ts';
import type { Stack } from './stack.ts';

export const historiesDirectory = fileURLToPath(new URL('../test/fixtures/histories/', import.meta.url));

// ---------------------------------------------------------------------------------------
// History <-> JSON, in the format of Temporal's tools (proto3 JSON, as `historyToJSON`).
//
// Why not `historyToJSON` / `historyFromJSON` from @temporalio/common/lib/proto-utils:
// with this package-lock, protobufjs 8 is installed three times, nested under
// @temporalio/common, /proto and /worker (grpc's proto-loader holds protobufjs 7 at the
// top level), so common's protojson refuses the types of @temporalio/proto's root with
// "type must be a Type". The same happens inside Worker.runReplayHistory when it is given
// JSON. Here protojson is loaded from the protobufjs that @temporalio/proto itself uses,
// which is right in every layout, and replay is given a History message, not JSON.
// ---------------------------------------------------------------------------------------

interface ProtoType {
  fromObject(object: object): object;
}
interface ProtoJson {
  toJson(type: ProtoType, message: object): unknown;
  fromJson(type: ProtoType, json: unknown, options?: { ignoreUnknownFields?: boolean }): object | null;
}
const requireHere = createRequire(import.meta.url);
const protoRoot = requireHere('@temporalio/proto') as { lookupType(name: string): ProtoType };
const protoJson = createRequire(requireHere.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const historyType = protoRoot.lookupType('temporal.api.history.v1.History');

/** A history (as `handle.fetchHistory()` returns it) as pretty proto3 JSON, ending in a newline. */
export function historyToJson(history: History): string {
  return `${JSON.stringify(protoJson.toJson(historyType, historyType.fromObject(history)), null, 2)}\n`;
}

/** A history read back from {@link historyToJson}'s JSON (parsed), for Worker.runReplayHistory. */
export function historyFromJson(json: unknown): History {
  const history = protoJson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (history === null || !Array.isArray((history as History).events) || (history as History).events?.length === 0) {
    throw new TypeError('not a Temporal history: expected a JSON object with a non-empty "events" array');
  }
  return history as History;
}

export interface ScenarioContext {
  stack: Stack;
  starter: StarterOptions;
}

export interface Scenario {
  name: string;
  covers: string;
  /** How the run must end; a scenario that ends otherwise is not recorded. */
  ends: 'COMPLETED' | 'FAILED';
  /** Drives one run to its end and returns its handle. */
  run(context: ScenarioContext): Promise<WorkflowHandle>;
}

async function statusOf(handle: WorkflowHandle): Promise<RunStatus> {
  return handle.query<RunStatus>('status');
}

/** Waits until the run is in `state` (and, when given, waits for an operator at `awaitingStep`). */
async function waitForState(handle: WorkflowHandle, state: RunStatus['state'], awaitingStep?: string): Promise<void> {
  await eventually(`run ${handle.workflowId} to be ${state}${awaitingStep === undefined ? '' : ` at ${awaitingStep}`}`, async () => {
    const status = await statusOf(handle);
    return status.state === state && (awaitingStep === undefined || status.awaiting?.step === awaitingStep) ? true : undefined;
  });
}

/** The decision for the wait the run's status shows now (its wait id and step). */
async function forCurrentWait(handle: WorkflowHandle, decision: Omit<OperatorDecision, 'waitId' | 'step'>): Promise<OperatorDecision> {
  const awaiting = (await statusOf(handle)).awaiting;
  if (awaiting === null) throw new Error(`${handle.workflowId} waits for no decision`);
  return { waitId: awaiting.waitId, step: awaiting.step, ...decision };
}

async function decide(handle: WorkflowHandle, decision: Omit<OperatorDecision, 'waitId' | 'step'>): Promise<void> {
  await handle.executeUpdate<OperatorDecisionReply, [OperatorDecision]>('operatorDecision', { args: [await forCurrentWait(handle, decision)] });
}

/** Waits for the run to close; a failed run (compensated, aborted) is an expected ending here. */
async function closed(handle: WorkflowHandle): Promise<WorkflowHandle> {
  try {
    await handle.result();
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
  }
  return handle;
}

async function billFor(stack: Stack, userId: number): Promise<string> {
  const billId = `bill-${userId}`;
  await stack.justclick.createOrder({ billId, email: 'buyer@example.com', goods: [{ name: 'Order', sum: centsFromInteger(550) }] });
  return billId;
}

export const scenarios: readonly Scenario[] = [
  {
    name: 'refund-and-cancel-completed',
    ends: 'COMPLETED',
    covers: 'refundAndCancel: every step done (credit, cancel, JustClick delete)',
    async run({ stack, starter }) {
      const userId = 10;
      const orderId = await placeCurrentOrder(stack, userId);
      const billId = await billFor(stack, userId);
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '5.50', justclickBillId: billId, reason: 'damaged', requestedBy: 'support' });
      return closed(handle);
    },
  },
  {
    name: 'refund-and-cancel-compensated',
    ends: 'FAILED',
    covers: 'refundAndCancel: the pivot refused (ERROR_NO_ORDER), the credit taken back, RunCompensated',
    async run({ stack, starter }) {
      const userId = 11;
      const orderId = await placeCurrentOrder(stack, userId);
      stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR_NO_ORDER' });
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '3.00', reason: 'pivot fails', requestedBy: 'support' });
      return closed(handle);
    },
  },
  {
    name: 'refund-and-cancel-operator-decided',
    ends: 'FAILED',
    covers: 'refundAndCancel: access denied at the pivot, compensate (update), undo refused, skip (signal)',
    async run({ stack, starter }) {
      const userId = 12;
      const orderId = await placeCurrentOrder(stack, userId);
      stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
      const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '4.00', reason: 'spent credit', requestedBy: 'support' });
      await waitForState(handle, 'awaiting-operator', 'cancel-order');
      stack.webtvSim.state.setCredit(userId, centsFromInteger(0));
      await decide(handle, { action: 'compensate', note: 'refund was a mistake', operator: 'anna' });
      await waitForState(handle, 'awaiting-operator', 'undo-add-credit');
      await handle.signal<[OperatorDecision]>('operatorDecision', await forCurrentWait(handle, { action: 'skip', note: 'written off, user spent it', operator: 'ben' }));
      return closed(handle);
    },
  },
  {
    name: 'process-paid-order-payment-signal',
    ends: 'COMPLETED',
    covers: 'processPaidOrder: amount due, waiting-for-payment, paymentReceived signal, processed, bill marked paid',
    async run({ stack, starter }) {
      const userId = 13;
      const orderId = await placeCurrentOrder(stack, userId);
      const billId = await billFor(stack, userId);
      const { handle } = await startProcessPaidOrder(starter, { userId, orderId, justclickBillId: billId });
      await waitForState(handle, 'waiting-for-payment');
      stack.webtvSim.state.recordPayment(userId, centsFromInteger(550));
      await handle.signal<[PaymentReceived]>('paymentReceived', { note: 'gateway confirmed', by: 'payments' });
      return closed(handle);
    },
  },
  {
    name: 'process-paid-order-deadline-retry',
    ends: 'COMPLETED',
    covers: 'processPaidOrder: the payment deadline timer fires, operator retry (update) after payment',
    async run({ stack, starter }) {
      const userId = 14;
      const orderId = await placeCurrentOrder(stack, userId);
      const { handle } = await startProcessPaidOrder(starter, { userId, orderId, paymentDeadline: '2 seconds' });
      await waitForState(handle, 'awaiting-operator', 'process-order');
      stack.webtvSim.state.recordPayment(userId, centsFromInteger(550));
      await decide(handle, { action: 'retry', note: 'paid by bank transfer', operator: 'anna' });
      return closed(handle);
    },
  },
  {
    name: 'adjust-credit-reconciled',
    ends: 'COMPLETED',
    covers: 'adjustCredit: subtract whose answer was lost (apply-then-drop), retried and reconciled',
    async run({ stack, starter }) {
      const userId = 15;
      stack.webtvSim.state.setCredit(userId, centsFromInteger(500));
      stack.webtvSim.addFault({ operation: 'add_subtract_credit', kind: 'apply-then-drop' });
      const { handle } = await startAdjustCredit(starter, { userId, action: 'subtract', amount: '2.00', description: 'Correction', reason: 'double refund', requestId: 'fixture-1' });
      return closed(handle);
    },
  },
  {
    name: 'cancel-order-operator-skip',
    ends: 'COMPLETED',
    covers: 'cancelOrder: JustClick refuses the signature (error 4) at delete-justclick-bill, operator skip (update)',
    async run({ stack, starter }) {
      const userId = 16;
      const orderId = await placeCurrentOrder(stack, userId);
      const billId = await billFor(stack, userId);
      stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '4' });
      const { handle } = await startCancelOrder(starter, { userId, orderId, justclickBillId: billId, requester: 'ADMIN', reason: 'fraud' });
      await waitForState(handle, 'awaiting-operator', 'delete-justclick-bill');
      await decide(handle, { action: 'skip', note: 'will delete the bill by hand', operator: 'carla' });
      return closed(handle);
    },
  },
  {
    name: 'bulk-rows-paused-waiting',
    ends: 'COMPLETED',
    covers: 'bulkRun with its rows in the ledger: rows checked by digest, slices start and follow three refund-and-cancel items, paused and resumed, one item waiting for an operator',
    async run({ stack, starter }) {
      const items = [];
      for (const userId of [23, 24, 25]) {
        const orderId = await placeCurrentOrder(stack, userId);
        items.push({ userId, orderId, amount: '1.00', reason: 'event cancelled', requestedBy: 'ops', justclickBillId: userId === 25 ? await billFor(stack, userId) : undefined });
      }
      stack.justclickSim.addFault({ operation: 'DeleteOrder', kind: 'error', code: '4' });
      const { handle } = await startBulk(starter, { kind: 'refund-and-cancel', items, concurrency: 1, rate: 5, sliceMs: 1_000 });
      await handle.executeUpdate('pause', { args: [{ operator: 'anna', note: 'store maintenance' }] });
      await handle.executeUpdate('resume', { args: [{ operator: 'anna', note: 'maintenance over' }] });
      return closed(handle);
    },
  },
];
