/**
 * Measuring helpers shared by the benchmarks: CPU time of a process (Linux /proc), RSS,
 * percentiles, quick mode, and tables printed as Markdown (pasteable into the README).
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** `BENCH_QUICK=1` or `--quick`: fewer sagas and runs, so one benchmark fits in a few minutes on 2 cores. */
export const quick = process.env['BENCH_QUICK'] === '1' || process.argv.includes('--quick');

const clockTicksPerSecond = 100;

/** User + system CPU milliseconds a process (all its threads) has used so far; Linux only. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicksPerSecond;
}

/** Resident set size of a process in MB; Linux only. */
export function processRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const index = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[index]!;
}

/** One line about the machine, for the README table. */
export function machineLine(): string {
  const cpu = cpus();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GB RAM, ` +
    `Node ${process.version}, load average ${load} at the end`;
}

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

export function ratio(value: number, baseline: number): string {
  return Number.isFinite(value) && Number.isFinite(baseline) && baseline !== 0 ? `${(value / baseline).toFixed(2)}` : '–';
}

/** CPU milliseconds `pid` uses per second, over `windowMs`. */
export async function cpuMsPerSecond(pid: number, windowMs = 1_000): Promise<number> {
  const before = processCpuMs(pid);
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return ((processCpuMs(pid) - before) * 1000) / windowMs;
}

/**
 * Waits until `pid` is back to its idle CPU use (`idleMsPerSecond`, measured before any
 * load), at most `limitMs`: a Temporal server keeps working for a while after a burst of
 * runs (visibility, transfer and timer tasks), and a scenario measured meanwhile pays for
 * the previous one. Returns how long it waited.
 */
export async function settle(pid: number, idleMsPerSecond: number, limitMs = 30_000): Promise<number> {
  const startedAt = performance.now();
  const quiet = Math.max(idleMsPerSecond * 1.5, idleMsPerSecond + 30);
  while (performance.now() - startedAt < limitMs) {
    if ((await cpuMsPerSecond(pid, 500)) <= quiet) break;
  }
  return performance.now() - startedAt;
}
