/**
 * The activities: one function per workflow step, built by `createActivities(deps)` from
 * the API clients and the effect ledger (dependency injection, as in Temporal's samples).
 *
 * Every activity that changes something follows the ledger protocol of DESIGN.md:
 *  1. a recorded `applied` outcome is returned without calling the API (resets are safe);
 *  2. the per-user lock is taken, so our own writes to one user never interleave;
 *  3. the world is observed (credit, current order) and `pending` recorded with it;
 *  4. the API is called and the outcome recorded;
 *  5. a later attempt that finds `pending` or `unknown` reconciles from the recorded
 *     observation instead of calling again, and where the evidence cannot decide, fails
 *     non-retryably as OutcomeUnknown so that an operator decides.
 */
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../contracts.ts';
import type {
  AuditInput,
  BillEffectInput,
  CompensationInput,
  CreateBillInput,
  CreditEffectInput,
  EffectResult,
  ObserveOrderInput,
  OrderEffectInput,
  OrderObservation,
  OrderflowActivities,
  ResolveEffectInput,
} from '../contracts.ts';
import { ApiCallError } from '../apis/outcome.ts';
import type { WebTvClient } from '../apis/webtv/client.ts';
import type { WebTvOrder } from '../apis/webtv/types.ts';
import type { JustClickClient } from '../apis/justclick/client.ts';
import type { EffectLedger, EffectRecord, EffectState, JsonValue } from '../effects/types.ts';
import { UserLockTimeoutError } from '../effects/errors.ts';
import { formatCents, parsePositiveAmount } from '../money.ts';
import type { Cents } from '../money.ts';
import { apiFailure, failure, summaryOf } from './failures.ts';

export interface ActivityDeps {
  webtv: WebTvClient;
  /** Absent when JustClick is not configured: JustClick steps then fail, asking for configuration. */
  justclick?: JustClickClient | undefined;
  ledger: EffectLedger;
  /** How long one attempt waits for another worker's lock on the same user (default 30 s). */
  userLockWaitMs?: number;
  /**
   * How long after an attempt an unchanged balance (or a still-current order) may still be
   * an earlier request in flight (default 90 s: the HTTP client's connect + headers + body
   * timeouts, 65 s, plus margin). Only after it does "unchanged" mean "did not happen".
   */
  inFlightWindowMs?: number;
}

const doneStates: ReadonlySet<EffectState> = new Set(['applied', 'resolved-applied']);
const unresolvedStates: readonly EffectState[] = ['pending', 'unknown'];

function isDone(record: EffectRecord | undefined): boolean {
  return record !== undefined && doneStates.has(record.state);
}

function attemptContext(): { runId?: string | undefined; actor: string } {
  try {
    const info = Context.current().info;
    return { runId: info.workflowExecution?.runId, actor: `worker ${hostname()}:${process.pid} attempt ${info.attempt}` };
  } catch {
    return { actor: `worker ${hostname()}:${process.pid}` };
  }
}

function signal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/**
 * Heartbeats every few seconds while a changing activity runs, so that a worker that dies
 * (SIGKILL, lost host) is noticed after the heartbeat timeout (see effectOptions), not
 * after the whole start-to-close timeout.
 */
async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return fn();
  }
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), 3_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** `step add-credit: ` from `<workflowId>/add-credit#<run>`: failure messages name the step. */
function stepPrefix(effectKey: string): string {
  const step = effectKey.slice(effectKey.lastIndexOf('/') + 1).split('#')[0];
  return step ? `step ${step}: ` : '';
}

function fromLedger(record: EffectRecord, detail: string): EffectResult {
  return { effectKey: record.key, status: 'applied', fromLedger: true, detail: `${detail} (recorded ${record.updatedAt}, not repeated)` };
}

interface CreditObservation {
  [key: string]: JsonValue;
  creditCents: number;
  credit: string;
}

function observedCredit(record: EffectRecord): number | undefined {
  const observed = record.observedBefore;
  if (observed && typeof observed === 'object' && !Array.isArray(observed) && typeof observed['creditCents'] === 'number') {
    return observed['creditCents'];
  }
  return undefined;
}

