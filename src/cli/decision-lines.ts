/** How `status` and `ops show` print a run's decisions: the self-declared operator next to the identity Temporal recorded. */
import type { RecordedDecision, RefusedDecision } from '../contracts.ts';

/** One decision, with the identity Temporal recorded next to the self-declared operator. */
export function describeRecordedDecision(decision: RecordedDecision): string {
  return `${decision.operator} (Temporal identity: ${decision.identity ?? 'none recorded'}) chose ${decision.action} at ${decision.waitId} (${decision.at}, via ${decision.via}): ${decision.note}`;
}

export function describeRefusedDecision(refused: RefusedDecision): string {
  const who = `${refused.operator ?? '?'}${refused.identity === null ? '' : ` (Temporal identity: ${refused.identity})`}`;
  return `${refused.at} ${refused.via} from ${who}, ${refused.action ?? '?'} for ${refused.waitId ?? 'no wait'}: ${refused.why}`;
}
