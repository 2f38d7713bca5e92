/**
 * The effect ledger on top of a small SQL driver: one implementation of the rules for
 * both backends (./sqlite.ts, ./postgres.ts), so both behave the same and pass one suite.
 *
 * Concurrency:
 * - `begin` is `INSERT ... ON CONFLICT (key) DO NOTHING`: of two racing workers exactly
 *   one creates the row, the other gets it back with `created: false`.
 * - Every later change is a compare-and-set on the row's `revision`
 *   (`UPDATE ... WHERE key = ? AND revision = ?`); the loser re-reads and re-checks the
 *   transition against the winner's state, so two workers racing cannot both win.
 * - Each change and its audit event are written in one transaction.
 * - With PostgreSQL, a change and its audit event are one statement (data-modifying WITH):
 *   atomic, one round trip. With SQLite, one short transaction (no round trips to save).
 * - The row a change starts from is the one this ledger last read or wrote, if any: the
 *   compare-and-set proves it current or refutes it (then the row is read), so a change
 *   after `begin` or `get` costs no extra read.
 * - The per-user lock is a lease row in `user_locks` (owner, random token, expiry),
 *   renewed every third of the lease while the caller's function runs, and deleted
 *   afterwards. A holder that dies stops renewing, and its lease runs out. Times come
 *   from the database's clock (PostgreSQL: the server's, so hosts' clocks do not matter).
 *   No transaction is held while the caller's function runs. Holders in one process queue
 *   in memory (no polling between them), and a holder with a successor in its process
 *   hands the lease on instead of deleting it, for up to two seconds in a row; holders in
 *   other processes poll (10 ms doubling to lockPollMaxMs).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BusinessKeyHeldError,
  EffectKeyConflictError,
  EffectNotFoundError,
  EffectTransitionError,
  InvalidLedgerInputError,
  LedgerClosedError,
  LedgerError,
  UserLockLostError,
  UserLockTimeoutError,
} from './errors.ts';
import {
  allowedEffectTransitions,
  assertDottedName,
  assertDuration,
  assertIdentifier,
  assertKind,
  assertNote,
  assertWorkflowId,
  clampLimit,
  isEffectTransitionAllowed,
  isFinalEffectState,
  normalizeUserId,
  optionalIdentifier,
  optionalJsonText,
  optionalUserId,
  parseEffectKey,
  toJsonText,
} from './rules.ts';
import { effectStates } from './types.ts';
import type {
  AddNoteInput,
  AuditContext,
  AuditEvent,
  AuditEventInput,
  BeginEffectInput,
  BeginEffectResult,
  BusinessKeyHolder,
  EffectLedger,
  EffectNote,
  EffectRecord,
  EffectState,
  HeldUserLock,
  JsonValue,
  LedgerBackend,
  ListAuditFilter,
  ListEffectsFilter,
  RecordAttemptOptions,
  RecordEffectOptions,
  UserLockOptions,
} from './types.ts';

export type SqlParam = string | number | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  /** `$1, $2, ...` placeholders; every value is a parameter. */
  query(sql: string, params?: readonly SqlParam[]): Promise<SqlRow[]>;
}

export interface SqlDriver extends SqlExecutor {
  readonly backend: LedgerBackend;
  readonly location: string;
  /** An SQL expression for "now" as integer epoch milliseconds on the database's clock. */
  readonly nowMs: string;
  /** A column of `effects` that grows with every insert: "oldest first" without ties. */
  readonly insertionOrder: string;
  /**
   * The database's clock is this process's clock (SQLite: same host), so "now" is read
   * with Date.now() instead of a query.
   */
  readonly sharesProcessClock: boolean;
  /**
   * The database runs data-modifying statements in WITH (PostgreSQL): a change and its
   * audit event are then one atomic statement, one round trip, with no transaction.
   */
  readonly writableCte: boolean;
  /**
   * A write to `user_locks`: atomic, but it need not survive a power cut (after one, every
   * holder is gone and any lease left runs out). SQLite commits it without waiting for
   * the disk; PostgreSQL runs it as `query` does.
   */
  lockQuery(sql: string, params?: readonly SqlParam[]): Promise<SqlRow[]>;
  /** Runs `fn` in one write transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** A JSON column as read back: text (SQLite) or already parsed (PostgreSQL `json`). */
  readJson(value: unknown): JsonValue | null;
  close(): Promise<void>;
}

export interface LedgerDefaults {
  lockWaitMs: number;
  lockLeaseMs: number;
  /** Longest pause between two tries to take a busy lock. */
  lockPollMaxMs: number;
  /** Told about failures nobody awaits (lease renewal, lock release). Never given secrets. */
  onBackgroundError: (error: Error, context: string) => void;
}

