import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { SearchPage, SearchPlan } from '../../fhir/search/plan';
import {
  checkDistinct,
  GroupConflict,
  historyKey,
  StoreUnavailable,
  UniqueConflict,
  VersionConflict,
  type ChainedWrite,
  type ContentRange,
  type ChainHead,
  type ChainLink,
  type HistoryPage,
  type HistoryQuery,
  type ResourceStore,
  type VersionRecord,
  type VersionWrite,
} from '../port';
import { ChainTables } from './chains';
import { ContentFiles } from './content-files';
import { readHistory } from './history';
import { IndexRows } from './index-rows';
import { KeyTables } from './key-tables';
import { toRecord, VERSION_COLUMNS, type VersionRow } from './rows';
import { addNumberRanges } from './number-ranges';
import { SCHEMA } from './schema';
import { searchSqlite } from './search';

/** SQLITE_BUSY / SQLITE_LOCKED: another connection (another process on the same file) holds the lock past the busy timeout. */
function busy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

export interface SqliteOptions {
  /** Directory of the database file (created when missing). */
  dataDir: string;
  /** File name inside dataDir; `:memory:` for a throw-away database. */
  fileName?: string;
  /** How long a write waits for a lock held by another process before giving up (503). Default 5 s. */
  busyTimeoutMs?: number;
}


/**
 * A queued write: one version, a group that stands or falls as one
 * (writeAll), or an append to a hash chain (`chained`, no versions).
 */
interface Pending {
  writes: readonly VersionWrite[];
  group: boolean;
  chained?: ChainedWrite;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The embedded default store: one SQLite file in DATA_DIR, WAL journal.
 *
 * Writes are group-committed: the writes queued during one event-loop turn
 * run in a single transaction, each still a compare-and-set on its own
 * resource. The transaction commits without waiting for the disk; the WAL is
 * then fdatasync'ed on libuv's thread pool and only after that do the writes'
 * promises resolve. So an acknowledged write survives a power cut (as with
 * `synchronous=FULL`), one sync serves a whole batch, and the event loop
 * keeps working while the disk does. The one relaxation: a concurrent reader
 * may see a version a moment before it is durable (it is never acknowledged
 * to its writer before it is).
 *
 * Appends to hash chains (appendChained) join the same queue: each reads its
 * chain's head inside the batch's transaction, which takes the write lock
 * first (BEGIN IMMEDIATE), so heads read there cannot move under it, even
 * with other processes writing to the same file (see chains.ts).
 */
export class SqliteStore implements ResourceStore {
  readonly kind = 'sqlite' as const;
  /** Exposed to the adapter's own modules (search); nothing outside store/sqlite uses it. */
  readonly db: Database.Database;
  private readonly rows: IndexRows;
  private readonly keys: KeyTables;
  private readonly chains: ChainTables;
  private queue: Pending[] = [];
  private flushScheduled = false;
  /** The WAL file (undefined for an in-memory database), and a descriptor on it for fdatasync. */
  private readonly walPath?: string;
  private walFd?: number;
  /** WAL syncs in flight (close() waits for them). */
  private readonly syncing = new Set<Promise<void>>();
  /** Batches committed and waiting for the next fdatasync, and whether one is running. */
  private syncWaiters: ((err: unknown) => void)[] = [];
  private syncRunning = false;
  private readonly stmts: ReturnType<SqliteStore['prepare']>;
  private readonly cache = new Map<string, Database.Statement>();
  /** Applies a writeAll group; called inside the flush transaction, it runs as a SAVEPOINT (see flush). */
  private readonly group: (writes: readonly VersionWrite[]) => void;
  /** Binary bytes, as files beside the database (content-files.ts). */
  private readonly content: ContentFiles;

  constructor(options: SqliteOptions) {
    const fileName = options.fileName ?? 'fhir.sqlite';
    if (fileName !== ':memory:') {
      fs.mkdirSync(options.dataDir, { recursive: true });
    }
    const file = fileName === ':memory:' ? ':memory:' : path.join(options.dataDir, fileName);
    this.walPath = fileName === ':memory:' ? undefined : `${file}-wal`;
    this.db = new Database(file, {
      timeout: options.busyTimeoutMs ?? 5000,
    });
    this.db.pragma('journal_mode = WAL');
    // COMMIT writes the WAL without waiting for the disk; flush() then syncs
    // the WAL off the event loop and only afterwards acknowledges (see there).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = OFF');
    // The default 2 MB page cache is small once the index tables hold 100,000s
    // of rows; 64 MB keeps the hot index pages of a busy server in memory.
    this.db.pragma('cache_size = -65536');
    // Checkpoint every ~40 MB of WAL rather than every 4 MB: a page written by
    // many commits (index leaves, B-tree interiors) is copied into the database
    // once per checkpoint, so this cuts write volume per create by about a
    // fifth (measured with a store-only benchmark: 270 -> 215 us per Patient).
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.exec(SCHEMA);
    this.content = new ContentFiles(fileName === ':memory:' ? undefined : options.dataDir);
    addNumberRanges(this.db);
    this.rows = new IndexRows(this.db);
    this.keys = new KeyTables(this.db);
    this.chains = new ChainTables(this.db);
    this.stmts = this.prepare();
    this.group = this.db.transaction((writes: readonly VersionWrite[]) => {
      writes.forEach((w, i) => {
        const conflict = this.apply(w);
        if (conflict) throw new GroupConflict(i, conflict);
      });
    });
  }

