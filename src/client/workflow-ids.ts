/**
 * Workflow ids are business keys: the same request twice is the same id, hence one run. No `/` nor anything a URL path would
 * escape: Temporal's HTTP API takes the id as a path segment and decodes `%2F` into a separator.
 */
import { createHash } from 'node:crypto';
import { adjustmentDigest } from '../business-keys.ts';

/** Characters a rendered id may contain: all unreserved in a URL path segment, and ':' and '.'. */
export const workflowIdPattern = /^[A-Za-z0-9_.:-]+$/;

export function requestDigest(values: readonly unknown[]): string {
  return createHash(adjustmentDigest.algorithm).update(JSON.stringify(values)).digest('hex').slice(0, adjustmentDigest.hexDigits);
}

export const workflowIds = {
  /** `bulk:<kind>:<digest>` of the bulk's validated items: the same file twice is one bulk. */
  bulk: (kind: string, items: readonly object[]): string => `bulk:${kind}:${requestDigest([kind, items])}`,
} as const;
