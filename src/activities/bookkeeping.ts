/** Bookkeeping activities: operator resolutions and the audit trail, ledger only (no API). */
import type { AuditInput, OrderflowActivities, ResolveEffectInput } from '../contracts.ts';
import type { JsonValue } from '../ledger/types.ts';
import { attemptContext, didNotHappen, isDone } from './protocol.ts';
import type { Protocol } from './protocol.ts';

export function createBookkeepingActivities(protocol: Protocol): Pick<OrderflowActivities, 'resolveEffect' | 'recordAudit'> {
  const { ledger } = protocol;
  return {
    async resolveEffect(input: ResolveEffectInput): Promise<void> {
      const context = { runId: attemptContext().runId, actor: input.operator };
      const row = await ledger.get(input.effectKey);
      const note = `${input.operator}: ${input.resolution} — ${input.note}`;
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