  private prepare() {
    const db = this.db;
    return {
      current: db.prepare(
        `SELECT ${VERSION_COLUMNS} FROM resource r JOIN version v ON v.vrow = r.vrow WHERE r.type = ? AND r.id = ?`,
      ),
      version: db.prepare(`SELECT ${VERSION_COLUMNS} FROM version v WHERE v.type = ? AND v.id = ? AND v.version = ?`),
      many: db.prepare(
        `SELECT ${VERSION_COLUMNS} FROM resource r JOIN version v ON v.vrow = r.vrow
         WHERE r.type = ? AND r.deleted = 0 AND r.id IN (SELECT value FROM json_each(?))`,
      ),
      head: db.prepare('SELECT rid, version FROM resource WHERE type = ? AND id = ?'),
      insertVersion: db.prepare(
        `INSERT INTO version (type, id, version, last_updated, method, deleted, json, hkey)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertResource: db.prepare(
        `INSERT INTO resource (type, id, ref, version, vrow, last_updated_ms, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateResource: db.prepare(
        'UPDATE resource SET version = ?, vrow = ?, last_updated_ms = ?, deleted = ? WHERE rid = ?',
      ),
    };
  }

  /**
   * A prepared statement for `sql`, prepared once. Queries built at run time
   * (history, search) take a small number of shapes, so the cache stays small.
   */
  statement(sql: string): Database.Statement {
    let st = this.cache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      if (this.cache.size > 2000) {
        this.cache.clear();
      }
      this.cache.set(sql, st);
    }
    return st;
  }

  describe(): Record<string, unknown> {
    return {
      file: this.db.name,
      journal: 'wal',
      durability: 'WAL synced before acknowledging',
      groupCommit: true,
      transactionBundles: 'one SQL transaction (a savepoint per Bundle inside the group commit)',
    };
  }

  async init(): Promise<void> {
    // The schema is created in the constructor: nothing asynchronous to wait for.
  }

  async close(): Promise<void> {
    if (this.queue.length > 0) {
      this.flush();
    }
    while (this.syncing.size > 0) {
      await Promise.all([...this.syncing]);
    }
    this.db.close();
    this.content.close();
    if (this.walFd !== undefined) {
      fs.closeSync(this.walFd);
      this.walFd = undefined;
    }
  }

  async readCurrent(type: string, id: string): Promise<VersionRecord | undefined> {
    const row = this.stmts.current.get(type, id) as VersionRow | undefined;
    return row && toRecord(row);
  }

  async readVersion(type: string, id: string, versionId: number): Promise<VersionRecord | undefined> {
    const row = this.stmts.version.get(type, id, versionId) as VersionRow | undefined;
    return row && toRecord(row);
  }

  async readMany(type: string, ids: readonly string[]): Promise<VersionRecord[]> {
    if (ids.length === 0) {
      return [];
    }
    return (this.stmts.many.all(type, JSON.stringify(ids)) as VersionRow[]).map(toRecord);
  }

  write(write: VersionWrite): Promise<void> {
    return this.enqueue([write], false);
  }

  /**
   * A group rides in the same group commit as single writes, inside a
   * SAVEPOINT of its own (see flush): its writes are applied in order, and
   * the first conflict rolls the savepoint back, so the group is all or
   * nothing while the other writes of the flush stand or fall on their own.
   */
  writeAll(writes: readonly VersionWrite[]): Promise<void> {
    checkDistinct(writes);
    return writes.length === 0 ? Promise.resolve() : this.enqueue(writes, true);
  }

  private enqueue(writes: readonly VersionWrite[], group: boolean, chained?: ChainedWrite): Promise<void> {
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
   * group. better-sqlite3 runs a transaction function called inside another
   * as a SAVEPOINT, rolled back (and released) when the function throws.
   * IMMEDIATE: the write lock is taken before anything is read, so the heads
   * and current versions read here are still current when the batch
   * commits, whatever other processes do (they wait for the lock, up to the
   * busy timeout).
   */
  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.flushScheduled = false;
    const conflicts = new Map<Pending, Error>();
    const group = this.group;
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          if (p.chained) {
            const failed = this.chains.append(p.chained);
            if (failed) conflicts.set(p, failed);
            continue;
          }
          if (!p.group) {
            const conflict = this.apply(p.writes[0]);
            if (conflict) conflicts.set(p, conflict);
            continue;
          }
          try {
            group(p.writes);
          } catch (err) {
            // Anything but a conflict (a lock, a bug) fails the whole flush, as for single writes.
            if (!(err instanceof GroupConflict)) throw err;
            conflicts.set(p, err);
          }
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
    this.syncWal(settle);
  }

  /**
   * Makes every committed WAL frame durable, then calls `done`. The fdatasync
   * runs on libuv's thread pool, so the event loop keeps serving requests
   * while the disk works; the writes of the batch are acknowledged only
   * afterwards. A later sync covers every earlier frame (the WAL is written
   * in order), so an acknowledged write is never lost; so one sync at a time
   * serves every batch committed before it started (the disk does one at a
   * time anyway, and the thread pool stays free for other file work).
   */
  private syncWal(done: (err: unknown) => void): void {
    if (this.walFd === undefined) {
      // In memory, or no WAL yet (nothing was ever written): nothing to make durable.
      if (this.walPath === undefined || !fs.existsSync(this.walPath)) {
        done(undefined);
        return;
      }
      this.walFd = fs.openSync(this.walPath, 'r');
    }
    this.syncWaiters.push(done);
    // One fdatasync at a time: batches committed while one runs wait for the next, which covers them all.
    if (!this.syncRunning) this.startSync();
  }

  private startSync(): void {
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    this.syncRunning = true;
    const synced = new Promise<void>((resolve) => {
      fs.fdatasync(this.walFd as number, (err) => {
        this.syncRunning = false;
        // Started before the callbacks, so that close() still finds a sync in flight.
        if (this.syncWaiters.length > 0) this.startSync();
        this.syncing.delete(synced);
        for (const w of waiters) w(err ?? undefined);
        resolve();
      });
    });
    this.syncing.add(synced);
  }

  /** Applies one write inside the open transaction; checks before it changes anything. */
  private apply(w: VersionWrite): VersionConflict | UniqueConflict | undefined {
    const head = this.stmts.head.get(w.type, w.id) as { rid: number; version: number } | undefined;
    const actual = head?.version ?? 0;
    if (actual !== w.expectedVersion || w.versionId <= actual) {
      return new VersionConflict(w.type, w.id, actual);
    }
    const taken = w.deleted ? undefined : this.keys.conflict(head?.rid, w.uniqueKeys);
    if (taken) {
      return taken;
    }
    const vrow = this.stmts.insertVersion.run(
      w.type,
      w.id,
      w.versionId,
      w.lastUpdated,
      w.method,
      w.deleted ? 1 : 0,
      w.json,
      historyKey(w),
    ).lastInsertRowid as number;
    const ms = Date.parse(w.lastUpdated);
    let rid: number;
    if (head) {
      rid = head.rid;
      this.stmts.updateResource.run(w.versionId, vrow, ms, w.deleted ? 1 : 0, rid);
      this.rows.remove(rid);
    } else {
      rid = this.stmts.insertResource.run(w.type, w.id, `${w.type}/${w.id}`, w.versionId, vrow, ms, w.deleted ? 1 : 0)
        .lastInsertRowid as number;
    }
    if (!w.deleted) {
      this.rows.add(rid, w.type, w.index);
    }
    this.keys.written(rid, w.type, w.deleted ? [] : w.uniqueKeys);
    return undefined;
  }

  async changeMarker(types: readonly string[]): Promise<string> {
    return this.keys.marker(types);
  }

  async purge(type: string, id: string): Promise<void> {
    this.flush();
    this.db.transaction(() => {
      const head = this.stmts.head.get(type, id) as { rid: number } | undefined;
      if (head) {
        this.rows.remove(head.rid);
        this.keys.written(head.rid, type, []);
        this.statement('DELETE FROM resource WHERE rid = ?').run(head.rid);
      }
      this.statement('DELETE FROM version WHERE type = ? AND id = ?').run(type, id);
    })();
  }

  async history(q: HistoryQuery): Promise<HistoryPage> {
    return readHistory(this, q);
  }

  async search(plan: SearchPlan): Promise<SearchPage> {
    return searchSqlite(this, plan);
  }

  /**
   * Queues each write in the group commit (see the class comment): sealed
   * and stored inside the batch's transaction, acknowledged after the WAL
   * sync. Waits for every write, then rejects with the first failure.
   */
  async appendChained(writes: readonly ChainedWrite[]): Promise<void> {
    const done = writes.map((chained) => this.enqueue([], false, chained));
    const failed = (await Promise.allSettled(done)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      throw failed.reason;
    }
  }

  async chainLinks(chain: string, afterSeq: number, limit: number): Promise<ChainLink[]> {
    return this.chains.links(chain, afterSeq, limit);
  }

  async chainLinksBefore(chain: string, beforeSeq: number | undefined, limit: number): Promise<ChainLink[]> {
    return this.chains.linksBefore(chain, beforeSeq, limit);
  }

  async chainHead(chain: string): Promise<ChainHead | undefined> {
    return this.chains.head(chain);
  }

  async purgeChain(chain: string): Promise<void> {
    this.flush();
    this.db.transaction(() => this.chains.drop(chain))();
  }

  async listChains(after: string | undefined, limit: number): Promise<string[]> {
    return this.chains.list(after, limit);
  }

  putContent(source: Readable): Promise<string> {
    return this.content.put(source);
  }

  openContent(id: string, range?: ContentRange): Promise<Readable> {
    return this.content.open(id, range);
  }

  deleteContent(id: string): Promise<void> {
    return this.content.delete(id);
  }
}
