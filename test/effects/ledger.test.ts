/**
 * One suite for both ledger backends: SQLite on a temp file, and PostgreSQL at
 * ORDERFLOW_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) in a fresh
 * schema per run, dropped afterwards. Unreachable PostgreSQL skips that half with a warning,
 * except when CI is set: then the suite fails.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BusinessKeyHeldError,
  EffectKeyConflictError,
  EffectNotFoundError,
  EffectTransitionError,
  InvalidLedgerInputError,
  LedgerClosedError,
  LedgerConfigError,
  LedgerError,
  UserLockLostError,
  UserLockTimeoutError,
  effectKey,
  effectStates,
  openLedger,
  parseEffectKey,
} from '../../src/ledger/index.ts';
import type { EffectLedger, EffectState, JsonValue, OpenLedgerOptions } from '../../src/ledger/index.ts';
import { describePostgresUrl } from '../../src/ledger/postgres.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import type { LedgerConfig } from '../../src/config.ts';

/** The ledger an ORDERFLOW_LEDGER value names, parsed by the one parser (loadConfig). */
function ledgerAt(url: string): LedgerConfig {
  return loadConfig({ ORDERFLOW_LEDGER: url }, ['ledger']).ledger;
}

const ledgerModuleUrl = pathToFileURL(resolve(fileURLToPath(import.meta.url), '../../../src/ledger/index.ts')).href;
const configModuleUrl = pathToFileURL(resolve(fileURLToPath(import.meta.url), '../../../src/config.ts')).href;
const postgresUrl = process.env['ORDERFLOW_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function probePostgres(url: string): Promise<string | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const postgresProblem = await probePostgres(postgresUrl);
if (postgresProblem !== undefined) {
  if (process.env['CI']) {
    throw new Error(
      `PostgreSQL at ${describePostgresUrl(postgresUrl)} is not reachable (${postgresProblem}) and CI is set: ` +
        'CI must run the PostgreSQL half of the ledger suite. Start PostgreSQL or set ORDERFLOW_TEST_POSTGRES_URL.',
    );
  }
  console.warn(
    `Skipping the PostgreSQL half of the ledger suite: ${describePostgresUrl(postgresUrl)} is not reachable (${postgresProblem}). ` +
      'Set ORDERFLOW_TEST_POSTGRES_URL to run it.',
  );
}

interface Backend {
  name: 'sqlite' | 'postgres';
  skipReason: string | undefined;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** URL and options that open this run's ledger (here or in a child process). */
  target(): { url: string; options: OpenLedgerOptions };
  /** Runs SQL directly against this run's database, bypassing the ledger. */
  raw(sql: string): Promise<Array<Record<string, unknown>>>;
}

function sqliteBackend(): Backend {
  let directory = '';
  const path = (): string => join(directory, 'nested', 'dir', 'ledger.db');
  return {
    name: 'sqlite',
    skipReason: undefined,
    async setUp() {
      directory = mkdtempSync(join(tmpdir(), 'orderflow-ledger-'));
    },
    async tearDown() {
      rmSync(directory, { recursive: true, force: true });
    },
    target: () => ({ url: `sqlite:${path()}`, options: {} }),
    async raw(sql) {
      const database = new DatabaseSync(path(), { timeout: 5_000 });
      try {
        return database.prepare(sql).all() as Array<Record<string, unknown>>;
      } finally {
        database.close();
      }
    },
  };
}

function postgresBackend(): Backend {
  const schema = `orderflow_ledger_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const withClient = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: postgresUrl, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    name: 'postgres',
    skipReason: postgresProblem,
    async setUp() {
      await withClient((client) => client.query(`CREATE SCHEMA ${schema}`));
    },
    async tearDown() {
      await withClient((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
    target: () => ({ url: postgresUrl, options: { postgresSchema: schema } }),
    raw: (sql) => withClient(async (client) => (await client.query(sql)).rows as Array<Record<string, unknown>>),
  };
}

/** A child Node process that takes a user's lock, says LOCKED, and holds it until killed. */
function spawnLockHolder(
  target: { url: string; options: OpenLedgerOptions },
  userId: string,
  owner: string,
  leaseMs: number,
): { child: ChildProcess; locked: Promise<void>; exited: Promise<NodeJS.Signals | number | null> } {
  const code = `
    const { openLedger } = await import(${JSON.stringify(ledgerModuleUrl)});
    const { loadConfig } = await import(${JSON.stringify(configModuleUrl)});
    const { url, options, userId, owner, leaseMs } = JSON.parse(process.env.LOCK_HOLDER);
    setTimeout(() => process.exit(3), 60_000); // never outlive the test
    const ledger = await openLedger(loadConfig({ ORDERFLOW_LEDGER: url }, ['ledger']).ledger, options);
    await ledger.withUserLock(userId, owner, async () => {
      process.stdout.write('LOCKED\\n');
      await new Promise(() => {});
    }, { leaseMs, waitMs: 10_000 });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, LOCK_HOLDER: JSON.stringify({ ...target, userId, owner, leaseMs }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit(signal ?? code));
  });
  const locked = new Promise<void>((resolveLocked, rejectLocked) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('LOCKED\n')) resolveLocked();
    });
    void exited.then((how) => rejectLocked(new Error(`lock holder exited (${String(how)}) before locking: ${stderr}`)));
  });
  return { child, locked, exited };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolveIt: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolveIt = done;
  });
  return { promise, resolve: resolveIt };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

