/**
 * Effect ledger benchmark (`npm run bench:ledger`; `BENCH_QUICK=1` or `--quick` for a short
 * run), on both backends: the embedded SQLite file and PostgreSQL
 * (ORDERFLOW_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test, in a
 * fresh schema that is dropped afterwards).
 *
 * - one effect's life cycle as a changing activity drives the ledger (read; under the
 *   user's lock: read, list the user's unresolved effects, begin, record applied), at
 *   concurrency 1 and 20 (distinct users): ms per effect, and for PostgreSQL the SQL
 *   round trips per effect; CPU of this process per effect (the worker's event loop);
 * - the contended user lock: 5 contenders on one user, each holding it 5 ms (ideal 200 ops/s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Secret } from '../src/config.ts';
import * as currentLedger from '../src/ledger/index.ts';
import type { EffectLedger } from '../src/ledger/types.ts';
import { fixed, machineLine, markdownTable, percentile, quick } from './lib/measure.ts';

/**
 * BENCH_LEDGER_MODULE: the path of another checkout's src/ledger/index.ts (inside this
 * directory, so that it finds node_modules), to measure before and after side by side.
 */
const ledgerModule = process.env['BENCH_LEDGER_MODULE'];
const { openLedger } = (ledgerModule === undefined ? currentLedger : await import(ledgerModule)) as typeof currentLedger;
const postgresUrl = process.env['ORDERFLOW_BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const effectsPerRun = quick ? 300 : 1_500;
const lockSeconds = quick ? 3 : 10;
/** PostgreSQL pool size (BENCH_POSTGRES_POOL); default: the ledger's own default. */
const poolSize = process.env['BENCH_POSTGRES_POOL'];

/** Counts SQL statements sent by `pg` (every client.query is one round trip). */
let postgresQueries = 0;
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  postgresQueries += 1;
  return (originalQuery as (...parameters: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

let runCounter = 0;

/** What a changing activity asks of the ledger for one credit effect (src/activities). */
async function effectLifeCycle(ledger: EffectLedger, userId: number): Promise<void> {
  const key = `bench-${process.pid}-${++runCounter}/add-credit#1`;
  const context = { runId: 'bench-run', actor: 'bench worker' };
  const recorded = await ledger.get(key);
  if (recorded !== undefined) throw new Error(`effect ${key} exists already`);
  await ledger.withUserLock(userId, `bench ${key}`, async () => {
    await ledger.get(key);
    await ledger.listEffects({ userId, state: ['pending', 'unknown'] });
    await ledger.begin(key, { ...context, kind: 'credit.add', userId, request: { creditAction: 'add', amount: '5.50' }, observedBefore: { creditCents: 0, credit: '0.00' } });
    await ledger.record(key, 'applied', { ...context, response: { ok: 'credit added' } });
  });
}

interface LifeCycleResult {
  backend: string;
  concurrency: number;
  msPerEffect: number;
  p50: number;
  p95: number;
  effectsPerSecond: number;
  cpuMsPerEffect: number;
  queriesPerEffect: number | undefined;
}

async function lifeCycles(backend: string, ledger: EffectLedger, concurrency: number): Promise<LifeCycleResult> {
  const latencies: number[] = [];
  const queriesBefore = postgresQueries;
  const cpuBefore = process.cpuUsage();
  let left = effectsPerRun;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (left-- > 0) {
        const began = performance.now();
        await effectLifeCycle(ledger, 1_000 + lane);
        latencies.push(performance.now() - began);
      }
    }),
  );
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  return {
    backend,
    concurrency,
    msPerEffect: latencies.reduce((sum, value) => sum + value, 0) / latencies.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    effectsPerSecond: (latencies.length * 1000) / elapsedMs,
    cpuMsPerEffect: (cpu.user + cpu.system) / 1000 / latencies.length,
    queriesPerEffect: ledger.backend === 'postgres' ? (postgresQueries - queriesBefore) / latencies.length : undefined,
  };
}

/** `contenders` loops on one user, each holding the lock `holdMs`; operations per second. */
async function contendedLock(ledger: EffectLedger, contenders: number, holdMs: number): Promise<{ opsPerSecond: number; waitP95: number }> {
  const userId = 7_000 + runCounter++;
  const stopAt = performance.now() + lockSeconds * 1000;
  let operations = 0;
  const waits: number[] = [];
  await Promise.all(
    Array.from({ length: contenders }, async (_, contender) => {
      while (performance.now() < stopAt) {
        const asked = performance.now();
        await ledger.withUserLock(userId, `bench contender ${contender}`, async () => {
          waits.push(performance.now() - asked);
          await sleep(holdMs);
        }, { waitMs: 30_000 });
        operations += 1;
      }
    }),
  );
  waits.sort((a, b) => a - b);
  return { opsPerSecond: operations / lockSeconds, waitP95: percentile(waits, 95) };
}

