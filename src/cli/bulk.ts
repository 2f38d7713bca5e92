/** `orderflow bulk <kind> --file` and `bulk status|pause|resume|cancel <bulk id>`: many items as one bulkRun. */
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { BulkRowsError, bulkReport, failureOf, startBulk } from '../features/bulk/client.ts';
import { workflowUiUrl } from '../client/connect.ts';
import { bulkKinds, bulkLimits, bulkQueryNames, bulkUpdateNames } from '../features/bulk/contracts.ts';
import type { BulkControl, BulkKind, BulkProgress, BulkResult, BulkShownItem } from '../features/bulk/contracts.ts';
import { bulkColumns, parseBulkFile } from './bulk-file.ts';
import type { TemporalConfig } from '../config.ts';
import { authorshipProblems } from '../run-kit/operator.ts';
import { CommandFailure, UsageError, exitCodes, leafCommand, line, progressBar, progressDisplay } from './framework.ts';
import { watchUntilInterrupted, wholeNumberOption, wrapText } from './framework.ts';
import type { CliContext, ExitCode, GroupCommand, LeafCommand } from './framework.ts';
import { describeRun, withTemporal } from './temporal.ts';
import { temporalVariables } from './environment.ts';

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}:${String(s).padStart(2, '0')}`;
}

/** One line: bar, counts and ETA (from the settle rate since the bulk started). */
export function progressLine(progress: BulkProgress | BulkResult, now = Date.now()): string {
  const { counts } = progress;
  const settled = counts.done + counts.failed + counts.waiting + counts.notStarted;
  const elapsed = (now - Date.parse(progress.startedAt)) / 1000;
  const remaining = counts.total - settled;
  const eta = remaining === 0 ? 'done' : settled === 0 || progress.state !== 'running' ? 'ETA ?' : `ETA ${formatDuration((remaining * elapsed) / settled)}`;
  return (
    `${progressBar(settled, counts.total)} ` +
    `done ${counts.done} · failed ${counts.failed} · waiting ${counts.waiting} · running ${counts.running}` +
    `${counts.notStarted > 0 ? ` · not started ${counts.notStarted}` : ''} · ${progress.state} · ${eta}`
  );
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV row per item, read from the worker's database a page at a time; returns the rows written. */
async function writeReport(path: string, handle: WorkflowHandle, config: TemporalConfig, result: BulkResult): Promise<number> {
  const rows = ['item,workflow_id,outcome,detail'];
  try {
    for await (const page of bulkReport(handle.client, config.taskQueue, { bulkId: result.bulkId, kind: result.kind, total: result.counts.total })) {
      for (const item of page) rows.push([String(item.index + 1), item.workflowId, item.outcome, item.detail ?? ''].map(csvCell).join(','));
    }
  } catch (error) {
    if (error instanceof BulkRowsError) throw new CommandFailure(`${error.message} No report was written.`);
    throw error;
  }
  await writeFile(path, `${rows.join('\n')}\n`);
  return rows.length - 1;
}

function printSummary(context: CliContext, result: BulkResult, config: TemporalConfig): void {
  const { counts } = result;
  line(context, `${result.state === 'cancelled' ? 'Cancelled' : 'Finished'}: ${counts.done} done, ${counts.failed} failed, ${counts.waiting} waiting for an operator` +
    `${counts.notStarted > 0 ? `, ${counts.notStarted} not started` : ''} (of ${counts.total}).`);
  const listed = (title: string, items: readonly BulkShownItem[], count: number): void => {
    if (count === 0) return;
    line(context, `${title}:`);
    for (const item of items.slice(0, 20)) {
      line(context, item.workflowId === '' ? `  (not started): ${item.detail ?? ''}` : `  ${item.workflowId}: ${item.detail ?? ''}\n    ${workflowUiUrl(config, item.workflowId)}`);
    }
    if (count > Math.min(items.length, 20)) line(context, `  … and ${count - Math.min(items.length, 20)} more (--report writes them all)`);
  };
  listed('Waiting for an operator (decide with orderflow decide <id> …)', result.waiting, counts.waiting);
  listed('Failed', result.failed, counts.failed);
}

/** Shows the progress bar until the bulk ends (or Ctrl-C); prints the summary; writes the report. */
async function watch(context: CliContext, handle: WorkflowHandle, config: TemporalConfig, reportPath?: string): Promise<ExitCode> {
  const progress = progressDisplay(context, 5_000);
  const client = handle.client;
  const stopped = { whatGoesOn: 'the bulk goes on', followWith: `orderflow bulk status ${handle.workflowId} --wait`, before: progress.end };
  return watchUntilInterrupted(context, stopped, async (step) => {
    for (;;) {
      const description = await step((signal) => client.withAbortSignal(signal, () => handle.describe()));
      if (description.status.name !== 'RUNNING' && description.status.name !== 'CONTINUED_AS_NEW') break;
      const query = (): Promise<BulkProgress> => handle.query(bulkQueryNames.progress);
      const now = await step((signal) => client.withAbortSignal(signal, query).catch(() => undefined));
      if (now) progress.show(progressLine(now));
      await step((signal) => sleep(1_000, undefined, { signal }));
    }
    const result = await (handle.result() as Promise<BulkResult>).catch((error: unknown) => {
      throw new CommandFailure(`Bulk ${handle.workflowId} failed: ${failureOf(error)}`);
    });
    progress.show(progressLine(result, Date.parse(result.finishedAt)), true);
    printSummary(context, result, config);
    if (reportPath !== undefined) {
      const written = await writeReport(reportPath, handle, config, result);
      line(context, `Report: ${reportPath} (${written} rows)`);
    }
    const { failed, notStarted, waiting } = result.counts;
    return failed > 0 || notStarted > 0 ? exitCodes.failed : waiting > 0 ? exitCodes.waitingForOperator : exitCodes.ok;
  });
}

/** The options and exit status of watching a bulk, as `bulk <kind> --wait` and `bulk status --wait` do. */
const reportRows = 'write one CSV row per item (item, workflow_id, outcome, detail)';

const watchOptions = {
  wait: { type: 'boolean', help: 'Show a progress bar (counts, ETA) until the bulk ends; Ctrl-C stops watching, not the bulk (exit 130)' },
  report: { type: 'string', value: '<path>', help: `With --wait: ${reportRows}` },
} as const;

const watchExitStatus = '0 all done; 3 some wait for an operator; 1 some failed or were not started (cancelled); ' +
  '130 Ctrl-C stopped watching (the bulk goes on).';

function kindCommand(kind: BulkKind): LeafCommand {
  const { columns } = bulkColumns[kind];
  const { defaultConcurrency, maxConcurrency, defaultRate, maxRate } = bulkLimits;
  return leafCommand({
    name: kind,
    summary: `Run many ${kind} items from a CSV or JSON-lines file`,
    usage: `bulk ${kind} --file <items.csv|items.jsonl> [--concurrency ${defaultConcurrency}] [--rate ${defaultRate}] [--wait] [--report <out.csv>]`,
    environment: { variables: [...temporalVariables, 'USER (the default requested-by)'] },
    help: `Starts one bulk: every row of the file is one ${kind} run, as 'orderflow start ${kind}'
