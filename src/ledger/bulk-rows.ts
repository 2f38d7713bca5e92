/**
 * A bulk's rows and their outcomes, kept in the ledger's database so that they do not travel in
 * the bulk's history (docs/architecture.md, "Bulk runs"). Table `bulk_rows`, keyed by bulk id and
 * 0-based row number, is created on first use, outside the effect ledger's migrations.
 */
import { LedgerError } from './errors.ts';
import { LedgerPart, toInteger } from './sql.ts';
import type { SqlExecutor } from './sql.ts';

/** A different row is stored under the same key. Nothing was written. */
export class BulkRowConflictError extends LedgerError {}

const outcomeKinds = ['done', 'failed', 'waiting', 'not-started'] as const;
export type BulkRowOutcomeKind = (typeof outcomeKinds)[number];

export interface BulkStoredRow {
  row: number;
  /** JSON text, as uploaded */
  item: string;
}

export interface BulkRowOutcome {
  row: number;
  outcome: BulkRowOutcomeKind;
  /** The item's workflow id; empty when it never started. */
  workflowId: string;
  joined: boolean;
  detail: string;
}

export type BulkOutcomeCounts = Record<'rows' | 'done' | 'failed' | 'waiting' | 'notStarted', number>;

const maxBulkDetail = 1_000;
/** Rows per statement (3 parameters each: far below SQLite's and PostgreSQL's limits). */
const rowsPerStatement = 200;

