/**
 * The per-user lock: a lease row in `user_locks` (owner, random token, expiry on the database's
 * clock), renewed every third of the lease while the caller's function runs; a holder that dies
 * lets go when it runs out. Holders in one process queue in memory and may hand the lease on;
 * holders in other processes poll (10 ms doubling to lockPollMaxMs).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LedgerError, UserLockLostError, UserLockTimeoutError } from './errors.ts';
import { effectColumns, effectFromRow } from './effect-rows.ts';
import type { EffectStore } from './effects.ts';
import { assertDuration, assertIdentifier, normalizeUserId, parseEffectKey } from './rules.ts';
import { LedgerPart, isoFromMs, toInteger } from './sql.ts';
import type { LedgerDefaults, SqlDriver, SqlRow } from './sql.ts';
import type { HeldUserLock, UserLockOptions } from './types.ts';

type LockReads = Pick<HeldUserLock, 'effect' | 'unresolved'>;

const unresolvedReadLimit = 1_000;

/** How long holders in one process may hand a lease on before other processes get a chance at it. */
const handOffChainMs = 2_000;

export class UserLocks extends LedgerPart {
  private readonly defaults: LedgerDefaults;
  private readonly localLocks = new Map<string, LocalUserQueue>();

  constructor(driver: SqlDriver, defaults: LedgerDefaults) {
    super(driver);
    this.defaults = defaults;
  }

  async withUserLock<T>(
    userIdInput: string | number,
    owner: string,
    fn: (lock: HeldUserLock) => Promise<T>,
    options: UserLockOptions = {},
    record: EffectStore['record'],
  ): Promise<T> {
    const userId = normalizeUserId(userIdInput);
    assertIdentifier(owner, 'Lock owner');
    const readKey = options.read?.effectKey;
    if (readKey !== undefined) parseEffectKey(readKey);
    const waitMs = options.waitMs ?? this.defaults.lockWaitMs;
    const leaseMs = options.leaseMs ?? this.defaults.lockLeaseMs;
    assertDuration(waitMs, 'Lock waitMs', 0, 3_600_000);
    assertDuration(leaseMs, 'Lock leaseMs', 100, 3_600_000);
    this.assertOpen();

    const startedAt = performance.now();
    // Says who holds the lock, and until when.
    const timedOut = async (): Promise<UserLockTimeoutError> => {
      const [held] = await this.driver.query('SELECT owner, expires_at FROM user_locks WHERE user_id = $1', [userId]);
      const waitedMs = Math.round(performance.now() - startedAt);
      if (held === undefined) return new UserLockTimeoutError(userId, waitedMs, undefined, undefined);
      return new UserLockTimeoutError(userId, waitedMs, String(held['owner']), isoFromMs(toInteger(held['expires_at'], 'expires_at')));
    };
    const local = this.enterLocalQueue(userId);
    let token: string = randomUUID();
    let sentAt = 0;
    let handed: HandedLease | undefined;
    let reads: LockReads | undefined;
    try {
      if (!(await local.turn(waitMs))) throw await timedOut();
      this.assertOpen();
      handed = local.queue.handedLease;
      local.queue.handedLease = undefined;
      if (handed !== undefined && handed.leaseRunsOutAt - performance.now() < leaseMs / 3) {
        // Too close to running out to be worth keeping: let it go and take the lock afresh.
        await this.release(userId, handed.token);
        handed = undefined;
      }
      let pauseMs = 10;
      while (handed === undefined) {
        sentAt = performance.now();
        const attempt = await this.tryAcquire(userId, owner, token, leaseMs, readKey);
        if (attempt.taken) {
          reads = attempt.reads;
          break;
        }
        const waited = performance.now() - startedAt;
        if (waited >= waitMs) throw await timedOut();
        pauseMs = Math.min(pauseMs * 2, this.defaults.lockPollMaxMs);
        await sleep(Math.max(1, Math.min(pauseMs * (0.5 + Math.random() / 2), waitMs - waited)));
        this.assertOpen();
      }
      // Handed on within this process (or a backend that reads apart): read now, under the lock.
      if (readKey !== undefined && reads === undefined) reads = await this.readUnderLock(userId, readKey);
    } catch (error) {
      local.leave();
      throw error;
    }

    // The lease counts from before the acquiring statement was sent: our idea of its expiry is never late.
    const controller = new AbortController();
    if (handed !== undefined) token = handed.token;
    const heldSince = handed?.heldSince ?? performance.now();
    let leaseRunsOutAt = handed?.leaseRunsOutAt ?? sentAt + leaseMs;
    let renewal: Promise<void> | undefined;
    let released = false; // with the outcome (recordAndRelease)
    const lose = (why: string): void => {
      if (!released && !controller.signal.aborted) controller.abort(new UserLockLostError(userId, owner, why));
    };
    const tick = (): void => {
      if (released || controller.signal.aborted) return;
      if (performance.now() >= leaseRunsOutAt) {
        lose('its lease ran out before it could be renewed');
        return;
      }
      if (renewal !== undefined) return;
      const renewSentAt = performance.now();
      renewal = this.renew(userId, token, leaseMs)
        .then(
          (renewed) => {
            if (renewed) leaseRunsOutAt = renewSentAt + leaseMs;
            else lose('its lease had run out and the lock was released or taken by another holder');
          },
          (error: unknown) => this.reportBackgroundError(error, `renewing the lock on store user ${userId}`),
        )
        .finally(() => {
          renewal = undefined;
        });
    };
    const timer = setInterval(tick, Math.max(10, Math.floor(leaseMs / 3)));
    const handsOff = (): boolean => {
      const now = performance.now();
      return !controller.signal.aborted && local.queue.members > 1 && now - heldSince < handOffChainMs && leaseRunsOutAt - now > leaseMs / 3;
    };
    const held: HeldUserLock = {
      userId,
      owner,
      signal: controller.signal,
      effect: reads?.effect,
      unresolved: reads?.unresolved ?? [],
      recordAndRelease: async (key, state, recordOptions) => {
        if (released || controller.signal.aborted || handsOff()) return record(key, state, recordOptions);
        const effect = await record(key, state, recordOptions, { userId, token });
        released = true;
        clearInterval(timer);
        return effect;
      },
    };

    try {
      return await fn(held);
    } finally {
      clearInterval(timer);
      await renewal;
      // Unless it was let go already, in the same write as the outcome.
      if (!released && handsOff()) local.queue.handedLease = { token, leaseRunsOutAt, heldSince };
      else if (!released) await this.releaseInBackground(userId, token);
      local.leave();
    }
  }