/** The columns `begin` writes, in the order of its VALUES. */
const insertedColumns =
  'key, workflow_id, step, kind, user_id, state, request, observed_before, response, observed_after, notes, attempts, revision, created_at, updated_at';
const effectColumns = `${insertedColumns}, business_key`;
const auditColumns = 'id, at, workflow_id, run_id, effect_key, user_id, event, details, actor';

/** How often a compare-and-set may lose before we give up (only under pathological contention). */
const maxChangeRounds = 100;

/**
 * Rows this process read or wrote last, by key, used as the first guess of a change's
 * current row. Only a guess: every change is a compare-and-set on `revision`, and a row's
 * revision grows with every change, so a write that succeeds proves the guess was the row
 * as it stood; a stale guess loses the compare-and-set (or its check) and the row is read.
 */
const knownRowsLimit = 2_000;

/**
 * How long holders in one process may hand a user's lease on to each other before it goes
 * back to the database, where holders in other processes can take it: they would
 * otherwise wait for as long as this process keeps having successors.
 */
const handOffChainMs = 2_000;

interface PlannedChange {
  state: EffectState;
  attempts: number;
  observedBeforeText: string | null;
  responseText: string | null;
  observedAfterText: string | null;
  note: { actor: string | null; text: string } | undefined;
  event: string;
  details: Record<string, JsonValue>;
}

export class SqlEffectLedger implements EffectLedger {
  readonly backend: LedgerBackend;
  readonly location: string;
  readonly #driver: SqlDriver;
  readonly #defaults: LedgerDefaults;
  /** See {@link knownRowsLimit}. Insertion order = least recently used first. */
  readonly #knownRows = new Map<string, EffectRecord>();
  /** This ledger's holders and waiters per user: hand-off in process, no polling between them. */
  readonly #localLocks = new Map<string, LocalUserQueue>();
  #closed = false;

  constructor(driver: SqlDriver, defaults: LedgerDefaults) {
    this.#driver = driver;
    this.#defaults = defaults;
    this.backend = driver.backend;
    this.location = driver.location;
  }

  async get(key: string): Promise<EffectRecord | undefined> {
    parseEffectKey(key);
    this.#assertOpen();
    const rows = await this.#driver.query(`SELECT ${effectColumns} FROM effects WHERE key = $1`, [key]);
    return rows[0] === undefined ? undefined : this.#remember(this.#effectFromRow(rows[0]));
  }

