/**
 * The effect state machine: a row in `effects`, created by `begin` (INSERT ... ON CONFLICT DO
 * NOTHING: of two racing workers one creates it) and moved only along the allowed transitions
 * (./rules.ts) by a compare-and-set on `revision`, each change atomically with its audit event.
 */
import { EffectKeyConflictError, EffectNotFoundError, EffectTransitionError, InvalidLedgerInputError, LedgerError } from './errors.ts';
import {
  allowedEffectTransitions, assertEffectState, assertKind, assertNote, clampLimit, isFinalEffectState,
  optionalIdentifier, optionalJsonText, optionalUserId, parseEffectKey, toJsonText,
} from './rules.ts';
import { epochMsFrom, insertAudit } from './audit.ts';
import { holdBusinessKey } from './business-keys.ts';
import {
  beginInOneStatement, changeInOneStatement, changedValues, effectColumns, effectFromRow, forbiddenMessage,
} from './effect-rows.ts';
import type { LockRelease, PlannedChange } from './effect-rows.ts';
import { LedgerPart, WhereBuilder, nowOf } from './sql.ts';
import type {
  AddNoteInput, BeginEffectInput, BeginEffectResult, EffectNote, EffectRecord, EffectState,
  ListEffectsFilter, RecordAttemptOptions, RecordEffectOptions,
} from './types.ts';

/** How often a compare-and-set may lose before we give up (only under pathological contention). */
const maxChangeRounds = 100;

/**
 * Rows this process read or wrote last: a change's first guess of the current row, which
 * saves a read. The compare-and-set on `revision` proves the guess or refutes it (then the row is read).
 */
const knownRowsLimit = 2_000;

export class EffectStore extends LedgerPart {
  /** Insertion order = least recently used first. */
  private readonly knownRows = new Map<string, EffectRecord>();

  async get(key: string): Promise<EffectRecord | undefined> {
    parseEffectKey(key);
    this.assertOpen();
    const rows = await this.driver.query(`SELECT ${effectColumns} FROM effects WHERE key = $1`, [key]);
    return rows[0] === undefined ? undefined : this.remember(effectFromRow(this.driver, rows[0]));
  }

  /**
   * Inserts `pending` (attempts 1), or returns the existing row untouched. With a business
   * key, refuses (BusinessKeyHeldError, nothing written) while another effect holds it and
   * is not `rejected`, `resolved-not-applied` or released.
   */
  async begin(key: string, input: BeginEffectInput): Promise<BeginEffectResult> {
    const { workflowId, tail: step } = parseEffectKey(key);
    assertKind(input.kind);
    const userId = optionalUserId(input.userId);
    const requestText = toJsonText(input.request, `The request of effect ${key}`);
    const observedBeforeText = optionalJsonText(input.observedBefore, `What was observed before effect ${key}`);
    const runId = optionalIdentifier(input.runId, 'Run id');
    const actor = optionalIdentifier(input.actor, 'Actor');
    const businessKey = optionalIdentifier(input.businessKey, 'Business key');
    this.assertOpen();

    // JSON.stringify leaves out what is undefined.
    const { kind, request, observedBefore } = input;
    const details = { kind, to: 'pending', attempts: 1, revision: 1, request, observedBefore, businessKey: input.businessKey };
    const detailsText = JSON.stringify(details);
    const created = this.driver.writableCte && businessKey === null
      ? await beginInOneStatement(this.driver, [key, workflowId, step, input.kind, userId, requestText, observedBeforeText], { runId, actor, detailsText })
      : await this.driver.transaction(async (tx) => {
      const now = await nowOf(this.driver, tx);
      const rows = await tx.query(
        `INSERT INTO effects (${effectColumns})
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, NULL, NULL, '[]', 1, 1, $8, $8, $9)
         ON CONFLICT (key) DO NOTHING
         RETURNING ${effectColumns}`,
        [key, workflowId, step, input.kind, userId, requestText, observedBeforeText, now, businessKey],
      );
      if (rows[0] === undefined) return undefined;
      const effect = effectFromRow(this.driver, rows[0]);
      // Refused (rolled back with the row) when another run's effect holds the business key.
      if (businessKey !== null) await holdBusinessKey(tx, businessKey, key, workflowId, now);
      await insertAudit(tx, now, {
        workflowId, runId, effectKey: key, userId, event: 'effect.pending', detailsText, actor,
      });
      return effect;
    });
    if (created !== undefined) return { effect: this.remember(created), created: true };

    const existing = await this.get(key);
    if (existing === undefined) {
      throw new LedgerError(`Effect ${JSON.stringify(key)} existed a moment ago and is gone: effects are never deleted; check the database.`);
    }
    if (existing.kind !== input.kind || existing.userId !== userId) {
      throw new EffectKeyConflictError(
        key,
        `Effect key ${JSON.stringify(key)} is already used by a ${existing.kind} effect for user ${existing.userId ?? 'none'}, ` +
          `not ${input.kind} for user ${userId ?? 'none'}: two different effects must have different step names.`,
      );
    }
    return { effect: existing, created: false };
  }