const createTable = `CREATE TABLE IF NOT EXISTS bulk_rows (
  bulk_id TEXT NOT NULL,
  row_number INTEGER NOT NULL,
  item TEXT NOT NULL,
  outcome TEXT,
  workflow_id TEXT,
  joined INTEGER,
  detail TEXT,
  PRIMARY KEY (bulk_id, row_number)
)`;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class BulkRowStore extends LedgerPart {
  #ready: Promise<void> | undefined;

  private ready(): Promise<void> {
    this.assertOpen();
    this.#ready ??= this.driver
      .query(createTable)
      .then(() => undefined)
      // Two processes creating it at once (PostgreSQL): the loser sees it there now.
      .catch(() => this.driver.query('SELECT 1 FROM bulk_rows LIMIT 1').then(() => undefined))
      .catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }

  /** Stores rows from `firstRow` on; the same row again is a no-op, another one is refused (BulkRowConflictError). */
  async store(bulkId: string, firstRow: number, items: readonly string[]): Promise<number> {
    await this.ready();
    const rows = items.map((item, offset) => ({ row: firstRow + offset, item }));
    await this.driver.transaction(async (tx) => {
      for (const group of chunks(rows, rowsPerStatement)) {
        const values = group.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`);
        const params = group.flatMap(({ row, item }) => [bulkId, row, item]);
        await tx.query(`INSERT INTO bulk_rows (bulk_id, row_number, item) VALUES ${values.join(', ')} ON CONFLICT (bulk_id, row_number) DO NOTHING`, params);
      }
      const stored = await readItems(tx, bulkId, firstRow, items.length);
      for (const { row, item } of rows) {
        if (stored.get(row) !== item) {
          throw new BulkRowConflictError(`Bulk ${bulkId} already has a different row ${row + 1} stored; nothing was stored. A bulk's rows never change: give the changed file its own bulk (it gets another id).`);
        }
      }
    });
    return rows.length;
  }

  async read(bulkId: string, from: number, count: number): Promise<BulkStoredRow[]> {
    await this.ready();
    const stored = await readItems(this.driver, bulkId, from, count);
    return [...stored].map(([row, item]) => ({ row, item }));
  }

  /** The stored rows among `rowNumbers`, in order. */
  async readRows(bulkId: string, rowNumbers: readonly number[]): Promise<BulkStoredRow[]> {
    if (rowNumbers.length === 0) return [];
    await this.ready();
    const found: BulkStoredRow[] = [];
    for (const group of chunks(rowNumbers, rowsPerStatement)) {
      const rows = await this.driver.query(
        `SELECT row_number, item FROM bulk_rows WHERE bulk_id = $1 AND row_number IN (${group.map((_, i) => `$${i + 2}`).join(', ')}) ORDER BY row_number`,
        [bulkId, ...group],
      );
      for (const row of rows) found.push({ row: toInteger(row['row_number'], 'row_number'), item: String(row['item']) });
    }
    return found.sort((a, b) => a.row - b.row);
  }

  /** Records how items ended; an outcome already recorded for a row is kept (a retried slice joins the same run). */
  async recordOutcomes(bulkId: string, outcomes: readonly BulkRowOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.ready();
    await this.driver.transaction(async (tx) => {
      for (const outcome of outcomes) {
        if (!outcomeKinds.includes(outcome.outcome)) throw new LedgerError(`Unknown bulk outcome ${JSON.stringify(outcome.outcome)}.`);
        await tx.query(
          'UPDATE bulk_rows SET outcome = $1, workflow_id = $2, joined = $3, detail = $4 WHERE bulk_id = $5 AND row_number = $6 AND outcome IS NULL',
          [outcome.outcome, outcome.workflowId, outcome.joined ? 1 : 0, outcome.detail.slice(0, maxBulkDetail), bulkId, outcome.row],
        );
      }
    });
  }

  /** Every row from `from` on without an outcome becomes `not-started` (a cancelled bulk). */
  async markNotStarted(bulkId: string, from: number, detail: string): Promise<void> {
    await this.ready();
    await this.driver.query(
      "UPDATE bulk_rows SET outcome = 'not-started', workflow_id = '', joined = 0, detail = $1 WHERE bulk_id = $2 AND row_number >= $3 AND outcome IS NULL",
      [detail, bulkId, from],
    );
  }

  /** Outcomes of rows `from` … `from + count - 1` that have one, in order. */
  async outcomes(bulkId: string, from: number, count: number): Promise<BulkRowOutcome[]> {
    await this.ready();
    const rows = await this.driver.query(
      'SELECT row_number, outcome, workflow_id, joined, detail FROM bulk_rows WHERE bulk_id = $1 AND row_number >= $2 AND row_number < $3 AND outcome IS NOT NULL ORDER BY row_number',
      [bulkId, from, from + count],
    );
    return rows.map((row) => ({
      row: toInteger(row['row_number'], 'row_number'),
      outcome: String(row['outcome']) as BulkRowOutcomeKind,
      workflowId: String(row['workflow_id'] ?? ''),
      joined: toInteger(row['joined'] ?? 0, 'joined') === 1,
      detail: String(row['detail'] ?? ''),
    }));
  }

  async counts(bulkId: string): Promise<BulkOutcomeCounts> {
    await this.ready();
    const rows = await this.driver.query('SELECT outcome, COUNT(*) AS n FROM bulk_rows WHERE bulk_id = $1 GROUP BY outcome', [bulkId]);
    const counts: BulkOutcomeCounts = { rows: 0, done: 0, failed: 0, waiting: 0, notStarted: 0 };
    for (const row of rows) {
      const n = toInteger(row['n'], 'count');
      counts.rows += n;
      const outcome = row['outcome'];
      if (outcome === 'done' || outcome === 'failed' || outcome === 'waiting') counts[outcome] += n;
      else if (outcome === 'not-started') counts.notStarted += n;
    }
    return counts;
  }
}

async function readItems(executor: SqlExecutor, bulkId: string, from: number, count: number): Promise<Map<number, string>> {
  const rows = await executor.query(
    'SELECT row_number, item FROM bulk_rows WHERE bulk_id = $1 AND row_number >= $2 AND row_number < $3 ORDER BY row_number',
    [bulkId, from, from + count],
  );
  return new Map(rows.map((row) => [toInteger(row['row_number'], 'row_number'), String(row['item'])]));
}
