/**
 * Effect rows: the columns of `effects`, a row read back as an EffectRecord, and the one-statement
 * writes (PostgreSQL's data-modifying WITH) of a new effect and of a change with its audit event.
 */
import { LedgerError } from './errors.ts';
import { allowedEffectTransitions } from './rules.ts';
import { isoFromMs, nullableString, toInteger } from './sql.ts';
import type { SqlDriver, SqlParam, SqlRow } from './sql.ts';
import { effectStates } from './types.ts';
import type { EffectNote, EffectRecord, EffectState, JsonValue } from './types.ts';

/** The columns `begin` writes, in the order of its VALUES. */
const insertedColumns =
'key, workflow_id, step, kind, user_id, state, request, observed_before, response, observed_after, notes, attempts, revision, created_at, updated_at';
export const effectColumns = `${insertedColumns}, business_key`;

export function effectFromRow(driver: SqlDriver, row: SqlRow): EffectRecord {
  const state = String(row['state']) as EffectState;
  if (!effectStates.includes(state)) {
    throw new LedgerError(`The ledger holds an unknown effect state ${JSON.stringify(state)}: is this orderflow older than the database?`);
  }
  return {
    key: String(row['key']),
    workflowId: String(row['workflow_id']),
    step: String(row['step']),
    kind: String(row['kind']),
    userId: row['user_id'] === null ? null : String(row['user_id']),
    state,
    request: driver.readJson(row['request']),
    observedBefore: driver.readJson(row['observed_before']),
    response: driver.readJson(row['response']),
    observedAfter: driver.readJson(row['observed_after']),
    notes: notesFrom(driver.readJson(row['notes'])),
    attempts: toInteger(row['attempts'], 'attempts'),
    revision: toInteger(row['revision'], 'revision'),
    createdAt: isoFromMs(toInteger(row['created_at'], 'created_at')),
    updatedAt: isoFromMs(toInteger(row['updated_at'], 'updated_at')),
    businessKey: nullableString(row['business_key']),
  };
}

export function forbiddenMessage(key: string, from: EffectState, to: EffectState): string {
  const allowed = allowedEffectTransitions[from];
  if (allowed.length === 0) {
    return `Effect ${JSON.stringify(key)} is already ${from}, which is final: it cannot become ${to}. ` +
      'Use the recorded outcome (another worker may have recorded it first).';
  }
  const hint = from === 'unknown' ? ' Reconcile first: decide from what is observed whether it took effect.' : '';
  return `Effect ${JSON.stringify(key)} is ${from} and cannot become ${to}: from ${from} it may only become ${allowed.join(' or ')}.${hint}`;
}

function notesFrom(value: JsonValue | null): EffectNote[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return [];
    const { text, at, actor } = item;
    if (typeof text !== 'string' || typeof at !== 'string') return [];
    return [{ at, actor: typeof actor === 'string' ? actor : null, text }];
  });
}

/** A change decided by the state machine (./effects.ts), to be written with its audit event. */
export interface PlannedChange {
  state: EffectState;
  attempts: number;
  observedBeforeText?: string | null;
  responseText?: string | null;
  observedAfterText?: string | null;
  /** Written with the change's actor. */
  note?: string | undefined;
  event: string;
  /** The audit event's details; undefined values are left out. */
  details: Record<string, JsonValue | undefined>;
}

/** The values of `state`, `attempts`, `observed_before`, `response` and `observed_after` a change writes. */
export function changedValues(change: PlannedChange): SqlParam[] {
  const { observedBeforeText, responseText, observedAfterText } = change;
  return [change.state, change.attempts, observedBeforeText ?? null, responseText ?? null, observedAfterText ?? null];
}

/** `begin` as one statement: the row and its audit event, atomically, in one round trip. */
export async function beginInOneStatement(
  driver: SqlDriver,
  values: readonly [key: string, workflowId: string, step: string, kind: string, userId: string | null, requestText: string, observedBeforeText: string | null],
  audit: { runId: string | null; actor: string | null; detailsText: string },
): Promise<EffectRecord | undefined> {
  const rows = await driver.query(
    `WITH clock AS (SELECT ${driver.nowMs} AS ms),
     inserted AS (
       INSERT INTO effects (${insertedColumns})
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, NULL, NULL, '[]', 1, 1, (SELECT ms FROM clock), (SELECT ms FROM clock))
       ON CONFLICT (key) DO NOTHING
       RETURNING ${effectColumns}
     ),
     audit AS (
       INSERT INTO audit_events (at, workflow_id, run_id, effect_key, user_id, event, details, actor)
       SELECT created_at, workflow_id, $8::text, key, user_id, 'effect.pending', $9::json, $10::text FROM inserted
     )
     SELECT ${effectColumns} FROM inserted`,
    [...values, audit.runId, audit.detailsText, audit.actor],
  );
  return rows[0] === undefined ? undefined : effectFromRow(driver, rows[0]);
}

export interface LockRelease {
  userId: string;
  token: string;
}

/**
 * A change without a note, as one statement: the update and its audit event, atomically;
 * with `release`, the user's lock is let go in the same statement, only if the change is made.
 */
export async function changeInOneStatement(
  driver: SqlDriver,
  key: string,
  current: EffectRecord,
  change: PlannedChange,
  audit: { workflowId: string; runId: string | null; actor: string | null },
  release?: LockRelease,
): Promise<EffectRecord | undefined> {
  const released = release === undefined
    ? ''
    : `,
     released AS (
       DELETE FROM user_locks WHERE user_id = $13 AND token = $14 AND EXISTS (SELECT 1 FROM changed)
     )`;
  const rows = await driver.query(
    `WITH changed AS (
       UPDATE effects SET
         state = $1,
         attempts = $2,
         observed_before = COALESCE($3::json, observed_before),
         response = COALESCE($4::json, response),
         observed_after = COALESCE($5::json, observed_after),
         revision = revision + 1,
         updated_at = ${driver.nowMs}
       WHERE key = $6 AND revision = $7
       RETURNING ${effectColumns}
     ),
     audit AS (
       INSERT INTO audit_events (at, workflow_id, run_id, effect_key, user_id, event, details, actor)
       SELECT updated_at, $8::text, $9::text, key, user_id, $10::text, $11::json, $12::text FROM changed
     )${released}
     SELECT ${effectColumns} FROM changed`,
    [
      ...changedValues(change),
      key,
      current.revision,
      audit.workflowId,
      audit.runId,
      change.event,
      JSON.stringify({ ...change.details, revision: current.revision + 1 }),
      audit.actor,
      ...(release === undefined ? [] : [release.userId, release.token]),
    ],
  );
  return rows[0] === undefined ? undefined : effectFromRow(driver, rows[0]);
}
