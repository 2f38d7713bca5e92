/**
 * The reconcile workflow's activities: `findDrift` only reads (API reads paced); `settleDrift`
 * records each finding once in the audit trail, counts it, and does the safe repairs (deleting a
 * JustClick bill a completed run deleted: DeleteOrder is idempotent). Money waits for an operator.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { inFlightWindowMs } from '../../apis/http.ts';
import { ApiRejectedError } from '../../apis/outcome.ts';
import type { JustClickClient } from '../../apis/justclick/client.ts';
import type { WebTvClient } from '../../apis/webtv/client.ts';
import { RunState, queryNames } from '../../contracts.ts';
import type { RunStatus } from '../../contracts.ts';
import { InvalidLedgerInputError } from '../../ledger/errors.ts';
import type { EffectLedger, EffectRecord, JsonValue } from '../../ledger/types.ts';
import { formatCents, parsePositiveAmount } from '../../money.ts';
import { followUpOfKind, reconcileAuditEvents, reconcileDefaults } from './contracts.ts';
import type { DriftFinding, DriftKind, FindDriftInput, ReconcileActivities, SettledFinding } from './contracts.ts';
import { awaitingOperatorQuery, orderflowSearchAttributes } from '../../search-attributes.ts';
import { metricNames } from '../../telemetry/metrics.ts';
import { activityContext, isDone, isUnresolved, numberField, textField, unresolvedStates } from '../../activities/protocol.ts';
import { doubleEffects, findingOfEvent, orderBusinessKeyOf, reconcileFindingWorkflowId, sameFinding, refusedFinding } from './findings.ts';

export interface ReconcileActivityDeps {
  ledger: EffectLedger;
  webtv: WebTvClient;
  justclick?: JustClickClient | undefined;
  client: Client;
  /** Defaults: the HTTP clients' {@link inFlightWindowMs}, and {@link reconcileDefaults}. */
  inFlightWindowMs?: number | undefined;
  readsPerSecond?: number;
  checkpointOverlapMs?: number | undefined;
}

/** Effects read from the ledger per page while listing what changed. */
const changePageSize = 1_000;

/** A finding about one effect: its id is `<kind>:<effect key>`. */
function effectFinding(kind: DriftKind, record: EffectRecord, summary: string, evidence: DriftFinding['evidence']): DriftFinding {
  const { workflowId, key: effectKey, userId } = record;
  return { id: `${kind}:${effectKey}`, kind, workflowId, effectKey, userId, summary, evidence };
}

