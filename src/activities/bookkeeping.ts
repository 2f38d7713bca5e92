/** Bookkeeping activities: operator resolutions and the audit trail, ledger only (no API). */
import { FailureType } from '../contracts.ts';
import type { AuditInput, OrderflowActivities, ResolveEffectInput } from '../contracts.ts';
import { EffectKeyError, parseEffectKey } from '../ledger/keys.ts';
import type { EffectLedger, JsonValue } from '../ledger/types.ts';
import { reconcileAuditEvents } from '../features/reconcile/contracts.ts';
import { findingOfEvent, reconcileFindingWorkflowId } from '../features/reconcile/findings.ts';
import { failure } from './failures.ts';
import { activityContext, attemptContext, didNotHappen, isDone } from './protocol.ts';
import type { Protocol } from './protocol.ts';

function refused(message: string): Error {
  return failure(FailureType.InvalidInput, `${message} Nothing was recorded.`, { nonRetryable: true });
}

/**
 * An operator's resolution settles an effect of the run it names, asked by that run itself,
 * or by the reconcileFinding run of a stale-effect finding reconcile recorded for that very
 * effect. Anything else (another run's effect key, a forged finding) is refused.
 */
async function checkResolutionSource(ledger: EffectLedger, input: ResolveEffectInput): Promise<void> {
  let owner: string;
  try {
    owner = parseEffectKey(input.effectKey).workflowId;
  } catch (error) {
    if (error instanceof EffectKeyError) throw refused(`resolveEffect: ${error.message}`);
    throw error;
  }
  if (owner !== input.workflowId) {
    throw refused(`resolveEffect: effect ${JSON.stringify(input.effectKey)} belongs to run ${owner}, not to ${input.workflowId}, the run named.`);
  }
  const caller = activityContext()?.info.workflowExecution?.workflowId;
  if (caller === undefined || caller === owner) return;
  const findings = (await ledger.listAudit({ event: reconcileAuditEvents.finding, effectKey: input.effectKey })).map(findingOfEvent);
  const recordedFor = findings.some((finding) => finding?.kind === 'stale-effect' && reconcileFindingWorkflowId(finding) === caller);
  if (!recordedFor) {
    throw refused(`resolveEffect: run ${caller} may not settle effect ${JSON.stringify(input.effectKey)} of run ${owner}: only that run, or the run of a stale-effect finding reconcile recorded for it, may.`);
  }
}

export function createBookkeepingActivities(protocol: Protocol): Pick<OrderflowActivities, 'resolveEffect' | 'recordAudit'> {
  const { ledger } = protocol;
  return {
    async resolveEffect(input: ResolveEffectInput): Promise<void> {
      await checkResolutionSource(ledger, input);
      const context = { runId: attemptContext().runId, actor: input.operator };
      const row = await ledger.get(input.effectKey);
      const decider = `${input.operator}${input.identity === undefined ? '' : ` (Temporal identity: ${input.identity ?? 'none recorded'})`}`;
      const note = `${decider}: ${input.resolution} — ${input.note}`;
      if (row !== undefined && !isDone(row)) {
        if (row.state === 'resolved-not-applied' && input.resolution === 'resolved-not-applied') {
          await ledger.addNote(input.effectKey, { ...context, text: note });
          return;
        }
        if (didNotHappen(row)) {
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
        details: { note: input.note, identity: input.identity ?? null, ledgerState: row?.state ?? 'no effect recorded' },
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
