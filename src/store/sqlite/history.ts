import { historyPage, type HistoryPage, type HistoryQuery } from '../port';
import { toRecord, VERSION_COLUMNS, type VersionRow } from './rows';
import { limitClause } from './search-sql';
import { WhereCompiler } from './search-where';
import type { SqliteStore } from './sqlite-store';

/**
 * History over the `version` table, newest first by `hkey` (port.ts
 * historyKey), keyset-paged; with `q.where`, only versions of resources
 * whose current live version meets the conditions (the caller's visibility).
 * @see https://hl7.org/fhir/R4/http.html#history
 */
export function readHistory(store: SqliteStore, q: HistoryQuery): HistoryPage {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.where) {
    // Versions of resources whose current live version meets the conditions (the caller's visibility).
    const visible = new WhereCompiler().checks({ alias: 'hr', types: q.type ? [q.type] : [] }, q.where);
    where.push(`EXISTS (SELECT 1 FROM resource hr WHERE hr.type = v.type AND hr.id = v.id AND hr.deleted = 0 AND (${visible.sql}))`);
    args.push(...visible.args);
  }
  if (q.type) {
    where.push('v.type = ?');
    args.push(q.type);
  }
  if (q.id) {
    where.push('v.id = ?');
    args.push(q.id);
  }
  if (q.since) {
    where.push('v.hkey >= ?');
    args.push(q.since);
  }
  const base = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (store.statement(`SELECT COUNT(*) AS n FROM version v ${base}`).get(...args) as { n: number }).n;

  const newer = q.cursor?.direction === 'newer';
  const pageWhere = [...where];
  const pageArgs = [...args];
  if (q.cursor) {
    pageWhere.push(newer ? 'v.hkey > ?' : 'v.hkey < ?');
    pageArgs.push(q.cursor.key);
  }
  const sql = `SELECT ${VERSION_COLUMNS} FROM version v ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''}
    ORDER BY v.hkey ${newer ? 'ASC' : 'DESC'} ${limitClause(q.count + 1)}`;
  // The limit is in the text, not bound (search-sql.ts limitClause: a bound LIMIT recompiles at each run).
  const rows = store.statement(sql).all(...pageArgs) as VersionRow[];
  return historyPage(rows.map(toRecord), q, total);
}
