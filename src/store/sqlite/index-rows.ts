import type { Database, Statement } from 'better-sqlite3';
import { sortValues, type IndexEntry, type ScalarEntryKind } from '../../fhir/search/index-entry';
import { dateSpanClass, INDEX_TABLES } from './schema';

type ScalarEntry = Exclude<IndexEntry, { kind: 'composite' }>;

/** Column values of an entry, in the order of INDEX_TABLES[kind].columns. */
function columnValues(e: ScalarEntry): unknown[] {
  switch (e.kind) {
    case 'token':
      return [e.system, e.code, e.text];
    case 'string':
      return [e.value, e.exact];
    case 'reference':
      return [e.ref, e.type, e.id, e.idSystem, e.idValue];
    case 'date':
      return [e.low, e.high];
    case 'number':
      return [e.value, e.low, e.high];
    case 'quantity':
      return [e.value, e.low, e.high, e.system, e.code, e.unit];
    case 'uri':
      return [e.value];
  }
}

/**
 * Writes and clears the index rows of a resource's current version. The
 * statements are prepared once per database.
 */
export class IndexRows {
  private readonly insert: Record<ScalarEntryKind, Statement>;
  private readonly clear: Statement[];
  private readonly insertSort: Statement;
  private readonly insertSpan: Statement;

  constructor(db: Database) {
    const kinds = Object.keys(INDEX_TABLES) as ScalarEntryKind[];
    this.insert = {} as Record<ScalarEntryKind, Statement>;
    for (const kind of kinds) {
      const { table, columns } = INDEX_TABLES[kind];
      const cols = ['rid', 'type', 'param', 'grp', ...columns];
      this.insert[kind] = db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
    }
    this.clear = [
      ...kinds.map((k) => db.prepare(`DELETE FROM ${INDEX_TABLES[k].table} WHERE rid = ?`)),
      db.prepare('DELETE FROM sort_value WHERE rid = ?'),
      db.prepare('DELETE FROM ix_date_span WHERE rid = ?'),
    ];
    this.insertSort = db.prepare('INSERT INTO sort_value (rid, param, low, high) VALUES (?, ?, ?, ?)');
    this.insertSpan = db.prepare('INSERT INTO ix_date_span (rid, type, param, span, low, high) VALUES (?, ?, ?, ?, ?, ?)');
  }

  /** Removes every index row of `rid`. */
  remove(rid: number): void {
    for (const s of this.clear) {
      s.run(rid);
    }
  }

  /** Inserts the rows of `entries` (and their sort values) for `rid`. */
  add(rid: number, type: string, entries: readonly IndexEntry[]): void {
    let grp = 0;
    for (const e of entries) {
      if (e.kind === 'composite') {
        grp++;
        e.parts.forEach((part, i) => {
          this.insert[part.kind].run(rid, type, `${e.param}#${i}`, grp, ...columnValues(part));
        });
      } else {
        this.insert[e.kind].run(rid, type, e.param, null, ...columnValues(e));
      }
    }
    for (const [param, v] of Object.entries(sortValues(entries))) {
      this.insertSort.run(rid, param, v.low, v.high);
    }
    for (const [param, v] of dateExtents(entries)) {
      this.insertSpan.run(rid, type, param, dateSpanClass(v.low, v.high), v.low, v.high);
    }
  }
}

/**
 * Per plain date parameter, the extent of its entries: the `ix_date_span` row
 * that two-sided date ranges find their candidates through (schema.ts).
 * Composite parts are left out, as in sort values.
 * @see https://hl7.org/fhir/R4/search.html#date
 */
function dateExtents(entries: readonly IndexEntry[]): Map<string, { low: number; high: number }> {
  const out = new Map<string, { low: number; high: number }>();
  for (const e of entries) {
    if (e.kind !== 'date') continue;
    const cur = out.get(e.param);
    if (!cur) {
      out.set(e.param, { low: e.low, high: e.high });
    } else {
      cur.low = Math.min(cur.low, e.low);
      cur.high = Math.max(cur.high, e.high);
    }
  }
  return out;
}