starts it (a row whose run exists joins it). The file is CSV with a header row, or JSON lines
(.jsonl/.ndjson, or a first character '{'); its columns (keys), ${columns.join(', ')}
(required: ${bulkColumns[kind].required.join(', ')}), mean what that command's options mean.
The whole file is checked first: every bad row is listed with its line number, and nothing
starts (exit 2). The same file twice is the same bulk. See docs/runbook.md, "Bulk runs".`,
    options: {
      file: { type: 'string', value: '<path>', help: 'The items (required)' },
      concurrency: { type: 'string', value: '<n>', help: `At most n items at once (default ${defaultConcurrency}, max ${maxConcurrency})` },
      rate: { type: 'string', value: '<n>', help: `At most n item starts per second (default ${defaultRate}, max ${maxRate})` },
      ...watchOptions,
    },
    notes: `${wrapText(`Exit status with --wait: ${watchExitStatus} Without --wait: 0 started (or already there).`)}

Example:
  orderflow bulk ${kind} --file items.csv --concurrency 20 --rate 10 --wait --report out.csv`,
    async run({ values }, context) {
      if (values.file === undefined) throw new UsageError('--file is required.');
      if (values.report !== undefined && values.wait !== true) throw new UsageError('--report goes with --wait (the report is written when the bulk ends).');
      const concurrency = wholeNumberOption('concurrency', values.concurrency, defaultConcurrency, [1, maxConcurrency]);
      const rate = wholeNumberOption('rate', values.rate, defaultRate, [1, maxRate]);
      const text = await readFile(values.file, 'utf8').catch((error: unknown) => {
        throw new UsageError(`cannot read --file ${values.file}: ${error instanceof Error ? error.message : String(error)}`);
      });
      const file = parseBulkFile(kind, values.file, text, context.env);
      const contentKey = file.rows.map((row) => Object.fromEntries(Object.entries(row.values).sort(([a], [b]) => a.localeCompare(b))));
      return withTemporal(context, async (client, config) => {
        const request = { kind, items: file.items, concurrency, rate, contentKey };
        const bulk = await startBulk({ client, taskQueue: config.taskQueue }, request).catch((error: unknown) => {
          // The worker refused or could not store the rows: its reason, nothing started.
          if (error instanceof BulkRowsError) throw new CommandFailure(`${error.message} Nothing was started.`);
          throw error;
        });
        line(context, `${bulk.started ? 'Started bulk' : 'Already there (same file): bulk'} ${bulk.workflowId}: ${file.items.length} ${kind} items, ${concurrency} at once, ${rate} starts per second`);
        line(context, `  ${workflowUiUrl(config, bulk.workflowId)}`);
        line(context, `  progress: orderflow bulk status ${bulk.workflowId} --wait`);
        line(context, `  pause:    orderflow bulk pause ${bulk.workflowId} --operator <you> --note <why>`);
        return values.wait === true ? watch(context, bulk.handle, config, values.report) : exitCodes.ok;
      });
    },
  });
}

const statusCommand = leafCommand({
  name: 'status',
  summary: "A bulk's progress: counts, ETA, items waiting for an operator",
  usage: 'bulk status <bulk id> [--wait] [--report <out.csv>] [--json]',
  help: `Prints the bulk's progress bar (counts and ETA), its state, and the items that wait for
