/**
 * The reconcile workflow's activities (src/features/reconcile/workflow.ts).
 *
 * `findDrift` only reads: the ledger, the store and JustClick (at most
 * `readsPerSecond` API reads per second), and Temporal's visibility. `settleDrift` records
 * each finding once in the ledger's audit trail (so a later reconcile knows it is not new),
 * counts it in `orderflow_drift_findings`, and does the safe repairs: deleting a JustClick
 * bill that a completed run deleted (JustClick's DeleteOrder is idempotent by bill id).
 * Nothing that touches money is changed here: those findings wait for an operator.
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
import type { EffectLedger, EffectRecord } from '../../ledger/types.ts';
import { formatCents, parsePositiveAmount } from '../../money.ts';
import { followUpOfKind, reconcileAuditEvents, reconcileDefaults } from './contracts.ts';
import type { DriftFinding, FindDriftInput, ReconcileActivities, SettledFinding } from './contracts.ts';
import { reconcileFindingWorkflowId } from './ids.ts';
import { awaitingOperatorQuery, orderflowSearchAttributes } from '../../search-attributes.ts';
import { metricNames } from '../../telemetry/metrics.ts';
import { unresolvedStates } from '../../activities/protocol.ts';

import { numberField, textField, doubleEffects, findingOfEvent, sameFinding, refusedFinding } from './findings.ts';

export interface ReconcileActivityDeps {
  ledger: EffectLedger;
  webtv: WebTvClient;
  justclick?: JustClickClient | undefined;
  client: Client;
  /** How long an unresolved effect may still be a request in flight (default: the HTTP clients' {@link inFlightWindowMs}). */
  inFlightWindowMs?: number | undefined;
  /** Default {@link reconcileDefaults.readsPerSecond}. */
  readsPerSecond?: number;
}


function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Called outside an activity (tests): nothing to tell.
  }
}

