/** A bulk's rows as stored (one JSON text per item) and their digest (docs/architecture.md, "bulkRun"). */
import { createHash } from 'node:crypto';
import type { BulkItem } from './contracts.ts';

/** One item as stored in `bulk_rows` (and as the digest reads it). */
export function bulkItemJson(item: BulkItem): string {
  return JSON.stringify(item);
}

/** SHA-256 (hex) over the rows' JSON texts, in order, each followed by a newline. */
export function bulkRowsDigest(rows: Iterable<string>): string {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(row).update('\n');
  return hash.digest('hex');
}
