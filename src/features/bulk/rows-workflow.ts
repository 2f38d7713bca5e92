/**
 * How a bulk's rows and its report move between a client and the worker's database without
 * passing through the bulk's own history (docs/architecture.md, "Bulk runs"):
 *
 * - `bulkRowsUpload`: one upload of at most {@link bulkLimits.maxUploadRows} rows and
 *   {@link bulkLimits.maxUploadBytes} bytes, stored by a local activity (its input is not
 *   written to the history again); the client starts one per part of the file, then the bulk.
 * - `bulkReportPage`: one page of outcomes, read by a local activity, as the result.
 *
 * Each is a short run whose history holds one bounded payload; the bulk's history holds
 * neither rows nor per-item outcomes.
 */
import { ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import { FailureType } from '../../contracts.ts';
import { bulkKinds, bulkLimits } from './contracts.ts';
import type { BulkReportPage, BulkReportRequest, BulkRowsActivities, BulkRowsUpload } from './contracts.ts';

const { storeBulkRows, readBulkReport } = proxyLocalActivities<BulkRowsActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: [FailureType.InvalidInput] },
});

function refuse(what: string, problems: string[]): never {
  throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: `${what} refused: ${problems.join('; ')}`, nonRetryable: true });
}

const wholeNumber = (value: unknown, min: number, max: number): boolean => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

export async function bulkRowsUpload(upload: BulkRowsUpload): Promise<{ stored: number }> {
  const problems: string[] = [];
  if (typeof upload.bulkId !== 'string' || upload.bulkId === '') problems.push('bulkId must name the bulk');
  if (!(bulkKinds as readonly string[]).includes(upload.kind)) problems.push(`kind must be one of ${bulkKinds.join(', ')}`);
  if (!wholeNumber(upload.firstRow, 0, bulkLimits.maxItems - 1)) problems.push(`firstRow must be 0 to ${bulkLimits.maxItems - 1}`);
  if (!Array.isArray(upload.items) || upload.items.length === 0 || upload.items.length > bulkLimits.maxUploadRows) {
    problems.push(`items must be a list of 1 to ${bulkLimits.maxUploadRows} rows`);
  } else if (upload.firstRow + upload.items.length > bulkLimits.maxItems) problems.push(`a bulk has at most ${bulkLimits.maxItems} rows`);
  if (problems.length > 0) refuse('bulk rows upload', problems);
  return storeBulkRows(upload);
}

export async function bulkReportPage(request: BulkReportRequest): Promise<BulkReportPage> {
  const problems: string[] = [];
  if (typeof request.bulkId !== 'string' || request.bulkId === '') problems.push('bulkId must name the bulk');
  if (!(bulkKinds as readonly string[]).includes(request.kind)) problems.push(`kind must be one of ${bulkKinds.join(', ')}`);
  if (!wholeNumber(request.from, 0, bulkLimits.maxItems)) problems.push(`from must be 0 to ${bulkLimits.maxItems}`);
  if (!wholeNumber(request.count, 1, bulkLimits.reportPageRows)) problems.push(`count must be 1 to ${bulkLimits.reportPageRows}`);
  if (problems.length > 0) refuse('bulk report page', problems);
  return readBulkReport(request);
}