/** The same loops on an in-memory mutex: what 5 ms holds allow on this machine right now (ideal 200/s). */
async function inMemoryMutex(contenders: number, holdMs: number): Promise<number> {
  let tail: Promise<void> = Promise.resolve();
  const stopAt = performance.now() + lockSeconds * 1000;
  let operations = 0;
  await Promise.all(
    Array.from({ length: contenders }, async () => {
      while (performance.now() < stopAt) {
        const before = tail;
        let letGo!: () => void;
        tail = new Promise<void>((resolve) => {
          letGo = resolve;
        });
        await before;
        await sleep(holdMs);
        letGo();
        operations += 1;
      }
    }),
  );
  return operations / lockSeconds;
}

const directory = mkdtempSync(join(tmpdir(), 'orderflow-ledger-bench-'));
const schema = `bench_${process.pid}_${Date.now()}`;
const lifeRows: LifeCycleResult[] = [];
const lockRows: string[][] = [];
/** Backends that could not be opened (e.g. no PostgreSQL at ORDERFLOW_BENCH_POSTGRES_URL). */
const unmeasured: string[] = [];
try {
  const backends: Array<[string, () => Promise<EffectLedger>]> = [
    ['SQLite', () => openLedger({ kind: 'sqlite', path: join(directory, 'ledger.db') })],
    ['PostgreSQL', () => openLedger({ kind: 'postgres', url: new Secret(postgresUrl) }, { postgresSchema: schema, ...(poolSize === undefined ? {} : { postgresPoolSize: Number(poolSize) }) })],
  ];
  const mutex = await inMemoryMutex(5, 5);
  lockRows.push(['(in-memory mutex: the ceiling on this machine now)', '5', '5 ms', fixed(mutex, 0), '200', '–']);
  for (const [name, open] of backends) {
    let ledger: EffectLedger;
    try {
      ledger = await open();
    } catch (error) {
      // Say why (the ledger's own message names the server and what to check), measure the rest.
      console.error(`  ${name}: not measured. ${error instanceof Error ? error.message : String(error)}`);
      unmeasured.push(name);
      continue;
    }
    try {
      await lifeCycles(name, ledger, 5); // warm-up: prepared statements, pool
      for (const concurrency of [1, 20]) {
        const result = await lifeCycles(name, ledger, concurrency);
        lifeRows.push(result);
        console.log(`  ${name} life cycle c=${concurrency}: ${fixed(result.msPerEffect, 2)} ms/effect, ${fixed(result.effectsPerSecond, 0)} effects/s` +
          (result.queriesPerEffect === undefined ? '' : `, ${fixed(result.queriesPerEffect)} queries/effect`));
      }
      const lock = await contendedLock(ledger, 5, 5);
      lockRows.push([name, '5', '5 ms', fixed(lock.opsPerSecond, 0), '200', fixed(lock.waitP95, 0)]);
      console.log(`  ${name} contended lock: ${fixed(lock.opsPerSecond, 0)} ops/s`);
    } finally {
      await ledger.close();
    }
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect().then(
    async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
    () => undefined,
  );
}

console.log(`\n### bench:ledger${quick ? ' (quick)' : ''}${ledgerModule === undefined ? '' : ` (${ledgerModule})`}\n\nMachine: ${machineLine()}\n`);
console.log(
  markdownTable(
    ['backend', 'concurrency', 'ms per effect (mean)', 'p50', 'p95', 'effects/s', 'CPU ms/effect (this process)', 'SQL round trips/effect'],
    lifeRows.map((row) => [
      row.backend,
      String(row.concurrency),
      fixed(row.msPerEffect, 2),
      fixed(row.p50, 2),
      fixed(row.p95, 2),
      fixed(row.effectsPerSecond, 0),
      fixed(row.cpuMsPerEffect, 2),
      row.queriesPerEffect === undefined ? '–' : fixed(row.queriesPerEffect),
    ]),
  ),
);
console.log(`\n${markdownTable(['backend', 'contenders', 'held', 'ops/s', 'ideal', 'wait p95 ms'], lockRows)}\n`);
if (unmeasured.length > 0) {
  console.error(`Not measured: ${unmeasured.join(', ')} (see above). For PostgreSQL, set ORDERFLOW_BENCH_POSTGRES_URL to a database this user may create a schema in.`);
  process.exitCode = 1;
}
