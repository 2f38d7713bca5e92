/**
 * The worker's memory, decided here with no setting that can make it unsafe: workflow task
 * slots, the workflow cache derived from them (every run in a task must stay cached, or its
 * local first attempt runs again), the V8 heap limits of the main isolate and the workflow
 * thread, and glibc's malloc arenas. Why these numbers: docs/benchmarks.md, "Memory by default".
 */
import { setFlagsFromString } from 'node:v8';

export const workflowTaskSlots = 80;

/**
 * The slots and half as many again: every run in a task stays cached (the SDK refuses fewer), with
 * room for 40 idle runs, so the least recently used run is an idle one. Each cached run costs
 * about 0.4 MB (docs/benchmarks.md, "Memory by default").
 */
export const workflowCacheRuns = workflowTaskSlots + workflowTaskSlots / 2;

/** V8 flags of the main isolate (given when Node starts). */
export const mainIsolateHeapFlags: readonly string[] = ['--max-semi-space-size=8', '--max-old-space-size=128'];

/** V8 flags of the workflow thread: room for the cache (well under 0.5 MB per cached run) and the bundle. */
export const workflowThreadHeapFlags: readonly string[] = ['--max-semi-space-size=2', `--max-old-space-size=${96 + Math.ceil(workflowCacheRuns / 2)}`];

/** glibc malloc arenas (MALLOC_ARENA_MAX, read at start; default up to 8 per core, each keeping what it took). */
export const mallocArenas = 2;

const heapFlagNames = ['max-semi-space-size', 'max-old-space-size', 'max-heap-size', 'max-young-generation-size-mb'];

/** Heap limits given by hand, in node's arguments or NODE_OPTIONS (either spelling, - or _). */
export function heapLimitsGivenByHand(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((argument) => argument.replace(/_/g, '-'));
  return given.some((argument) => heapFlagNames.some((name) => argument === `--${name}` || argument.startsWith(`--${name}=`)));
}

/**
 * Starts this process again (same pid and arguments) with the main isolate's heap limits and the
 * malloc arenas, which are taken only at start, unless limits were given by hand. Call it first thing.
 */
export function restartWithWorkerHeapLimits(options: { readonly ownProcess?: boolean } = {}): void {
  // Only the worker's own process: the `orderflow` command, or a program that says so (the benchmarks'
  // worker). One that embeds the worker (a test runner) is not replaced under its owner.
  if (options.ownProcess !== true && !/[\\/](src[\\/]cli\.ts|dist[\\/]cli\.js)$/.test(process.argv[1] ?? '')) return;
  if (heapLimitsGivenByHand(process.execArgv, process.env['NODE_OPTIONS'])) return;
  if (typeof process.execve !== 'function') return;
  const env = { ...process.env, MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] ?? String(mallocArenas) };
  process.execve(process.execPath, [process.execPath, ...mainIsolateHeapFlags, ...process.execArgv, ...process.argv.slice(1)], env);
}

/** Runs `create` (it starts the workflow thread) under the thread's heap limits, then restores the old ones. */
export async function withWorkflowThreadHeapLimits<T>(create: () => Promise<T>): Promise<T> {
  if (heapLimitsGivenByHand(process.execArgv, process.env['NODE_OPTIONS'])) return create();
  setFlagsFromString(workflowThreadHeapFlags.join(' '));
  try {
    return await create();
  } finally {
    // What this process started with: the main isolate's flags when restarted with them, else V8's defaults (0: its own heuristics).
    const started = new Map(['--max-semi-space-size=0', '--max-old-space-size=0', ...process.execArgv].map((flag) => [flag.split('=')[0], flag] as const));
    setFlagsFromString([started.get('--max-semi-space-size'), started.get('--max-old-space-size')].join(' '));
  }
}
