/**
 * Reconcile's findings as data: reading fields of recorded effects, the double-effect check
 * (two runs' money effects on one order's business key, docs/money-rules.md), a recorded
 * finding compared with the one a reconcileFinding run was given, and that run's workflow id.
 */
import { createHash } from 'node:crypto';
import { FailureType } from '../../contracts.ts';
import type { AuditEvent, EffectRecord } from '../../ledger/types.ts';
import type { DriftFinding } from './contracts.ts';
import { ApplicationFailure } from '@temporalio/common';
import { orderEffectKey } from '../../business-keys.ts';
import { effectKey as buildEffectKey, parseEffectKey } from '../../ledger/keys.ts';
import { isDone, numberField, objectField, textField } from '../../activities/protocol.ts';

/**
 * The order business key an effect holds (`refund:<user>:<order>`, `cancel:<user>:<order>`),
 * or, for effects recorded before the ledger kept it, the one it would have held: a
 * cancellation's order is in its request, a refund's in its run's business key.
 */
export function orderBusinessKeyOf(record: EffectRecord): string | undefined {
  if (record.businessKey !== null) return record.businessKey;
  const userId = Number(record.userId);
  if (record.userId === null || !Number.isSafeInteger(userId)) return undefined;
  if (record.kind === 'order.cancel') {
    const orderId = numberField(record.request, 'orderId');
    return orderId === undefined ? undefined : orderEffectKey('cancel', userId, orderId);
  }
  if (record.kind === 'credit.add' && parseEffectKey(record.key).step === 'add-credit') {
    const match = /refund-and-cancel[:/](\d+)[:/](\d+)$/.exec(record.workflowId);
    if (match && Number(match[1]) === userId) return orderEffectKey('refund', userId, Number(match[2]));
  }
  return undefined;
}

/** A refund's credit was taken back by its run's undo. */
function undone(record: EffectRecord, byKey: ReadonlyMap<string, EffectRecord>): boolean {
  const { workflowId, firstExecutionRunId } = parseEffectKey(record.key);
  const undoKey = firstExecutionRunId === undefined ? `${workflowId}/undo-add-credit` : buildEffectKey(workflowId, 'undo-add-credit', firstExecutionRunId);
  return isDone(byKey.get(undoKey));
}

/** One order refunded or cancelled by more than one run, where each still stands. */
export function doubleEffects(all: readonly EffectRecord[], recentKeys: ReadonlySet<string>): DriftFinding[] {
  const byKey = new Map(all.map((record) => [record.key, record]));
  const groups = new Map<string, EffectRecord[]>();
  for (const record of all) {
    if (!isDone(record) || (record.kind === 'credit.add' && undone(record, byKey))) continue;
    const businessKey = orderBusinessKeyOf(record);
    if (businessKey === undefined) continue;
    groups.set(businessKey, [...(groups.get(businessKey) ?? []), record]);
  }
  const findings: DriftFinding[] = [];
  for (const [businessKey, records] of groups) {
    if (records.length < 2 || !records.some((record) => recentKeys.has(record.key))) continue;
    const [first, second] = records as [EffectRecord, EffectRecord];
    const [effect, userId, orderId] = businessKey.split(':');
    const amount = textField(second.request, 'amount');
    const evidence: Record<string, string> = { 'business key': businessKey };
    records.forEach((record, index) => {
      const amountText = textField(record.request, 'amount');
      evidence[`effect ${index + 1}`] = `${record.key}: ${record.state} at ${record.updatedAt}${amountText === undefined ? '' : `, ${amountText} credit`}`;
    });
    findings.push({
      id: `double-effect:${businessKey}`,
      kind: 'double-effect',
      workflowId: second.workflowId,
      effectKey: second.key,
      userId: second.userId,
      summary:
        `Order ${orderId} of store user ${userId} was ${effect === 'refund' ? 'refunded' : 'cancelled'} by ${records.length} runs ` +
        `(${records.map((record) => record.workflowId).join(', ')}), and each stands; first by ${first.workflowId}.`,
      evidence,
      ...(effect === 'refund' && amount !== undefined ? { credit: { userId: Number(userId), action: 'add' as const, amount } } : {}),
    });
  }
  return findings;
}

/** The workflow id of a finding's `reconcileFinding` run: one per stable finding id, without '/'. */
export function reconcileFindingWorkflowId(finding: Pick<DriftFinding, 'id' | 'kind'>): string {
  return `reconcile-finding:${finding.kind}:${createHash('sha256').update(finding.id).digest('hex').slice(0, 20)}`;
}

/** A finding as reconcile recorded it (the `reconcile.finding` audit event). */
export function findingOfEvent(event: AuditEvent): DriftFinding | undefined {
  const details = event.details;
  const id = textField(details, 'findingId');
  const kind = textField(details, 'kind');
  const summary = textField(details, 'summary');
  const evidence = objectField(details, 'evidence');
  if (id === undefined || kind === undefined || summary === undefined || evidence === null || typeof evidence !== 'object' || Array.isArray(evidence)) return undefined;
  const credit = objectField(details, 'credit');
  return {
    id,
    kind: kind as DriftFinding['kind'],
    workflowId: event.workflowId,
    effectKey: event.effectKey,
    userId: event.userId,
    summary,
    evidence: Object.fromEntries(Object.entries(evidence).map(([name, value]) => [name, String(value)])),
    ...(credit !== undefined && credit !== null ? { credit: credit as unknown as NonNullable<DriftFinding['credit']> } : {}),
  };
}

/** The same finding, field by field (key order and absent optional fields aside). */
export function sameFinding(a: DriftFinding, b: DriftFinding): boolean {
  const canonical = (finding: DriftFinding): string =>
    JSON.stringify({
      id: finding.id, kind: finding.kind, workflowId: finding.workflowId, effectKey: finding.effectKey ?? null, userId: finding.userId ?? null,
      summary: finding.summary, evidence: Object.entries(finding.evidence ?? {}).sort(([x], [y]) => x.localeCompare(y)),
      credit: finding.credit === undefined ? null : { userId: finding.credit.userId, action: finding.credit.action, amount: finding.credit.amount },
    });
  return canonical(a) === canonical(b);
}

export function refusedFinding(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: `${message} Nothing was changed.` });
}
