import type Database from 'better-sqlite3';
import type { ChainedWrite, ChainHead, ChainLink, VersionWrite } from '../port';
import { toRecord, VERSION_COLUMNS, type VersionRow } from './rows';

/**
 * The hash chains of the SQLite adapter (ResourceStore.appendChained): the
 * `chain_head` and `chain_link` tables (schema.ts), written only inside the
 * store's flush transaction. That transaction is BEGIN IMMEDIATE, so it holds
 * the database's write lock before it reads a head: no other connection, in
 * this process or another, can advance the chain between the read and the
 * write, and "head at seq n+1" commits together with the record and its link.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
export class ChainTables {
  private readonly st: {
    head: Database.Statement;
    setHead: Database.Statement;
    insertLink: Database.Statement;
    links: Database.Statement;
    list: Database.Statement;
    listFirst: Database.Statement;
  };

  constructor(private readonly db: Database.Database) {
    this.st = {
      head: db.prepare('SELECT seq, hash FROM chain_head WHERE chain = ?'),
      setHead: db.prepare(
        `INSERT INTO chain_head (chain, seq, hash) VALUES (?, ?, ?)
         ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
      ),
      insertLink: db.prepare('INSERT INTO chain_link (chain, seq, type, id, hash) VALUES (?, ?, ?, ?, ?)'),
      // The record is joined from `version` as it is now (a tamperer may have changed it):
      // the verifier compares it to the hashes. A purged record leaves its link out.
      links: db.prepare(
        `SELECT l.seq AS seq, l.hash AS hash, ${VERSION_COLUMNS}
         FROM chain_link l JOIN version v ON v.type = l.type AND v.id = l.id AND v.version = 1
         WHERE l.chain = ? AND l.seq > ? ORDER BY l.seq LIMIT ?`,
      ),
      list: db.prepare('SELECT chain FROM chain_head WHERE chain > ? ORDER BY chain LIMIT ?'),
      listFirst: db.prepare('SELECT chain FROM chain_head ORDER BY chain LIMIT ?'),
    };
  }

  /** @see ResourceStore.chainHead */
  head(chain: string): ChainHead | undefined {
    return this.st.head.get(chain) as ChainHead | undefined;
  }

  /**
   * Appends `w` to its chain; must run inside the flush transaction (which
   * holds the write lock). `apply` stores a version exactly as write() does
   * and returns its conflict, if any. Returns the error that fails this write
   * alone (nothing of it is then written); throws what must fail the batch.
   * Several writes to one chain in a batch chain in order: each reads the
   * head the previous one left in this transaction.
   */
  append(w: ChainedWrite, apply: (v: VersionWrite) => Error | undefined): Error | undefined {
    const head = this.head(w.chain);
    let sealed: { json: string; hash: string };
    try {
      sealed = w.seal(head);
    } catch (err) {
      // The caller's code failed: its write fails, the batch goes on.
      return err instanceof Error ? err : new Error(String(err));
    }
    const seq = (head?.seq ?? 0) + 1;
    const version: VersionWrite = {
      type: w.type,
      id: w.id,
      versionId: 1,
      expectedVersion: 0,
      lastUpdated: w.lastUpdated,
      method: 'POST',
      deleted: false,
      json: sealed.json,
      index: w.index,
    };
    try {
      // A savepoint: a constraint failure (a link already at this seq, left by
      // a head row someone deleted) undoes this write only, not the batch.
      return this.db.transaction(() => {
        const conflict = apply(version);
        if (conflict) {
          return conflict;
        }
        this.st.insertLink.run(w.chain, seq, w.type, w.id, sealed.hash);
        this.st.setHead.run(w.chain, seq, sealed.hash);
        return undefined;
      })();
    } catch (err) {
      if (isConstraint(err)) {
        return err as Error;
      }
      throw err;
    }
  }

  /** @see ResourceStore.chainLinks */
  links(chain: string, afterSeq: number, limit: number): ChainLink[] {
    // A negative LIMIT is no limit in SQLite.
    const rows = this.st.links.all(chain, afterSeq, Math.max(0, limit)) as (VersionRow & { seq: number; hash: string })[];
    return rows.map((r) => ({ seq: r.seq, hash: r.hash, record: toRecord(r) }));
  }

  /** @see ResourceStore.listChains */
  list(after: string | undefined, limit: number): string[] {
    const n = Math.max(0, limit);
    const rows = (after === undefined ? this.st.listFirst.all(n) : this.st.list.all(after, n)) as { chain: string }[];
    return rows.map((r) => r.chain);
  }
}

function isConstraint(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}
