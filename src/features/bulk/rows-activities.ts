/** The bulk's activities that only touch its rows in the ledger's database (src/ledger/bulk-rows.ts). */
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../../contracts.ts';
import { BulkRowConflictError } from '../../ledger/bulk-rows.ts';
import type { BulkRowStore } from '../../ledger/bulk-rows.ts';
import { InputError } from '../../validation.ts';
import { bulkItemWorkflowId, validateBulkItem } from './client.ts';
import { bulkLimits } from './contracts.ts';
import type { BulkActivities, BulkItem, BulkKind, BulkRowsActivities, BulkSettledCounts } from './contracts.ts';
import { bulkItemJson, bulkRowsDigester } from './ids.ts';

/** Rows read per query while checking the digest. */
const checkPageRows = 1_000;

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true });
}

/** A stored row, parsed and validated again (where it acts), or why it is not a valid item. */
export function parseStoredRow(kind: BulkKind, text: string): { item: BulkItem } | { problem: string } {
  try {
    return { item: validateBulkItem(kind, JSON.parse(text) as unknown) };
  } catch (error) {
    return { problem: error instanceof InputError || error instanceof SyntaxError ? error.message : String(error) };
  }
}

export async function settledCounts(rows: BulkRowStore, bulkId: string): Promise<BulkSettledCounts> {
  const { done, failed, waiting, notStarted } = await rows.counts(bulkId);
  return { done, failed, waiting, notStarted };
}

export function createBulkRowsActivities(rows: BulkRowStore): BulkRowsActivities & Pick<BulkActivities, 'checkBulkRows' | 'closeBulkRows'> {
  return {
    async storeBulkRows(upload) {
      const texts: string[] = [];
      const problems: string[] = [];
      upload.items.forEach((item, offset) => {
        const checked = parseStoredRow(upload.kind, bulkItemJson(item));
        if ('problem' in checked) problems.push(`row ${upload.firstRow + offset + 1}: ${checked.problem}`);
        else texts.push(bulkItemJson(item));
      });
      if (problems.length > 0) throw refused(`bulk ${upload.bulkId}: rows refused, nothing stored: ${problems.slice(0, 10).join('; ')}`);
      try {
        return { stored: await rows.store(upload.bulkId, upload.firstRow, texts) };
      } catch (error) {
        if (error instanceof BulkRowConflictError) throw refused(error.message);
        throw error;
      }
    },

    async checkBulkRows({ bulkId, total, digest }) {
      const digester = bulkRowsDigester();
      let count = 0;
      for (let from = 0; from < total; from += checkPageRows) {
        const page = await rows.read(bulkId, from, Math.min(checkPageRows, total - from));
        for (const row of page) {
          if (row.row !== count) break;
          digester.add(row.item);
          count++;
        }
        if (count < Math.min(from + checkPageRows, total)) break;
      }
      if (count < total) {
        throw refused(`bulk ${bulkId}: ${count} of its ${total} rows are stored (row ${count + 1} is missing); no item was started. Start the bulk again with the same file: the client uploads its rows first.`);
      }
      const extra = await rows.read(bulkId, total, 1);
      const found = digester.digest();
      if (found !== digest || extra.length > 0) {
        throw refused(`bulk ${bulkId}: the rows stored for it are not the rows it was started with (digest ${found.slice(0, 12)}…, expected ${digest.slice(0, 12)}…${extra.length > 0 ? `, and more than ${total} rows` : ''}); no item was started.`);
      }
    },

    async closeBulkRows({ bulkId, from }) {
      await rows.markNotStarted(bulkId, from, 'the bulk was cancelled before this item started');
      return settledCounts(rows, bulkId);
    },

    async readBulkReport({ bulkId, kind, from, count, workflowIdPrefix }) {
      const size = Math.min(count, bulkLimits.reportPageRows);
      const outcomes = await rows.outcomes(bulkId, from, size);
      const unnamed = outcomes.filter((outcome) => outcome.workflowId === '');
      // Rows never started: the workflow id they would have had, so the report names every row.
      const stored = unnamed.length === 0 ? [] : await rows.read(bulkId, from, size);
      const wouldBe = new Map<number, string>();
      for (const row of stored) {
        const checked = parseStoredRow(kind, row.item);
        if ('item' in checked) wouldBe.set(row.row, `${workflowIdPrefix ?? ''}${bulkItemWorkflowId(kind, checked.item)}`);
      }
      return {
        items: outcomes.map((outcome) => ({
          index: outcome.row,
          workflowId: outcome.workflowId !== '' ? outcome.workflowId : (wouldBe.get(outcome.row) ?? ''),
          outcome: outcome.outcome,
          joined: outcome.joined,
          detail: outcome.detail,
        })),
      };
    },
  };
}
