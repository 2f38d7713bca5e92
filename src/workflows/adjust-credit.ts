/** One credit adjustment (add or subtract), exactly once. */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { RunState } from '../contracts.ts';
import type { AdjustCreditInput, OrderflowActivities, RunResult } from '../contracts.ts';
import { effectOptions } from './options.ts';
import { Run } from './operator.ts';
import { failAborted, performStep } from './saga.ts';
import { checkedInput } from './steps.ts';
import { validateAdjustCredit } from '../validation.ts';

const effects = proxyActivities<OrderflowActivities>(effectOptions);

export async function adjustCredit(rawInput: AdjustCreditInput): Promise<RunResult> {
  const input = checkedInput(validateAdjustCredit, rawInput);
  const { userId, action, amount } = input;
  const run = new Run('adjustCredit', ['adjust-credit'], { userId });
  const key = run.effectKey('adjust-credit');
  const what = `${action === 'add' ? 'Adding' : 'Subtracting'} ${amount} credit ${action === 'add' ? 'to' : 'from'} store user ${userId}`;

  const outcome = await performStep(run, {
    name: 'adjust-credit',
    effectKey: key,
    userId,
    run: () =>
      effects.applyCreditChange({ effectKey: key, workflowId: run.workflowId, userId, creditAction: action, amount, description: input.description }),
    describe: (result) => result.detail,
    onBusinessFailure: 'return',
    choices: {
      retry: `The credit was NOT ${action === 'add' ? 'added' : 'subtracted'} (you checked): do it again.`,
      skip: `The credit WAS ${action === 'add' ? 'added' : 'subtracted'} (you checked, or did it by hand): finish as completed.`,
      abort: 'Stop now and leave the credit as it is.',
    },
  });
  switch (outcome.kind) {
    case 'done':
    case 'skipped':
      run.setState(RunState.Completed);
      return run.result('completed', `${what}: done.`);
    case 'abort':
    case 'compensate':
      return failAborted(run, outcome.decision, `${what} stopped.`);
    case 'business-failure':
      run.setState(RunState.Failed);
      throw ApplicationFailure.create({
        type: outcome.failure.type,
        nonRetryable: true,
        message: `${what} was refused: ${outcome.failure.message} Nothing was changed.`,
        details: [outcome.failure],
      });
  }
}
