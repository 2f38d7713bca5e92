/**
 * The POST fields each documented WebTV store action takes (docs/vendor-apis.md, WebTV, "Store actions"):
 * `orderflow api webtv` refuses an unknown field, a reserved name or a malformed value before sending.
 */
import { InvalidAmountError, formatCents, parsePositiveAmount } from '../../money.ts';
import { controlCharacterProblem } from '../../single-line-text.ts';
import { webTvSignedQueryNames } from './signing.ts';
import type { WebTvAction } from './types.ts';

type FieldCheck = (value: string) => { value: string } | { problem: string };

const oneOf = (...allowed: string[]): FieldCheck => (value) =>
  allowed.includes(value) ? { value } : { problem: `must be one of ${allowed.join(', ')}` };

const positiveWholeNumber: FieldCheck = (value) =>
  /^[1-9]\d{0,8}$/.test(value) ? { value } : { problem: 'must be a whole number of 1 or more' };

const positiveAmount: FieldCheck = (value) => {
  try {
    // The same rule as the starters' amounts; sent as normalised ("5" → "5.00").
    return { value: formatCents(parsePositiveAmount(value, 'the amount')) };
  } catch (error) {
    if (error instanceof InvalidAmountError) return { problem: `is not a positive decimal amount with at most two places and a point, like 5 or 12.50` };
    throw error;
  }
};

const singleLine = (max: number): FieldCheck => (value) => {
  if (value.length > max) return { problem: `must be at most ${max} characters` };
  const problem = controlCharacterProblem('it', value);
  return problem === undefined ? { value } : { problem: problem.replace(/^it /, '') };
};

interface FieldSpec {
  readonly check: FieldCheck;
  readonly required?: boolean;
}

/** Every documented field of every action; an action not listed here takes no fields. */
export const webTvActionFields: Readonly<Record<WebTvAction, Readonly<Record<string, FieldSpec>>>> = {
  cancel_order: { requester: { check: oneOf('ADMIN', 'BUYER') } },
  process_order: {},
  list_orders: {},
  get_credit: {},
  get_cart: {},
  add_subtract_credit: {
    creditAction: { check: oneOf('add', 'subtract'), required: true },
    amount: { check: positiveAmount, required: true },
    description: { check: singleLine(255) },
  },
  modify_cart: {
    cartAction: { check: oneOf('add', 'remove', 'empty'), required: true },
    productID: { check: positiveWholeNumber },
    productQty: { check: positiveWholeNumber },
  },
  place_order: {
    notify_buyer: { check: oneOf('0', '1') },
    buyer_ip: { check: singleLine(64) },
    buyer_useragent: { check: singleLine(500) },
  },
};

/** The fields for `action` as they are to be sent (amounts normalised), or every problem. */
export function checkWebTvFields(action: WebTvAction, fields: Readonly<Record<string, string>>): { fields: Record<string, string> } | { problems: string[] } {
  const specs = webTvActionFields[action];
  const problems: string[] = [];
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if ((webTvSignedQueryNames as readonly string[]).includes(name)) {
      problems.push(`"${name}" is a reserved name (the signed request sets it); it cannot be a field`);
      continue;
    }
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) {
      const known = Object.keys(specs);
      problems.push(`${action} has no field "${name}"; ${known.length === 0 ? 'it takes no fields' : `its fields are ${known.join(', ')}`}`);
      continue;
    }
    const result = spec.check(value);
    if ('problem' in result) problems.push(`${name}=${JSON.stringify(value)} ${result.problem}`);
    else checked[name] = result.value;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required === true && !(name in fields)) problems.push(`${action} needs --set ${name}=...`);
  }
  if (action === 'modify_cart' && (fields['cartAction'] === 'add' || fields['cartAction'] === 'remove') && !('productID' in fields)) {
    problems.push(`modify_cart with cartAction=${fields['cartAction']} needs --set productID=...`);
  }
  return problems.length > 0 ? { problems } : { fields: checked };
}