  /**
   * Moves the row to `state` if the transition is allowed; atomic compare-and-set. `release`: a
   * held user lock let go with the change, if it is made (for HeldUserLock.recordAndRelease).
   */
  async record(key: string, state: EffectState, options: RecordEffectOptions = {}, release?: LockRelease): Promise<EffectRecord> {
    assertEffectState(state);
    const responseText = optionalJsonText(options.response, `The response of effect ${key}`);
    const observedAfterText = optionalJsonText(options.observedAfter, `What was observed after effect ${key}`);
    const observedBeforeText = optionalJsonText(options.observedBefore, `What was observed before effect ${key}`);
    if (options.note !== undefined) assertNote(options.note);
    if (state === 'pending' && observedBeforeText === null) {
      throw new InvalidLedgerInputError(
        `Arming effect ${JSON.stringify(key)} as pending again needs observedBefore: observe before calling again.`,
      );
    }

    return this.change(key, 'record', state, options, release, (current) => {
      if (!allowedEffectTransitions[current.state].includes(state)) {
        throw new EffectTransitionError(current, state, 'forbidden', forbiddenMessage(key, current.state, state));
      }
      const attempts = state === 'pending' ? current.attempts + 1 : current.attempts;
      const { response, observedBefore, observedAfter, note } = options;
      return {
        state,
        attempts,
        observedBeforeText,
        responseText,
        observedAfterText,
        note,
        event: `effect.${state}`,
        details: { kind: current.kind, from: current.state, to: state, response, observedBefore, observedAfter, note, attempts },
      };
    });
  }

  /** Counts one more call attempt of a row that is not final. */
  async recordAttempt(key: string, options: RecordAttemptOptions = {}): Promise<EffectRecord> {
    return this.change(key, 'count an attempt of', 'attempt', options, undefined, (current) => {
      if (isFinalEffectState(current.state)) {
        const message = `Effect ${JSON.stringify(key)} is ${current.state}, which is final: ` +
          'no further call may be made. Return the recorded outcome instead.';
        throw new EffectTransitionError(current, 'attempt', 'forbidden', message);
      }
      return {
        state: current.state,
        attempts: current.attempts + 1,
        event: 'effect.attempt',
        details: { kind: current.kind, state: current.state, attempts: current.attempts + 1 },
      };
    });
  }

  async addNote(key: string, input: AddNoteInput): Promise<EffectRecord> {
    assertNote(input.text);
    return this.change(key, 'add a note to', 'note', input, undefined, (current) => ({
      state: current.state,
      attempts: current.attempts,
      note: input.text,
      event: 'effect.note',
      details: { kind: current.kind, state: current.state, note: input.text },
    }));
  }

