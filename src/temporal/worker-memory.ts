/**
 * The worker's memory, decided here, with no setting that can make it unsafe:
 *
 * - **Workflow task slots**: how many workflow tasks one worker runs at once. A task holds
 *   its slot while the run's local first attempts call the APIs (src/run-kit/activity-proxies.ts).
 * - **Workflow cache**: derived from the slots, never set. Every run in a task must be in the
 *   cache: when the cache is full, the SDK evicts its least recently used run, and a run
 *   evicted while its local first attempt is running loses that attempt, which then runs
 *   again (the ledger keeps the effect once, but the API is read again and the run slows
 *   down). Twice the slots leaves as many idle runs as busy ones, and the least recently
 *   used run is an idle one unless as many other runs had a task since the busy one started
 *   its own. Runs beyond it (thousands waiting for a payment) are replayed from their history
 *   when they resume.
 * - **V8 heap limits** of the worker's two JavaScript isolates: the main one (activities,
 *   the ledger, the SDK's bridge) and the workflow thread (the cached runs). Without limits
 *   V8 grows each heap lazily and keeps what it took (a worker with 3,000 waiting runs
 *   reached 739 MB with 160 cached runs); with small young generations and old generations
 *   sized for their work, a worker with thousands of waiting runs stays near its idle size
 *   (docs/benchmarks.md, "Memory by default"). The main isolate's young generation is 8 MB a
 *   semi-space, not 2: at 2 its worker spent up to twice the CPU per saga at concurrency 100
 *   (every scavenge promotes the state of the sagas in flight), for about 30 MB less.
 *
 * The main isolate's limits and glibc's malloc arenas can only be given when Node starts, so
 * `orderflow worker` starts itself again with them ({@link restartWithWorkerHeapLimits}); the workflow
 * thread's are set just before the worker creates it ({@link withWorkflowThreadHeapLimits}).
 * Limits given by hand (NODE_OPTIONS or node's own arguments) are kept as they are.
 */
import { setFlagsFromString } from 'node:v8';

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

/**
 * glibc malloc arenas (MALLOC_ARENA_MAX, read when the process starts): by default up to 8 per
 * core, one per thread that allocates at once (the SDK's native threads, libuv's pool); each
 * keeps what it took. Two hold the worker with 1,000 runs waiting in about 37 MB less
 * (docs/benchmarks.md, "Memory by default"). A value in the environment is kept.
 */
export const mallocArenas = 2;

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
export function restartWithWorkerHeapLimits(options: { readonly ownProcess?: boolean } = {}): void {
  // Only a process that is the worker's own: the `orderflow` command (bin/orderflow runs src/cli.ts
  // or dist/cli.js), or a program that says so (the benchmarks' worker process). A process that runs
  // the worker in-process (a test runner, an embedding program) is not replaced under its owner.
  if (options.ownProcess !== true && !/[\\/](src[\\/]cli\.ts|dist[\\/]cli\.js)$/.test(process.argv[1] ?? '')) return;
  if (heapLimitsGivenByHand(process.execArgv, process.env['NODE_OPTIONS'])) return;
  if (typeof process.execve !== 'function') return;
  const env = { ...process.env, MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] ?? String(mallocArenas) };
  process.execve(process.execPath, [process.execPath, ...mainIsolateHeapFlags, ...process.execArgv, ...process.argv.slice(1)], env);
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
