/**
 * A bulk's rows as stored (one JSON text per item) and their digest: the client computes it
 * over the rows it uploads, the bulk's first activity over the rows it finds stored, and the
 * bulk refuses to start any item when the two differ.
 */
import { createHash } from 'node:crypto';
import type { BulkItem } from './contracts.ts';

/** One item as stored in `bulk_rows` (and as the digest reads it). */
export function bulkItemJson(item: BulkItem): string {
  return JSON.stringify(item);
}

/** SHA-256 (hex) over the rows' JSON texts, in order, each followed by a newline. */
export function bulkRowsDigest(rows: Iterable<string>): string {
  const digester = bulkRowsDigester();
  for (const row of rows) digester.add(row);
  return digester.digest();
}

/** Incremental form of {@link bulkRowsDigest}, for rows read a page at a time. */
export function bulkRowsDigester(): { add(row: string): void; digest(): string } {
  const hash = createHash('sha256');
  return {
    add(row) {
      hash.update(row).update('\n');
    },
    digest: () => hash.digest('hex'),
  };
}
