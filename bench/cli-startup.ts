/**
 * CLI start-up benchmark (`npm run bench:cli`; `BENCH_QUICK=1` or `--quick` for fewer
 * runs): wall-clock time of whole `./bin/orderflow` calls, each a fresh process as a
 * shop's script runs it, next to a bare `node -e ''` (the floor no command can go under).
 * The commands are run interleaved, round after round, so a busy moment of the machine
 * costs each of them alike; the minimum is what the code costs, the median and p90 what a
 * loaded machine adds. `api webtv get_credit` calls the WebTV simulator (a process of its
 * own, started first), so it includes one signed HTTP call. Prints a Markdown table; it
 * asserts nothing.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fixed, machineLine, markdownTable, percentile, quick } from './lib/measure.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const launcher = `${root}bin/orderflow`;
const runs = process.env['BENCH_SMOKE'] === '1' ? 2 : quick ? 10 : 25;

const simulator = spawn(process.execPath, [fileURLToPath(new URL('../harness/simulator-process.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
const apiEnv = await new Promise<Record<string, string>>((resolve, reject) => {
  createInterface({ input: simulator.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Record<string, string>));
  simulator.once('exit', (code) => reject(new Error(`the simulator process exited with code ${String(code)} before it served`)));
});

interface Case {
  label: string;
  command: string;
  args: readonly string[];
  /** The exit status a correct run has. */
  exitCode: number;
}

const cases: readonly Case[] = [
  { label: "`node -e ''` (baseline)", command: process.execPath, args: ['-e', ''], exitCode: 0 },
  { label: '`orderflow --version`', command: launcher, args: ['--version'], exitCode: 0 },
  { label: '`orderflow --help`', command: launcher, args: ['--help'], exitCode: 0 },
  { label: '`orderflow api webtv get_credit --user 7`', command: launcher, args: ['api', 'webtv', 'get_credit', '--user', '7'], exitCode: 0 },
  { label: '`orderflow api webtv --help`', command: launcher, args: ['api', 'webtv', '--help'], exitCode: 0 },
  // Loads the Temporal client (the command needs it), but connects to nothing.
  { label: '`orderflow status --help`', command: launcher, args: ['status', '--help'], exitCode: 0 },
  { label: '`orderflow start refund-and-cancel` (bad input, refused before connecting)', command: launcher, args: ['start', 'refund-and-cancel', '--user', 'x'], exitCode: 2 },
];

const env = { PATH: `${root}node_modules/.bin:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: process.env['HOME'] ?? '/tmp', ...apiEnv };

function timeOnce(entry: Case): Promise<number> {
  const began = performance.now();
  const child = spawn(entry.command, entry.args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const elapsed = performance.now() - began;
      if (code !== entry.exitCode) reject(new Error(`${entry.label} exited with ${String(code)}, not ${entry.exitCode}: ${stderr.trim()}`));
      else resolve(elapsed);
    });
  });
}

const times = new Map<Case, number[]>(cases.map((entry) => [entry, []]));
try {
  // One warm-up round (file system cache), not counted.
  for (const entry of cases) await timeOnce(entry);
  for (let round = 0; round < runs; round++) {
    for (const entry of cases) times.get(entry)!.push(await timeOnce(entry));
  }
} finally {
  simulator.kill('SIGTERM');
}

const baseline = Math.min(...times.get(cases[0]!)!);
const rows = cases.map((entry) => {
  const sorted = [...times.get(entry)!].sort((a, b) => a - b);
  const min = sorted[0] ?? NaN;
  return [entry.label, fixed(min, 0), fixed(percentile(sorted, 50), 0), fixed(percentile(sorted, 90), 0), entry === cases[0] ? '–' : fixed(min - baseline, 0)];
});
process.stdout.write(`CLI start-up: ${runs} runs of each command, interleaved (ms, wall clock of the whole process)\n\n`);
process.stdout.write(`${markdownTable(['command', 'min', 'median', 'p90', 'min over baseline'], rows)}\n\n${machineLine()}\n`);
