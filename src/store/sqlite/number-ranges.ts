import type { Database } from 'better-sqlite3';
import { numberFields } from '../../fhir/search/values';

/**
 * Databases written before number and quantity entries carried the range of
 * their value's text (`low`, `high`, index-entry.ts) get the two columns and
 * have them filled, once. Those databases stored resources through
 * `JSON.parse`, so a value's text then was its own `String(value)`: the
 * range is computed from that, exactly as extraction computes it now.
 * One transaction: a crash leaves the database as it was, and the next start
 * does it again.
 * @see https://hl7.org/fhir/R4/search.html#number
 */
export function addNumberRanges(db: Database): void {
  for (const table of ['ix_number', 'ix_quantity']) {
    const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    if (columns.includes('low')) continue;
    db.transaction(() => {
      db.exec(`ALTER TABLE ${table} ADD COLUMN low REAL; ALTER TABLE ${table} ADD COLUMN high REAL;`);
      const set = db.prepare(`UPDATE ${table} SET low = ?, high = ? WHERE rowid = ?`);
      // all(), not iterate(): better-sqlite3 allows no write while a read is open.
      for (const row of db.prepare(`SELECT rowid AS r, value FROM ${table}`).all() as { r: number; value: number }[]) {
        const { low, high } = numberFields(row.value, undefined);
        set.run(low, high, row.r);
      }
    })();
  }
}
