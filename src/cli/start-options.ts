/** The options, help and input of each `orderflow start <name>` command, one per registered workflow. */
import { defaultPaymentDeadline } from '../contracts.ts';
import type { WorkflowTypeName } from '../client/workflow-registry.ts';

type CliValues = Readonly<Record<string, string | boolean | undefined>>;
type CliEnvironment = Readonly<Record<string, string | undefined>>;

export interface StartOptions {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly help: string;
  readonly options: Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;
  /** The workflow input from the parsed options (validation names anything wrong). */
  readonly input: (values: CliValues, env: CliEnvironment) => Record<string, unknown>;
}

/** A number option as typed; anything not all digits is passed on as text so validation names it. */
function idOption(value: string | boolean | undefined): number | string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : value;
}

function text(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The options of the order workflows: --user, --order, --justclick-bill (and --wait). */
const orderOptions = {
  user: { type: 'string' }, order: { type: 'string' }, 'justclick-bill': { type: 'string' }, wait: { type: 'boolean' },
} as const;

function orderInput(values: CliValues): Record<string, unknown> {
  return {
    userId: idOption(values['user']),
    orderId: idOption(values['order']),
    justclickBillId: text(values['justclick-bill']),
  };
}

const waitHelp = `  --wait                 Follow the run: print each step as it happens (and each failed
                         attempt of a step that is being retried) and end with the result.
                         Exit 0 completed, 1 failed, 3 waiting for an operator; Ctrl-C
                         stops following, not the run (exit 130).

Values are read leniently where the meaning is certain: spaces around a value are
ignored (" 5.00" is 5.00) and so are leading zeros of ids (07 is user 7). Texts must be
one line without control characters. Each option may be given once.`;

/** The one rule for --reason, as the starters (src/validation.ts) and the contract have it. */
const reasonRule = `--reason: required for refund-and-cancel and adjust-credit (as for every starter and
the HTTP contract: a backend must say why money moves), optional for cancel-order. There is
no default text, and an empty or blank --reason is refused everywhere: give a reason, or
(cancel-order) leave --reason out.`;

export const startOptions: { readonly [T in WorkflowTypeName]: StartOptions } = {
  refundAndCancel: {
    name: 'refund-and-cancel',
    summary: 'Refund an order as store credit, cancel it, delete its JustClick bill',
    usage: 'start refund-and-cancel --user <id> --order <id> --amount <decimal> --reason <text> [--justclick-bill <id>] [--requested-by <name>] [--wait]',
    help: `Starts refundAndCancel: confirm the order is the user's current one, add the credit, cancel
the order (the pivot), delete the mirrored JustClick bill. Before the pivot a failure takes
the credit back; after it, steps only go forward. The workflow id is
refund-and-cancel:<user>:<order>: the same request twice is one run; another amount or bill
for the same order is refused as a conflict.

Options:
  --user <id>            Store user id (required)
  --order <id>           The order being refunded; must be the user's current order (required)
  --amount <decimal>     Credit to add, e.g. 5.50 (required)
  --justclick-bill <id>  The mirrored JustClick bill to delete
  --reason <text>        Why: recorded in the run, the UI and the ledger (required)
  --requested-by <name>  Who asks (default: $USER)

${reasonRule}
${waitHelp}

Example:
  orderflow start refund-and-cancel --user 7 --order 319 --amount 5.50 --reason damaged --wait`,
    options: {
      ...orderOptions, amount: { type: 'string' }, reason: { type: 'string' }, 'requested-by': { type: 'string' },
    },
    input: (values, env) => ({
      ...orderInput(values),
      amount: text(values['amount']),
      reason: text(values['reason']),
      requestedBy: text(values['requested-by']) ?? env['USER'] ?? 'orderflow-cli',
    }),
  },
  processPaidOrder: {
    name: 'process-paid-order',
    summary: 'Process the current order once paid, waiting for payment if an amount is due',
    usage: 'start process-paid-order --user <id> --order <id> [--justclick-bill <id>] [--payment-deadline <duration>] [--wait]',
    help: `Starts processPaidOrder: confirm the order, process it (marks it paid and delivers its
products); while an amount is due, wait for the paymentReceived signal up to the deadline,
then ask an operator; finally mark the JustClick bill paid.

Options:
  --user <id>                     Store user id (required)
  --order <id>                    The user's current order (required)
  --justclick-bill <id>           The mirrored JustClick bill to mark paid
  --payment-deadline <duration>   How long to wait for a payment, e.g. "30 minutes" (default ${defaultPaymentDeadline})
${waitHelp}`,
    options: { ...orderOptions, 'payment-deadline': { type: 'string' } },
    input: (values) => ({ ...orderInput(values), paymentDeadline: text(values['payment-deadline']) }),
  },
  adjustCredit: {
    name: 'adjust-credit',
    summary: "Add or subtract a user's credit, exactly once",
    usage: 'start adjust-credit --user <id> --action add|subtract --amount <decimal> --description <text> --reason <text> [--request-id <id>] [--wait]',
    help: `Starts adjustCredit: one add_subtract_credit, exactly once. The workflow id is
adjust-credit:<user>:<request id> (or a digest of the request): the same request twice is one
run; another action, amount or description under the same request id is refused as a conflict.

Options:
  --user <id>             Store user id (required)
  --action add|subtract   (required)
  --amount <decimal>      e.g. 5.00 (required)
  --description <text>    Shown to the user in the store (required)
  --reason <text>         Why: recorded in the run, the UI and the ledger (required)
  --request-id <id>       Your idempotency key, e.g. a coupon redemption id

Who asks is recorded as $USER.

${reasonRule}
${waitHelp}`,
    options: {
      user: { type: 'string' }, action: { type: 'string' }, amount: { type: 'string' }, description: { type: 'string' },
      reason: { type: 'string' }, 'request-id': { type: 'string' }, wait: { type: 'boolean' },
    },
    input: (values, env) => ({
      userId: idOption(values['user']),
      action: text(values['action']),
      amount: text(values['amount']),
      description: text(values['description']),
      reason: text(values['reason']),
      requestedBy: env['USER'] ?? 'orderflow-cli',
      requestId: text(values['request-id']),
    }),
  },
  cancelOrder: {
    name: 'cancel-order',
    summary: "Cancel a user's current order and delete its JustClick bill",
    usage: 'start cancel-order --user <id> --order <id> [--justclick-bill <id>] [--requester ADMIN|BUYER] [--reason <text>] [--wait]',
    help: `Starts cancelOrder: confirm the order is current, cancel it (already cancelled counts as
done), delete the mirrored JustClick bill.

Options:
  --user <id>               Store user id (required)
  --order <id>              The user's current order (required)
  --justclick-bill <id>     The mirrored JustClick bill to delete
  --requester ADMIN|BUYER   Who asks for the cancellation (default ADMIN)
  --reason <text>           Why (optional: leave it out to record none)

${reasonRule}
${waitHelp}`,
    options: { ...orderOptions, requester: { type: 'string' }, reason: { type: 'string' } },
    input: (values) => ({
      ...orderInput(values),
      requester: text(values['requester']) ?? 'ADMIN',
      reason: text(values['reason']),
    }),
  },
};
