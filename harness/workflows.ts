/**
 * Helpers for tests that run orderflow's workflows on a real Temporal server against the
 * test stack (harness/stack.ts): the workflows module for workers, reading a run's
 * status and failure, operator decisions, simulator call counts, a reset to the first
 * workflow task, and {@link useWorkflowTestContext}, which gives a describe block its
 * stack, client, demo customers and workers.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DataConverter } from '@temporalio/common';
import type { StarterOptions } from '../src/client/starters.ts';
import type { OperatorDecision, OperatorDecisionReply, RunStatus } from '../src/contracts.ts';
import { centsFromInteger } from '../src/money.ts';
import type { CallLogEntry, SimulatorHandle } from '../src/simulators/harness.ts';
import { eventually, placeCurrentOrder, startStack } from './stack.ts';
import type { Stack } from './stack.ts';
import { connectTestClient, runWorker, uniqueTaskQueue } from './temporal.ts';
import type { TemporalTarget } from './temporal.ts';

/** The module whose exports are orderflow's workflows, for {@link runWorker}. */
export const workflowsPath = fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url));

/** What the order {@link placeCurrentOrder} places costs: product 1 of the demo seed, 5.50. */
export const demoOrderTotalCents = 550;

/** The run's `status` query. */
export async function statusOf(handle: WorkflowHandle): Promise<RunStatus> {
  return handle.query<RunStatus>('status');
}

/** Polls the run's status until it waits for an operator at `step`; returns that status. */
export async function awaitingOperatorAt(handle: WorkflowHandle, step: string): Promise<RunStatus> {
  return eventually(`run ${handle.workflowId} to wait for an operator at ${step}`, async () => {
    const status = await statusOf(handle);
    return status.state === 'awaiting-operator' && status.awaiting?.step === step ? status : undefined;
  });
}

/** A decision whose wait may be left out: {@link forCurrentWait} fills in the run's current one. */
export type DecisionForAnyWait = Omit<OperatorDecision, 'waitId' | 'step'> & Partial<Pick<OperatorDecision, 'waitId' | 'step'>>;

/** The decision for the wait the run's status shows now (as `orderflow decide` does when no wait is given). */
export async function forCurrentWait(handle: WorkflowHandle, decision: DecisionForAnyWait): Promise<OperatorDecision> {
  if (decision.waitId !== undefined && decision.step !== undefined) return decision as OperatorDecision;
  const awaiting = (await statusOf(handle)).awaiting;
  return { waitId: awaiting?.waitId ?? 'nothing#1', step: awaiting?.step ?? 'nothing', ...decision };
}

/** Sends an operator's decision (for the current wait unless it names one) through the `operatorDecision` update; returns the run's reply. */
export async function decide(handle: WorkflowHandle, decision: DecisionForAnyWait, options: { updateId?: string } = {}): Promise<OperatorDecisionReply> {
  const args: [OperatorDecision] = [await forCurrentWait(handle, decision)];
  return handle.executeUpdate<OperatorDecisionReply, [OperatorDecision]>('operatorDecision', { args, ...(options.updateId === undefined ? {} : { updateId: options.updateId }) });
}

/** The validator's message of a refused update (the client wraps it as the cause). */
export async function updateRefusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  return cause instanceof Error ? cause.message : String(cause);
}

/** The ApplicationFailure a failed run ended with; fails the test when the run did not fail that way. */
export async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const error = await handle.result().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** The calls of `operation` that reached a simulator. */
export function callsOf(sim: SimulatorHandle, operation: string): CallLogEntry[] {
  return sim.calls.filter((call) => call.operation === operation);
}

/** How many calls of `operation` reached a simulator. */
export function callCountOf(sim: SimulatorHandle, operation: string): number {
  return callsOf(sim, operation).length;
}

/** What {@link resetToFirstWorkflowTask} did: the reset run as it was, and the server's answer (`reset.runId` is the new run). */
export interface FirstTaskReset {
  description: WorkflowExecutionDescription;
  reset: Awaited<ReturnType<Client['workflowService']['resetWorkflowExecution']>>;
}

/** Resets the handle's run (normally a completed one) to its first completed workflow task, as ops would. */
export async function resetToFirstWorkflowTask(client: Client, handle: WorkflowHandle): Promise<FirstTaskReset> {
  const description = await handle.describe();
  const history = await handle.fetchHistory();
  const firstTaskCompleted = history.events?.find((event) => event.workflowTaskCompletedEventAttributes);
  const reset = await client.workflowService.resetWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId: handle.workflowId, runId: description.runId },
    reason: 'test: re-run from the start',
    workflowTaskFinishEventId: firstTaskCompleted?.eventId,
    requestId: randomUUID(),
  });
  return { description, reset };
}

