/**
 * Business keys (`refund:<user>:<order>`): one money effect per order by any path (docs/money-rules.md).
 * An effect keeps its key unless it did not happen (rejected, resolved-not-applied) or was undone
 * (released: ./sql-ledger.ts); every change is a compare-and-set on the key's revision, in the effect's transaction.
 */
import { BusinessKeyHeldError, LedgerError } from './errors.ts';
import { toInteger } from './sql.ts';
import type { SqlExecutor } from './sql.ts';

/** How often a compare-and-set on a key may lose before we give up (only under pathological contention). */
const maxKeyRounds = 100;

/** Makes `effectKey` the holder of `businessKey` in the caller's transaction, or throws BusinessKeyHeldError. */
export async function holdBusinessKey(tx: SqlExecutor, businessKey: string, effectKey: string, workflowId: string, now: number): Promise<void> {
  for (let round = 0; round < maxKeyRounds; round++) {
    const rows = await tx.query('SELECT effect_key, workflow_id, released, revision FROM business_keys WHERE business_key = $1', [businessKey]);
    const holder = rows[0];
    if (holder === undefined) {
      const inserted = await tx.query(
        `INSERT INTO business_keys (business_key, effect_key, workflow_id, released, revision, updated_at)
         VALUES ($1, $2, $3, 0, 1, $4)
         ON CONFLICT (business_key) DO NOTHING
         RETURNING business_key`,
        [businessKey, effectKey, workflowId, now],
      );
      if (inserted[0] !== undefined) return;
      continue;
    }
    const holderKey = String(holder['effect_key']);
    const released = toInteger(holder['released'], 'released') === 1;
    if (holderKey !== effectKey && !released) {
      const states = await tx.query('SELECT state FROM effects WHERE key = $1', [holderKey]);
      const state = states[0] === undefined ? undefined : String(states[0]['state']);
      if (state !== 'rejected' && state !== 'resolved-not-applied') {
        throw new BusinessKeyHeldError(businessKey, effectKey, holderKey, String(holder['workflow_id']), state ?? 'missing');
      }
    }
    const taken = await tx.query(
      `UPDATE business_keys SET effect_key = $2, workflow_id = $3, released = 0, revision = revision + 1, updated_at = $4
       WHERE business_key = $1 AND revision = $5
       RETURNING business_key`,
      [businessKey, effectKey, workflowId, now, toInteger(holder['revision'], 'revision')],
    );
    if (taken[0] !== undefined) return;
  }
  throw new LedgerError(`Business key ${JSON.stringify(businessKey)} kept changing hands (${maxKeyRounds} rounds): something is rewriting it in a loop.`);
}
