/**
 * `bulkRowsUpload` (one bounded part of a bulk's rows) and `bulkReportPage` (one page of its
 * outcomes): short runs whose local activity stores or reads them in the worker's database, so
 * the bulk's own history holds neither rows nor per-item outcomes (docs/architecture.md, "bulkRun").
 */
import { ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import { FailureType } from '../../contracts.ts';
import { bulkKinds, bulkLimits } from './contracts.ts';
import type { BulkReportPage, BulkReportRequest, BulkRowsActivities, BulkRowsUpload } from './contracts.ts';

const { storeBulkRows, readBulkReport } = proxyLocalActivities<BulkRowsActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: [FailureType.InvalidInput] },
});

export function refuse(what: string, problems: string[]): never {
  throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: `${what} refused: ${problems.join('; ')}`, nonRetryable: true });
}

export function wholeNumber(value: unknown, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** The bulk id and kind every bulk workflow's input names. */
export function bulkNameProblems(input: { bulkId: unknown; kind: unknown }): string[] {
  const problems: string[] = [];
  if (typeof input.bulkId !== 'string' || input.bulkId === '') problems.push('bulkId must name the bulk');
  const kinds: readonly unknown[] = bulkKinds;
  if (!kinds.includes(input.kind)) problems.push(`kind must be one of ${bulkKinds.join(', ')}`);
  return problems;
}

export async function bulkRowsUpload(upload: BulkRowsUpload): Promise<{ stored: number }> {
  const problems = bulkNameProblems(upload);
  if (!wholeNumber(upload.firstRow, 0, bulkLimits.maxItems - 1)) problems.push(`firstRow must be 0 to ${bulkLimits.maxItems - 1}`);
  if (!Array.isArray(upload.items) || upload.items.length === 0 || upload.items.length > bulkLimits.maxUploadRows) {
    problems.push(`items must be a list of 1 to ${bulkLimits.maxUploadRows} rows`);
  } else if (upload.firstRow + upload.items.length > bulkLimits.maxItems) problems.push(`a bulk has at most ${bulkLimits.maxItems} rows`);
  if (problems.length > 0) refuse('bulk rows upload', problems);
  return storeBulkRows(upload);
}

export async function bulkReportPage(request: BulkReportRequest): Promise<BulkReportPage> {
  const problems = bulkNameProblems(request);
  if (!wholeNumber(request.from, 0, bulkLimits.maxItems)) problems.push(`from must be 0 to ${bulkLimits.maxItems}`);
  if (!wholeNumber(request.count, 1, bulkLimits.reportPageRows)) problems.push(`count must be 1 to ${bulkLimits.reportPageRows}`);
  if (problems.length > 0) refuse('bulk report page', problems);
  return readBulkReport(request);
}
