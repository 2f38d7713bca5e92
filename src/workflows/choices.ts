/**
 * What each operator choice does, per step: the one place for this wording. It is shown
 * in `status`, the UI's current details and the CLI, and answered by the update.
 */
import type { OperatorAction } from '../contracts.ts';

export type Choices = Partial<Record<OperatorAction, string>>;

export const choices = {
  confirmOrder: {
    retry: 'Read the order again.',
    abort: 'Stop now; nothing has been changed.',
  },
  refundAddCredit: {
    retry: 'The credit was NOT added (you checked): add it again.',
    skip: 'The credit WAS added (you checked, or added it by hand): go on to cancel the order.',
    compensate: 'Undo any credit added by this run and end the run as compensated; the order stays as it is.',
    abort: 'Stop now and leave everything as it is.',
  },
  refundCancelOrder: {
    retry: 'The order was NOT cancelled (you checked): cancel it again.',
    skip: 'The order IS cancelled (you checked, or cancelled it by hand): go on.',
    compensate: 'Take the refunded credit back and end the run as compensated; the order stays as it is.',
    abort: 'Stop now: the credit stays added and the order stays as it is.',
  },
  cancelOrder: {
    retry: 'The order was NOT cancelled (you checked): cancel it again.',
    skip: 'The order IS cancelled (you checked, or cancelled it by hand): go on.',
    abort: 'Stop now and leave the order as it is.',
  },
  processOrder: {
    retry: 'The order was NOT processed (you checked): process it again.',
    skip: 'The order IS processed (you checked, or did it by hand): go on.',
    abort: 'Stop now and leave the order unprocessed.',
  },
  paymentDeadlinePassed: {
    retry: 'Try processing the order again now (the payment arrived by other means); if an amount is still due, wait again.',
    abort: 'Stop: leave the order unprocessed.',
  },
  markBillPaid: {
    retry: 'Try marking the JustClick bill paid again.',
    skip: 'The bill is marked paid or will be handled by hand: finish as completed.',
    abort: 'Stop now: the order stays processed; the JustClick bill stays as it is.',
  },
  /** An undo in a saga's compensation. */
  undo: {
    retry: 'Try the undo again (for example after the user has credit again, or the API is back).',
    skip: 'Accept it as it is (written off, or undone by hand) and finish the compensation.',
    abort: 'Stop here: the run ends as partially compensated and nothing more is undone.',
  },
  /** `stands`: what has been done already and stays, e.g. "the order stays cancelled". */
  deleteBill: (stands: string): Choices => ({
    retry: 'Try deleting the JustClick bill again (for example after JustClick is back or its secret is fixed).',
    skip: 'The bill is gone or will be handled by hand: finish the run as completed.',
    abort: `Stop now: ${stands}; the JustClick bill stays.`,
  }),
  /** A drift finding of reconcile; `compensate` only where the finding is a credit change made twice. */
  reconcileFinding: (takeBack: string | undefined): Choices => ({
    skip: 'Accept it as it is (you checked, or put it right by hand): close the finding.',
    ...(takeBack === undefined ? {} : { compensate: `${takeBack}, once, through the ledger; then close the finding.` }),
    abort: 'Close the finding without a verdict; nothing is changed.',
  }),
  /** A stale effect found by reconcile: the operator settles it in the ledger. */
  staleEffect: {
    retry: 'It did NOT take effect (you checked the store): record it as not applied; nothing is called.',
    skip: 'It DID take effect (you checked, or did it by hand): record it as applied; nothing is called.',
    abort: 'Close the finding without a verdict; the effect stays unresolved.',
  },
  /** A credit change above ORDERFLOW_APPROVAL_ABOVE, before it is made; `approve` must come from someone other than the run's starter. */
  approveCredit: (change: string): Choices => ({
    approve: `${change}: approved (you are not the one who started this run); make it now.`,
    abort: 'Do not make it: stop now; nothing has been changed.',
  }),
  adjustCredit: (action: 'add' | 'subtract'): Choices => ({
    retry: `The credit was NOT ${action === 'add' ? 'added' : 'subtracted'} (you checked): do it again.`,
    skip: `The credit WAS ${action === 'add' ? 'added' : 'subtracted'} (you checked, or did it by hand): finish as completed.`,
    abort: 'Stop now and leave the credit as it is.',
  }),
} as const satisfies Record<string, Choices | ((...args: never[]) => Choices)>;