  /** Joins this ledger's queue for one user; `leave()` lets the next one go (also after a timeout or failure). */
  private enterLocalQueue(userId: string) {
    const queue: LocalUserQueue = this.localLocks.get(userId) ?? { tail: Promise.resolve(), members: 0, handedLease: undefined };
    this.localLocks.set(userId, queue);
    const before = queue.tail;
    const gone = Promise.withResolvers<void>();
    queue.tail = before.then(() => gone.promise);
    queue.members += 1;
    let left = false;
    return {
      queue,
      turn: async (waitMs: number): Promise<boolean> => {
        const timeout = Promise.withResolvers<boolean>();
        const timer = setTimeout(() => timeout.resolve(false), waitMs);
        try {
          return await Promise.race([before.then(() => true), timeout.promise]);
        } finally {
          clearTimeout(timer);
        }
      },
      leave: (): void => {
        if (left) return;
        left = true;
        gone.resolve();
        queue.members -= 1;
        if (queue.members > 0) return;
        if (this.localLocks.get(userId) === queue) this.localLocks.delete(userId);
        // The successor gave up waiting: nobody here holds the lease any more.
        if (queue.handedLease !== undefined) void this.releaseInBackground(userId, queue.handedLease.token);
        queue.handedLease = undefined;
      },
    };
  }

