/** The Markdown current details a run shows in the Temporal UI while it waits for an operator, and after. */
import type { OperatorRequest, RecordedDecision } from '../contracts.ts';
import { escapeMarkdown } from '../markdown.ts';
import { allowedActions, exampleDecision } from './operator.ts';
import type { RunIdentity } from './run.ts';

/** What failed, what was observed, whom the run is about, and what each allowed choice does. */
export function waitingDetails(request: OperatorRequest, identity: RunIdentity): string {
  const failure = request.failure;
  const allowed = allowedActions(request.choices);
  const lines: string[] = [
    `## Waiting for an operator: step \`${request.step}\`, wait \`${request.waitId}\``,
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
  if (request.secondPerson === true) {
    lines.push('', '**A second person approves:** an `approve` from the identity that started this run (as Temporal recorded it) is refused.');
  }
  lines.push(
    '',
    `Send the **operatorDecision** update (or signal) for wait \`${request.waitId}\`; paste this into the form's data and change the action, note and operator:`,
    '',
    '```json',
    JSON.stringify(exampleDecision(request)),
    '```',
    '',
    'A decision naming another wait, or none, is refused.',
  );
  return lines.join('\n');
}

export function decidedDetails(decision: RecordedDecision): string {
  return `**${escapeMarkdown(decision.operator)}** chose **${decision.action}** for step \`${decision.step}\` (wait \`${decision.waitId}\`, via ${decision.via}; Temporal identity: ${decision.identity === null ? 'none recorded' : `\`${decision.identity.replace(/`/g, "'")}\``}): ${escapeMarkdown(decision.note)}`;
}
