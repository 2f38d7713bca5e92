/**
 * The worker's memory, decided here with no setting that can make it unsafe: workflow task
 * slots, the workflow cache derived from them (every run in a task must stay cached, or its
 * local first attempt runs again), and the V8 heap limits of the main isolate and the
 * workflow thread. Why these numbers: docs/benchmarks.md, "Memory by default".
 */import { setFlagsFromString } from 'node:v8';

/** Workflow tasks one worker runs at once. */
export const workflowTaskSlots = 80;

/** Runs the workflow cache holds: derived from the slots (see above). */
export const workflowCacheRuns = 2 * workflowTaskSlots;

/** V8 flags of the main isolate (given when Node starts). */
export const mainIsolateHeapFlags: readonly string[] = ['--max-semi-space-size=8', '--max-old-space-size=128'];

/**
 * V8 flags of the workflow thread: a young generation as small as the main one's, and an old
 * generation with room for the cache (well under 0.5 MB of live objects per cached run) and
 * the bundle's code.
 */
export const workflowThreadHeapFlags: readonly string[] = ['--max-semi-space-size=2', `--max-old-space-size=${96 + Math.ceil(workflowCacheRuns / 2)}`];

const heapFlagNames = ['max-semi-space-size', 'max-old-space-size', 'max-heap-size', 'max-young-generation-size-mb'];

/** Heap limits given by hand, in node's arguments or NODE_OPTIONS (either spelling, - or _). */
export function heapLimitsGivenByHand(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((argument) => argument.replace(/_/g, '-'));
  return given.some((argument) => heapFlagNames.some((name) => argument === `--${name}` || argument.startsWith(`--${name}=`)));
}

/**
 * Starts this process again (same pid, same arguments and environment) with the main
 * isolate's heap limits, unless it has them or limits were given by hand. Returns only when
 * nothing needs to change (or the platform cannot replace a process, e.g. Windows: then the
 * worker runs without them). Call it first thing, before any work is done.
 */
export function restartWithWorkerHeapLimits(): void {
  // Only the `orderflow` command's own process (bin/orderflow runs src/cli.ts or dist/cli.js):
  // a process that runs the worker in-process (a test runner, an embedding program) is not
  // replaced under its owner.
  if (!/[\\/](src[\\/]cli\.ts|dist[\\/]cli\.js)$/.test(process.argv[1] ?? '')) return;
  if (heapLimitsGivenByHand(process.execArgv, process.env['NODE_OPTIONS'])) return;
  if (typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, ...mainIsolateHeapFlags, ...process.execArgv, ...process.argv.slice(1)], process.env);
}

/**
 * Runs `create` (which starts the worker's workflow thread) with the workflow thread's heap
 * limits in force, then puts back what was in force before, so that isolates created later in
 * this process are not affected. Limits given by hand are left alone.
 */
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
