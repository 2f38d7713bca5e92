/** Money stays exact: integer cents inside orderflow, decimal strings with two places at the edges ("5.50"); never a float. */

export type Cents = number & { readonly __unit: 'cents' };

const decimalPattern = /^(0|[1-9]\d{0,12})(?:\.(\d{1,2}))?$/;

export class InvalidAmountError extends Error {
  override readonly name = 'InvalidAmountError';
}

/** Parses "5", "5.5" or "5.50" into cents; refuses signs, exponents, separators and more than two places. */
export function parseDecimalAmount(text: string, what = 'amount'): Cents {
  const match = decimalPattern.exec(text.trim());
  if (!match) {
    throw new InvalidAmountError(
      `${what} ${JSON.stringify(text)} is not a decimal amount with at most two places (like 5 or 12.50)`,
    );
  }
  const whole = Number(match[1]);
  const fraction = (match[2] ?? '').padEnd(2, '0');
  return (whole * 100 + Number(fraction)) as Cents;
}

export function parsePositiveAmount(text: string, what = 'amount'): Cents {
  const cents = parseDecimalAmount(text, what);
  if (cents <= 0) throw new InvalidAmountError(`${what} must be greater than 0, got ${JSON.stringify(text)}`);
  return cents;
}

export function centsFromInteger(value: number, what = 'amount'): Cents {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidAmountError(`${what} ${value} is not a whole, non-negative number of cents`);
  }
  return value as Cents;
}

/** "5.50" for 550. */
export function formatCents(cents: Cents | number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Reads WebTV's loose JSON amounts ("5.50", 5.5, 5, maybe negative); a number's shortest text is exact here. */
export function centsFromLooseAmount(value: unknown, what = 'amount'): Cents {
  let text: string;
  if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'string') text = value.trim();
  else throw new InvalidAmountError(`${what} ${JSON.stringify(value)} is not an amount`);
  const negative = text.startsWith('-');
  const cents = parseDecimalAmount(negative ? text.slice(1) : text, what);
  return (negative ? -cents : cents) as Cents;
}
