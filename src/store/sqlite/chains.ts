import type Database from 'better-sqlite3';
import type { ChainedWrite, ChainHead, ChainLink } from '../port';
import { limitClause } from './search-sql';

/**
 * The hash chains of the SQLite adapter (ResourceStore.appendChained): the
 * `chain_head` and `chain_entry` tables (schema.ts), written only inside the
 * store's flush transaction. That transaction is BEGIN IMMEDIATE, so it holds
 * the database's write lock before it reads a head: no other connection, in
 * this process or another, can advance the chain between the read and the
 * write, and "head at seq n+1" commits together with the record. One row per
 * record plus the head: an audited read costs two small inserts, not the
 * forty rows of an indexed resource.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
export class ChainTables {
  private readonly st: {
    head: Database.Statement;
    setHead: Database.Statement;
    insert: Database.Statement;
    dropHead: Database.Statement;
    dropEntries: Database.Statement;
  };

  constructor(
    db: Database.Database,
    /** The store's cache of prepared statements (SqliteStore.statement): the limited reads are prepared once per limit. */
    private readonly statement: (sql: string) => Database.Statement,
  ) {
    this.st = {
      head: db.prepare('SELECT seq, hash FROM chain_head WHERE chain = ?'),
      setHead: db.prepare(
        `INSERT INTO chain_head (chain, seq, hash) VALUES (?, ?, ?)
         ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
      ),
      insert: db.prepare('INSERT INTO chain_entry (chain, seq, hash, json) VALUES (?, ?, ?, ?)'),
      dropHead: db.prepare('DELETE FROM chain_head WHERE chain = ?'),
      dropEntries: db.prepare('DELETE FROM chain_entry WHERE chain = ?'),
    };
  }

  /** @see ResourceStore.chainHead */
  head(chain: string): ChainHead | undefined {
    return this.st.head.get(chain) as ChainHead | undefined;
  }

  /**
   * Appends `w` to its chain; must run inside the flush transaction (which
   * holds the write lock). Returns the error that fails this write alone
   * (nothing of it is then written). Several writes to one chain in a batch
   * chain in order: each reads the head the previous one left.
   */
  append(w: ChainedWrite): Error | undefined {
    const head = this.head(w.chain);
    let sealed: { json: string; hash: string };
    try {
      sealed = w.seal(head);
    } catch (err) {
      // The caller's code failed: its write fails, the batch goes on.
      return err instanceof Error ? err : new Error(String(err));
    }
    const seq = (head?.seq ?? 0) + 1;
    try {
      this.st.insert.run(w.chain, seq, sealed.hash, sealed.json);
    } catch (err) {
      // An entry already at this seq (a head row someone deleted): this write fails, nothing of it written.
      if (isConstraint(err)) return err as Error;
      throw err;
    }
    this.st.setHead.run(w.chain, seq, sealed.hash);
    return undefined;
  }

  /** @see ResourceStore.chainLinks */
  links(chain: string, afterSeq: number, limit: number): ChainLink[] {
    return this.withLimit('SELECT seq, hash, json FROM chain_entry WHERE chain = ? AND seq > ? ORDER BY seq', limit).all(chain, afterSeq) as ChainLink[];
  }

  /** @see ResourceStore.chainLinksBefore */
  linksBefore(chain: string, beforeSeq: number | undefined, limit: number): ChainLink[] {
    return (
      beforeSeq === undefined
        ? this.withLimit('SELECT seq, hash, json FROM chain_entry WHERE chain = ? ORDER BY seq DESC', limit).all(chain)
        : this.withLimit('SELECT seq, hash, json FROM chain_entry WHERE chain = ? AND seq < ? ORDER BY seq DESC', limit).all(chain, beforeSeq)
    ) as ChainLink[];
  }

  /** @see ResourceStore.listChains */
  list(after: string | undefined, limit: number): string[] {
    const rows = (
      after === undefined
        ? this.withLimit('SELECT chain FROM chain_head ORDER BY chain', limit).all()
        : this.withLimit('SELECT chain FROM chain_head WHERE chain > ? ORDER BY chain', limit).all(after)
    ) as { chain: string }[];
    return rows.map((r) => r.chain);
  }

  /**
   * `sql LIMIT n` with the limit written in (search-sql.ts limitClause: a
   * bound LIMIT makes SQLite compile the statement at every run); few
   * distinct limits (history pages, one link, verification batches). A
   * negative limit returns no row.
   */
  private withLimit(sql: string, limit: number): Database.Statement {
    return this.statement(`${sql} ${limitClause(Math.max(0, Math.floor(limit)))}`);
  }

  /** @see ResourceStore.purgeChain */
  drop(chain: string): void {
    this.st.dropEntries.run(chain);
    this.st.dropHead.run(chain);
  }
}

function isConstraint(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT');
}