export function createActivities(deps: ActivityDeps): OrderflowActivities {
  const { webtv, ledger } = deps;
  const lockWaitMs = deps.userLockWaitMs ?? 30_000;
  const inFlightWindowMs = deps.inFlightWindowMs ?? 90_000;

  /**
   * "Nothing changed" is evidence that an earlier attempt did not take effect only once that
   * attempt can no longer land: a request held up on the way (or by a slow server) may still
   * be applied. Until then, retry later instead of calling again (that would apply it twice).
   */
  function refuseWhileAttemptMayLand(row: EffectRecord, what: string, observed: Record<string, string>): void {
    const settlesAt = Date.parse(row.updatedAt) + inFlightWindowMs;
    if (Date.now() < settlesAt) {
      throw failure(
        FailureType.OutcomePending,
        `The earlier attempt (${what}) shows no effect yet, but it may still be in flight (recorded ${row.updatedAt}); ` +
          `deciding after ${new Date(settlesAt).toISOString()}. Will retry.`,
        { nonRetryable: false, observed },
      );
    }
  }

  async function underUserLock<T>(userId: number, effectKey: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await ledger.withUserLock(userId, `${hostname()}:${process.pid} ${effectKey}`, () => fn(), { waitMs: lockWaitMs });
    } catch (error) {
      if (error instanceof UserLockTimeoutError) {
        throw failure(FailureType.UserBusy, `${error.message} Will retry.`, { nonRetryable: false });
      }
      throw error;
    }
  }

  /** Our own unresolved credit effects on the same user make reconciliation unsound: wait for them. */
  async function refuseWhileOtherEffectsUnresolved(userId: number, effectKey: string): Promise<void> {
    const others = (await ledger.listEffects({ userId, state: unresolvedStates }))
      .filter((record) => record.key !== effectKey && record.kind.startsWith('credit.'));
    const first = others[0];
    if (first) {
      throw failure(
        FailureType.UserBusy,
        `store user ${userId} has an unresolved credit effect ${first.key} (${first.state} since ${first.updatedAt}); ` +
          'its outcome must be settled before another credit change, or the balance cannot tell them apart. Will retry.',
        { nonRetryable: false },
      );
    }
  }

  async function readCredit(userId: number): Promise<CreditObservation> {
    try {
      const credit = await webtv.getCredit(userId, signal());
      return { creditCents: credit.buyerCredit, credit: formatCents(credit.buyerCredit) };
    } catch (error) {
      if (error instanceof ApiCallError) throw apiFailure(error, undefined, `reading the credit of store user ${userId} failed: `);
      throw error;
    }
  }

  /**
   * One credit change, once per effect key. `kind` is `credit.add` / `credit.subtract`.
   */
  async function creditEffect(input: {
    effectKey: string;
    userId: number;
    creditAction: 'add' | 'subtract';
    amount: string;
    description: string;
    workflowId: string;
  }): Promise<EffectResult> {
    const { effectKey, userId, creditAction } = input;
    const amount: Cents = parsePositiveAmount(input.amount);
    const verb = creditAction === 'add' ? 'added' : 'subtracted';
    const what = `${formatCents(amount)} credit ${verb} ${creditAction === 'add' ? 'to' : 'from'} store user ${userId}`;
    const context = attemptContext();

    const recorded = await ledger.get(effectKey);
    if (recorded && isDone(recorded)) return fromLedger(recorded, what);

    return underUserLock(userId, effectKey, async () => {
      let row = await ledger.get(effectKey);
      if (row && isDone(row)) return fromLedger(row, what);
      await refuseWhileOtherEffectsUnresolved(userId, effectKey);
      const now = await readCredit(userId);

      if (row && (row.state === 'pending' || row.state === 'unknown')) {
        // An earlier attempt may have changed the credit: decide from the evidence.
        const before = observedCredit(row);
        const expected = before === undefined ? undefined : creditAction === 'add' ? before + amount : before - amount;
        const observed = {
          'credit before the earlier attempt': before === undefined ? 'not recorded' : formatCents(before),
          'credit now': now.credit,
          'credit if it took effect': expected === undefined ? 'unknown' : formatCents(expected),
        };
        if (expected !== undefined && now.creditCents === expected && expected !== before) {
          await ledger.record(effectKey, 'resolved-applied', {
            ...context,
            observedAfter: now,
            note: `reconciled: credit ${formatCents(before!)} → ${now.credit} shows the earlier attempt took effect`,
          });
          return { effectKey, status: 'applied', fromLedger: false, detail: `${what} (reconciled: credit ${formatCents(before!)} → ${now.credit})` };
        }
        if (before !== undefined && now.creditCents === before) {
          refuseWhileAttemptMayLand(row, what, observed);
          row = await ledger.record(effectKey, 'resolved-not-applied', {
            ...context,
            observedAfter: now,
            note: `reconciled: credit unchanged at ${now.credit}, the earlier attempt did not take effect`,
          });
        } else {
          if (row.state === 'pending') {
            await ledger.record(effectKey, 'unknown', { ...context, observedAfter: now, note: 'the credit changed by another amount: cannot tell' });
          }
          throw failure(
            FailureType.OutcomeUnknown,
            `Cannot tell whether ${what}: the credit was ${observed['credit before the earlier attempt']} before the earlier attempt, ` +
              `is ${now.credit} now, and would be ${observed['credit if it took effect']} if it took effect; something else changed it meanwhile. ` +
              'Check the user\'s credit history in the store admin, then choose retry (it did not take effect) or skip (it did).',
            { nonRetryable: true, observed },
          );
        }
      }

      // Arm the effect with what we observed, then call.
      const request = { creditAction, amount: formatCents(amount), description: input.description };
      if (row === undefined) {
        await ledger.begin(effectKey, { ...context, kind: `credit.${creditAction}`, userId, request, observedBefore: now });
      } else {
        await ledger.record(effectKey, 'pending', { ...context, observedBefore: now, note: `new attempt (was ${row.state})` });
      }
      try {
        await webtv.addSubtractCredit(userId, { creditAction, amount, description: input.description }, signal());
      } catch (error) {
        throw await recordCallFailure(effectKey, error, { credit: now.credit }, context);
      }
      const expectedAfter = creditAction === 'add' ? now.creditCents + amount : now.creditCents - amount;
      await ledger.record(effectKey, 'applied', { ...context, response: { ok: `credit ${verb}` } });
      return { effectKey, status: 'applied', fromLedger: false, detail: `${what} (credit ${now.credit} → ${formatCents(expectedAfter)})` };
    });
  }

  /**
   * Records what a failed call means for the effect, and returns the failure to throw:
   * rejected or not sent → it did not apply (a later attempt may try again); unknown →
   * `unknown` (the next attempt reconciles).
   */
  async function recordCallFailure(effectKey: string, error: unknown, observed: Record<string, string>, context: { runId?: string | undefined; actor: string }): Promise<ApplicationFailure | unknown> {
    const current = await ledger.get(effectKey);
    if (current?.state === 'unknown') {
      // Still unknown: this answer does not settle the earlier attempt; keep the row as it is.
      await ledger.addNote(effectKey, { ...context, text: `another attempt failed: ${error instanceof Error ? error.message : String(error)}` });
      return error instanceof ApiCallError ? apiFailure(error, observed, stepPrefix(effectKey)) : error;
    }
    if (!(error instanceof ApiCallError)) {
      // Not an API answer (a bug, a cancellation): the call may have gone out.
      await ledger.record(effectKey, 'unknown', { ...context, response: { error: error instanceof Error ? error.message : String(error) } });
      return error;
    }
    const summary = summaryOf(error, observed);
    const response = { ...error.toJSON() } as JsonValue;
    if (error.outcome === 'unknown') {
      await ledger.record(effectKey, 'unknown', { ...context, response, note: 'the outcome is unknown: the next attempt reconciles' });
    } else {
      await ledger.record(effectKey, error.outcome === 'rejected' ? 'rejected' : 'resolved-not-applied', {
        ...context,
        response,
        note: error.outcome === 'rejected' ? `rejected: ${error.code}${error.vendorText ? ` | ${error.vendorText}` : ''}` : 'not sent',
      });
    }
    return apiFailure(error, summary.observed, stepPrefix(effectKey));
  }

  function orderFacts(orders: WebTvOrder[], orderId: number): { order: WebTvOrder | undefined; current: WebTvOrder | undefined } {
    return { order: orders.find((order) => order.id === orderId), current: orders.find((order) => order.status === 'current') };
  }

  async function readOrders(userId: number): Promise<WebTvOrder[]> {
    try {
      return await webtv.listOrders(userId, signal());
    } catch (error) {
      if (error instanceof ApiCallError) throw apiFailure(error, undefined, `reading the orders of store user ${userId} failed: `);
      throw error;
    }
  }

  /**
   * A guarded change of the current order (cancel or process): the current order must be
   * the expected one; an order already in the target state counts as done.
   */
  async function orderEffect(input: OrderEffectInput, change: 'cancel' | 'process'): Promise<EffectResult> {
    const { effectKey, userId, orderId } = input;
    const target = change === 'cancel' ? 'cancelled' : 'processed';
    const what = `order ${orderId} of store user ${userId} ${target}`;
    const context = attemptContext();
    const isTarget = (order: WebTvOrder | undefined): boolean =>
      order !== undefined && (change === 'cancel' ? order.status === 'cancelled' : order.status === 'processed' || order.paymentStatus === 'paid');

    const recorded = await ledger.get(effectKey);
    if (recorded && isDone(recorded)) return fromLedger(recorded, what);

    return underUserLock(userId, effectKey, async () => {
      const row = await ledger.get(effectKey);
      if (row && isDone(row)) return fromLedger(row, what);
      const { order, current } = orderFacts(await readOrders(userId), orderId);
      const observed = {
        'order state': order ? `${order.status}, payment ${order.paymentStatus}` : 'no such order',
        'current order': current ? String(current.id) : 'none',
      };
      const observation: JsonValue = { orderId, state: order?.status ?? 'absent', paymentStatus: order?.paymentStatus ?? null, currentOrderId: current?.id ?? null };

      if (isTarget(order)) {
        // Already so: our earlier attempt (pending/unknown) or someone else did it.
        const note = row ? `reconciled: the order is ${target}` : `the order was already ${target}; nothing to do`;
        if (row === undefined) {
          await ledger.begin(effectKey, { ...context, kind: `order.${change}`, userId, request: { orderId }, observedBefore: observation });
        } else if (row.state === 'rejected' || row.state === 'resolved-not-applied') {
          await ledger.record(effectKey, 'pending', { ...context, observedBefore: observation, note: 'new attempt' });
        }
        await ledger.record(effectKey, 'resolved-applied', { ...context, observedAfter: observation, note });
        return { effectKey, status: 'applied', fromLedger: false, detail: `${what} (${note})` };
      }
      if (current?.id !== orderId) {
        if (row && (row.state === 'pending' || row.state === 'unknown')) {
          await ledger.record(effectKey, 'resolved-not-applied', { ...context, observedAfter: observation, note: 'the order is not current any more' });
        }
        throw failure(
          FailureType.OrderNotCurrent,
          `order ${orderId} is not the current order of store user ${userId} (${observed['order state']}; current order: ${observed['current order']}), so it cannot be ${target}.`,
          { nonRetryable: true, observed },
        );
      }
      // The expected order is current: arm and call.
      if (row === undefined) {
        await ledger.begin(effectKey, { ...context, kind: `order.${change}`, userId, request: { orderId, requester: input.requester ?? null }, observedBefore: observation });
      } else {
        if (row.state === 'pending' || row.state === 'unknown') {
          refuseWhileAttemptMayLand(row, what, observed);
          await ledger.record(effectKey, 'resolved-not-applied', { ...context, observedAfter: observation, note: 'reconciled: the order is still current, the earlier attempt did not take effect' });
        }
        await ledger.record(effectKey, 'pending', { ...context, observedBefore: observation, note: 'new attempt' });
      }
      try {
        if (change === 'cancel') await webtv.cancelOrder(userId, input.requester ? { requester: input.requester } : undefined, signal());
        else await webtv.processOrder(userId, signal());
      } catch (error) {
        if (error instanceof ApiCallError && error.outcome === 'rejected' && error.code === 'ERROR_NO_ORDER') {
          // Someone else changed the order between our read and our call: look again.
          const again = orderFacts(await readOrders(userId), orderId);
          if (isTarget(again.order)) {
            await ledger.record(effectKey, 'resolved-applied', { ...context, note: `the order became ${target} meanwhile` });
            return { effectKey, status: 'applied', fromLedger: false, detail: `${what} (it became ${target} meanwhile)` };
          }
        }
        throw await recordCallFailure(effectKey, error, observed, context);
      }
      await ledger.record(effectKey, 'applied', { ...context, response: { ok: `order ${target}` } });
      return { effectKey, status: 'applied', fromLedger: false, detail: what };
    });
  }

  function requireJustClick(operation: string): JustClickClient {
    if (!deps.justclick) {
      throw failure(
        FailureType.ApiAccessDenied,
        `JustClick ${operation} cannot run: JustClick is not configured on this worker (set JUSTCLICK_LOGIN and JUSTCLICK_SECRET, restart the worker, then retry).`,
        { nonRetryable: true },
      );
    }
    return deps.justclick;
  }

  /** An idempotent JustClick change: calling again is how an unknown outcome is settled. */
  const billEffects = {
    'justclick.create': { operation: 'CreateOrder', done: 'created' },
    'justclick.delete': { operation: 'DeleteOrder', done: 'deleted' },
    'justclick.mark-paid': { operation: 'UpdateOrderStatus', done: 'marked paid' },
  } as const;

  async function billEffect(input: BillEffectInput, kind: keyof typeof billEffects, call: (client: JustClickClient) => Promise<string>): Promise<EffectResult> {
    const { effectKey, billId } = input;
    const context = attemptContext();
    const { operation } = billEffects[kind];
    const what = `JustClick bill ${billId} ${billEffects[kind].done}`;
    const recorded = await ledger.get(effectKey);
    if (recorded && isDone(recorded)) return fromLedger(recorded, what);
    const client = requireJustClick(operation);
    if (recorded === undefined) {
      await ledger.begin(effectKey, { ...context, kind, userId: input.userId ?? null, request: { billId } });
    } else if (recorded.state === 'rejected' || recorded.state === 'resolved-not-applied') {
      await ledger.record(effectKey, 'pending', { ...context, observedBefore: { billId }, note: 'new attempt' });
    } else {
      await ledger.recordAttempt(effectKey, context);
    }
    let detail: string;
    try {
      detail = await call(client);
    } catch (error) {
      throw await recordCallFailure(effectKey, error, {}, context);
    }
    await ledger.record(effectKey, (await ledger.get(effectKey))?.state === 'unknown' ? 'resolved-applied' : 'applied', { ...context, response: { ok: detail } });
    return { effectKey, status: 'applied', fromLedger: false, detail };
  }

  /** Takes back a credit change, once; nothing when the forward change never happened. */
  async function undoCredit(input: CompensationInput): Promise<EffectResult> {
    const recordedUndo = await ledger.get(input.effectKey);
    if (recordedUndo && isDone(recordedUndo)) return fromLedger(recordedUndo, `${input.amount} credit taken back from store user ${input.userId}`);
    const forward = await ledger.get(input.forwardEffectKey);
    if (forward === undefined || forward.state === 'rejected' || forward.state === 'resolved-not-applied') {
      return { effectKey: input.effectKey, status: 'not-needed', fromLedger: false, detail: 'the credit was never added: nothing to undo' };
    }
    if (forward.state === 'pending' || forward.state === 'unknown') {
      // Settle the forward effect first, under the same rules as its own retries.
      const before = observedCredit(forward);
      const now = await underUserLock(input.userId, input.forwardEffectKey, () => readCredit(input.userId));
      const amount = parsePositiveAmount(input.amount);
      if (before !== undefined && now.creditCents === before) {
        refuseWhileAttemptMayLand(forward, `${input.amount} credit added to store user ${input.userId}`, { 'credit before': formatCents(before), 'credit now': now.credit });
        await ledger.record(input.forwardEffectKey, 'resolved-not-applied', { ...attemptContext(), observedAfter: now, note: 'reconciled while compensating: the credit was never added' });
        return { effectKey: input.effectKey, status: 'not-needed', fromLedger: false, detail: 'the credit was never added: nothing to undo' };
      }
      if (before === undefined || now.creditCents !== before + amount) {
        throw failure(
          FailureType.OutcomeUnknown,
          `Cannot tell whether the credit being undone was ever added: store user ${input.userId} had ${before === undefined ? 'an unrecorded credit' : formatCents(before)} before, has ${now.credit} now. ` +
            'Take it back by hand if it was added, then choose skip; or retry once the balance tells.',
          { nonRetryable: true, observed: { 'credit before': before === undefined ? 'not recorded' : formatCents(before), 'credit now': now.credit } },
        );
      }
      await ledger.record(input.forwardEffectKey, 'resolved-applied', { ...attemptContext(), observedAfter: now, note: 'reconciled while compensating: the credit was added' });
    }
    return creditEffect({ ...input, creditAction: 'subtract' });
  }

  return {
    async observeOrder(input: ObserveOrderInput): Promise<OrderObservation> {
      const { userId, orderId } = input;
      const orders = await readOrders(userId);
      let cartOrderId: number | null;
      let amountDue: string | null = null;
      try {
        const cart = await webtv.getCart(userId, signal());
        cartOrderId = cart.orderId;
        if (cart.orderId === orderId) amountDue = formatCents(cart.amountDue);
      } catch (error) {
        if (error instanceof ApiCallError) throw apiFailure(error, undefined, `reading the cart of store user ${userId} failed: `);
        throw error;
      }
      const { order, current } = orderFacts(orders, orderId);
      const change = await ledger.get(input.changeEffectKey);
      return {
        userId,
        orderId,
        state: order ? order.status : 'absent',
        currentOrderId: current?.id ?? cartOrderId,
        paymentStatus: order ? order.paymentStatus : 'unknown',
        amountDue,
        total: order ? formatCents(order.total) : null,
        changedByThisRun: isDone(change),
      };
    },

    applyCreditChange(input: CreditEffectInput): Promise<EffectResult> {
      return heartbeating(() => creditEffect(input));
    },

    undoCreditChange(input: CompensationInput): Promise<EffectResult> {
      return heartbeating(() => undoCredit(input));
    },

    cancelCurrentOrder(input: OrderEffectInput): Promise<EffectResult> {
      return heartbeating(() => orderEffect(input, 'cancel'));
    },

    processCurrentOrder(input: OrderEffectInput): Promise<EffectResult> {
      return heartbeating(() => orderEffect(input, 'process'));
    },

    deleteJustClickBill(input: BillEffectInput): Promise<EffectResult> {
      return heartbeating(() => billEffect(input, 'justclick.delete', async (client) => {
        const outcome = await client.deleteOrder(input.billId, signal());
        return outcome.status === 'deleted'
          ? `JustClick bill ${input.billId} deleted`
          : `JustClick bill ${input.billId} was already absent (${outcome.code} ${outcome.text})`;
      }));
    },

    createJustClickBill(input: CreateBillInput): Promise<EffectResult> {
      const goods = input.goods.map((good) => ({ name: good.name, sum: parsePositiveAmount(good.amount, `the price of ${good.name}`) }));
      return heartbeating(() => billEffect(input, 'justclick.create', async (client) => {
        const created = await client.createOrder({ billId: input.billId, email: input.email, goods, ...(input.comment ? { comment: input.comment } : {}) }, signal());
        return created.created ? `JustClick bill ${created.billId} created` : `JustClick bill ${created.billId} already existed`;
      }));
    },

    markJustClickBillPaid(input: BillEffectInput): Promise<EffectResult> {
      return heartbeating(() => billEffect(input, 'justclick.mark-paid', async (client) => {
        await client.updateOrderStatus(input.billId, 'paid', { date: Math.floor(Date.now() / 1000) }, signal());
        return `JustClick bill ${input.billId} marked paid`;
      }));
    },

    async resolveEffect(input: ResolveEffectInput): Promise<void> {
      const context = { runId: attemptContext().runId, actor: input.operator };
      const row = await ledger.get(input.effectKey);
      const note = `${input.operator}: ${input.resolution} — ${input.note}`;
      if (row !== undefined && !isDone(row)) {
        if (row.state === 'resolved-not-applied' && input.resolution === 'resolved-not-applied') {
          await ledger.addNote(input.effectKey, { ...context, text: note });
          return;
        }
        if (row.state === 'rejected' || row.state === 'resolved-not-applied') {
          // The operator says it did happen after all (done by hand): record their word.
          await ledger.record(input.effectKey, 'pending', { ...context, observedBefore: row.observedBefore ?? { armedBy: input.operator }, note: 'armed to record an operator decision' });
        }
        await ledger.record(input.effectKey, input.resolution, { ...context, note });
        return;
      }
      await ledger.audit({
        workflowId: input.workflowId,
        effectKey: input.effectKey,
        event: `operator.${input.resolution}`,
        actor: input.operator,
        details: { note: input.note, ledgerState: row?.state ?? 'no effect recorded' },
      });
    },

    async recordAudit(input: AuditInput): Promise<void> {
      await ledger.audit({
        workflowId: input.workflowId,
        runId: attemptContext().runId,
        event: input.event,
        actor: input.actor,
        userId: input.userId ?? null,
        details: input.details as JsonValue,
      });
    },
  };
}