  /** One try to take the lease; with `readKey` and PostgreSQL's lock functions, the reads in the same round trip. */
  private async tryAcquire(userId: string, owner: string, token: string, leaseMs: number, readKey: string | undefined): Promise<{ taken: boolean; reads?: LockReads }> {
    if (readKey !== undefined && this.driver.lockFunctions) {
      const rows = await this.driver.lockQuery('SELECT take_user_lock($1, $2, $3, $4, $5) AS result', [userId, owner, token, leaseMs, readKey]);
      const result = rows[0]?.['result'] as { taken?: unknown; reads?: unknown } | undefined;
      if (result?.taken !== true) return { taken: false };
      return { taken: true, reads: this.readsFrom(result.reads) };
    }
    const now = this.driver.nowMs;
    const rows = await this.driver.lockQuery(
      `INSERT INTO user_locks (user_id, owner, token, acquired_at, expires_at)
       VALUES ($1, $2, $3, ${now}, ${now} + $4)
       ON CONFLICT (user_id) DO UPDATE SET
         owner = excluded.owner, token = excluded.token,
         acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
       WHERE user_locks.expires_at <= ${now}
       RETURNING token`,
      [userId, owner, token, leaseMs],
    );
    return { taken: rows[0]?.['token'] === token };
  }

  private async readUnderLock(userId: string, key: string): Promise<LockReads> {
    if (this.driver.lockFunctions) {
      const rows = await this.driver.query('SELECT lock_reads($1, $2) AS result', [userId, key]);
      return this.readsFrom(rows[0]?.['result']);
    }
    const [effect] = await this.driver.query(`SELECT ${effectColumns} FROM effects WHERE key = $1`, [key]);
    const unresolved = await this.driver.query(
      `SELECT ${effectColumns} FROM effects WHERE user_id = $1 AND state IN ('pending', 'unknown') ORDER BY ${this.driver.insertionOrder} LIMIT ${unresolvedReadLimit}`,
      [userId],
    );
    return this.readsFrom({ effect, unresolved });
  }

  /** The rows read under the lock (`lock_reads`'s answer, or the same read apart) as records. */
  private readsFrom(value: unknown): LockReads {
    const reads = value as { effect?: SqlRow | null; unresolved?: SqlRow[] } | null | undefined;
    if (!Array.isArray(reads?.unresolved)) {
      throw new LedgerError('The ledger\'s lock_reads function answered without the unresolved effects: is the PostgreSQL schema older than this orderflow?');
    }
    return {
      effect: reads.effect === undefined || reads.effect === null ? undefined : effectFromRow(this.driver, reads.effect),
      unresolved: reads.unresolved.map((row) => effectFromRow(this.driver, row)),
    };
  }

  private async renew(userId: string, token: string, leaseMs: number): Promise<boolean> {
    const rows = await this.driver.lockQuery(
      `UPDATE user_locks SET expires_at = ${this.driver.nowMs} + $3
       WHERE user_id = $1 AND token = $2 AND expires_at > ${this.driver.nowMs}
       RETURNING token`,
      [userId, token, leaseMs],
    );
    return rows[0] !== undefined;
  }

  private async release(userId: string, token: string): Promise<void> {
    await this.driver.lockQuery('DELETE FROM user_locks WHERE user_id = $1 AND token = $2', [userId, token]);
  }

  /** A failure is reported, not thrown: the lease runs out by itself, and others wait at most that long. */
  private releaseInBackground(userId: string, token: string): Promise<void> {
    const context = `releasing the lock on store user ${userId}`;
    return this.release(userId, token).catch((error: unknown) => this.reportBackgroundError(error, context));
  }

  private reportBackgroundError(error: unknown, context: string): void {
    try {
      this.defaults.onBackgroundError(error instanceof Error ? error : new Error(String(error)), context);
    } catch {
      // A failing reporter must not break the lock.
    }
  }
}

/** Holders and waiters of one user's lock in this process, in order (see enterLocalQueue). */
interface LocalUserQueue {
  /** Settles when the last member has let go. */
  tail: Promise<void>;
  members: number;
  handedLease: HandedLease | undefined;
}

/** A held database lease passed from one holder in this process to the next (performance.now() times). */
interface HandedLease {
  token: string;
  leaseRunsOutAt: number;
  /** When this process took the lease from the database. */
  heldSince: number;
}