an operator or failed.`,
  options: {
    ...watchOptions,
    report: { type: 'string', value: '<path>', help: `With --wait, or on a finished bulk: ${reportRows}` },
    json: { type: 'boolean', help: "Print the progress query's answer" },
  },
  positionals: true,
  notes: wrapText(`Exit status with --wait (and for a finished bulk): ${watchExitStatus} 4: no bulk has this id.`),
  async run({ values, positionals }, context) {
    const [bulkId, ...extra] = positionals;
    if (bulkId === undefined || extra.length > 0) throw new UsageError('give exactly one bulk id, e.g. bulk:refund-and-cancel:1f2e3d4c5b6a79880a1b.');
    return withTemporal(context, async (client, config) => {
      const handle = client.workflow.getHandle(bulkId);
      const description = await describeRun(handle, config);
      const completed = description.status.name === 'COMPLETED';
      if ((completed || values.wait === true) && values.json !== true) return watch(context, handle, config, values.report);
      if (!completed && description.status.name !== 'RUNNING') {
        throw new CommandFailure(`Bulk ${bulkId} is ${description.status.name}; see ${workflowUiUrl(config, bulkId)}`);
      }
      if (values.json === true) {
        line(context, JSON.stringify(completed ? await handle.result() : await handle.query(bulkQueryNames.progress), null, 2));
        return exitCodes.ok;
      }
      const progress = await handle.query<BulkProgress>(bulkQueryNames.progress);
      if (values.report !== undefined) throw new UsageError('--report needs a finished bulk, or --wait.');
      line(context, `${bulkId} (bulk ${progress.kind}) — ${progress.state}; ${progress.concurrency} at once, ${progress.rate} starts per second`);
      line(context, `  ${workflowUiUrl(config, bulkId)}`);
      line(context, progressLine(progress));
      for (const item of progress.waiting) line(context, `  waiting: ${item.workflowId}: ${item.detail ?? ''}`);
      for (const item of progress.failed) line(context, `  failed: ${item.workflowId || '(not started)'}: ${item.detail ?? ''}`);
      return exitCodes.ok;
    });
  },
});

function controlCommand(action: keyof typeof bulkUpdateNames, summary: string, what: string): LeafCommand {
  return leafCommand({
    name: action,
    summary,
    usage: `bulk ${action} <bulk id> --operator <name> --note <text>`,
    help: `${what} Sent as the bulk's '${action}' update, which the bulk validates (as the Temporal
UI's Update dialog does with {"operator":"anna","note":"why"}).`,
    options: {
      operator: { type: 'string', value: '<name>', help: 'Who asks (required)' },
      note: { type: 'string', value: '<text>', help: 'Why (required; recorded in the bulk)' },
    },
    positionals: true,
    async run({ values, positionals }, context) {
      const [bulkId, ...extra] = positionals;
      const problems: string[] = [];
      if (bulkId === undefined || extra.length > 0) problems.push('give exactly one bulk id');
      // The bulk's own rule for who asks and why (run-kit/operator.ts), with the options' names.
      problems.push(...authorshipProblems(values, 'asks').map((problem) => problem.replace(/^"(\w+)"/, '--$1')));
      if (problems.length > 0) throw new UsageError(problems.join('; '));
      return withTemporal(context, async (client) => {
        const handle = client.workflow.getHandle(bulkId!);
        try {
          const progress = await handle.executeUpdate<BulkProgress, [BulkControl]>(bulkUpdateNames[action], {
            args: [{ operator: values.operator!, note: values.note! }],
          });
          line(context, `${bulkId}: ${action} accepted; the bulk is ${progress.state}.`);
          line(context, progressLine(progress));
          return exitCodes.ok;
        } catch (error) {
          if (error instanceof WorkflowUpdateFailedError) {
            context.stderr.write(`${bulkId}: ${action} refused: ${failureOf(error)}\n`);
            return exitCodes.failed;
          }
          throw error;
        }
      });
    },
  });
}

export const bulkGroup: GroupCommand = {
  name: 'bulk',
  summary: 'Run many items from a file with bounded concurrency and a progress bar',
  help: `Runs every row of a CSV or JSON-lines file as its ordinary run (refund-and-cancel,
cancel-order, adjust-credit), at most --concurrency at once and --rate starts per second,
as one bulk you can watch (here or in the Temporal UI), pause, resume and cancel.`,
  subcommands: [
    ...bulkKinds.map(kindCommand),
    statusCommand,
    controlCommand('pause', 'Stop starting new items (running ones go on)', 'Stops starting new items; running items go on.'),
    controlCommand('resume', 'Start items again after a pause', 'Starts items again after a pause.'),
    controlCommand('cancel', 'Start no more items; running ones finish and are reported', 'Starts no more items: running ones finish and are reported; the rest end as not started.'),
  ],
};