const finalStates: EffectState[] = ['applied', 'resolved-applied'];

describe.each([sqliteBackend(), postgresBackend()])('effect ledger on $name', (backend) => {
  const opened: EffectLedger[] = [];
  let ledger: EffectLedger;
  let other: EffectLedger;
  let keyCounter = 0;
  const uniqueWorkflow = (prefix = 'refund-and-cancel'): string => `${prefix}/${backend.name}/${++keyCounter}`;

  async function open(options: OpenLedgerOptions = {}): Promise<EffectLedger> {
    const target = backend.target();
    const instance = await openLedger(ledgerAt(target.url), { ...target.options, ...options });
    opened.push(instance);
    return instance;
  }

  describe.skipIf(backend.skipReason !== undefined)('in a fresh database', () => {
    beforeAll(async () => {
      await backend.setUp();
      ledger = await open();
      other = await open(); // a second, independent connection to the same ledger
    });

    afterAll(async () => {
      for (const instance of opened) await instance.close();
      await backend.tearDown();
    });

    it('begins, gets and records an effect, keeping the first begin untouched', async () => {
      const workflowId = uniqueWorkflow();
      const key = effectKey(workflowId, 'add-credit', 'run-1');
      expect(await ledger.get(key)).toBeUndefined();

      const begun = await ledger.begin(key, {
        kind: 'credit.add',
        userId: 7,
        request: { amount: '5.50', orderId: 99 },
        observedBefore: { credit: '10.00' },
        runId: 'run-1',
        actor: 'worker-a',
      });
      expect(begun.created).toBe(true);
      expect(begun.effect).toMatchObject({
        key,
        workflowId,
        step: 'add-credit#run-1',
        kind: 'credit.add',
        userId: '7',
        state: 'pending',
        request: { amount: '5.50', orderId: 99 },
        observedBefore: { credit: '10.00' },
        response: null,
        observedAfter: null,
        notes: [],
        attempts: 1,
        revision: 1,
      });
      expect(new Date(begun.effect.createdAt).toISOString()).toBe(begun.effect.createdAt);
      expect(await other.get(key)).toEqual(begun.effect);

      const again = await other.begin(key, { kind: 'credit.add', userId: '7', request: { amount: '9.99' } });
      expect(again.created).toBe(false);
      expect(again.effect).toEqual(begun.effect);

      const applied = await ledger.record(key, 'applied', { response: { ok: { credit: '15.50' } }, note: 'added' });
      expect(applied).toMatchObject({ state: 'applied', response: { ok: { credit: '15.50' } }, attempts: 1, revision: 2 });
      expect(applied.notes).toEqual([{ at: applied.updatedAt, actor: null, text: 'added' }]);
      expect(await other.get(key)).toEqual(applied);

      await expect(ledger.begin(key, { kind: 'order.cancel', userId: 7, request: {} })).rejects.toBeInstanceOf(
        EffectKeyConflictError,
      );
      await expect(ledger.begin(key, { kind: 'credit.add', userId: 8, request: {} })).rejects.toThrow(
        /already used by a credit.add effect for user 7/,
      );
    });

    it('refuses every change to a final state, and only allows the listed transitions', async () => {
      for (const finalState of finalStates) {
        const key = effectKey(uniqueWorkflow(), 'cancel-order', 'run-1');
        await ledger.begin(key, { kind: 'order.cancel', userId: 1, request: { orderId: 5 } });
        if (finalState === 'resolved-applied') await ledger.record(key, 'unknown');
        const final = await ledger.record(key, finalState);
        for (const next of effectStates) {
          const error = await rejectionOf(
            ledger.record(key, next, next === 'pending' ? { observedBefore: { order: null } } : {}),
          );
          expect(error).toBeInstanceOf(EffectTransitionError);
          expect(error).toMatchObject({ key, currentState: finalState, requested: next, reason: 'forbidden' });
          expect((error as Error).message).toContain(`is already ${finalState}, which is final: it cannot become ${next}`);
        }
        await expect(ledger.recordAttempt(key)).rejects.toMatchObject({ reason: 'forbidden', requested: 'attempt' });
        expect(await ledger.get(key)).toEqual(final);
      }

      // pending -> unknown -> (not applied) -> resolved-not-applied -> pending again -> applied
      const key = effectKey(uniqueWorkflow(), 'add-credit', 'run-1');
      await ledger.begin(key, { kind: 'credit.add', userId: 2, request: { amount: '1.00' }, observedBefore: { credit: '0.00' } });
      expect((await ledger.recordAttempt(key)).attempts).toBe(2);
      await ledger.record(key, 'unknown', { response: { outcome: 'unknown', code: 'UND_ERR_SOCKET' } });
      await expect(ledger.record(key, 'applied')).rejects.toThrow(
        /is unknown and cannot become applied: from unknown it may only become resolved-applied or resolved-not-applied\. Reconcile first/,
      );
      const resolved = await ledger.record(key, 'resolved-not-applied', { observedAfter: { credit: '0.00' }, actor: 'ops-anna', note: 'credit unchanged' });
      expect(resolved).toMatchObject({ state: 'resolved-not-applied', observedAfter: { credit: '0.00' }, attempts: 2 });
      expect(resolved.notes).toEqual([{ at: resolved.updatedAt, actor: 'ops-anna', text: 'credit unchanged' }]);
      await expect(ledger.record(key, 'pending')).rejects.toBeInstanceOf(InvalidLedgerInputError);
      const armed = await ledger.record(key, 'pending', { observedBefore: { credit: '0.00', checked: 2 } });
      expect(armed).toMatchObject({ state: 'pending', attempts: 3, observedBefore: { credit: '0.00', checked: 2 } });
      // The earlier response stays until a new one is recorded.
      expect(armed.response).toEqual({ outcome: 'unknown', code: 'UND_ERR_SOCKET' });
      expect((await ledger.record(key, 'applied', { response: { ok: true } })).state).toBe('applied');

      // A rejection did not apply: only a new attempt (pending, with a fresh observation) may follow.
      const rejectedKey = effectKey(uniqueWorkflow(), 'process-order', 'run-1');
      await ledger.begin(rejectedKey, { kind: 'order.process', userId: 3, request: { orderId: 9 }, observedBefore: { due: '5.00' } });
      await ledger.record(rejectedKey, 'rejected', { response: { code: 'ERROR_AMOUNT_DUE' } });
      for (const next of effectStates.filter((state) => state !== 'pending')) {
        await expect(ledger.record(rejectedKey, next)).rejects.toMatchObject({ currentState: 'rejected', requested: next, reason: 'forbidden' });
      }
      await expect(ledger.record(rejectedKey, 'pending')).rejects.toBeInstanceOf(InvalidLedgerInputError);
      expect(await ledger.record(rejectedKey, 'pending', { observedBefore: { due: '0.00' } })).toMatchObject({ state: 'pending', attempts: 2 });

      await expect(ledger.record(effectKey(uniqueWorkflow(), 'never-begun', 'run-1'), 'applied')).rejects.toBeInstanceOf(EffectNotFoundError);
      await expect(ledger.record(key, 'done' as EffectState)).rejects.toBeInstanceOf(InvalidLedgerInputError);
    });

    it('compare-and-sets on revision when asked to', async () => {
      const key = effectKey(uniqueWorkflow(), 'process-order', 'run-1');
      const { effect } = await ledger.begin(key, { kind: 'order.process', userId: 3, request: { orderId: 1 } });
      await other.addNote(key, { text: 'looked at it', actor: 'ops-bob' });
      const error = await rejectionOf(ledger.record(key, 'applied', { expectRevision: effect.revision }));
      expect(error).toBeInstanceOf(EffectTransitionError);
      expect(error).toMatchObject({ reason: 'stale', currentState: 'pending', currentRevision: 2, requested: 'applied' });
      expect((error as Error).message).toMatch(/changed since it was read \(revision 1, now 2, state pending\)/);
      expect((await ledger.record(key, 'applied', { expectRevision: 2 })).revision).toBe(3);
    });

    it('lets exactly one of two racing workers record an outcome', async () => {
      const rounds = 15;
      for (let round = 0; round < rounds; round++) {
        const key = effectKey(uniqueWorkflow('race'), 'add-credit', 'run-1');
        await ledger.begin(key, { kind: 'credit.add', userId: 4, request: { round } });
        const [first, second]: [EffectState, EffectState] = round % 3 === 0 ? ['applied', 'applied'] : ['applied', 'unknown'];
        const results = await Promise.allSettled([
          ledger.record(key, first, { response: { by: 'a' } }),
          other.record(key, second, { response: { by: 'b' } }),
        ]);
        const winners = results.filter((result) => result.status === 'fulfilled');
        const losers = results.filter((result) => result.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(1);
        expect(losers[0]?.reason).toBeInstanceOf(EffectTransitionError);
        const stored = await ledger.get(key);
        expect(stored).toEqual(winners[0]?.value);
        const events = await other.listAudit({ effectKey: key });
        expect(events.map((event) => event.event)).toEqual(['effect.pending', `effect.${stored?.state}`]);
      }
    });

    it('lets exactly one of two racing workers begin an effect', async () => {
      for (let round = 0; round < 10; round++) {
        const key = effectKey(uniqueWorkflow('race'), 'delete-justclick-order', 'run-1');
        const results = await Promise.all([
          ledger.begin(key, { kind: 'justclick.delete', request: { orderId: `jc-${round}` } }),
          other.begin(key, { kind: 'justclick.delete', request: { orderId: `jc-${round}` } }),
        ]);
        expect(results.filter((result) => result.created)).toHaveLength(1);
        expect(results[0].effect).toEqual(results[1].effect);
        expect((await ledger.listAudit({ effectKey: key })).map((event) => event.event)).toEqual(['effect.pending']);
      }
    });

    it('writes an audit event with each change, and lists audit events by filter', async () => {
      const workflowId = uniqueWorkflow();
      const key = effectKey(workflowId, 'subtract-credit', 'run-1');
      await ledger.begin(key, { kind: 'credit.subtract', userId: 11, request: { amount: '2.00' }, observedBefore: { credit: '5.00' }, runId: 'r1', actor: 'worker-1' });
      await ledger.recordAttempt(key, { runId: 'r2', actor: 'worker-2' });
      await ledger.record(key, 'unknown', { response: { code: 'HTTP_502' }, runId: 'r2' });
      await ledger.addNote(key, { text: 'checking credit by hand', actor: 'ops-anna' });
      await ledger.record(key, 'resolved-applied', { observedAfter: { credit: '3.00' }, actor: 'ops-anna', note: 'credit went down by 2.00' });
      const custom = await other.audit({
        workflowId,
        runId: 'r3',
        userId: 11,
        event: 'operator.decision',
        details: { action: 'retry', note: 'go' },
        actor: 'ops-anna',
        at: '2030-01-02T03:04:05.678Z',
      });
      expect(custom).toMatchObject({ workflowId, runId: 'r3', userId: '11', effectKey: null, event: 'operator.decision', at: '2030-01-02T03:04:05.678Z' });

      const byEffect = await other.listAudit({ effectKey: key });
      expect(byEffect.map((event) => [event.event, event.runId, event.actor])).toEqual([
        ['effect.pending', 'r1', 'worker-1'],
        ['effect.attempt', 'r2', 'worker-2'],
        ['effect.unknown', 'r2', null],
        ['effect.note', null, 'ops-anna'],
        ['effect.resolved-applied', null, 'ops-anna'],
      ]);
      expect(byEffect.every((event) => event.workflowId === workflowId && event.userId === '11')).toBe(true);
      expect(byEffect[0]?.details).toEqual({ kind: 'credit.subtract', to: 'pending', attempts: 1, revision: 1, request: { amount: '2.00' }, observedBefore: { credit: '5.00' } });
      expect(byEffect[2]?.details).toEqual({ kind: 'credit.subtract', from: 'pending', to: 'unknown', response: { code: 'HTTP_502' }, attempts: 2, revision: 3 });
      expect(byEffect[4]?.details).toMatchObject({ from: 'unknown', to: 'resolved-applied', observedAfter: { credit: '3.00' }, note: 'credit went down by 2.00', revision: 5 });
      const ids = byEffect.map((event) => event.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);

      const byWorkflow = await ledger.listAudit({ workflowId });
      expect(byWorkflow).toHaveLength(6);
      expect(byWorkflow.at(-1)).toEqual(custom);
      expect(await ledger.listAudit({ userId: '11', event: 'operator.decision' })).toEqual([custom]);
      expect(await ledger.listAudit({ workflowId, limit: 2 })).toEqual(byWorkflow.slice(0, 2));

      // Append-only, even for someone with direct database access.
      await expect(backend.raw(`UPDATE audit_events SET event = 'x' WHERE id = ${custom.id}`)).rejects.toThrow(/append-only/);
      await expect(backend.raw(`DELETE FROM audit_events WHERE id = ${custom.id}`)).rejects.toThrow(/append-only/);
      expect(await ledger.listAudit({ workflowId })).toEqual(byWorkflow);
    });

    it('lists effects by workflow, user, state and kind', async () => {
      const workflowId = uniqueWorkflow('adjust-credit');
      const a = effectKey(workflowId, 'add', 'run-1');
      const b = effectKey(workflowId, 'subtract', 'run-1');
      const c = effectKey(workflowId, 'jc-delete', 'run-1');
      await ledger.begin(a, { kind: 'credit.add', userId: 500, request: {} });
      await ledger.begin(b, { kind: 'credit.subtract', userId: 500, request: {} });
      await ledger.begin(c, { kind: 'justclick.delete', request: {} });
      await ledger.record(b, 'rejected', { response: { error: 'ERROR_CANT_SUBTRACT' } });
      expect((await other.listEffects({ workflowId })).map((effect) => effect.key)).toEqual([a, b, c]);
      expect((await other.listEffects({ userId: 500 })).map((effect) => effect.key)).toEqual([a, b]);
      expect((await other.listEffects({ workflowId, state: 'rejected' })).map((effect) => effect.key)).toEqual([b]);
      expect((await other.listEffects({ workflowId, state: ['pending', 'rejected'] })).map((effect) => effect.key)).toEqual([a, b, c]);
      expect((await other.listEffects({ workflowId, kind: 'justclick.delete' }))[0]?.userId).toBeNull();
      expect(await other.listEffects({ workflowId, limit: 1 })).toHaveLength(1);
    });

    it('keeps JSON strings and numbers exactly, and refuses what JSON would change or must not hold', async () => {
      const request = {
        amount: '5.50',
        zeroPadded: '007',
        longDigits: '12345678901234567890.10',
        text: 'Привет, 日本語 🎉 "quoted" \\ back\nslash\ttab',
        numbers: [0, -1, 0.1, 1e-7, 123456789.125, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e21, 5.5],
        nested: { z: 1, a: [true, false, null, { deep: '' }] },
        empty: {},
        emptyList: [],
      };
      const key = effectKey(uniqueWorkflow(), 'json', 'run-1');
      await ledger.begin(key, { kind: 'order.process', userId: 8, request, observedBefore: 'just a string' });
      await ledger.record(key, 'applied', { response: 1.1, observedAfter: [null] });
      const stored = await other.get(key);
      expect(stored?.request).toEqual(request);
      expect(JSON.stringify(stored?.request)).toBe(JSON.stringify(request)); // key order too
      expect(stored?.observedBefore).toBe('just a string');
      expect(stored?.response).toBe(1.1);
      expect(stored?.observedAfter).toEqual([null]);
      const [begun] = await other.listAudit({ effectKey: key });
      expect(JSON.stringify((begun?.details as { request: JsonValue }).request)).toBe(JSON.stringify(request));

      const refused: Array<[string, unknown, RegExp]> = [
        ['NaN', { amount: Number.NaN }, /NaN at \$\.amount/],
        ['Infinity', [1, Number.POSITIVE_INFINITY], /Infinity at \$\[1\]/],
        ['a Date', { at: new Date(0) }, /non-plain object at \$\.at/],
        ['a bigint', { cents: 5n }, /bigint at \$\.cents/],
        ['a secret', { login: 'shop', secret: 'x' }, /property named "secret"/],
        ['a signature', { nested: { signature: 'abc' } }, /property named "signature"/],
        ['an api key', { apiKey: 'abc' }, /property named "apiKey"/],
      ];
      for (const [, value, message] of refused) {
        const refusedKey = effectKey(uniqueWorkflow(), 'refused', 'run-1');
        const error = await rejectionOf(ledger.begin(refusedKey, { kind: 'credit.add', userId: 1, request: value as JsonValue }));
        expect(error).toBeInstanceOf(InvalidLedgerInputError);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain('abc');
        expect(await ledger.get(refusedKey)).toBeUndefined();
      }
      await expect(ledger.record(key, 'applied', { response: { password: 'p' } })).rejects.toBeInstanceOf(InvalidLedgerInputError);
    });

    it('validates effect keys and other inputs', async () => {
      expect(parseEffectKey('refund-and-cancel/7/99/add-credit#run-1')).toEqual({
        workflowId: 'refund-and-cancel/7/99', step: 'add-credit', firstExecutionRunId: 'run-1', tail: 'add-credit#run-1',
      });
      expect(() => effectKey('w/1', 'add#credit', 'run-1')).toThrow(/"add#credit#run-1" must be a step and a run id/);
      for (const bad of ['', 'no-slash', 'workflow/step-without-run-id', '/step', 'workflow/', 'workflow/bad step', 'workflow/a/', `workflow/${'s'.repeat(201)}`, `${'w'.repeat(1001)}/step`, 'work\nflow/step', 'workflow/step#', 'workflow/step#a#b', 'workflow/#run']) {
        await expect(ledger.get(bad)).rejects.toBeInstanceOf(InvalidLedgerInputError);
      }
      const key = effectKey(uniqueWorkflow(), 'inputs', 'run-1');
      await expect(ledger.begin(key, { kind: 'Credit Add', request: {} })).rejects.toThrow(/Effect kind "Credit Add"/);
      await expect(ledger.begin(key, { kind: 'credit.add', userId: -1, request: {} })).rejects.toThrow(/Store user id -1/);
      await expect(ledger.begin(key, { kind: 'credit.add', userId: 'a b', request: {} })).rejects.toBeInstanceOf(InvalidLedgerInputError);
      await expect(ledger.withUserLock(1, '', async () => 1)).rejects.toThrow(/Lock owner/);
      await expect(ledger.withUserLock(1, 'x', async () => 1, { leaseMs: 5 })).rejects.toThrow(/leaseMs/);
      await expect(ledger.audit({ workflowId: 'w', event: 'Bad Event', details: {} })).rejects.toBeInstanceOf(InvalidLedgerInputError);
      await expect(ledger.audit({ workflowId: 'w', event: 'ok.event', details: {}, at: 'yesterday' })).rejects.toThrow(/not a valid date/);
      await expect(ledger.listEffects({ limit: 0 })).rejects.toThrow(/limit/);
    });

    it('excludes a second holder of a user lock across two ledger instances', async () => {
      const userId = `lock-${backend.name}-1`;
      const held = deferred();
      const release = deferred();
      let active = 0;
      const first = ledger.withUserLock(userId, 'worker-a/activity-1', async (lock) => {
        active += 1;
        expect(lock).toMatchObject({ userId, owner: 'worker-a/activity-1' });
        expect(lock.signal.aborted).toBe(false);
        held.resolve();
        await release.promise;
        active -= 1;
        return 'first';
      });
      await held.promise;

      const error = await rejectionOf(other.withUserLock(userId, 'worker-b/activity-2', async () => 'never', { waitMs: 200 }));
      expect(error).toBeInstanceOf(UserLockTimeoutError);
      const timeout = error as UserLockTimeoutError;
      expect(timeout.userId).toBe(userId);
      expect(timeout.holder).toBe('worker-a/activity-1');
      expect(new Date(timeout.heldUntil ?? '').toISOString()).toBe(timeout.heldUntil);
      expect(timeout.message).toMatch(
        new RegExp(
          `^Timed out after \\d+ ms waiting for the lock on store user "${userId}": it is held by "worker-a/activity-1" until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z .*Retry later`,
        ),
      );

      // Another user is not blocked.
      expect(await other.withUserLock(`${userId}-other`, 'worker-b', async () => 'free', { waitMs: 0 })).toBe('free');

      // A waiter gets the lock once the holder lets go, never while it holds it.
      const second = other.withUserLock(userId, 'worker-b/activity-2', async () => {
        expect(active).toBe(0);
        return 'second';
      }, { waitMs: 20_000 });
      await sleep(100);
      release.resolve();
      expect(await first).toBe('first');
      expect(await second).toBe('second');
      expect(await backend.raw(`SELECT * FROM user_locks WHERE user_id = '${userId}'`)).toEqual([]);
    });

    it('never lets two holders in at once under contention, and releases when fn throws', async () => {
      const userId = `lock-${backend.name}-2`;
      let active = 0;
      let maxActive = 0;
      let entered = 0;
      const work = async (): Promise<void> => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        entered += 1;
        await sleep(5);
        active -= 1;
      };
      await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          (index % 2 === 0 ? ledger : other).withUserLock(userId, `worker-${index}`, work, { waitMs: 25_000 }),
        ),
      );
      expect(entered).toBe(12);
      expect(maxActive).toBe(1);

      await expect(ledger.withUserLock(userId, 'thrower', async () => {
        throw new Error('boom');
      })).rejects.toThrow('boom');
      expect(await other.withUserLock(userId, 'after-throw', async () => 'ok', { waitMs: 0 })).toBe('ok');
    });

    it('hands a held lock on within a process, and lets it go when the last waiter gives up', async () => {
      const userId = `lock-${backend.name}-handoff`;
      let releaseFirst!: () => void;
      const firstHolds = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      let firstIn!: () => void;
      const firstEntered = new Promise<void>((resolve) => {
        firstIn = resolve;
      });
      const first = ledger.withUserLock(userId, 'first', async () => {
        firstIn();
        await firstHolds;
      });
      await firstEntered;
      // A waiter in the same process that gives up, then one that stays.
      await expect(ledger.withUserLock(userId, 'impatient', async () => 'never', { waitMs: 50 })).rejects.toBeInstanceOf(UserLockTimeoutError);
      let secondHeld = false;
      const second = ledger.withUserLock(userId, 'second', async () => {
        secondHeld = true;
        // Handed on, the lease still keeps other processes out.
        await expect(other.withUserLock(userId, 'outsider', async () => 'never', { waitMs: 0 })).rejects.toBeInstanceOf(UserLockTimeoutError);
      }, { waitMs: 5_000 });
      releaseFirst();
      await Promise.all([first, second]);
      expect(secondHeld).toBe(true);
      // The last holder of the chain released it: another process gets it at once.
      expect(await other.withUserLock(userId, 'after-chain', async () => 'ok', { waitMs: 0 })).toBe('ok');
    });

    it('decides a change on the database row when the row this ledger remembers is stale', async () => {
      const key = effectKey(uniqueWorkflow(), 'add-credit', 'run-1');
      await ledger.begin(key, { kind: 'credit.add', userId: 5, request: { amount: '1.00' } });
      await other.record(key, 'applied', { response: { by: 'other' } });
      // `ledger` last saw the row pending; the database says applied (final).
      await expect(ledger.record(key, 'unknown')).rejects.toMatchObject({ currentState: 'applied', reason: 'forbidden' });
      expect(await ledger.addNote(key, { text: 'seen' })).toMatchObject({ state: 'applied', revision: 3, response: { by: 'other' } });
      expect((await other.listAudit({ effectKey: key })).map((event) => event.event)).toEqual(['effect.pending', 'effect.applied', 'effect.note']);
    });

    it('renews the lease while fn runs, and signals when the lease is lost', async () => {
      const userId = `lock-${backend.name}-3`;
      const lost = await ledger.withUserLock(userId, 'slow-worker', async (lock) => {
        await sleep(3_100); // more than three leases (a lease long enough that one slow PostgreSQL round trip on a busy machine does not lose it)
        await expect(other.withUserLock(userId, 'impatient', async () => 'never', { waitMs: 0 })).rejects.toBeInstanceOf(
          UserLockTimeoutError,
        );
        // Someone (a paused holder's lease running out) takes it away.
        await backend.raw(`UPDATE user_locks SET expires_at = 0 WHERE user_id = '${userId}'`);
        const taken = other.withUserLock(userId, 'taker', async () => 'taken', { waitMs: 5_000 });
        // The renewal may already have noticed by now: then the signal is aborted already.
        await new Promise<void>((done) => {
          if (lock.signal.aborted) done();
          else lock.signal.addEventListener('abort', () => done(), { once: true });
        });
        expect(await taken).toBe('taken');
        return lock.signal.reason as unknown;
      }, { leaseMs: 1_000 });
      expect(lost).toBeInstanceOf(UserLockLostError);
      expect((lost as Error).message).toMatch(`Lost the lock on store user "${userId}" held by "slow-worker"`);
    });

    it('excludes a holder in another process, and frees the lock after that process is SIGKILLed', async () => {
      const userId = `lock-${backend.name}-4`;
      const holder = spawnLockHolder(backend.target(), userId, 'child-process-holder', 600);
      try {
        await holder.locked;
        await sleep(1_500); // longer than the lease: the child must be renewing it
        const error = await rejectionOf(ledger.withUserLock(userId, 'parent', async () => 'never', { waitMs: 300 }));
        expect(error).toBeInstanceOf(UserLockTimeoutError);
        expect((error as UserLockTimeoutError).holder).toBe('child-process-holder');

        holder.child.kill('SIGKILL');
        expect(await holder.exited).toBe('SIGKILL');
        // Its lease is no longer renewed and runs out; then the lock can be taken.
        expect(await ledger.withUserLock(userId, 'parent', async () => 'mine', { waitMs: 20_000 })).toBe('mine');
      } finally {
        holder.child.kill('SIGKILL');
      }
    });

    it('holds one effect per business key: a second run\'s refund of the order is refused before anything is written', async () => {
      const businessKey = `refund:7:${++keyCounter}`;
      const first = effectKey(uniqueWorkflow(), 'add-credit', 'run-1');
      const secondWorkflow = uniqueWorkflow('my-own-refund');
      const second = effectKey(secondWorkflow, 'add-credit', 'run-9');
      const begun = await ledger.begin(first, { kind: 'credit.add', userId: 7, request: { amount: '5.00' }, businessKey });
      expect(begun.effect.businessKey).toBe(businessKey);
      expect(await ledger.businessKeyHolder(businessKey)).toMatchObject({ businessKey, effectKey: first, released: false });

      const refused = await rejectionOf(other.begin(second, { kind: 'credit.add', userId: 7, request: { amount: '5.00' }, businessKey }));
      expect(refused).toBeInstanceOf(BusinessKeyHeldError);
      expect(refused).toMatchObject({ businessKey, effectKey: second, holderEffectKey: first, holderState: 'pending' });
      expect((refused as Error).message).toContain(`${businessKey} is already held by effect "${first}"`);
      // Nothing of the refused effect was written: no row, no audit event.
      expect(await ledger.get(second)).toBeUndefined();
      expect(await ledger.listAudit({ workflowId: secondWorkflow })).toEqual([]);
      await ledger.record(first, 'applied', { response: { ok: true } });
      await expect(other.begin(second, { kind: 'credit.add', userId: 7, request: {}, businessKey })).rejects.toBeInstanceOf(BusinessKeyHeldError);
      // The same effect begun again (a retry of the holder) is answered as before.
      expect((await other.begin(first, { kind: 'credit.add', userId: 7, request: {}, businessKey })).created).toBe(false);
      // Effects without a business key are not affected, and the key is checked like any identifier.
      expect((await ledger.begin(second, { kind: 'credit.add', userId: 7, request: {} })).created).toBe(true);
      await expect(ledger.begin(effectKey(uniqueWorkflow(), 'x', 'run-1'), { kind: 'credit.add', request: {}, businessKey: ' refund:1:2' })).rejects.toBeInstanceOf(
        InvalidLedgerInputError,
      );
    });

    it('lets a business key go when its holder did not happen or was undone, and refuses the old holder armed again', async () => {
      const businessKey = `cancel:8:${++keyCounter}`;
      const keyA = effectKey(uniqueWorkflow('cancel-order'), 'cancel-order', 'run-1');
      const keyB = effectKey(uniqueWorkflow('refund-and-cancel'), 'cancel-order', 'run-2');
      const keyC = effectKey(uniqueWorkflow('refund-and-cancel'), 'cancel-order', 'run-3');
      await ledger.begin(keyA, { kind: 'order.cancel', userId: 8, request: {}, businessKey });
      await ledger.record(keyA, 'rejected', { response: { code: 'ERROR_NO_ORDER' } });
      // A did not happen: B takes the key.
      expect((await other.begin(keyB, { kind: 'order.cancel', userId: 8, request: {}, businessKey })).created).toBe(true);
      expect(await ledger.businessKeyHolder(businessKey)).toMatchObject({ effectKey: keyB });
      // A retried (armed again) would be a second cancellation: refused, and A stays rejected.
      await expect(ledger.record(keyA, 'pending', { observedBefore: { order: 'current' } })).rejects.toBeInstanceOf(BusinessKeyHeldError);
      expect((await other.get(keyA))?.state).toBe('rejected');
      // B applied, then undone: released once, and C may take the key.
      await other.record(keyB, 'applied', { response: { ok: true } });
      await expect(ledger.begin(keyC, { kind: 'order.cancel', userId: 8, request: {}, businessKey })).rejects.toBeInstanceOf(BusinessKeyHeldError);
      expect(await ledger.releaseBusinessKey(keyB, { actor: 'test' })).toBe(true);
      expect(await ledger.releaseBusinessKey(keyB)).toBe(false);
      expect((await ledger.listAudit({ effectKey: keyB, event: 'business-key.released' })).map((event) => event.details)).toEqual([{ businessKey }]);
      expect((await ledger.begin(keyC, { kind: 'order.cancel', userId: 8, request: {}, businessKey })).created).toBe(true);
      expect(await other.businessKeyHolder(businessKey)).toMatchObject({ effectKey: keyC, released: false });
      // The holder itself may be armed again after it did not happen.
      await ledger.record(keyC, 'resolved-not-applied', { note: 'operator: it did not happen' });
      expect((await other.record(keyC, 'pending', { observedBefore: { order: 'current' } })).state).toBe('pending');
    });

    it('lets exactly one of two racing runs hold a business key', async () => {
      for (let round = 0; round < 10; round++) {
        const businessKey = `refund:9:${++keyCounter}`;
        const keys = [effectKey(uniqueWorkflow('race-a'), 'add-credit', 'run-1'), effectKey(uniqueWorkflow('race-b'), 'add-credit', 'run-1')] as const;
        const results = await Promise.allSettled([
          ledger.begin(keys[0], { kind: 'credit.add', userId: 9, request: { round }, businessKey }),
          other.begin(keys[1], { kind: 'credit.add', userId: 9, request: { round }, businessKey }),
        ]);
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        const loser = results.find((result) => result.status === 'rejected');
        expect(loser?.reason).toBeInstanceOf(BusinessKeyHeldError);
        const holder = await ledger.businessKeyHolder(businessKey);
        expect(keys).toContain(holder?.effectKey);
        expect(await ledger.get(keys.find((key) => key !== holder?.effectKey) ?? '')).toBeUndefined();
      }
    });

    it('keeps everything when reopened, without migrating twice', async () => {
      const target = backend.target();
      const first = await openLedger(ledgerAt(target.url), target.options);
      const workflowId = uniqueWorkflow();
      const key = effectKey(workflowId, 'persisted', 'run-1');
      await first.begin(key, { kind: 'credit.add', userId: 9, request: { amount: '0.01' }, observedBefore: { credit: '0.00' } });
      const recorded = await first.record(key, 'applied', { response: { ok: true }, note: 'kept' });
      const audit = await first.listAudit({ workflowId });
      await first.close();
      await expect(first.get(key)).rejects.toBeInstanceOf(LedgerClosedError);

      const reopened = await openLedger(ledgerAt(target.url), target.options);
      try {
        expect(await reopened.get(key)).toEqual(recorded);
        expect(await reopened.listAudit({ workflowId })).toEqual(audit);
        // Migrations are recorded once each (PostgreSQL's version 2 adds the insertion-order column; the last adds business keys).
        expect((await backend.raw('SELECT version FROM schema_version ORDER BY version')).map((row) => Number(row['version']))).toEqual(
          backend.name === 'postgres' ? [1, 2, 3] : [1, 2],
        );
        if (backend.name === 'sqlite') {
          expect(await backend.raw('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
        }
      } finally {
        await reopened.close();
      }
    });
  });
});

