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

  constructor(private readonly db: Database.Database) {
    this.st = {
      holder: db.prepare('SELECT rid FROM unique_key WHERE key = ?'),
      holderRef: db.prepare('SELECT ref FROM resource WHERE rid = ?'),
      release: db.prepare('DELETE FROM unique_key WHERE rid = ?'),
      claim: db.prepare('INSERT INTO unique_key (key, rid) VALUES (?, ?)'),
      bump: db.prepare('INSERT INTO change_counter (type, n) VALUES (?, 1) ON CONFLICT(type) DO UPDATE SET n = n + 1'),
    };
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
  }

  /** The counters of `types`, as one opaque string. */
  marker(types: readonly string[]): string {
    const rows = this.db
      .prepare(`SELECT type, n FROM change_counter WHERE type IN (SELECT value FROM json_each(?)) ORDER BY type`)
      .all(JSON.stringify(types)) as { type: string; n: number }[];
    return rows.map((r) => `${r.type}:${r.n}`).join(',');
  }
}
