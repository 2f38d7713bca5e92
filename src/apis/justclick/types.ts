/**
 * Types of the JustClick API as this client uses it (help.justclick.ru/archives/<n>:
 * 587 DeleteOrder, 582 CreateOrder, 592 UpdateOrderStatus, 3326 GetOrderInfo, 511 answers).
 */
import type { Cents } from '../../money.ts';

/** The methods with typed wrappers; any other method can go through `call`. */
export type JustClickMethod = 'DeleteOrder' | 'CreateOrder' | 'UpdateOrderStatus' | 'GetOrderInfo';

/** The documented methods (docs/vendor-apis.md, JustClick): the only ones `orderflow api justclick` sends. */
export const justClickMethods: readonly JustClickMethod[] = Object.freeze(['DeleteOrder', 'CreateOrder', 'UpdateOrderStatus', 'GetOrderInfo'] as const);

/** Body fields the client sets itself (the request's signature); never a caller's field. */
export const justClickReservedFields = Object.freeze(['hash'] as const);

/** Every answer, after its hash was verified. */
export interface JustClickAnswer {
  error_code: number;
  /** Exactly as received (the docs write `ok`, the server sends `OK`). */
  error_text: string;
  result?: unknown;
}

export interface JustClickDeleteResult {
  /** `already-absent`: 200 or 302. */
  status: 'deleted' | 'already-absent';
  code: number;
  text: string;
}

export interface JustClickGood {
  /** `good_name`: the product's id in the JustClick shop. */
  name: string;
  /** `good_sum`, sent as a decimal string with two places. */
  sum: Cents;
}

/** CreateOrder input (help article 582). Field names in comments are the API's. */
export interface JustClickNewOrder {
  /** `bill_id`: with it, a repeated CreateOrder answers 601 instead of creating a second bill (idempotent). */
  billId?: string;
  email: string; // bill_email
  firstName?: string; // bill_first_name
  surname?: string; // bill_surname
  middleName?: string; // bill_otchestvo (the English docs say bill_middle_name; the Russian original and public PHP clients use bill_otchestvo)
  phone?: string; // bill_phone
  country?: string; // bill_country
  region?: string; // bill_region
  city?: string; // bill_city
  address?: string; // bill_address
  postalCode?: string; // bill_postal_code
  coupon?: string; // bill_kupon
  tag?: string; // bill_tag
  comment?: string; // bill_comment
  ip?: string; // bill_ip
  domain?: string; // bill_domain
  /** Unix seconds (`bill_created`). */
  createdAt?: number;
  /** `bill_timer_kill`: true = the product's auto-cancel time, false = never, or a Unix time. */
  autoCancel?: boolean | number;
  /** `utm[<name>]`, e.g. { utm_source: 'newsletter' }. */
  utm?: Readonly<Record<string, string>>;
  goods: readonly JustClickGood[];
}

export interface JustClickCreateResult {
  billId: string;
  /** false when the API answered 601: nothing was created. */
  created: boolean;
}

/** UpdateOrderStatus `status` (help article 592). */
export type JustClickOrderStatus = 'sent' | 'paid' | 'return' | 'cancel';

export interface JustClickStatusDetails {
  /** `date`, Unix seconds: required for `sent` and `paid`. */
  date?: number;
  /** `rpo`, the postal tracking number: required for `sent`. */
  trackingNumber?: string;
}

export interface JustClickStatusResult {
  code: number;
  text: string;
}

/** GetOrderInfo `result` (help article 3326), read loosely: absent fields are null. */
export interface JustClickOrderInfo {
  billId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  middleName: string | null;
  phone: string | null;
  /** `pay_status` as the API reports it (documented only as "invoice status"). */
  payStatus: string | null;
  /** `created` and `paid`, as received (the format is not documented). */
  createdAt: string | null;
  paidAt: string | null;
  tag: string | null;
  comment: string | null;
  /** `link`: the payment page. */
  paymentLink: string | null;
  /** null when absent or not an amount, like leftToPay (`bill_sum_topay`). */
  price: Cents | null;
  leftToPay: Cents | null;
  raw: Readonly<Record<string, unknown>>;
}

/** CreateOrder's text fields and their API names, in the order they are sent. */
type OrderTextField = Exclude<keyof JustClickNewOrder, 'billId' | 'createdAt' | 'autoCancel' | 'utm' | 'goods'>;
export const justClickOrderTextFields: ReadonlyArray<[OrderTextField, string]> = [
  ['firstName', 'bill_first_name'], ['surname', 'bill_surname'], ['middleName', 'bill_otchestvo'],
  ['email', 'bill_email'], ['phone', 'bill_phone'], ['country', 'bill_country'], ['region', 'bill_region'],
  ['city', 'bill_city'], ['address', 'bill_address'], ['postalCode', 'bill_postal_code'], ['coupon', 'bill_kupon'],
  ['tag', 'bill_tag'], ['comment', 'bill_comment'], ['ip', 'bill_ip'], ['domain', 'bill_domain'],
];
