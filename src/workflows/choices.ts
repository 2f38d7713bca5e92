/** What each operator choice does at each step of these workflows (the run kit words its undo's and approval's own). */
import type { Choices } from '../run-kit/step.ts';

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
  /** `stands`: what has been done already and stays, e.g. "the order stays cancelled". */
  deleteBill: (stands: string) => ({
    retry: 'Try deleting the JustClick bill again (for example after JustClick is back or its secret is fixed).',
    skip: 'The bill is gone or will be handled by hand: finish the run as completed.',
    abort: `Stop now: ${stands}; the JustClick bill stays.`,
  }),
  adjustCredit: (action: 'add' | 'subtract') => ({
    retry: `The credit was NOT ${action === 'add' ? 'added' : 'subtracted'} (you checked): do it again.`,
    skip: `The credit WAS ${action === 'add' ? 'added' : 'subtracted'} (you checked, or did it by hand): finish as completed.`,
    abort: 'Stop now and leave the credit as it is.',
  }),
} as const satisfies Record<string, Choices | ((...args: never[]) => Choices)>;
