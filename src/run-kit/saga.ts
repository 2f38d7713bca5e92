/** The saga's undo stack (docs/architecture.md, "The workflows"). */
import { RunState } from '../contracts.ts';
import type { Run } from './run.ts';
import { performStep } from './step.ts';

/** What each operator choice does at an undo. */
const undoChoices = {
  retry: 'Try the undo again (for example after the user has credit again, or the API is back).',
  skip: 'Accept it as it is (written off, or undone by hand) and finish the compensation.',
  abort: 'Stop here: the run ends as partially compensated and nothing more is undone.',
} as const;

export interface Compensation {
  /** The undo's step name, e.g. `undo-add-credit`. */
  name: string;
  effectKey: string;
  forwardEffectKey: string;
  run: () => Promise<{ status: 'applied' | 'not-needed'; detail: string }>;
  userId?: number | undefined;
}

export class Compensations {
  private readonly stack: Compensation[] = [];

  /** Registers an undo; call it BEFORE the forward step runs (a step can take effect and still report failure). */
  register(compensation: Compensation): void {
    this.stack.push(compensation);
  }

  /** Forgets every registered undo: after the pivot, steps only go forward. */
  clear(): void {
    this.stack.length = 0;
  }

  /** Runs every undo, newest first, and ends the run: compensated, or partially compensated if an operator aborts an undo. */
  async compensateAndEnd(run: Run, why: string): Promise<never> {
    run.setState(RunState.Compensating);
    while (this.stack.length > 0) {
      const compensation = this.stack.pop()!;
      const outcome = await performStep(run, {
        name: compensation.name,
        effectKey: compensation.effectKey,
        run: compensation.run,
        onBusinessFailure: 'operator',
        choices: undoChoices,
        userId: compensation.userId,
        alsoSettledBySkip: [compensation.forwardEffectKey],
      });
      if (outcome.kind === 'done' && outcome.value.status === 'not-needed') {
        run.setStep(compensation.name, 'not-needed', outcome.value.detail);
      }
      if (outcome.kind === 'abort') run.failPartiallyCompensated(outcome.decision, `${why} Undoing it could not complete.`);
    }
    run.failCompensated(`${why} Everything done before was undone.`);
  }
}