export interface WorkflowTestContextOptions {
  /** Start of each worker's task queue name (a unique suffix is added per worker). */
  taskQueuePrefix: string;
  /** The first store user id the demo-customer helpers hand out (the demo seed has users 1–100). Default 10. */
  firstUserId?: number;
  /** Put before every workflow id the workers' starters create. Default: a fresh `test-xxxxxxxx/`; `''` for none. */
  workflowIdPrefix?: string;
  /**
   * The Temporal server for the client and the workers, read in this context's beforeAll (so
   * a beforeAll registered earlier may start it). Default: the global setup's dev server.
   */
  temporalTarget?: () => TemporalTarget;
  /** The data converter of the client and the workers (e.g. payload encryption); default: the SDK's. */
  dataConverter?: DataConverter;
}

/** A describe block's workflow test stack; `stack` and `client` are there once its beforeAll has run. */
export interface WorkflowTestContext {
  readonly stack: Stack;
  readonly client: Client;
  /** The workflow id prefix every starter from {@link WorkflowTestContext.withWorker} uses. */
  readonly prefix: string;
  /** A store user id no other test of this context has had. */
  nextUserId(): number;
  /** A fresh demo user with a placed current order; `creditCents` is given before the order, so it pays that much of it. */
  customerWithOrder(creditCents?: number): Promise<{ userId: number; orderId: number }>;
  /** A fresh demo user with `creditCents` of credit and no order; returns its id. */
  customerWithCredit(creditCents: number): number;
  /** Creates the JustClick bill `bill-<userId>` over the demo order's total; returns its id. */
  billFor(userId: number): Promise<string>;
  /** Runs `fn` while a worker with the real activities polls a fresh task queue; `fn` gets starter options for it. */
  withWorker<T>(fn: (starter: StarterOptions) => Promise<T>): Promise<T>;
  /** The store's status of one order (`current`, `cancelled`, …), or undefined when the user has no such order. */
  orderState(userId: number, orderId: number): Promise<string | undefined>;
  /** The store's status and payment status of one order, or undefined when the user has no such order. */
  orderOf(userId: number, orderId: number): Promise<{ status: string; paymentStatus: string } | undefined>;
}

/**
 * Call inside a describe: registers a beforeAll that starts the test stack and connects a
 * client, and an afterAll that closes both; returns the accessors and helpers the tests use.
 */
export function useWorkflowTestContext(options: WorkflowTestContextOptions): WorkflowTestContext {
  let stack: Stack | undefined;
  let client: Client | undefined;
  let target: TemporalTarget | undefined;
  let nextUser = options.firstUserId ?? 10;
  const prefix = options.workflowIdPrefix ?? `test-${randomUUID().slice(0, 8)}/`;

  beforeAll(async () => {
    target = options.temporalTarget?.();
    stack = await startStack();
    client = await connectTestClient(target, options.dataConverter);
  });

  afterAll(async () => {
    await client?.connection.close();
    await stack?.close();
  });

  function started<T>(value: T | undefined, what: string): T {
    if (value === undefined) {
      throw new Error(`The workflow test ${what} is not there yet: use it inside a test or a hook that runs after useWorkflowTestContext's beforeAll.`);
    }
    return value;
  }

  function nextUserId(): number {
    return nextUser++;
  }

  async function customerWithOrder(creditCents = 0): Promise<{ userId: number; orderId: number }> {
    const current = started(stack, 'stack');
    const userId = nextUserId();
    current.webtvSim.state.setCredit(userId, centsFromInteger(creditCents));
    const orderId = await placeCurrentOrder(current, userId);
    return { userId, orderId };
  }

  function customerWithCredit(creditCents: number): number {
    const userId = nextUserId();
    started(stack, 'stack').webtvSim.state.setCredit(userId, centsFromInteger(creditCents));
    return userId;
  }

  async function billFor(userId: number): Promise<string> {
    const billId = `bill-${userId}`;
    await started(stack, 'stack').justclick.createOrder({ billId, email: 'buyer@example.com', goods: [{ name: 'Order', sum: centsFromInteger(demoOrderTotalCents) }] });
    return billId;
  }

  function withWorker<T>(fn: (starter: StarterOptions) => Promise<T>): Promise<T> {
    const taskQueue = uniqueTaskQueue(options.taskQueuePrefix);
    const starter: StarterOptions = { client: started(client, 'client'), taskQueue, workflowIdPrefix: prefix };
    return runWorker({ workflowsPath, activities: started(stack, 'stack').activities, taskQueue, target, dataConverter: options.dataConverter }, () => fn(starter));
  }

  async function orderOf(userId: number, orderId: number): Promise<{ status: string; paymentStatus: string } | undefined> {
    const order = (await started(stack, 'stack').webtv.listOrders(userId)).find((candidate) => candidate.id === orderId);
    return order === undefined ? undefined : { status: order.status, paymentStatus: order.paymentStatus };
  }

  async function orderState(userId: number, orderId: number): Promise<string | undefined> {
    return (await orderOf(userId, orderId))?.status;
  }

  return {
    get stack() {
      return started(stack, 'stack');
    },
    get client() {
      return started(client, 'client');
    },
    prefix,
    nextUserId,
    customerWithOrder,
    customerWithCredit,
    billFor,
    withWorker,
    orderState,
    orderOf,
  };
}
