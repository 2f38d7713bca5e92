/** The workflow id of a finding's `reconcileFinding` run: one per stable finding id, without '/'. */
import { createHash } from 'node:crypto';
import type { DriftFinding } from './contracts.ts';

export function reconcileFindingWorkflowId(finding: Pick<DriftFinding, 'id' | 'kind'>): string {
  return `reconcile-finding:${finding.kind}:${createHash('sha256').update(finding.id).digest('hex').slice(0, 20)}`;
}