  async listEffects(filter: ListEffectsFilter = {}): Promise<EffectRecord[]> {
    const where = WhereBuilder.forRunAndUser(filter);
    if (filter.kind !== undefined) assertKind(filter.kind);
    where.equal('kind', filter.kind);
    if (filter.state !== undefined) {
      const states: readonly EffectState[] = typeof filter.state === 'string' ? [filter.state] : filter.state;
      states.forEach(assertEffectState);
      if (states.length === 0) return [];
      where.add(`state IN (${states.map((state) => where.param(state)).join(', ')})`);
    }
    let order = this.driver.insertionOrder;
    if (filter.changedSince !== undefined) {
      const sinceMs = epochMsFrom(filter.changedSince, 'changedSince');
      if (filter.changedAfterKey === undefined) {
        where.add(`updated_at >= ${where.param(sinceMs)}`);
      } else {
        parseEffectKey(filter.changedAfterKey);
        const at = where.param(sinceMs);
        where.add(`(updated_at > ${at} OR (updated_at = ${at} AND key > ${where.param(filter.changedAfterKey)}))`);
      }
      order = 'updated_at, key';
    } else if (filter.changedAfterKey !== undefined) {
      throw new InvalidLedgerInputError('changedAfterKey continues a changedSince listing: give changedSince too.');
    }
    const limit = clampLimit(filter.limit, 'listEffects');
    this.assertOpen();
    const rows = await this.driver.query(
      `SELECT ${effectColumns} FROM effects${where.sql()} ORDER BY ${order} LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map((row) => effectFromRow(this.driver, row));
  }

  /** Reads, checks, and compare-and-sets on `revision`; re-checks against the winner if it loses. */
  private async change(
    key: string,
    action: string,
    requested: EffectTransitionError['requested'],
    context: RecordAttemptOptions,
    release: LockRelease | undefined,
    plan: (current: EffectRecord) => PlannedChange,
  ): Promise<EffectRecord> {
    const { workflowId } = parseEffectKey(key);
    const runId = optionalIdentifier(context.runId, 'Run id');
    const actor = optionalIdentifier(context.actor, 'Actor');
    if (context.expectRevision !== undefined && (!Number.isSafeInteger(context.expectRevision) || context.expectRevision < 1)) {
      throw new InvalidLedgerInputError(`expectRevision must be a whole number from 1, got ${context.expectRevision}.`);
    }
    let guess = this.knownRows.get(key);
    for (let round = 0; round < maxChangeRounds; round++) {
      // The remembered row first (proved or refuted by the compare-and-set), then the database's.
      const fromMemory = guess !== undefined;
      const current = guess ?? (await this.get(key));
      guess = undefined;
      if (current === undefined) throw new EffectNotFoundError(key, action);
      if (context.expectRevision !== undefined && current.revision !== context.expectRevision) {
        if (fromMemory) continue;
        throw new EffectTransitionError(
          current,
          requested,
          'stale',
          `Effect ${JSON.stringify(key)} changed since it was read (revision ${context.expectRevision}, now ${current.revision}, ` +
            `state ${current.state}): another worker got there first. Read it again and decide from what it says now.`,
        );
      }
      let change: PlannedChange;
      try {
        change = plan(current);
      } catch (error) {
        // A refusal decided on a remembered row is decided again on the database's.
        if (fromMemory) continue;
        throw error;
      }
      const rearmsKeyed = change.state === 'pending' && current.state !== 'pending' && current.businessKey !== null;
      const updated = this.driver.writableCte && change.note === undefined && !rearmsKeyed
        ? await changeInOneStatement(this.driver, key, current, change, { workflowId, runId, actor }, release)
        : await this.driver.transaction(async (tx) => {
        const now = await nowOf(this.driver, tx);
        // Arming again (a retry) is a new call: refused when another run's effect took the business key meanwhile.
        if (rearmsKeyed && current.businessKey !== null) await holdBusinessKey(tx, current.businessKey, key, workflowId, now);
        const notes: EffectNote[] =
          change.note === undefined
            ? current.notes
            : [...current.notes, { at: new Date(now).toISOString(), actor, text: change.note }];
        const rows = await tx.query(
          `UPDATE effects SET
             state = $1,
             attempts = $2,
             observed_before = COALESCE($3, observed_before),
             response = COALESCE($4, response),
             observed_after = COALESCE($5, observed_after),
             notes = $6,
             revision = revision + 1,
             updated_at = $7
           WHERE key = $8 AND revision = $9
           RETURNING ${effectColumns}`,
          [...changedValues(change), JSON.stringify(notes), now, key, current.revision],
        );
        if (rows[0] === undefined) return undefined;
        const effect = effectFromRow(this.driver, rows[0]);
        const detailsText = JSON.stringify({ ...change.details, revision: effect.revision });
        await insertAudit(tx, now, {
          workflowId, runId, effectKey: key, userId: effect.userId, event: change.event, detailsText, actor,
        });
        if (release !== undefined) await tx.query('DELETE FROM user_locks WHERE user_id = $1 AND token = $2', [release.userId, release.token]);
        return effect;
      });
      if (updated !== undefined) return this.remember(updated);
      // Lost the compare-and-set: someone changed the row between our read and write.
      this.knownRows.delete(key);
    }
    throw new LedgerError(
      `Effect ${JSON.stringify(key)} kept changing while trying to ${action} it (${maxChangeRounds} rounds): something is rewriting it in a loop.`,
    );
  }

  /** Keeps `effect` as the latest known row of its key (see {@link knownRowsLimit}). */
  private remember(effect: EffectRecord): EffectRecord {
    this.knownRows.delete(effect.key);
    this.knownRows.set(effect.key, effect);
    if (this.knownRows.size > knownRowsLimit) this.knownRows.delete(this.knownRows.keys().next().value!);
    return effect;
  }
}
