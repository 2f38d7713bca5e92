/**
 * Workflow ids are business keys: the same request sent twice maps to the same id, hence the
 * same run. Ids contain no `/` nor anything a URL path would escape: Temporal's HTTP API takes
 * the id as a path segment and decodes `%2F` into a separator.
 */
import { createHash } from 'node:crypto';

/** Characters a rendered id may contain: all unreserved in a URL path segment, and ':' and '.'. */
export const workflowIdPattern = /^[A-Za-z0-9_.:-]+$/;

/** Separator between the parts of a business key. */
export const idSeparator = ':';

/** The `requestId` of an adjustment sent without one: sha256 of the JSON of these values, first 20 hex digits. */
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

export const workflowIds = {
  /** `bulk:<kind>:<digest>` of the bulk's validated items: the same file twice is one bulk. */
  bulk: (kind: string, items: readonly object[]): string =>
    `bulk:${kind}:${createHash('sha256').update(JSON.stringify([kind, items])).digest('hex').slice(0, 20)}`,
} as const;
