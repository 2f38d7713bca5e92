/** Every workflow's input check, pure: the starters, the CLI and the workflows themselves run it, so bad input calls no API. */
import { InvalidAmountError, formatCents, parsePositiveAmount } from './money.ts';
import { controlCharacterProblem } from './single-line-text.ts';
import type {
  AdjustCreditInput,
  CancelOrderInput,
  ProcessPaidOrderInput,
  RefundAndCancelInput,
} from './contracts.ts';

export class InputError extends Error {
  override readonly name = 'InputError';
  readonly problems: readonly string[];
  constructor(what: string, problems: readonly string[]) {
    super(`${what}: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

type Fields = Record<string, unknown>;

/** A validator: `read` reads every field, recording each problem; then one InputError lists them all. */
function validator<T>(what: string, read: (fields: Fields, problems: string[]) => T): (input: unknown) => T {
  return (input) => {
    const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
    const problems = isObject ? [] : ['the input must be a JSON object'];
    const value = read(isObject ? (input as Fields) : {}, problems);
    if (problems.length > 0) throw new InputError(what, problems);
    return value;
  };
}

function positiveId(fields: Fields, name: string, problems: string[]): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    problems.push(`${name} must be a whole number ≥ 1 (got ${JSON.stringify(value) ?? 'nothing'})`);
    return 0;
  }
  return value;
}

/** Records `problem`; returns undefined, so that `return refused(problems, ...)` records it and gives up. */
function refused(problems: string[], problem: string): undefined {
  problems.push(problem);
  return undefined;
}

function text(fields: Fields, name: string, problems: string[], options: { max: number; optional?: boolean }): string | undefined {
  const value = fields[name];
  const required = `${name} is required (a non-empty text)`;
  if (value === undefined || value === null) return options.optional ? undefined : refused(problems, required);
  // Empty is never "left out": a required text is missing, an optional one must be left out instead.
  if (value === '') return refused(problems, options.optional ? `${name} must be a non-empty text, or left out` : required);
  if (typeof value !== 'string' || value.trim() === '') return refused(problems, `${name} must be a non-empty text`);
  if (value.length > options.max) return refused(problems, `${name} must be at most ${options.max} characters`);
  const controlProblem = controlCharacterProblem(name, value);
  return controlProblem === undefined ? value.trim() : refused(problems, controlProblem);
}

const idFields = {
  justclickBillId: { pattern: /^[A-Za-z0-9_.-]{1,64}$/, shape: "1–64 letters, digits, '.', '_' or '-'" },
  requestId: { pattern: /^[A-Za-z0-9_.:-]{1,100}$/, shape: "1–100 letters, digits, '.', '_', ':' or '-'" },
};

/** An optional id: left out (or empty), or of its shape. */
function optionalId(fields: Fields, name: keyof typeof idFields, problems: string[]): string | undefined {
  const { pattern, shape } = idFields[name];
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  const fits = typeof value === 'string' && pattern.test(value);
  return fits ? value : refused(problems, `${name} must be ${shape} (got ${JSON.stringify(value)})`);
}

function amount(fields: Fields, problems: string[]): string {
  const value = fields['amount'];
  if (typeof value !== 'string') {
    problems.push(`amount must be a decimal text such as "5.00" (got ${JSON.stringify(value) ?? 'nothing'})`);
    return '';
  }
  try {
    return formatCents(parsePositiveAmount(value, 'amount'));
  } catch (error) {
    if (!(error instanceof InvalidAmountError)) throw error;
    problems.push(error.message);
    return '';
  }
}

/** Durations accepted for waits: a number and a unit, e.g. `30 minutes`, `24 hours`, `7 days`. */
const durationPattern = /^(\d{1,6})\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)$/;

export const validateRefundAndCancel = validator('refund-and-cancel input refused', (fields, problems): RefundAndCancelInput => ({
  userId: positiveId(fields, 'userId', problems),
  orderId: positiveId(fields, 'orderId', problems),
  amount: amount(fields, problems),
  justclickBillId: optionalId(fields, 'justclickBillId', problems),
  reason: text(fields, 'reason', problems, { max: 500 }) ?? '',
  requestedBy: text(fields, 'requestedBy', problems, { max: 200 }) ?? '',
}));

export const validateProcessPaidOrder = validator('process-paid-order input refused', (fields, problems): ProcessPaidOrderInput => {
  const deadline = fields['paymentDeadline'];
  if (deadline !== undefined && (typeof deadline !== 'string' || !durationPattern.test(deadline.trim()))) {
    problems.push(`paymentDeadline must be a duration such as "30 minutes", "24 hours" or "7 days" (got ${JSON.stringify(deadline)})`);
  }
  return {
    userId: positiveId(fields, 'userId', problems),
    orderId: positiveId(fields, 'orderId', problems),
    justclickBillId: optionalId(fields, 'justclickBillId', problems),
    paymentDeadline: typeof deadline === 'string' ? deadline.trim() : undefined,
  };
});

export const validateAdjustCredit = validator('adjust-credit input refused', (fields, problems): AdjustCreditInput => {
  const action = fields['action'];
  if (action !== 'add' && action !== 'subtract') problems.push(`action must be "add" or "subtract" (got ${JSON.stringify(action) ?? 'nothing'})`);
  return {
    userId: positiveId(fields, 'userId', problems),
    action: action === 'subtract' ? 'subtract' : 'add',
    amount: amount(fields, problems),
    description: text(fields, 'description', problems, { max: 255 }) ?? '',
    reason: text(fields, 'reason', problems, { max: 500 }) ?? '',
    requestedBy: text(fields, 'requestedBy', problems, { max: 200, optional: true }),
    requestId: optionalId(fields, 'requestId', problems),
  };
});

export const validateCancelOrder = validator('cancel-order input refused', (fields, problems): CancelOrderInput => {
  const requester = fields['requester'];
  if (requester !== 'ADMIN' && requester !== 'BUYER') problems.push(`requester must be "ADMIN" or "BUYER" (got ${JSON.stringify(requester) ?? 'nothing'})`);
  return {
    userId: positiveId(fields, 'userId', problems),
    orderId: positiveId(fields, 'orderId', problems),
    justclickBillId: optionalId(fields, 'justclickBillId', problems),
    requester: requester === 'BUYER' ? 'BUYER' : 'ADMIN',
    reason: text(fields, 'reason', problems, { max: 500, optional: true }),
  };
});
