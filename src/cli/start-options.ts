/** The options, help and input of each `orderflow start <name>` command, one per registered workflow. */
import { defaultPaymentDeadline } from '../contracts.ts';
import type { WorkflowTypeName } from '../client/workflow-registry.ts';
import type { CliContext, LeafCommand, OptionSpec, OptionSpecs, ParsedArgs } from './framework.ts';

/** A start option: its flag and help, and the workflow input field it fills (`id`: a number when all digits). */
interface StartOption extends OptionSpec {
  readonly field?: string;
  readonly id?: true;
}

type StartOptionSpecs = Readonly<Record<string, StartOption>>;

export interface StartOptions extends Pick<LeafCommand, 'name' | 'summary' | 'usage' | 'help' | 'notes'> {
  readonly options: StartOptionSpecs;
  /** Whether the input records who asks: --requested-by where it is an option, else $USER. */
  readonly requestedBy?: true;
}

/** Every option of the start commands, described once. */
const startOptionSpecs = {
  user: { type: 'string', value: '<id>', help: 'Store user id (required)', field: 'userId', id: true },
  order: { type: 'string', value: '<id>', help: "The user's current order (required)", field: 'orderId', id: true },
  action: { type: 'string', value: 'add|subtract', help: 'Add or subtract the amount (required)', field: 'action' },
  amount: { type: 'string', value: '<decimal>', help: 'The amount of credit, e.g. 5.50 (required)', field: 'amount' },
  description: { type: 'string', value: '<text>', help: 'Shown to the user in the store (required)', field: 'description' },
  'justclick-bill': { type: 'string', value: '<id>', help: 'The mirrored JustClick bill to delete', field: 'justclickBillId' },
  'payment-deadline': {
    type: 'string', value: '<duration>', field: 'paymentDeadline',
    help: `How long to wait for a payment, e.g. "30 minutes" (default ${defaultPaymentDeadline})`,
  },
  requester: {
    type: 'string', value: 'ADMIN|BUYER', default: 'ADMIN', help: 'Who asks for the cancellation (default ADMIN)', field: 'requester',
  },
  reason: { type: 'string', value: '<text>', help: 'Why: recorded in the run, the UI and the ledger (required)', field: 'reason' },
  'requested-by': { type: 'string', value: '<name>', help: 'Who asks (default: $USER)', field: 'requestedBy' },
  'request-id': { type: 'string', value: '<id>', help: 'Your idempotency key, e.g. a coupon redemption id', field: 'requestId' },
  wait: {
    type: 'boolean',
    help: 'Follow the run: print each step as it happens (and each failed attempt of a step that is being retried) ' +
      'and end with the result. Exit 0 completed, 1 failed, 3 waiting for an operator; Ctrl-C stops following, not the run (exit 130).',
  },
} as const satisfies StartOptionSpecs;

export type StartOptionName = keyof typeof startOptionSpecs;

/** The named start options, in the order given. */
export function startOptionsNamed(...names: readonly StartOptionName[]): StartOptionSpecs {
  return Object.fromEntries(names.map((name) => [name, startOptionSpecs[name]]));
}

/** The workflow input from the options' values (or defaults): each in its field (validation names anything wrong). */
export function startInput(
  spec: Pick<StartOptions, 'options' | 'requestedBy'>, values: ParsedArgs<OptionSpecs>['values'], env: CliContext['env'],
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, { field, id, default: fallback }] of Object.entries(spec.options)) {
    const value = values[name] ?? fallback;
    // An id not all digits is passed on as text, for validation to name.
    if (field !== undefined) input[field] = id === true && typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  }
  if (spec.requestedBy === true) input['requestedBy'] ??= env['USER'] ?? 'orderflow-cli';
  return input;
}

const valuesRule = `Values are read leniently where the meaning is certain: spaces around a value are
ignored (" 5.00" is 5.00) and so are leading zeros of ids (07 is user 7). Texts must be
one line without control characters. Each option may be given once.`;

/** The one rule for --reason, as the starters (src/validation.ts) and the contract have it. */
const reasonRule = `--reason: required for refund-and-cancel and adjust-credit (as for every starter and
the HTTP contract: a backend must say why money moves), optional for cancel-order. There is
no default text, and an empty or blank --reason is refused everywhere: give a reason, or
(cancel-order) leave --reason out.

${valuesRule}`;

export const startOptions: { readonly [T in WorkflowTypeName]: StartOptions } = {
  refundAndCancel: {
    name: 'refund-and-cancel',
    summary: 'Refund an order as store credit, cancel it, delete its JustClick bill',
    usage: 'start refund-and-cancel --user <id> --order <id> --amount <decimal> --reason <text> [--justclick-bill <id>] [--requested-by <name>] [--wait]',
    help: `Starts refundAndCancel: confirm the order, add the credit, cancel the order (the pivot: a
failure before it takes the credit back), delete the JustClick bill. Its id is
refund-and-cancel:<user>:<order>: the same request twice is one run; another amount or bill
for the order is refused as a conflict. See docs/architecture.md, "The workflows".`,
    options: startOptionsNamed('user', 'order', 'amount', 'justclick-bill', 'reason', 'requested-by', 'wait'),
    notes: `${reasonRule}

Example:
  orderflow start refund-and-cancel --user 7 --order 319 --amount 5.50 --reason damaged --wait`,
    requestedBy: true,
  },
  processPaidOrder: {
    name: 'process-paid-order',
    summary: 'Process the current order once paid, waiting for payment if an amount is due',
    usage: 'start process-paid-order --user <id> --order <id> [--justclick-bill <id>] [--payment-deadline <duration>] [--wait]',
    help: `Starts processPaidOrder: confirm the order, process it (marks it paid and delivers its
products); while an amount is due, wait for the paymentReceived signal up to the deadline,
then ask an operator; finally mark the JustClick bill paid.`,
    options: {
      ...startOptionsNamed('user', 'order', 'justclick-bill', 'payment-deadline', 'wait'),
      'justclick-bill': { ...startOptionSpecs['justclick-bill'], help: 'The mirrored JustClick bill to mark paid' },
    },
    notes: valuesRule,
  },
  adjustCredit: {
    name: 'adjust-credit',
    summary: "Add or subtract a user's credit, exactly once",
    usage: 'start adjust-credit --user <id> --action add|subtract --amount <decimal> --description <text> --reason <text> [--request-id <id>] [--wait]',
    help: `Starts adjustCredit: one add_subtract_credit, exactly once, recording $USER as who asks. Its
id is adjust-credit:<user>:<request id or the request's digest>: the same request twice is one
run; another action, amount or description under the same request id is refused as a conflict.`,
    options: startOptionsNamed('user', 'action', 'amount', 'description', 'reason', 'request-id', 'wait'),
    notes: reasonRule,
    requestedBy: true,
  },
  cancelOrder: {
    name: 'cancel-order',
    summary: "Cancel a user's current order and delete its JustClick bill",
    usage: 'start cancel-order --user <id> --order <id> [--justclick-bill <id>] [--requester ADMIN|BUYER] [--reason <text>] [--wait]',
    help: `Starts cancelOrder: confirm the order is current, cancel it (already cancelled counts as
done), delete the mirrored JustClick bill.`,
    options: {
      ...startOptionsNamed('user', 'order', 'justclick-bill', 'requester', 'reason', 'wait'),
      reason: { ...startOptionSpecs.reason, help: 'Why (optional: leave it out to record none)' },
    },
    notes: reasonRule,
  },
};
