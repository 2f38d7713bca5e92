/**
 * `orderflow bulk`: the whole file is checked before anything is sent — every bad row with
 * its line number, nothing started, exit 2 — and the bulk id comes from the file's rows
 * (CSV or JSON lines, whoever runs it).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.ts';
import { bulkIdOf } from '../../src/features/bulk/client.ts';
import { BulkFileError, parseBulkFile } from '../../src/cli/bulk-file.ts';
import { progressLine } from '../../src/cli/bulk.ts';

function capture(): { write(chunk: string): boolean; text(): string } {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk) > 0, text: () => chunks.join('') };
}

describe('orderflow bulk: the file', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'orderflow-bulk-cli-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function run(args: string[], files: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text);
    const stdout = capture();
    const stderr = capture();
    // Nothing listens here: a command that tried to reach Temporal would fail with exit 1.
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', USER: 'tester' };
    const code = await runCli(args.map((arg) => (arg in files ? join(directory, arg) : arg)), { env, stdout, stderr });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  it('refuses a file with bad rows whole: every problem with its line number, exit 2, nothing sent', async () => {
    const csv = [
      'user,order,amount,reason',
      '7,319,5.00,"event cancelled, refund"',
      '8,x,5,ok',
      '9,320,-1,oops',
      '7,319,5.00,again',
      '10,321',
      '',
      '11,322,1.005,too precise',
    ].join('\n');
    const result = await run(['bulk', 'refund-and-cancel', '--file', 'bad.csv'], { 'bad.csv': csv });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('Cannot reach Temporal');
    expect(result.stderr.split('\n').filter((line) => line.startsWith('  line '))).toEqual([
      '  line 3: order must be a whole number ≥ 1 (got "x")',
      expect.stringMatching(/^ {2}line 4: amount "-1" /),
      '  line 5: the same item as line 2 (refund-and-cancel:7:319); each item may appear once',
      '  line 6: 2 fields, but the header has 4',
      '  line 6: amount, reason are required',
      expect.stringMatching(/^ {2}line 8: amount "1.005" /),
    ]);
    expect(result.stderr).toContain('6 problems; nothing was started.');
  });

  it('refuses unknown columns, JSON-lines errors, an empty file and bad limits', async () => {
    const header = await run(['bulk', 'cancel-order', '--file', 'h.csv'], { 'h.csv': 'user,order,amount\n7,319,5\n' });
    expect(header.code).toBe(2);
    expect(header.stderr).toContain('line 1: unknown column "amount" (column 3); the columns are user, order, justclick-bill, requester, reason');
    const lines = await run(['bulk', 'adjust-credit', '--file', 'a.jsonl'], {
      'a.jsonl': '{"user":7,"action":"add","amount":"1.00","description":"price error","reason":"refund"}\n{"user":7,"action":"give"}\nnot json\n',
    });
    expect(lines.code).toBe(2);
    expect(lines.stderr).toContain('line 2: amount, description, reason are required');
    expect(lines.stderr).toMatch(/line 3: not JSON/);
    const empty = await run(['bulk', 'cancel-order', '--file', 'e.csv'], { 'e.csv': 'user,order\n' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the file has no items');
    const limits = await run(['bulk', 'cancel-order', '--file', 'ok.csv', '--concurrency', '0'], { 'ok.csv': 'user,order\n7,319\n' });
    expect(limits.code).toBe(2);
    expect(limits.stderr).toContain('--concurrency "0" must be a whole number from 1 to 200.');
    const twice = await run(['bulk', 'cancel-order', '--file', 'ok.csv', '--rate', '5', '--rate', '50'], { 'ok.csv': 'user,order\n7,319\n' });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('--rate is given 2 times ("5", "50"); give it once.');
    const report = await run(['bulk', 'cancel-order', '--file', 'ok.csv', '--report', 'r.csv'], { 'ok.csv': 'user,order\n7,319\n' });
    expect(report.code).toBe(2);
    expect(report.stderr).toContain('--report goes with --wait');
  });

  it('derives the bulk id from the rows: CSV and JSON lines of the same items, run by anyone, are one bulk', () => {
    const csv = parseBulkFile('refund-and-cancel', 'a.csv', 'amount,user,order,reason\n5,7,319,late\n', { USER: 'anna' });
    const jsonLines = parseBulkFile('refund-and-cancel', 'b.jsonl', '{"user":"7","order":319,"amount":"5","reason":"late"}\n', { USER: 'bob' });
    const key = (file: typeof csv) => file.rows.map((row) => Object.fromEntries(Object.entries(row.values).sort(([a], [b]) => a.localeCompare(b))));
    const idOf = (file: typeof csv) => bulkIdOf({}, { kind: file.kind, items: file.items, contentKey: key(file) });
    expect(idOf(csv)).toBe(idOf(jsonLines));
    expect(idOf(csv)).toMatch(/^bulk:refund-and-cancel:[0-9a-f]{20}$/);
    const other = parseBulkFile('refund-and-cancel', 'c.csv', 'user,order,amount,reason\n7,319,6,late\n', {});
    expect(idOf(other)).not.toBe(idOf(csv));
    expect(csv.items[0]).toMatchObject({ userId: 7, orderId: 319, amount: '5.00', requestedBy: 'anna' });
    expect(() => parseBulkFile('refund-and-cancel', 'q.csv', 'user,order,amount\n7,"319,5\n', {})).toThrow(BulkFileError);
  });

  it('shows progress with counts and an ETA', () => {
    const startedAt = new Date(Date.now() - 10_000).toISOString();
    const text = progressLine({
      bulkId: 'b', kind: 'refund-and-cancel', state: 'running', concurrency: 20, rate: 10, startedAt, waiting: [], failed: [], controls: [],
      counts: { total: 100, done: 20, failed: 3, waiting: 2, running: 20, notStarted: 0, queued: 55 },
    });
    expect(text).toMatch(/^\[#{8}\.{22}\] 25\/100 done 20 · failed 3 · waiting 2 · running 20 · running · ETA 0:(29|30|31)$/);
  });
});
