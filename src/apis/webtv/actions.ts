/** WebTV store API: the actions, and what a call and its success answer are (docs/vendor-apis.md, WebTV). */
export const webTvActions = Object.freeze([
  'cancel_order',
  'process_order',
  'list_orders',
  'add_subtract_credit',
  'get_credit',
  'get_cart',
  'modify_cart',
  'place_order',
] as const);

export type WebTvAction = (typeof webTvActions)[number];

export function isWebTvAction(value: unknown): value is WebTvAction {
  return typeof value === 'string' && (webTvActions as readonly string[]).includes(value);
}

/** Actions that change nothing: sending one twice is as good as sending it once. */
export function isReadOnlyWebTvAction(action: WebTvAction): boolean {
  return action === 'list_orders' || action === 'get_credit' || action === 'get_cart';
}

export interface WebTvCallContext {
  action: WebTvAction;
  userId: number;
  /** The signed request URL; only its origin and path are ever printed. */
  url: URL;
  idempotent: boolean;
}

/** A success answer: an object with at least one of `ok`, `data`, `list` or `id`. */
export interface WebTvSuccessAnswer {
  readonly ok?: unknown;
  readonly data?: unknown;
  readonly list?: unknown;
  readonly id?: unknown;
  readonly [field: string]: unknown;
}
