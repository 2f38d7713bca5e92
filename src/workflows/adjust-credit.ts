/** One credit adjustment (add or subtract), exactly once. */
import type { AdjustCreditInput, RunResult } from '../contracts.ts';
import { choices } from './choices.ts';
import { Run } from '../run-kit/run.ts';
import { checkedRunInput } from '../run-kit/run-identity.ts';
import { performStep } from '../run-kit/step.ts';
import { validateAdjustCredit } from '../validation.ts';
import { effects } from '../run-kit/activity-proxies.ts';
import { approveIfAboveThreshold } from '../run-kit/approval.ts';

export async function adjustCredit(rawInput: AdjustCreditInput): Promise<RunResult> {
  const input = checkedRunInput('adjustCredit', validateAdjustCredit, rawInput);
  const { userId, action, amount } = input;
  const run = new Run('adjustCredit', ['adjust-credit'], { userId });
  const key = run.effectKey('adjust-credit');
  const credit = `${amount} credit ${action === 'add' ? 'to' : 'from'} store user ${userId}`;
  const what = `${action === 'add' ? 'Adding' : 'Subtracting'} ${credit}`;

  const change = `${action === 'add' ? 'Add' : 'Subtract'} ${credit}`;
  await approveIfAboveThreshold(run, { change, amount, userId, before: 'adjust-credit', what });

  const outcome = await performStep(run, {
    name: 'adjust-credit',
    effectKey: key,
    userId,
    run: () =>
      effects.applyCreditChange({ effectKey: key, workflowId: run.workflowId, userId, creditAction: action, amount, description: input.description }),
    onBusinessFailure: 'return',
    choices: choices.adjustCredit(action),
  });
  switch (outcome.kind) {
    case 'done':
    case 'skipped':
      return run.complete(`${what}: done.`);
    case 'abort':
      return run.failAborted(outcome.decision, `${what} stopped.`);
    case 'business-failure':
      return run.failRefused(outcome.failure.type, `${what} was refused: ${outcome.failure.message} Nothing was changed.`, outcome.failure);
  }
}
