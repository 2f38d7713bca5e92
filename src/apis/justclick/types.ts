/** Types of the JustClick API as this client uses it (docs/vendor-apis.md, JustClick, names the help articles). */
import type { Cents } from '../../money.ts';

/** The documented methods, each with a typed wrapper: the only ones `orderflow api justclick` sends (`call` takes any). */
export const justClickMethods = Object.freeze(['DeleteOrder', 'CreateOrder', 'UpdateOrderStatus', 'GetOrderInfo'] as const);
export type JustClickMethod = (typeof justClickMethods)[number];

/** Body fields the client sets itself (the request's signature); never a caller's field. */
export const justClickReservedFields = Object.freeze(['hash'] as const);

/** Every answer, after its hash was verified. */
export interface JustClickAnswer {
  error_code: number;
  /** Exactly as received (the docs write `ok`, the server sends `OK`). */
  error_text: string;
  result?: unknown;
}

export interface JustClickGood {
  /** `good_name`: the product's id in the JustClick shop. */
  name: string;
  /** `good_sum`, sent as a decimal string with two places. */
  sum: Cents;
}

/** CreateOrder's text fields (help article 582) and their API names, in the order they are sent. */
export const justClickOrderTextFields = [
  // The English docs say bill_middle_name; the Russian original and public PHP clients use bill_otchestvo.
  ['firstName', 'bill_first_name'], ['surname', 'bill_surname'], ['middleName', 'bill_otchestvo'],
  ['email', 'bill_email'], ['phone', 'bill_phone'], ['country', 'bill_country'], ['region', 'bill_region'],
  ['city', 'bill_city'], ['address', 'bill_address'], ['postalCode', 'bill_postal_code'], ['coupon', 'bill_kupon'],
  ['tag', 'bill_tag'], ['comment', 'bill_comment'], ['ip', 'bill_ip'], ['domain', 'bill_domain'],
] as const;

/** CreateOrder input: the text fields above (only `email` required), and these. */
export interface JustClickNewOrder extends Partial<Record<(typeof justClickOrderTextFields)[number][0], string>> {
  /** `bill_id`: with it, a repeated CreateOrder answers 601 instead of creating a second bill (idempotent). */
  billId?: string;
  email: string;
  /** Unix seconds (`bill_created`). */
  createdAt?: number;
  /** `bill_timer_kill`: true = the product's auto-cancel time, false = never, or a Unix time. */
  autoCancel?: boolean | number;
  /** `utm[<name>]`, e.g. { utm_source: 'newsletter' }. */
  utm?: Readonly<Record<string, string>>;
  goods: readonly JustClickGood[];
}

/** UpdateOrderStatus `status` (help article 592). */
export const justClickOrderStatuses = Object.freeze(['sent', 'paid', 'return', 'cancel'] as const);
export type JustClickOrderStatus = (typeof justClickOrderStatuses)[number];

export interface JustClickStatusDetails {
  /** `date`, Unix seconds: required for `sent` and `paid`. */
  date?: number;
  /** `rpo`, the postal tracking number: required for `sent`. */
  trackingNumber?: string;
}

/**
 * GetOrderInfo's text fields (help article 3326) and their API names, as received. `pay_status` is
 * documented only as "invoice status"; the format of `created` and `paid` is not documented; `link`
 * is the payment page.
 */
export const justClickOrderInfoTextFields = {
  email: 'email', firstName: 'first_name', lastName: 'last_name', middleName: 'middle_name', phone: 'phone', payStatus: 'pay_status',
  createdAt: 'created', paidAt: 'paid', tag: 'tag', comment: 'comment', paymentLink: 'link',
} as const;
