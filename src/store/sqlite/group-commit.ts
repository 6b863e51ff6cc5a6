import type Database from 'better-sqlite3';
import fs from 'node:fs';
import { StoreUnavailable, type ChainedWrite, type VersionWrite } from '../port';

/**
 * A queued write: one version, a group that stands or falls as one
 * (writeAll), or an append to a hash chain (`chained`, no versions).
 */
export interface QueuedWrite {
  writes: readonly VersionWrite[];
  group: boolean;
  chained?: ChainedWrite;
}

interface Pending extends QueuedWrite {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** SQLITE_BUSY / SQLITE_LOCKED: another connection (another process on the same file) holds the lock past the busy timeout. */
function busy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * The SQLite store's group commit (see SqliteStore's class comment): the
 * writes queued during one event-loop turn run in a single transaction, then
 * the WAL is synced (WalSync) and only then do their promises resolve. What
 * one write does inside the transaction is the store's business (`commitOne`):
 * it returns the write's own failure (a conflict), or throws to fail the
 * whole batch.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private flushScheduled = false;
  private readonly wal: WalSync;

  constructor(
    private readonly db: Database.Database,
    private readonly commitOne: (write: QueuedWrite) => Error | undefined,
    /** The WAL file (undefined for an in-memory database). */
    walPath: string | undefined,
  ) {
    this.wal = new WalSync(walPath);
  }

  /** Queues a write for the next flush; resolves once it is durable. */
  enqueue(writes: readonly VersionWrite[], group: boolean, chained?: ChainedWrite): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ writes, group, chained, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Commits every queued write in one transaction; a version conflict (or a
   * chained write's failing seal) fails only its own write, or its own
   * group. IMMEDIATE: the write lock is taken before anything is read, so the
   * heads and current versions read here are still current when the batch
   * commits, whatever other processes do (they wait for the lock, up to the
   * busy timeout).
   */
  flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.flushScheduled = false;
    const conflicts = new Map<Pending, Error>();
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          const conflict = this.commitOne(p);
          if (conflict) conflicts.set(p, conflict);
        }
      }).immediate();
    } catch (err) {
      // The transaction rolled back: none of the batch was written.
      const reason = busy(err) ? new StoreUnavailable('database locked by another process') : err;
      for (const p of batch) {
        p.reject(reason);
      }
      return;
    }
    const settle = (syncError: unknown) => {
      for (const p of batch) {
        const conflict = conflicts.get(p);
        if (syncError) {
          p.reject(syncError);
        } else if (conflict) {
          p.reject(conflict);
        } else {
          p.resolve();
        }
      }
    };
    this.wal.sync(settle);
  }

  /** Flushes what is queued and waits for every WAL sync in flight (before the database is closed). */
  async drain(): Promise<void> {
    if (this.queue.length > 0) {
      this.flush();
    }
    await this.wal.idle();
  }

  /** Releases the WAL descriptor (after the database is closed). */
  close(): void {
    this.wal.close();
  }
}

/**
 * Makes committed WAL frames durable. The fdatasync runs on libuv's thread
 * pool, so the event loop keeps serving requests while the disk works; the
 * writes of a batch are acknowledged only afterwards. A later sync covers
 * every earlier frame (the WAL is written in order), so an acknowledged
 * write is never lost; so one sync at a time serves every batch committed
 * before it started (the disk does one at a time anyway, and the thread pool
 * stays free for other file work).
 */
class WalSync {
  /** A descriptor on the WAL file for fdatasync, opened at the first sync. */
  private fd?: number;
  /** Syncs in flight (idle() waits for them). */
  private readonly syncing = new Set<Promise<void>>();
  /** Batches committed and waiting for the next fdatasync, and whether one is running. */
  private waiters: ((err: unknown) => void)[] = [];
  private running = false;

  constructor(private readonly walPath: string | undefined) {}

  /** Calls `done` once every frame committed so far is durable. */
  sync(done: (err: unknown) => void): void {
    if (this.fd === undefined) {
      // In memory, or no WAL yet (nothing was ever written): nothing to make durable.
      if (this.walPath === undefined || !fs.existsSync(this.walPath)) {
        done(undefined);
        return;
      }
      this.fd = fs.openSync(this.walPath, 'r');
    }
    this.waiters.push(done);
    // One fdatasync at a time: batches committed while one runs wait for the next, which covers them all.
    if (!this.running) this.start();
  }

  /** Resolves when no sync is in flight (a sync may start the next one: waited for too). */
  async idle(): Promise<void> {
    while (this.syncing.size > 0) {
      await Promise.all([...this.syncing]);
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private start(): void {
    const waiters = this.waiters;
    this.waiters = [];
    this.running = true;
    const synced = new Promise<void>((resolve) => {
      fs.fdatasync(this.fd as number, (err) => {
        this.running = false;
        // Started before the callbacks, so that idle() still finds a sync in flight.
        if (this.waiters.length > 0) this.start();
        this.syncing.delete(synced);
        for (const w of waiters) w(err ?? undefined);
        resolve();
      });
    });
    this.syncing.add(synced);
  }
}
