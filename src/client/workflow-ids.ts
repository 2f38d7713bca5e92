/**
 * Workflow ids are business keys, decided here and nowhere else: the same request sent
 * twice maps to the same id, hence to the same run.
 *
 * An id is rendered from a template such as `refund-and-cancel:{userId}:{orderId}` (the
 * templates live in the workflow registry and are published in the caller contract, so a
 * PHP backend renders the same id). Ids contain no `/` and nothing else a URL path would
 * need escaped: Temporal's HTTP API (grpc-gateway) takes the workflow id as a path segment
 * and decodes `%2F` into a separator.
 */
import { createHash } from 'node:crypto';

/** Characters a rendered id may contain: all unreserved in a URL path segment, and ':' and '.'. */
export const workflowIdPattern = /^[A-Za-z0-9_.:-]+$/;

/** Separator between the parts of a business key. */
export const idSeparator = ':';

/**
 * The `requestId` of an adjustment that came without one: a digest of what it does, so
 * that the same adjustment sent twice is one run. JSON of the values in this order,
 * sha256, the first 20 hex digits (published in the contract for other callers).
 */
export const adjustmentDigest = {
  fields: ['userId', 'action', 'amount', 'description', 'reason'],
  algorithm: 'sha256',
  hexDigits: 20,
} as const;

export function requestDigest(values: readonly unknown[]): string {
  return createHash(adjustmentDigest.algorithm).update(JSON.stringify(values)).digest('hex').slice(0, adjustmentDigest.hexDigits);
}

/** Fills `{field}` placeholders (ids, summaries) from the input; a missing value is a bug in the registry. */
export function fillTemplate(template: string, values: Readonly<Record<string, unknown>>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`The template ${template} needs ${name}; the input has none.`);
    return String(value);
  });
}

/** Ids of things other than a single business key. */
export const workflowIds = {
  /** `bulk:<kind>:<digest>`: the digest of the bulk's validated items, so the same file twice is one bulk. */
  bulk: (kind: string, items: readonly object[]): string =>
    `bulk:${kind}:${createHash('sha256').update(JSON.stringify([kind, items])).digest('hex').slice(0, 20)}`,
} as const;
