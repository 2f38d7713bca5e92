/**
 * The worker's own memory settings (src/temporal/worker-memory.ts): a process that owns itself
 * starts again with the main isolate's heap limits and two malloc arenas; limits or arenas
 * given by hand are kept. And the worker's workflow bundle joins the workflow modules into one scope.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mainIsolateHeapFlags, mallocArenas } from '../../src/temporal/worker-memory.ts';
import { bundleWorkflowsApart } from '../../src/temporal/workflow-bundle.ts';
import { workflowsPath } from '../../src/worker.ts';

const workerMemoryModule = fileURLToPath(new URL('../../src/temporal/worker-memory.ts', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'orderflow-worker-memory-'));
const script = join(directory, 'own-process.ts');
writeFileSync(
  script,
  `import { restartWithWorkerHeapLimits } from ${JSON.stringify(workerMemoryModule)};
restartWithWorkerHeapLimits({ ownProcess: process.env.OWN === '1' });
process.stdout.write(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, arenas: process.env.MALLOC_ARENA_MAX ?? null }));
`,
);

function runScript(env: Record<string, string>, nodeArgs: readonly string[] = []): { pid: number; execArgv: string[]; arenas: string | null } {
  const { MALLOC_ARENA_MAX: _arenas, NODE_OPTIONS: _options, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [...nodeArgs, script], { env: { ...inherited, ...env }, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { pid: number; execArgv: string[]; arenas: string | null };
}

describe.skipIf(typeof process.execve !== 'function')('restartWithWorkerHeapLimits', () => {
  it('starts its own process again with the heap limits and two malloc arenas', () => {
    const seen = runScript({ OWN: '1' });
    expect(seen.execArgv).toEqual(expect.arrayContaining([...mainIsolateHeapFlags]));
    expect(seen.arenas).toBe(String(mallocArenas));
  });

  it('keeps arenas given in the environment', () => {
    expect(runScript({ OWN: '1', MALLOC_ARENA_MAX: '4' }).arenas).toBe('4');
  });

  it('keeps heap limits given by hand, and then changes nothing', () => {
    const seen = runScript({ OWN: '1' }, ['--max-old-space-size=300']);
    expect(seen.execArgv).toEqual(['--max-old-space-size=300']);
    expect(seen.arenas).toBeNull();
  });

  it('leaves a process it does not own alone (a test runner running the worker in-process)', () => {
    const seen = runScript({ OWN: '0' });
    expect(seen.execArgv).toEqual([]);
    expect(seen.arenas).toBeNull();
  });
});

describe('the workflow bundle', () => {
  it('joins the workflow modules into one scope, since every cached run evaluates them again', async () => {
    const code = await bundleWorkflowsApart(workflowsPath, []);
    // One module factory per module of src/ that is not joined (webpack's development output).
    const factories = new Set(code.match(/^\/\*\*\*\/ "\.\/src\/[^"]+"$/gm));
    expect(factories.size).toBeLessThan(6);
    // The workflows' entry module holds the rest, e.g. "./src/workflows/index.ts + 27 modules".
    const joined = Number(/\.\/src\/workflows\/index\.ts \+ (\d+) modules/.exec(code)?.[1] ?? 0);
    expect(joined).toBeGreaterThan(20);
  }, 60_000);
});
