import type Database from 'better-sqlite3';
import { UniqueConflict } from '../port';

/**
 * The small tables beside the versions that every write keeps in step, inside
 * the same transaction: `unique_key` (VersionWrite.uniqueKeys: one live
 * holder per key) and `change_counter` (one counter per type, for
 * changeMarker). Being in the write's transaction, they are as consistent as
 * the versions themselves, across processes on one file too: SQLite
 * serializes writers.
 */
export class KeyTables {
  private readonly st: {
    holder: Database.Statement;
    holderRef: Database.Statement;
    release: Database.Statement;
    claim: Database.Statement;
    bump: Database.Statement;
  };

  private readonly markerStatements = new Map<number, Database.Statement>();
  private readonly dataVersion: Database.Statement;
  /** Writes made through this connection (data_version does not count them). */
  private local = 0;
  private readonly lastMarker = new Map<string, { dataVersion: number; local: number; value: string }>();

  constructor(private readonly db: Database.Database) {
    this.st = {
      holder: db.prepare('SELECT rid FROM unique_key WHERE key = ?'),
      holderRef: db.prepare('SELECT ref FROM resource WHERE rid = ?'),
      release: db.prepare('DELETE FROM unique_key WHERE rid = ?'),
      claim: db.prepare('INSERT INTO unique_key (key, rid) VALUES (?, ?)'),
      bump: db.prepare('INSERT INTO change_counter (type, n) VALUES (?, 1) ON CONFLICT(type) DO UPDATE SET n = n + 1'),
    };
    // pluck: the number alone, no row object built on every request.
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
  }

  /** The first key held by another resource than `rid` (undefined for a new resource), as a conflict. */
  conflict(rid: number | undefined, keys: readonly string[] | undefined): UniqueConflict | undefined {
    for (const key of keys ?? []) {
      const held = this.st.holder.get(key) as { rid: number } | undefined;
      if (held && held.rid !== rid) {
        const ref = (this.st.holderRef.get(held.rid) as { ref: string } | undefined)?.ref ?? 'unknown';
        return new UniqueConflict(key, ref);
      }
    }
    return undefined;
  }

  /** The resource now holds exactly `keys` (none for a tombstone), and its type's counter moves. */
  written(rid: number, type: string, keys: readonly string[] | undefined): void {
    this.st.release.run(rid);
    for (const key of keys ?? []) this.st.claim.run(key, rid);
    this.st.bump.run(type);
    this.local++;
  }

  /**
   * The counters of `types`, as one opaque string. Called on every request,
   * so it avoids the table when it can: SQLite's `data_version` changes only
   * when another connection (another process) commits, and this
   * connection's own writes bump `local`; while neither moved, the counters
   * read last time still hold.
   */
  marker(types: readonly string[]): string {
    const dataVersion = this.dataVersion.get() as number;
    const key = types.join(',');
    const last = this.lastMarker.get(key);
    if (last && last.dataVersion === dataVersion && last.local === this.local) {
      return last.value;
    }
    const value = this.readMarker(types);
    this.lastMarker.set(key, { dataVersion, local: this.local, value });
    return value;
  }

  private readMarker(types: readonly string[]): string {
    let st = this.markerStatements.get(types.length);
    if (!st) {
      st = this.db.prepare(`SELECT type, n FROM change_counter WHERE type IN (${types.map(() => '?').join(',')}) ORDER BY type`);
      this.markerStatements.set(types.length, st);
    }
    const rows = st.all(...types) as { type: string; n: number }[];
    let out = '';
    for (const r of rows) out += `${r.type}:${r.n},`;
    return out;
  }
}
