/** The Markdown current details a run shows in the Temporal UI while it waits for an operator, and after. */
import type { OperatorAction, OperatorDecision, OperatorRequest } from '../contracts.ts';
import { escapeMarkdown } from '../markdown.ts';
import type { RunIdentity } from './search-attributes.ts';

/** What failed, what was observed, whom the run is about, and what each allowed choice does. */
export function waitingDetails(request: OperatorRequest, allowed: readonly OperatorAction[], identity: RunIdentity): string {
  const failure = request.failure;
  const lines: string[] = [
    `## Waiting for an operator: step \`${request.step}\``,
    '',
    escapeMarkdown(request.reason),
    '',
    '### What failed',
    '',
    `- **Failure:** ${escapeMarkdown(failure.type)}`,
  ];
  if (failure.api) lines.push(`- **API:** ${escapeMarkdown(failure.api)}${failure.operation ? ` \`${failure.operation}\`` : ''}`);
  if (failure.code) lines.push(`- **Code:** \`${failure.code}\`${failure.vendorText ? ` | ${escapeMarkdown(failure.vendorText)}` : ''}`);
  lines.push(`- **Message:** ${escapeMarkdown(failure.message)}`);
  if (failure.observed && Object.keys(failure.observed).length > 0) {
    lines.push('', '### What was observed', '');
    for (const [name, value] of Object.entries(failure.observed)) lines.push(`- **${escapeMarkdown(name)}:** ${escapeMarkdown(value)}`);
  }
  const who = [
    identity.userId !== undefined ? `store user ${identity.userId}` : '',
    identity.orderId !== undefined ? `order ${identity.orderId}` : '',
    identity.justclickBillId !== undefined ? `JustClick bill ${escapeMarkdown(identity.justclickBillId)}` : '',
  ].filter((part) => part !== '');
  if (who.length > 0) lines.push('', `Run for ${who.join(', ')}.`);
  lines.push('', '### Your choices', '', '| action | what happens |', '|---|---|');
  for (const action of allowed) lines.push(`| \`${action}\` | ${escapeMarkdown(request.choices[action] ?? '')} |`);
  lines.push(
    '',
    'Send the **operatorDecision** update (or signal) with, for example:',
    '',
    '```json',
    JSON.stringify({ action: allowed[0] ?? 'retry', note: 'what you checked and why', operator: 'your name' }),
    '```',
  );
  return lines.join('\n');
}

export function decidedDetails(decision: OperatorDecision, step: string): string {
  return `**${escapeMarkdown(decision.operator)}** chose **${decision.action}** for step \`${step}\`: ${escapeMarkdown(decision.note)}`;
}
