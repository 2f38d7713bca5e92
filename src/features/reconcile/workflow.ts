/**
 * reconcile: finds drift that no retry can see (docs/runbook.md, "Drift") with a read-only
 * activity, then records, counts and safely repairs it with a second. The Markdown report is
 * the run's current details and part of its result.
 */
import { ApplicationFailure, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { FailureType } from '../../contracts.ts';
import { escapeMarkdown } from '../../markdown.ts';
import { driftKinds, reconcileDefaults } from './contracts.ts';
import type { ReconcileActivities, ReconcileInput, ReconcileResult, SettledFinding } from './contracts.ts';

const { findDrift, settleDrift } = proxyActivities<ReconcileActivities>({
  // Reads are paced (a few per second): a large ledger takes minutes; heartbeats show progress.
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const maxWindowMs = 366 * 24 * 3_600_000;

function checkedDuration(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > maxWindowMs) {
    throw ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: `reconcile: ${name} must be a whole number of milliseconds from 1 to ${maxWindowMs}, got ${String(value)}.` });
  }
  return value;
}

/** The drift report: one section per kind of finding, new ones first. */
export function driftReport(result: Omit<ReconcileResult, 'report'>): string {
  const lines = [`## Drift report`, '', `Effects changed since ${result.since}, checked at ${result.checkedAt}.`, ''];
  if (result.findings.length === 0) {
    lines.push('No drift found.');
    return lines.join('\n');
  }
  lines.push(`**${result.findings.length} finding(s), ${result.newFindings} new, ${result.repaired} repaired.**`);
  for (const kind of driftKinds) {
    const ofKind = result.findings.filter((finding) => finding.kind === kind).sort((a, b) => Number(b.isNew) - Number(a.isNew));
    if (ofKind.length === 0) continue;
    lines.push('', `### ${kind} (${ofKind.length})`, '');
    for (const finding of ofKind) lines.push(...findingLines(finding));
  }
  return lines.join('\n');
}

function findingLines(finding: SettledFinding): string[] {
  const lines = [`- ${finding.isNew ? '**new** ' : '(reported before) '}\`${finding.id}\`: ${escapeMarkdown(finding.summary)}`];
  for (const [name, value] of Object.entries(finding.evidence)) lines.push(`  - ${escapeMarkdown(name)}: ${escapeMarkdown(value)}`);
  lines.push(`  - **follow-up:** ${escapeMarkdown(finding.outcome)}`);
  return lines;
}

export async function reconcile(input: ReconcileInput = {}): Promise<ReconcileResult> {
  const sinceMs = checkedDuration(input.sinceMs, reconcileDefaults.sinceMs, 'sinceMs');
  const operatorWaitMs = checkedDuration(input.operatorWaitMs, reconcileDefaults.operatorWaitMs, 'operatorWaitMs');
  const checkedAt = new Date(Date.now()).toISOString();
  const since = new Date(Date.now() - sinceMs).toISOString();
  setCurrentDetails(`## Drift report\n\nLooking at effects changed since ${since}…`);
  const found = await findDrift({ since, now: checkedAt, operatorWaitMs });
  const findings = await settleDrift({ reconcileWorkflowId: workflowInfo().workflowId, findings: found, checkedAt });
  const summary = {
    since,
    checkedAt,
    findings,
    newFindings: findings.filter((finding) => finding.isNew).length,
    repaired: findings.filter((finding) => finding.followUp === 'repair' && finding.outcome.startsWith('repaired')).length,
  };
  const report = driftReport(summary);
  setCurrentDetails(report);
  return { ...summary, report };
}