export function createReconcileActivities(deps: ReconcileActivityDeps): ReconcileActivities {
  const { ledger, webtv, justclick, client } = deps;
  const windowMs = deps.inFlightWindowMs ?? inFlightWindowMs();
  const minGapMs = 1_000 / (deps.readsPerSecond ?? reconcileDefaults.readsPerSecond);
  const overlapMs = deps.checkpointOverlapMs ?? reconcileDefaults.checkpointOverlapMs;
  let lastRead = 0;

  /** Spaces API reads at least `minGapMs` apart. */
  async function paced<T>(read: () => Promise<T>): Promise<T> {
    const wait = lastRead + minGapMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lastRead = Date.now();
    activityContext()?.heartbeat();
    return read();
  }

  const isRunning = (workflowId: string): Promise<boolean> =>
    client.workflow.getHandle(workflowId).describe().then((run) => run.status.name === 'RUNNING', () => false);

  /** The bill, or undefined when JustClick says it does not exist. */
  async function billStatus(billId: string): Promise<{ exists: false } | { exists: true; payStatus: string | null }> {
    if (!justclick) return { exists: false };
    try {
      const info = await paced(() => justclick.getOrderInfo(billId));
      return { exists: true, payStatus: info.payStatus };
    } catch (error) {
      if (error instanceof ApiRejectedError) return { exists: false };
      throw error;
    }
  }

  async function staleEffect(record: EffectRecord, input: FindDriftInput): Promise<DriftFinding | undefined> {
    const age = Date.parse(input.now) - Date.parse(record.updatedAt);
    if (age <= windowMs || (await isRunning(record.workflowId))) return undefined;
    return effectFinding(
      'stale-effect',
      record,
      `${record.kind} effect ${record.key} is still ${record.state} since ${record.updatedAt}, past the in-flight window, and no run works on it.`,
      { state: record.state, 'last change': record.updatedAt, request: JSON.stringify(record.request), 'run running': 'no' },
    );
  }

  async function lateLanding(record: EffectRecord): Promise<DriftFinding | undefined> {
    const userId = Number(record.userId);
    const amountText = textField(record.request, 'amount');
    if (!Number.isSafeInteger(userId) || amountText === undefined) return undefined;
    const decision = (await ledger.listAudit({ effectKey: record.key, event: 'effect.resolved-not-applied' })).at(-1);
    if (decision === undefined) return undefined;
    const amount = parsePositiveAmount(amountText);
    const change = record.kind === 'credit.subtract' ? -amount : amount;
    // What the balance should be now, as far as this effect goes.
    const base = numberField(record.state === 'resolved-not-applied' ? record.observedAfter : record.observedBefore, 'creditCents');
    if (base === undefined) return undefined;
    const expected = record.state === 'resolved-not-applied' ? base : base + change;
    const now = (await paced(() => webtv.getCredit(userId))).buyerCredit;
    if (now !== expected + change) return undefined;
    const note = textField(decision.details, 'note');
    const summary =
      `Store user ${userId}'s credit moved by exactly ${formatCents(Math.abs(change))} after ${record.key} was decided "did not take effect": ` +
      'the earlier request probably landed late, so the change is there twice.';
    return {
      ...effectFinding('late-landing', record, summary, {
        'change': `${change < 0 ? '-' : '+'}${formatCents(Math.abs(change))}`,
        'decided not applied at': decision.at,
        // Who decided: the self-declared operator, and in the note the identity Temporal recorded for their decision.
        'decided by': `${decision.actor ?? 'not recorded'}${note === undefined ? '' : ` — ${note}`}`,
        'final state': `${record.state} at ${record.updatedAt}`,
        'credit expected': formatCents(expected),
        'credit now': formatCents(now),
      }),
      credit: { userId, action: change < 0 ? 'subtract' : 'add', amount: formatCents(amount) },
    };
  }

  async function orderNotCancelled(record: EffectRecord): Promise<DriftFinding | undefined> {
    const userId = Number(record.userId);
    const orderId = numberField(record.request, 'orderId');
    if (!Number.isSafeInteger(userId) || orderId === undefined) return undefined;
    const order = (await paced(() => webtv.listOrders(userId))).find((candidate) => candidate.id === orderId);
    if (order === undefined || order.status === 'cancelled') return undefined;
    return effectFinding(
      'order-not-cancelled',
      record,
      `Order ${orderId} of store user ${userId} was cancelled by ${record.workflowId} (${record.updatedAt}) but is ${order.status} in the store now.`,
      { 'cancelled at': record.updatedAt, 'store status now': order.status, 'payment status now': order.paymentStatus },
    );
  }

  async function billDrift(record: EffectRecord): Promise<DriftFinding | undefined> {
    const billId = textField(record.request, 'billId');
    if (billId === undefined) return undefined;
    const bill = await billStatus(billId);
    if (record.kind === 'justclick.delete' && bill.exists) {
      return effectFinding(
        'bill-still-exists',
        record,
        `JustClick bill ${billId} was deleted by ${record.workflowId} (${record.updatedAt}) but exists again.`,
        { billId, 'deleted at': record.updatedAt, 'pay status now': bill.payStatus ?? 'not reported' },
      );
    }
    if (record.kind === 'justclick.mark-paid' && (!bill.exists || bill.payStatus !== 'paid')) {
      const now = bill.exists ? `"${bill.payStatus ?? 'without status'}"` : 'gone';
      return effectFinding(
        'bill-not-paid',
        record,
        `JustClick bill ${billId} was marked paid by ${record.workflowId} (${record.updatedAt}) but is ${now} now.`,
        { billId, 'marked paid at': record.updatedAt, 'now': bill.exists ? `pay status ${bill.payStatus ?? 'not reported'}` : 'no such bill' },
      );
    }
    return undefined;
  }

  async function operatorWaits(input: FindDriftInput): Promise<DriftFinding[]> {
    const findings: DriftFinding[] = [];
    for await (const run of client.workflow.list({ query: awaitingOperatorQuery })) {
      if (run.status.name !== 'RUNNING') continue;
      if (run.typedSearchAttributes.get(orderflowSearchAttributes.state) !== RunState.AwaitingOperator) continue;
      // A run cannot have waited longer than it exists: only older runs are asked (a query needs their worker).
      if (Date.parse(input.now) - run.startTime.getTime() <= input.operatorWaitMs) continue;
      activityContext()?.heartbeat();
      const status = await client
        .withDeadline(Date.now() + 5_000, () => client.workflow.getHandle(run.workflowId).query<RunStatus>(queryNames.status))
        .catch(() => undefined);
      const awaiting = status?.awaiting;
      const since = awaiting?.since;
      if (since === undefined || Date.parse(input.now) - Date.parse(since) <= input.operatorWaitMs) continue;
      findings.push({
        id: `operator-wait:${run.workflowId}`,
        kind: 'operator-wait',
        workflowId: run.workflowId,
        effectKey: null,
        userId: null,
        summary: `${run.workflowId} waits for an operator at ${awaiting?.waitId ?? awaiting?.step ?? '?'} since ${since}: ${awaiting?.reason ?? ''}`,
        evidence: { 'waiting since': since, step: awaiting?.step ?? '?', wait: awaiting?.waitId ?? '?' },
      });
    }
    return findings;
  }

  /** Starts the finding's `reconcileFinding` run once: a running one is joined, a decided one is not started again. */
  async function handToOperator(finding: DriftFinding): Promise<string> {
    const workflowId = reconcileFindingWorkflowId(finding);
    try {
      await client.workflow.start('reconcileFinding', {
        taskQueue: Context.current().info.taskQueue,
        workflowId,
        args: [{ finding }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return workflowId;
  }

  /** What one effect shows: at most one finding, at most one paced API read. */
  async function checkEffect(record: EffectRecord, input: FindDriftInput): Promise<DriftFinding | undefined> {
    if (isUnresolved(record)) return staleEffect(record, input);
    if (record.kind.startsWith('credit.')) return lateLanding(record);
    const done = isDone(record);
    if (record.kind === 'order.cancel' && done) return orderNotCancelled(record);
    if (record.kind.startsWith('justclick.') && done) return billDrift(record);
    return undefined;
  }

  /** Where the last completed reconcile left off (ms), if one did. */
  async function checkpoint(): Promise<number | undefined> {
    const [latest] = await ledger.listAudit({ event: reconcileAuditEvents.checkpoint, newestFirst: true, limit: 1 });
    const through = Date.parse(textField(latest?.details ?? null, 'through') ?? '');
    return Number.isNaN(through) ? undefined : through;
  }

  /** Every effect changed at or after `sinceMs`, in the order of their last change, a page at a time. */
  async function* changedSince(sinceMs: number): AsyncGenerator<EffectRecord> {
    let at = new Date(sinceMs).toISOString();
    let afterKey: string | undefined;
    for (;;) {
      const page = await ledger.listEffects({ changedSince: at, changedAfterKey: afterKey, limit: changePageSize });
      yield* page;
      const last = page.at(-1);
      if (last === undefined || page.length < changePageSize) return;
      at = last.updatedAt;
      afterKey = last.key;
    }
  }

  /** One order refunded or cancelled twice, where one of the effects is among `looked` (the others: its user's). */
  async function doublesAmong(looked: readonly EffectRecord[]): Promise<DriftFinding[]> {
    const users = new Set(looked.flatMap((record) => (record.userId !== null && orderBusinessKeyOf(record) !== undefined ? [record.userId] : [])));
    const related: EffectRecord[] = [];
    for (const userId of users) related.push(...(await ledger.listEffects({ userId, limit: 10_000 })));
    return doubleEffects(related, new Set(looked.map((record) => record.key)));
  }

  return {
    /**
     * What changed since the checkpoint (never before the window's start), plus what is still open:
     * unresolved effects, and effects with a finding reported within the window (docs/runbook.md, "Drift").
     */
    async findDrift(input) {
      const windowStart = Date.parse(input.since);
      const reachedMs = input.fullWindow === true ? undefined : await checkpoint();
      const sinceMs = reachedMs === undefined ? windowStart : Math.max(windowStart, reachedMs);
      const looked = new Map<string, EffectRecord>();
      const findings: DriftFinding[] = [];
      const check = async (record: EffectRecord): Promise<void> => {
        if (looked.has(record.key)) return;
        looked.set(record.key, record);
        const finding = await checkEffect(record, input);
        if (finding) findings.push(finding);
      };
      for await (const record of changedSince(sinceMs)) await check(record);
      for (const record of await ledger.listEffects({ state: unresolvedStates, limit: 10_000 })) await check(record);
      // Findings reported within the window (the newest 10,000).
      for (const { at, effectKey } of await ledger.listAudit({ event: reconcileAuditEvents.finding, newestFirst: true, limit: 10_000 })) {
        if (effectKey === null || looked.has(effectKey) || Date.parse(at) < windowStart) continue;
        const record = await ledger.get(effectKey);
        if (record !== undefined) await check(record);
      }
      findings.push(...(await doublesAmong([...looked.values()])));
      findings.push(...(await operatorWaits(input)));
      return findings;
    },

    async recordedFinding({ finding }) {
      const id = typeof finding?.id === 'string' ? finding.id : undefined;
      if (id === undefined) throw refusedFinding('reconcileFinding: the input has no finding id.');
      // Findings of an effect are recorded with its key (indexed); the others by their run.
      const where = typeof finding.effectKey === 'string' ? { effectKey: finding.effectKey } : { workflowId: String(finding.workflowId) };
      const events = await ledger.listAudit({ event: reconcileAuditEvents.finding, ...where, limit: 10_000 }).catch((error: unknown) => {
        if (error instanceof InvalidLedgerInputError) throw refusedFinding(`reconcileFinding: the finding given for ${JSON.stringify(id)} is malformed: ${error.message}`);
        throw error;
      });
      const recorded = events.map(findingOfEvent).find((candidate) => candidate?.id === id);
      if (recorded === undefined) {
        throw refusedFinding(`reconcileFinding: reconcile never recorded a finding ${JSON.stringify(id)}; only findings reconcile recorded in the ledger are acted on.`);
      }
      if (!sameFinding(recorded, finding)) {
        throw refusedFinding(`reconcileFinding: the finding given for ${JSON.stringify(id)} differs from the one reconcile recorded in the ledger (its run, effect, user, evidence or credit).`);
      }
      const caller = Context.current().info.workflowExecution?.workflowId ?? '(not a workflow)';
      if (caller !== reconcileFindingWorkflowId(recorded)) {
        throw refusedFinding(`reconcileFinding: run ${caller} is not the run of finding ${JSON.stringify(id)} (that is ${reconcileFindingWorkflowId(recorded)}).`);
      }
      return recorded;
    },

    async settleDrift({ reconcileWorkflowId, findings, checkedAt }) {
      // What earlier reconciles recorded: a finding reported before is handed on as recorded (its run checks it against the ledger).
      const recorded = new Map<string, DriftFinding>();
      for (const event of await ledger.listAudit({ event: reconcileAuditEvents.finding, limit: 10_000 })) {
        const earlier = findingOfEvent(event);
        if (earlier !== undefined && !recorded.has(earlier.id)) recorded.set(earlier.id, earlier);
      }
      const counter = Context.current().metricMeter.createCounter(metricNames.driftFindings, '1', 'Drift found by reconcile, by kind and whether it was new');
      const audit = async ({ workflowId, effectKey, userId }: DriftFinding, event: string, details: JsonValue) => {
        await ledger.audit({ workflowId, effectKey: effectKey ?? undefined, userId, event, details, actor: reconcileWorkflowId });
      };
      const settled: SettledFinding[] = [];
      for (const finding of findings) {
        const isNew = !recorded.has(finding.id);
        const followUp = followUpOfKind[finding.kind];
        counter.add(1, { kind: finding.kind, new: String(isNew) });
        if (isNew) {
          await audit(finding, reconcileAuditEvents.finding, {
            findingId: finding.id, kind: finding.kind, summary: finding.summary, evidence: finding.evidence, reconcile: reconcileWorkflowId,
            ...(finding.credit === undefined ? {} : { credit: { ...finding.credit } }),
          });
        }
        let outcome = 'waits for an operator: see the runbook (README, "Drift") for what to decide';
        let findingWorkflowId: string | undefined;
        if (finding.kind === 'operator-wait') {
          outcome = `decide in the waiting run itself: orderflow status ${finding.workflowId}`;
        } else if (followUp === 'operator') {
          findingWorkflowId = await handToOperator(recorded.get(finding.id) ?? finding);
          outcome = `waits for an operator in ${findingWorkflowId} (orderflow status ${findingWorkflowId})`;
        }
        if (followUp === 'repair' && finding.kind === 'bill-still-exists' && justclick) {
          const billId = finding.evidence['billId'] ?? '';
          const deleted = await paced(() => justclick.deleteOrder(billId));
          outcome = deleted.status === 'deleted' ? `repaired: JustClick bill ${billId} deleted again` : `repaired: JustClick bill ${billId} was already gone`;
          await audit(finding, reconcileAuditEvents.repaired, { findingId: finding.id, outcome });
        }
        settled.push({ ...finding, isNew, followUp, outcome, ...(findingWorkflowId === undefined ? {} : { findingWorkflowId }) });
      }
      // Written last: a run that fails before leaves the checkpoint where it was (nothing is skipped).
      const checkedAtMs = Date.parse(checkedAt ?? '');
      if (!Number.isNaN(checkedAtMs)) {
        await ledger.audit({
          workflowId: reconcileWorkflowId,
          event: reconcileAuditEvents.checkpoint,
          details: { through: new Date(checkedAtMs - overlapMs).toISOString(), checkedAt: new Date(checkedAtMs).toISOString(), findings: findings.length },
          actor: reconcileWorkflowId,
        });
      }
      return settled;
    },
  };
}