describe('ledger URLs', () => {
  it('chooses the backend from the URL, in one form each (parsed once, by the configuration)', () => {
    expect(ledgerAt('sqlite:./data/ledger.db')).toEqual({ kind: 'sqlite', path: './data/ledger.db' });
    expect(ledgerAt('sqlite:/var/lib/orderflow/ledger.db')).toEqual({ kind: 'sqlite', path: '/var/lib/orderflow/ledger.db' });
    const postgres = ledgerAt('postgres://u:p@db:5432/orderflow');
    expect(postgres.kind === 'postgres' && postgres.url.reveal()).toBe('postgres://u:p@db:5432/orderflow');
    expect(ledgerAt('postgresql://db/orderflow').kind).toBe('postgres');
    // One form for a file: sqlite:<path>. The URL-like sqlite:///path is refused, not guessed at.
    expect(() => ledgerAt('sqlite:///var/lib/orderflow/ledger.db')).toThrow(/sqlite: URL without a usable file path/);
    expect(() => ledgerAt('mysql://u:hunter2@db/x')).toThrow(ConfigError);
    expect(() => ledgerAt('mysql://u:hunter2@db/x')).not.toThrow(/hunter2/);
    expect(() => ledgerAt('sqlite:')).toThrow(/without a usable file path/);
    expect(describePostgresUrl('postgres://u:hunter2@db:5432/orderflow?password=hunter2')).toBe('postgres://u@db:5432/orderflow');
  });

  it('says where it failed to connect, without the password', async () => {
    const error = await rejectionOf(openLedger(ledgerAt('postgres://orderflow:hunter2@127.0.0.1:1/orderflow'), { postgresConnectTimeoutMs: 5_000 }));
    expect(error).toBeInstanceOf(LedgerError);
    expect((error as Error).message).toMatch(/^Could not open the PostgreSQL ledger at postgres:\/\/orderflow@127\.0\.0\.1:1\/orderflow: /);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(openLedger(ledgerAt(postgresUrl), { postgresSchema: 'x; DROP TABLE y' })).rejects.toThrow(/schema name/);
    await expect(openLedger(ledgerAt('sqlite::memory:'), { postgresSchema: 'x' })).rejects.toBeInstanceOf(LedgerConfigError);
  });
});
