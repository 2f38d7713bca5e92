/**
 * The per-user lock: a lease row in `user_locks` (owner, random token, expiry), renewed
 * every third of the lease while the caller's function runs, and deleted afterwards. A
 * holder that dies stops renewing, and its lease runs out. Times come from the database's
 * clock (PostgreSQL: the server's, so hosts' clocks do not matter). No transaction is held
 * while the caller's function runs. Holders in one process queue in memory (no polling
 * between them), and a holder with a successor in its process hands the lease on instead
 * of deleting it, for up to two seconds in a row; holders in other processes poll (10 ms
 * doubling to lockPollMaxMs).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserLockLostError, UserLockTimeoutError } from './errors.ts';
import { assertDuration, assertIdentifier, normalizeUserId } from './rules.ts';
import { isoFromMs, toInteger } from './sql.ts';
import type { LedgerDefaults, SqlDriver } from './sql.ts';
import type { HeldUserLock, UserLockOptions } from './types.ts';

/**
 * How long holders in one process may hand a user's lease on to each other before it goes
 * back to the database, where holders in other processes can take it: they would
 * otherwise wait for as long as this process keeps having successors.
 */
const handOffChainMs = 2_000;

export class UserLocks {
  private readonly driver: SqlDriver;
  private readonly defaults: LedgerDefaults;
  private readonly assertOpen: () => void;
  /** This ledger's holders and waiters per user: hand-off in process, no polling between them. */
  private readonly localLocks = new Map<string, LocalUserQueue>();

  constructor(driver: SqlDriver, defaults: LedgerDefaults, assertOpen: () => void) {
    this.driver = driver;
    this.defaults = defaults;
    this.assertOpen = assertOpen;
  }

  async withUserLock<T>(
    userIdInput: string | number,
    owner: string,
    fn: (lock: HeldUserLock) => Promise<T>,
    options: UserLockOptions = {},
  ): Promise<T> {
    const userId = normalizeUserId(userIdInput);
    assertIdentifier(owner, 'Lock owner');
    const waitMs = options.waitMs ?? this.defaults.lockWaitMs;
    const leaseMs = options.leaseMs ?? this.defaults.lockLeaseMs;
    assertDuration(waitMs, 'Lock waitMs', 0, 3_600_000);
    assertDuration(leaseMs, 'Lock leaseMs', 100, 3_600_000);
    this.assertOpen();

    let token: string = randomUUID();
    const startedAt = performance.now();
    // Holders in this process take turns without polling; the database's lease row
    // excludes every other process. A holder with a successor in this process hands its
    // lease on instead of releasing it (see handOffChainMs).
    const local = this.enterLocalQueue(userId);
    let sentAt: number;
    let handed: HandedLease | undefined;
    try {
      if (!(await local.turn(waitMs))) {
        const holder = await this.readHolder(userId);
        throw new UserLockTimeoutError(userId, Math.round(performance.now() - startedAt), holder?.owner, holder?.heldUntil);
      }
      this.assertOpen();
      handed = local.takeHandOff();
      if (handed !== undefined && handed.leaseRunsOutAt - performance.now() < leaseMs / 3) {
        // Too close to running out to be worth keeping: let it go and take the lock afresh.
        await this.release(userId, handed.token);
        handed = undefined;
      }
      let pauseMs = 10;
      while (handed === undefined) {
        sentAt = performance.now();
        if (await this.tryAcquire(userId, owner, token, leaseMs)) break;
        const holder = await this.readHolder(userId);
        const waited = performance.now() - startedAt;
        if (waited >= waitMs) {
          throw new UserLockTimeoutError(userId, Math.round(waited), holder?.owner, holder?.heldUntil);
        }
        pauseMs = Math.min(pauseMs * 2, this.defaults.lockPollMaxMs);
        await sleep(Math.max(1, Math.min(pauseMs * (0.5 + Math.random() / 2), waitMs - waited)));
        this.assertOpen();
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

    try {
      return await fn({ userId, owner, signal: controller.signal });
    } finally {
      clearInterval(timer);
      await renewal;
      const now = performance.now();
      const handOff = !controller.signal.aborted && local.othersWaiting() && now - heldSince < handOffChainMs && leaseRunsOutAt - now > leaseMs / 3;
      try {
        if (handOff) local.handOff({ token, leaseRunsOutAt, heldSince });
        else await this.release(userId, token);
      } catch (error) {
        // The lease runs out by itself; others wait at most that long.
        this.reportBackgroundError(error, `releasing the lock on store user ${userId}`);
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
  private enterLocalQueue(userId: string): {
    turn(waitMs: number): Promise<boolean>;
    othersWaiting(): boolean;
    handOff(lease: HandedLease): void;
    takeHandOff(): HandedLease | undefined;
    leave(): void;
  } {
    let queue = this.localLocks.get(userId);
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), members: 0, handedLease: undefined };
      this.localLocks.set(userId, queue);
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
        if (this.localLocks.get(userId) === joined) this.localLocks.delete(userId);
        const orphan = joined.handedLease;
        joined.handedLease = undefined;
        if (orphan !== undefined) {
          // The successor gave up waiting: nobody here holds the lease any more.
          this.release(userId, orphan.token).catch((error: unknown) => this.reportBackgroundError(error, `releasing the lock on store user ${userId}`));
        }
      },
    };
  }

  // --- the lease row ---

  private async tryAcquire(userId: string, owner: string, token: string, leaseMs: number): Promise<boolean> {
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
    return rows[0]?.['token'] === token;
  }

  private async readHolder(userId: string): Promise<{ owner: string; heldUntil: string } | undefined> {
    const rows = await this.driver.query('SELECT owner, expires_at FROM user_locks WHERE user_id = $1', [userId]);
    const row = rows[0];
    if (row === undefined) return undefined;
    return { owner: String(row['owner']), heldUntil: isoFromMs(toInteger(row['expires_at'], 'expires_at')) };
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
