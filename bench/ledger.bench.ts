/**
 * Effect ledger throughput on the embedded SQLite default (measured, not asserted): one
 * effect's life (begin → applied) and one user lock round trip, as an activity does them.
 * Run: npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { openLedger } from '../src/ledger/index.ts';
import type { EffectLedger } from '../src/ledger/types.ts';

const directory = mkdtempSync(join(tmpdir(), 'orderflow-bench-'));
const ledger: EffectLedger = await openLedger({ kind: 'sqlite', path: join(directory, 'ledger.db') });

describe('SQLite ledger', () => {
  let counter = 0;

  afterAll(async () => {
    await ledger.close();
    rmSync(directory, { recursive: true, force: true });
  });

  bench('begin + record applied (one effect)', async () => {
    const key = `bench/${++counter}/add-credit#run`;
    await ledger.begin(key, { kind: 'credit.add', userId: counter % 100, request: { amount: '1.00' }, observedBefore: { creditCents: 0 } });
    await ledger.record(key, 'applied', { response: { ok: 'credit added' } });
  });

  bench('withUserLock round trip', async () => {
    await ledger.withUserLock(++counter % 100, 'bench', async () => undefined, { waitMs: 5_000 });
  });
});