  async begin(key: string, input: BeginEffectInput): Promise<BeginEffectResult> {
    const { workflowId, tail: step } = parseEffectKey(key);
    assertKind(input.kind);
    const userId = optionalUserId(input.userId);
    const requestText = toJsonText(input.request, `The request of effect ${key}`);
    const observedBeforeText = optionalJsonText(input.observedBefore, `What was observed before effect ${key}`);
    const runId = optionalIdentifier(input.runId, 'Run id');
    const actor = optionalIdentifier(input.actor, 'Actor');
    if (input.businessKey !== undefined) assertIdentifier(input.businessKey, 'Business key');
    const businessKey = input.businessKey ?? null;
    this.#assertOpen();

    const details: Record<string, JsonValue> = { kind: input.kind, to: 'pending', attempts: 1, revision: 1, request: input.request };
    if (input.observedBefore !== undefined) details['observedBefore'] = input.observedBefore;
    if (businessKey !== null) details['businessKey'] = businessKey;
    const detailsText = JSON.stringify(details);
    const created = this.#driver.writableCte && businessKey === null
      ? await this.#beginInOneStatement([key, workflowId, step, input.kind, userId, requestText, observedBeforeText], { runId, actor, detailsText })
      : await this.#driver.transaction(async (tx) => {
      const now = await this.#now(tx);
      const rows = await tx.query(
        `INSERT INTO effects (${effectColumns})
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, NULL, NULL, '[]', 1, 1, $8, $8, $9)
         ON CONFLICT (key) DO NOTHING
         RETURNING ${effectColumns}`,
        [key, workflowId, step, input.kind, userId, requestText, observedBeforeText, now, businessKey],
      );
      if (rows[0] === undefined) return undefined;
      const effect = this.#effectFromRow(rows[0]);
      // Refused (rolled back with the row) when another run's effect holds the business key.
      if (businessKey !== null) await this.#holdBusinessKey(tx, businessKey, key, workflowId, now);
      await this.#insertAudit(tx, now, {
        workflowId,
        runId,
        effectKey: key,
        userId,
        event: 'effect.pending',
        detailsText,
        actor,
      });
      return effect;
    });
    if (created !== undefined) return { effect: this.#remember(created), created: true };

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

  async record(key: string, state: EffectState, options: RecordEffectOptions = {}): Promise<EffectRecord> {
    if (!effectStates.includes(state)) {
      throw new InvalidLedgerInputError(`${JSON.stringify(state)} is not an effect state (one of ${effectStates.join(', ')}).`);
    }
    const responseText = optionalJsonText(options.response, `The response of effect ${key}`);
    const observedAfterText = optionalJsonText(options.observedAfter, `What was observed after effect ${key}`);
    const observedBeforeText = optionalJsonText(options.observedBefore, `What was observed before effect ${key}`);
    if (options.note !== undefined) assertNote(options.note);
    const actor = optionalIdentifier(options.actor, 'Actor');
    if (state === 'pending' && observedBeforeText === null) {
      throw new InvalidLedgerInputError(
        `Arming effect ${JSON.stringify(key)} as pending again needs observedBefore: observe before calling again.`,
      );
    }

    return this.#change(key, 'record', state, options, (current) => {
      if (!isEffectTransitionAllowed(current.state, state)) {
        throw new EffectTransitionError({
          key,
          currentState: current.state,
          requested: state,
          reason: 'forbidden',
          currentRevision: current.revision,
          message: forbiddenMessage(key, current.state, state),
        });
      }
      const details: Record<string, JsonValue> = { kind: current.kind, from: current.state, to: state };
      if (options.response !== undefined) details['response'] = options.response;
      if (options.observedBefore !== undefined) details['observedBefore'] = options.observedBefore;
      if (options.observedAfter !== undefined) details['observedAfter'] = options.observedAfter;
      if (options.note !== undefined) details['note'] = options.note;
      const attempts = state === 'pending' ? current.attempts + 1 : current.attempts;
      details['attempts'] = attempts;
      return {
        state,
        attempts,
        observedBeforeText,
        responseText,
        observedAfterText,
        note: options.note === undefined ? undefined : { actor, text: options.note },
        event: `effect.${state}`,
        details,
      };
    });
  }

  async recordAttempt(key: string, options: RecordAttemptOptions = {}): Promise<EffectRecord> {
    return this.#change(key, 'count an attempt of', 'attempt', options, (current) => {
      if (isFinalEffectState(current.state)) {
        throw new EffectTransitionError({
          key,
          currentState: current.state,
          requested: 'attempt',
          reason: 'forbidden',
          currentRevision: current.revision,
          message:
            `Effect ${JSON.stringify(key)} is ${current.state}, which is final: no further call may be made. ` +
            'Return the recorded outcome instead.',
        });
      }
      return {
        state: current.state,
        attempts: current.attempts + 1,
        observedBeforeText: null,
        responseText: null,
        observedAfterText: null,
        note: undefined,
        event: 'effect.attempt',
        details: { kind: current.kind, state: current.state, attempts: current.attempts + 1 },
      };
    });
  }

  async addNote(key: string, input: AddNoteInput): Promise<EffectRecord> {
    assertNote(input.text);
    const actor = optionalIdentifier(input.actor, 'Actor');
    return this.#change(key, 'add a note to', 'note', input, (current) => ({
      state: current.state,
      attempts: current.attempts,
      observedBeforeText: null,
      responseText: null,
      observedAfterText: null,
      note: { actor, text: input.text },
      event: 'effect.note',
      details: { kind: current.kind, state: current.state, note: input.text },
    }));
  }

  async listEffects(filter: ListEffectsFilter = {}): Promise<EffectRecord[]> {
    const where = new WhereBuilder();
    if (filter.workflowId !== undefined) {
      assertWorkflowId(filter.workflowId);
      where.add((p) => `workflow_id = ${p}`, filter.workflowId);
    }
    if (filter.userId !== undefined) where.add((p) => `user_id = ${p}`, normalizeUserId(filter.userId));
    if (filter.kind !== undefined) {
      assertKind(filter.kind);
      where.add((p) => `kind = ${p}`, filter.kind);
    }
    if (filter.state !== undefined) {
      const states: readonly EffectState[] = typeof filter.state === 'string' ? [filter.state] : filter.state;
      for (const state of states) {
        if (!effectStates.includes(state)) {
          throw new InvalidLedgerInputError(`${JSON.stringify(state)} is not an effect state (one of ${effectStates.join(', ')}).`);
        }
      }
      if (states.length === 0) return [];
      where.addIn('state', states);
    }
    const limit = clampLimit(filter.limit, 'listEffects');
    this.#assertOpen();
    const rows = await this.#driver.query(
      `SELECT ${effectColumns} FROM effects${where.sql()} ORDER BY ${this.#driver.insertionOrder} LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map((row) => this.#effectFromRow(row));
  }

  async audit(input: AuditEventInput): Promise<AuditEvent> {
    assertWorkflowId(input.workflowId);
    assertDottedName(input.event, 'Audit event name', 100);
    if (input.effectKey !== undefined) parseEffectKey(input.effectKey);
    const runId = optionalIdentifier(input.runId, 'Run id');
    const actor = optionalIdentifier(input.actor, 'Actor');
    const userId = optionalUserId(input.userId);
    const detailsText = toJsonText(input.details, `The details of audit event ${input.event}`);
    const atMs = input.at === undefined ? null : epochMsFrom(input.at);
    this.#assertOpen();
    const row = await this.#driver.transaction(async (tx) =>
      this.#insertAudit(tx, atMs ?? (await this.#now(tx)), {
        workflowId: input.workflowId,
        runId,
        effectKey: input.effectKey ?? null,
        userId,
        event: input.event,
        detailsText,
        actor,
      }),
    );
    return this.#auditFromRow(row);
  }

  async listAudit(filter: ListAuditFilter = {}): Promise<AuditEvent[]> {
    const where = new WhereBuilder();
    if (filter.workflowId !== undefined) {
      assertWorkflowId(filter.workflowId);
      where.add((p) => `workflow_id = ${p}`, filter.workflowId);
    }
    if (filter.userId !== undefined) where.add((p) => `user_id = ${p}`, normalizeUserId(filter.userId));
    if (filter.effectKey !== undefined) {
      parseEffectKey(filter.effectKey);
      where.add((p) => `effect_key = ${p}`, filter.effectKey);
    }
    if (filter.event !== undefined) {
      assertDottedName(filter.event, 'Audit event name', 100);
      where.add((p) => `event = ${p}`, filter.event);
    }
    const limit = clampLimit(filter.limit, 'listAudit');
    this.#assertOpen();
    const rows = await this.#driver.query(
      `SELECT ${auditColumns} FROM audit_events${where.sql()} ORDER BY id LIMIT ${where.param(limit)}`,
      where.params,
    );
    return rows.map((row) => this.#auditFromRow(row));
  }

  async withUserLock<T>(
    userIdInput: string | number,
    owner: string,
    fn: (lock: HeldUserLock) => Promise<T>,
    options: UserLockOptions = {},
  ): Promise<T> {
    const userId = normalizeUserId(userIdInput);
    assertIdentifier(owner, 'Lock owner');
    const waitMs = options.waitMs ?? this.#defaults.lockWaitMs;
    const leaseMs = options.leaseMs ?? this.#defaults.lockLeaseMs;
    assertDuration(waitMs, 'Lock waitMs', 0, 3_600_000);
    assertDuration(leaseMs, 'Lock leaseMs', 100, 3_600_000);
    this.#assertOpen();

    let token: string = randomUUID();
    const startedAt = performance.now();
    // Holders in this process take turns without polling; the database's lease row
    // excludes every other process. A holder with a successor in this process hands its
    // lease on instead of releasing it (see handOffChainMs).
    const local = this.#enterLocalQueue(userId);
    let sentAt: number;
    let handed: HandedLease | undefined;
    try {
      if (!(await local.turn(waitMs))) {
        const holder = await this.#readHolder(userId);
        throw new UserLockTimeoutError(userId, Math.round(performance.now() - startedAt), holder?.owner, holder?.heldUntil);
      }
      this.#assertOpen();
      handed = local.takeHandOff();
      if (handed !== undefined && handed.leaseRunsOutAt - performance.now() < leaseMs / 3) {
        // Too close to running out to be worth keeping: let it go and take the lock afresh.
        await this.#release(userId, handed.token);
        handed = undefined;
      }
      let pauseMs = 10;
      while (handed === undefined) {
        sentAt = performance.now();
        if (await this.#tryAcquire(userId, owner, token, leaseMs)) break;
        const holder = await this.#readHolder(userId);
        const waited = performance.now() - startedAt;
        if (waited >= waitMs) {
          throw new UserLockTimeoutError(userId, Math.round(waited), holder?.owner, holder?.heldUntil);
        }
        pauseMs = Math.min(pauseMs * 2, this.#defaults.lockPollMaxMs);
        await sleep(Math.max(1, Math.min(pauseMs * (0.5 + Math.random() / 2), waitMs - waited)));
        this.#assertOpen();
      }
    } catch (error) {
      local.leave();
      throw error;
    }

    // Held. Renew every third of the lease; the lease counts from before the acquiring
    // statement was sent, so our local idea of its expiry is never late.
    const controller = new AbortController();
    if (handed !== undefined) token = handed.token;
    const heldSince = handed?.heldSince ?? performance.now();
    let leaseRunsOutAt = handed?.leaseRunsOutAt ?? sentAt! + leaseMs;
    let renewal: Promise<void> | undefined;
    const lose = (why: string): void => {
      if (!controller.signal.aborted) controller.abort(new UserLockLostError(userId, owner, why));
    };
    const tick = (): void => {
      if (controller.signal.aborted) return;
      if (performance.now() >= leaseRunsOutAt) {
        lose('its lease ran out before it could be renewed');
        return;
      }
      if (renewal !== undefined) return;
      const renewSentAt = performance.now();
      renewal = this.#renew(userId, token, leaseMs)
        .then(
          (renewed) => {
            if (renewed) leaseRunsOutAt = renewSentAt + leaseMs;
            else lose('its lease had run out and the lock was released or taken by another holder');
          },
          (error: unknown) => this.#reportBackgroundError(error, `renewing the lock on store user ${userId}`),
        )
        .finally(() => {
          renewal = undefined;
        });
    };
    const timer = setInterval(tick, Math.max(10, Math.floor(leaseMs / 3)));

    try {
      return await fn({ userId, owner, signal: controller.signal });
    } finally {
      clearInterval(timer);
      await renewal;
      const now = performance.now();
      const handOff = !controller.signal.aborted && local.othersWaiting() && now - heldSince < handOffChainMs && leaseRunsOutAt - now > leaseMs / 3;
      try {
        if (handOff) local.handOff({ token, leaseRunsOutAt, heldSince });
        else await this.#release(userId, token);
      } catch (error) {
        // The lease runs out by itself; others wait at most that long.
        this.#reportBackgroundError(error, `releasing the lock on store user ${userId}`);
      } finally {
        local.leave();
      }
    }
  }

  /**
   * Joins this ledger's queue for one user: `turn(waitMs)` resolves true once every earlier
   * holder or waiter in this process has let go, or false after `waitMs`; `leave()` lets
   * the next one go (call it exactly once, also after a timeout or failure).
   */
  #enterLocalQueue(userId: string): {
    turn(waitMs: number): Promise<boolean>;
    othersWaiting(): boolean;
    handOff(lease: HandedLease): void;
    takeHandOff(): HandedLease | undefined;
    leave(): void;
  } {
    let queue = this.#localLocks.get(userId);
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), members: 0, handedLease: undefined };
      this.#localLocks.set(userId, queue);
    }
    const joined = queue;
    const before = joined.tail;
    let letGo!: () => void;
    const gone = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    joined.tail = before.then(() => gone);
    joined.members += 1;
    let left = false;
    return {
      async turn(waitMs: number): Promise<boolean> {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), waitMs);
        });
        try {
          return await Promise.race([before.then(() => true), timedOut]);
        } finally {
          clearTimeout(timer);
        }
      },
      othersWaiting: () => joined.members > 1,
      handOff: (lease: HandedLease) => {
        joined.handedLease = lease;
      },
      takeHandOff: () => {
        const lease = joined.handedLease;
        joined.handedLease = undefined;
        return lease;
      },
      leave: () => {
        if (left) return;
        left = true;
        letGo();
        joined.members -= 1;
        if (joined.members > 0) return;
        if (this.#localLocks.get(userId) === joined) this.#localLocks.delete(userId);
        const orphan = joined.handedLease;
        joined.handedLease = undefined;
        if (orphan !== undefined) {
          // The successor gave up waiting: nobody here holds the lease any more.
          this.#release(userId, orphan.token).catch((error: unknown) => this.#reportBackgroundError(error, `releasing the lock on store user ${userId}`));
        }
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#driver.close();
  }

  async releaseBusinessKey(effectKey: string, context: AuditContext = {}): Promise<boolean> {
    const { workflowId } = parseEffectKey(effectKey);
    const runId = optionalIdentifier(context.runId, 'Run id');
    const actor = optionalIdentifier(context.actor, 'Actor');
    this.#assertOpen();
    return this.#driver.transaction(async (tx) => {
      const now = await this.#now(tx);
      const rows = await tx.query(
        `UPDATE business_keys SET released = 1, revision = revision + 1, updated_at = $2
         WHERE effect_key = $1 AND released = 0
         RETURNING business_key`,
        [effectKey, now],
      );
      const released = rows[0];
      if (released === undefined) return false;
      await this.#insertAudit(tx, now, {
        workflowId,
        runId,
        effectKey,
        userId: null,
        event: 'business-key.released',
        detailsText: JSON.stringify({ businessKey: String(released['business_key']) }),
        actor,
      });
      return true;
    });
  }

  async businessKeyHolder(businessKey: string): Promise<BusinessKeyHolder | undefined> {
    assertIdentifier(businessKey, 'Business key');
    this.#assertOpen();
    const rows = await this.#driver.query('SELECT effect_key, workflow_id, released, updated_at FROM business_keys WHERE business_key = $1', [businessKey]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      businessKey,
      effectKey: String(row['effect_key']),
      workflowId: String(row['workflow_id']),
      released: toInteger(row['released'], 'released') === 1,
      updatedAt: isoFromMs(toInteger(row['updated_at'], 'updated_at')),
    };
  }

  // --- internals ---

  /**
   * Makes `effectKey` the holder of `businessKey`, inside the caller's transaction, or
   * throws BusinessKeyHeldError. Another effect keeps the key while it stands or may
   * stand (pending, unknown, applied, resolved-applied); it lets go when it did not happen
   * (rejected, resolved-not-applied) or was undone (released). Every change is a
   * compare-and-set on the key's revision, so two runs racing cannot both hold it.
   */
  async #holdBusinessKey(tx: SqlExecutor, businessKey: string, effectKey: string, workflowId: string, now: number): Promise<void> {
    for (let round = 0; round < maxChangeRounds; round++) {
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
    throw new LedgerError(`Business key ${JSON.stringify(businessKey)} kept changing hands (${maxChangeRounds} rounds): something is rewriting it in a loop.`);
  }

  #assertOpen(): void {
    if (this.#closed) throw new LedgerClosedError(`The effect ledger at ${this.location} is closed; open a new one.`);
  }

  async #now(executor: SqlExecutor): Promise<number> {
    if (this.#driver.sharesProcessClock) return Date.now();
    const rows = await executor.query(`SELECT ${this.#driver.nowMs} AS now_ms`);
    return toInteger(rows[0]?.['now_ms'], 'now_ms');
  }

  /** Keeps `effect` as the latest known row of its key (see {@link knownRowsLimit}). */
  #remember(effect: EffectRecord): EffectRecord {
    this.#knownRows.delete(effect.key);
    this.#knownRows.set(effect.key, effect);
    if (this.#knownRows.size > knownRowsLimit) {
      const oldest = this.#knownRows.keys().next();
      if (!oldest.done) this.#knownRows.delete(oldest.value);
    }
    return effect;
  }

  /** `begin` as one statement: the row and its audit event, atomically, in one round trip. */
  async #beginInOneStatement(
    values: readonly [key: string, workflowId: string, step: string, kind: string, userId: string | null, requestText: string, observedBeforeText: string | null],
    audit: { runId: string | null; actor: string | null; detailsText: string },
  ): Promise<EffectRecord | undefined> {
    const rows = await this.#driver.query(
      `WITH clock AS (SELECT ${this.#driver.nowMs} AS ms),
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
    return rows[0] === undefined ? undefined : this.#effectFromRow(rows[0]);
  }

  /** Reads, checks, and compare-and-sets on `revision`; re-checks against the winner if it loses. */
  async #change(
    key: string,
    action: string,
    requested: EffectState | 'attempt' | 'note',
    context: AuditContext & { expectRevision?: number | undefined },
    plan: (current: EffectRecord) => PlannedChange,
  ): Promise<EffectRecord> {
    const { workflowId } = parseEffectKey(key);
    const runId = optionalIdentifier(context.runId, 'Run id');
    const actor = optionalIdentifier(context.actor, 'Actor');
    if (context.expectRevision !== undefined && (!Number.isSafeInteger(context.expectRevision) || context.expectRevision < 1)) {
      throw new InvalidLedgerInputError(`expectRevision must be a whole number from 1, got ${context.expectRevision}.`);
    }
    let guess = this.#knownRows.get(key);
    for (let round = 0; round < maxChangeRounds; round++) {
      // The remembered row first (proved or refuted by the compare-and-set), then the database's.
      const fromMemory = guess !== undefined;
      const current = guess ?? (await this.get(key));
      guess = undefined;
      if (current === undefined) throw new EffectNotFoundError(key, action);
      if (fromMemory && context.expectRevision !== undefined && current.revision !== context.expectRevision) continue;
      if (context.expectRevision !== undefined && current.revision !== context.expectRevision) {
        throw new EffectTransitionError({
          key,
          currentState: current.state,
          requested,
          reason: 'stale',
          currentRevision: current.revision,
          message:
            `Effect ${JSON.stringify(key)} changed since it was read (revision ${context.expectRevision}, now ${current.revision}, ` +
            `state ${current.state}): another worker got there first. Read it again and decide from what it says now.`,
        });
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
      const updated = this.#driver.writableCte && change.note === undefined && !rearmsKeyed
        ? await this.#changeInOneStatement(key, current, change, { workflowId, runId, actor })
        : await this.#driver.transaction(async (tx) => {
        const now = await this.#now(tx);
        // Arming again (a retry) is a new call: refused when another run's effect took the business key meanwhile.
        if (rearmsKeyed && current.businessKey !== null) await this.#holdBusinessKey(tx, current.businessKey, key, workflowId, now);
        const notes: EffectNote[] =
          change.note === undefined
            ? current.notes
            : [...current.notes, { at: new Date(now).toISOString(), actor: change.note.actor, text: change.note.text }];
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
          [
            change.state,
            change.attempts,
            change.observedBeforeText,
            change.responseText,
            change.observedAfterText,
            JSON.stringify(notes),
            now,
            key,
            current.revision,
          ],
        );
        if (rows[0] === undefined) return undefined;
        const effect = this.#effectFromRow(rows[0]);
        await this.#insertAudit(tx, now, {
          workflowId,
          runId,
          effectKey: key,
          userId: effect.userId,
          event: change.event,
          detailsText: JSON.stringify({ ...change.details, revision: effect.revision }),
          actor,
        });
        return effect;
      });
      if (updated !== undefined) return this.#remember(updated);
      // Lost the compare-and-set: someone changed the row between our read and write.
      this.#knownRows.delete(key);
    }
    throw new LedgerError(
      `Effect ${JSON.stringify(key)} kept changing while trying to ${action} it (${maxChangeRounds} rounds): something is rewriting it in a loop.`,
    );
  }

  /** A change without a note, as one statement: the update and its audit event, atomically. */
  async #changeInOneStatement(
    key: string,
    current: EffectRecord,
    change: PlannedChange,
    audit: { workflowId: string; runId: string | null; actor: string | null },
  ): Promise<EffectRecord | undefined> {
    const rows = await this.#driver.query(
      `WITH changed AS (
         UPDATE effects SET
           state = $1,
           attempts = $2,
           observed_before = COALESCE($3::json, observed_before),
           response = COALESCE($4::json, response),
           observed_after = COALESCE($5::json, observed_after),
           revision = revision + 1,
           updated_at = ${this.#driver.nowMs}
         WHERE key = $6 AND revision = $7
         RETURNING ${effectColumns}
       ),
       audit AS (
         INSERT INTO audit_events (at, workflow_id, run_id, effect_key, user_id, event, details, actor)
         SELECT updated_at, $8::text, $9::text, key, user_id, $10::text, $11::json, $12::text FROM changed
       )
       SELECT ${effectColumns} FROM changed`,
      [
        change.state,
        change.attempts,
        change.observedBeforeText,
        change.responseText,
        change.observedAfterText,
        key,
        current.revision,
        audit.workflowId,
        audit.runId,
        change.event,
        JSON.stringify({ ...change.details, revision: current.revision + 1 }),
        audit.actor,
      ],
    );
    return rows[0] === undefined ? undefined : this.#effectFromRow(rows[0]);
  }

  async #insertAudit(
    tx: SqlExecutor,
    atMs: number,
    event: {
      workflowId: string;
      runId: string | null;
      effectKey: string | null;
      userId: string | null;
      event: string;
      detailsText: string;
      actor: string | null;
    },
  ): Promise<SqlRow> {
    const rows = await tx.query(
      `INSERT INTO audit_events (at, workflow_id, run_id, effect_key, user_id, event, details, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       RETURNING ${auditColumns}`,
      [atMs, event.workflowId, event.runId, event.effectKey, event.userId, event.event, event.detailsText, event.actor],
    );
    const row = rows[0];
    if (row === undefined) throw new LedgerError('Writing an audit event returned no row: check the audit_events table.');
    return row;
  }

  async #tryAcquire(userId: string, owner: string, token: string, leaseMs: number): Promise<boolean> {
    const now = this.#driver.nowMs;
    const rows = await this.#driver.lockQuery(
      `INSERT INTO user_locks (user_id, owner, token, acquired_at, expires_at)
       VALUES ($1, $2, $3, ${now}, ${now} + $4)
       ON CONFLICT (user_id) DO UPDATE SET
         owner = excluded.owner, token = excluded.token,
         acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
       WHERE user_locks.expires_at <= ${now}
       RETURNING token`,
      [userId, owner, token, leaseMs],
    );
    return rows[0]?.['token'] === token;
  }

  async #readHolder(userId: string): Promise<{ owner: string; heldUntil: string } | undefined> {
    const rows = await this.#driver.query('SELECT owner, expires_at FROM user_locks WHERE user_id = $1', [userId]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return { owner: String(row['owner']), heldUntil: isoFromMs(toInteger(row['expires_at'], 'expires_at')) };
  }

  async #renew(userId: string, token: string, leaseMs: number): Promise<boolean> {
    const rows = await this.#driver.lockQuery(
      `UPDATE user_locks SET expires_at = ${this.#driver.nowMs} + $3
       WHERE user_id = $1 AND token = $2 AND expires_at > ${this.#driver.nowMs}
       RETURNING token`,
      [userId, token, leaseMs],
    );
    return rows[0] !== undefined;
  }

  async #release(userId: string, token: string): Promise<void> {
    await this.#driver.lockQuery('DELETE FROM user_locks WHERE user_id = $1 AND token = $2', [userId, token]);
  }

  #reportBackgroundError(error: unknown, context: string): void {
    try {
      this.#defaults.onBackgroundError(error instanceof Error ? error : new Error(String(error)), context);
    } catch {
      // A failing reporter must not break the lock.
    }
  }

  #effectFromRow(row: SqlRow): EffectRecord {
    const state = String(row['state']);
    if (!isEffectState(state)) throw new LedgerError(`The ledger holds an unknown effect state ${JSON.stringify(state)}: is this orderflow older than the database?`);
    return {
      key: String(row['key']),
      workflowId: String(row['workflow_id']),
      step: String(row['step']),
      kind: String(row['kind']),
      userId: row['user_id'] === null ? null : String(row['user_id']),
      state,
      request: this.#driver.readJson(row['request']),
      observedBefore: this.#driver.readJson(row['observed_before']),
      response: this.#driver.readJson(row['response']),
      observedAfter: this.#driver.readJson(row['observed_after']),
      notes: notesFrom(this.#driver.readJson(row['notes'])),
      attempts: toInteger(row['attempts'], 'attempts'),
      revision: toInteger(row['revision'], 'revision'),
      createdAt: isoFromMs(toInteger(row['created_at'], 'created_at')),
      updatedAt: isoFromMs(toInteger(row['updated_at'], 'updated_at')),
      businessKey: nullableString(row['business_key']),
    };
  }

  #auditFromRow(row: SqlRow): AuditEvent {
    return {
      id: toInteger(row['id'], 'id'),
      at: isoFromMs(toInteger(row['at'], 'at')),
      workflowId: String(row['workflow_id']),
      runId: nullableString(row['run_id']),
      effectKey: nullableString(row['effect_key']),
      userId: nullableString(row['user_id']),
      event: String(row['event']),
      details: this.#driver.readJson(row['details']),
      actor: nullableString(row['actor']),
    };
  }
}

/** Holders and waiters of one user's lock in this process, in order (see #enterLocalQueue). */
interface LocalUserQueue {
  /** Settles when the last member has let go. */
  tail: Promise<void>;
  members: number;
  /** A lease the last holder handed on to the next member, not yet taken. */
  handedLease: HandedLease | undefined;
}

/** A held database lease passed from one holder in this process to the next. */
interface HandedLease {
  token: string;
  /** performance.now() by which the lease must have been renewed. */
  leaseRunsOutAt: number;
  /** When this process took the lease from the database. */
  heldSince: number;
}

/** Collects WHERE conditions with numbered placeholders. */
class WhereBuilder {
  readonly params: SqlParam[] = [];
  readonly #conditions: string[] = [];

  param(value: SqlParam): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(condition: (placeholder: string) => string, value: SqlParam): void {
    this.#conditions.push(condition(this.param(value)));
  }

  addIn(column: string, values: readonly SqlParam[]): void {
    this.#conditions.push(`${column} IN (${values.map((value) => this.param(value)).join(', ')})`);
  }

  sql(): string {
    return this.#conditions.length === 0 ? '' : ` WHERE ${this.#conditions.join(' AND ')}`;
  }
}

function forbiddenMessage(key: string, from: EffectState, to: EffectState): string {
  const allowed = allowedEffectTransitions[from];
  if (allowed.length === 0) {
    return `Effect ${JSON.stringify(key)} is already ${from}, which is final: it cannot become ${to}. ` +
      'Use the recorded outcome (another worker may have recorded it first).';
  }
  const hint = from === 'unknown' ? ' Reconcile first: decide from what is observed whether it took effect.' : '';
  return `Effect ${JSON.stringify(key)} is ${from} and cannot become ${to}: from ${from} it may only become ${allowed.join(' or ')}.${hint}`;
}

function isEffectState(value: string): value is EffectState {
  return (effectStates as readonly string[]).includes(value);
}

function notesFrom(value: JsonValue | null): EffectNote[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return [];
    const text = item['text'];
    const at = item['at'];
    const actor = item['actor'];
    if (typeof text !== 'string' || typeof at !== 'string') return [];
    return [{ at, actor: typeof actor === 'string' ? actor : null, text }];
  });
}

function nullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Integers come back as number (SQLite, int4) or string (PostgreSQL int8). */
function toInteger(value: unknown, column: string): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' || typeof value === 'bigint' ? Number(value) : NaN;
  if (!Number.isSafeInteger(number)) throw new LedgerError(`The ledger returned ${String(value)} for ${column}, not a whole number.`);
  return number;
}

function isoFromMs(ms: number): string {
  return new Date(ms).toISOString();
}

function epochMsFrom(at: Date | string): number {
  const ms = at instanceof Date ? at.getTime() : Date.parse(at);
  if (!Number.isFinite(ms) || (typeof at === 'string' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(at))) {
    throw new InvalidLedgerInputError(`Audit time ${JSON.stringify(String(at))} is not a valid date or an ISO-8601 time with a zone (like 2025-01-31T12:00:00Z).`);
  }
  return ms;
}