export function createReconcileActivities(deps: ReconcileActivityDeps): ReconcileActivities {
  const { ledger, webtv, justclick, client } = deps;
  const windowMs = deps.inFlightWindowMs ?? inFlightWindowMs();
  const minGapMs = 1_000 / (deps.readsPerSecond ?? reconcileDefaults.readsPerSecond);
  let lastRead = 0;

  /** Spaces API reads at least `minGapMs` apart. */
  async function paced<T>(read: () => Promise<T>): Promise<T> {
    const wait = lastRead + minGapMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lastRead = Date.now();
    heartbeat();
    return read();
  }

  async function isRunning(workflowId: string): Promise<boolean> {
    try {
      return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    } catch {
      return false;
    }
  }

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
    return {
      id: `stale-effect:${record.key}`,
      kind: 'stale-effect',
      workflowId: record.workflowId,
      effectKey: record.key,
      userId: record.userId,
      summary: `${record.kind} effect ${record.key} is still ${record.state} since ${record.updatedAt}, past the in-flight window, and no run works on it.`,
      evidence: { state: record.state, 'last change': record.updatedAt, request: JSON.stringify(record.request), 'run running': 'no' },
    };
  }

  async function lateLanding(record: EffectRecord): Promise<DriftFinding | undefined> {
    const userId = Number(record.userId);
    const amountText = textField(record.request, 'amount');
    if (!Number.isSafeInteger(userId) || amountText === undefined) return undefined;
    const decidedNot = await ledger.listAudit({ effectKey: record.key, event: 'effect.resolved-not-applied' });
    const decision = decidedNot.at(-1);
    if (decision === undefined) return undefined;
    const amount = parsePositiveAmount(amountText);
    const change = record.kind === 'credit.subtract' ? -amount : amount;
    // What the balance should be now, as far as this effect goes.
    const base =
      record.state === 'resolved-not-applied' ? numberField(record.observedAfter, 'creditCents') : numberField(record.observedBefore, 'creditCents');
    if (base === undefined) return undefined;
    const expected = record.state === 'resolved-not-applied' ? base : base + change;
    const now = (await paced(() => webtv.getCredit(userId))).buyerCredit;
    if (now !== expected + change) return undefined;
    return {
      id: `late-landing:${record.key}`,
      kind: 'late-landing',
      workflowId: record.workflowId,
      effectKey: record.key,
      userId: record.userId,
      summary:
        `Store user ${userId}'s credit moved by exactly ${formatCents(Math.abs(change))} after ${record.key} was decided "did not take effect": ` +
        'the earlier request probably landed late, so the change is there twice.',
      evidence: {
        'change': `${change < 0 ? '-' : '+'}${formatCents(Math.abs(change))}`,
        'decided not applied at': decision.at,
        // Who decided: the self-declared operator, and in the note the identity Temporal recorded for their decision.
        'decided by': `${decision.actor ?? 'not recorded'}${textField(decision.details, 'note') === undefined ? '' : ` — ${textField(decision.details, 'note') ?? ''}`}`,
        'final state': `${record.state} at ${record.updatedAt}`,
        'credit expected': formatCents(expected),
        'credit now': formatCents(now),
      },
      credit: { userId, action: change < 0 ? 'subtract' : 'add', amount: formatCents(amount) },
    };
  }

  async function orderNotCancelled(record: EffectRecord): Promise<DriftFinding | undefined> {
    const userId = Number(record.userId);
    const orderId = numberField(record.request, 'orderId');
    if (!Number.isSafeInteger(userId) || orderId === undefined) return undefined;
    const order = (await paced(() => webtv.listOrders(userId))).find((candidate) => candidate.id === orderId);
    if (order === undefined || order.status === 'cancelled') return undefined;
    return {
      id: `order-not-cancelled:${record.key}`,
      kind: 'order-not-cancelled',
      workflowId: record.workflowId,
      effectKey: record.key,
      userId: record.userId,
      summary: `Order ${orderId} of store user ${userId} was cancelled by ${record.workflowId} (${record.updatedAt}) but is ${order.status} in the store now.`,
      evidence: { 'cancelled at': record.updatedAt, 'store status now': order.status, 'payment status now': order.paymentStatus },
    };
  }

  async function billDrift(record: EffectRecord): Promise<DriftFinding | undefined> {
    const billId = textField(record.request, 'billId');
    if (billId === undefined) return undefined;
    const bill = await billStatus(billId);
    const base = { workflowId: record.workflowId, effectKey: record.key, userId: record.userId };
    if (record.kind === 'justclick.delete' && bill.exists) {
      return {
        ...base,
        id: `bill-still-exists:${record.key}`,
        kind: 'bill-still-exists',
        summary: `JustClick bill ${billId} was deleted by ${record.workflowId} (${record.updatedAt}) but exists again.`,
        evidence: { billId, 'deleted at': record.updatedAt, 'pay status now': bill.payStatus ?? 'not reported' },
      };
    }
    if (record.kind === 'justclick.mark-paid' && (!bill.exists || bill.payStatus !== 'paid')) {
      return {
        ...base,
        id: `bill-not-paid:${record.key}`,
        kind: 'bill-not-paid',
        summary: `JustClick bill ${billId} was marked paid by ${record.workflowId} (${record.updatedAt}) but is ${bill.exists ? `"${bill.payStatus ?? 'without status'}"` : 'gone'} now.`,
        evidence: { billId, 'marked paid at': record.updatedAt, 'now': bill.exists ? `pay status ${bill.payStatus ?? 'not reported'}` : 'no such bill' },
      };
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
      heartbeat();
      const status = await client
        .withDeadline(Date.now() + 5_000, () => client.workflow.getHandle(run.workflowId).query<RunStatus>(queryNames.status))
        .catch(() => undefined);
      const since = status?.awaiting?.since;
      if (since === undefined || Date.parse(input.now) - Date.parse(since) <= input.operatorWaitMs) continue;
      findings.push({
        id: `operator-wait:${run.workflowId}`,
        kind: 'operator-wait',
        workflowId: run.workflowId,
        effectKey: null,
        userId: null,
        summary: `${run.workflowId} waits for an operator at ${status?.awaiting?.waitId ?? status?.awaiting?.step ?? '?'} since ${since}: ${status?.awaiting?.reason ?? ''}`,
        evidence: { 'waiting since': since, step: status?.awaiting?.step ?? '?', wait: status?.awaiting?.waitId ?? '?' },
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

  return {
    async findDrift(input) {
      const sinceMs = Date.parse(input.since);
      const all = await ledger.listEffects({ limit: 10_000 });
      const recent = all.filter((record) => Date.parse(record.updatedAt) >= sinceMs);
      const findings: DriftFinding[] = [];
      for (const record of recent) {
        let finding: DriftFinding | undefined;
        if ((unresolvedStates as readonly string[]).includes(record.state)) finding = await staleEffect(record, input);
        else if (record.kind.startsWith('credit.')) finding = await lateLanding(record);
        else if (record.kind === 'order.cancel' && (record.state === 'applied' || record.state === 'resolved-applied')) finding = await orderNotCancelled(record);
        else if (record.kind.startsWith('justclick.') && (record.state === 'applied' || record.state === 'resolved-applied')) finding = await billDrift(record);
        if (finding) findings.push(finding);
      }
      findings.push(...doubleEffects(all, new Set(recent.map((record) => record.key))));
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

    async settleDrift({ reconcileWorkflowId, findings }) {
      // What earlier reconciles recorded: a finding reported before is handed on as recorded (its run checks it against the ledger).
      const recorded = new Map<string, DriftFinding>();
      for (const event of await ledger.listAudit({ event: reconcileAuditEvents.finding, limit: 10_000 })) {
        const earlier = findingOfEvent(event);
        if (earlier !== undefined && !recorded.has(earlier.id)) recorded.set(earlier.id, earlier);
      }
      const counter = Context.current().metricMeter.createCounter(metricNames.driftFindings, '1', 'Drift found by reconcile, by kind and whether it was new');
      const settled: SettledFinding[] = [];
      for (const finding of findings) {
        const isNew = !recorded.has(finding.id);
        const followUp = followUpOfKind[finding.kind];
        counter.add(1, { kind: finding.kind, new: String(isNew) });
        if (isNew) {
          await ledger.audit({
            workflowId: finding.workflowId,
            effectKey: finding.effectKey ?? undefined,
            userId: finding.userId,
            event: reconcileAuditEvents.finding,
            details: {
              findingId: finding.id, kind: finding.kind, summary: finding.summary, evidence: finding.evidence, reconcile: reconcileWorkflowId,
              ...(finding.credit === undefined ? {} : { credit: { ...finding.credit } }),
            },
            actor: reconcileWorkflowId,
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
          await ledger.audit({
            workflowId: finding.workflowId,
            effectKey: finding.effectKey ?? undefined,
            userId: finding.userId,
            event: reconcileAuditEvents.repaired,
            details: { findingId: finding.id, outcome },
            actor: reconcileWorkflowId,
          });
        }
        settled.push({ ...finding, isNew, followUp, outcome, ...(findingWorkflowId === undefined ? {} : { findingWorkflowId }) });
      }
      return settled;
    },
  };
}
