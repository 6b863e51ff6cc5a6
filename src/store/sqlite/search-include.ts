import type { IncludeSpec, SearchPlan } from '../../fhir/search/plan';
import type { Condition } from '../../fhir/search/plan';
import { includeRounds } from '../include-rounds';
import { limitClause } from './search-sql';
import { WhereCompiler } from './search-where';
import type { SqliteStore } from './sqlite-store';

/** A current resource found by a search: enough to page, include and load it. */
export interface FoundRow {
  rid: number;
  type: string;
  ref: string;
  vrow: number;
}

const INCLUDE_SQL = `SELECT DISTINCT t.rid, t.type, t.ref, t.vrow
  FROM ix_reference x JOIN resource t ON t.type = x.ref_type AND t.id = x.ref_id
  WHERE x.rid IN (SELECT value FROM json_each(?)) AND x.param = ? AND t.deleted = 0`;

const REVINCLUDE_SQL = `SELECT DISTINCT s.rid, s.type, s.ref, s.vrow
  FROM ix_reference x JOIN resource s ON s.rid = x.rid
  WHERE x.type = ? AND x.param = ? AND x.ref IN (SELECT value FROM json_each(?)) AND s.deleted = 0`;

/**
 * `_include` / `_revinclude` over the reference index; the rounds and the
 * cut are the shared ones (store/include-rounds.ts).
 * @see https://hl7.org/fhir/R4/search.html#include
 */
export async function findIncludes(
  store: SqliteStore,
  plan: SearchPlan,
  matches: readonly FoundRow[],
): Promise<{ rows: FoundRow[]; truncated: boolean }> {
  const { found, truncated } = await includeRounds(plan, matches, (spec, reverse, frontier, limit) =>
    reverse ? revinclude(store, spec, frontier, limit, plan.includeWhere) : include(store, spec, frontier, limit, plan.includeWhere),
  );
  return { rows: found, truncated };
}

function include(store: SqliteStore, spec: IncludeSpec, from: readonly FoundRow[], limit: number, where?: readonly Condition[]): FoundRow[] {
  const rids = from.filter((r) => r.type === spec.sourceType).map((r) => r.rid);
  if (rids.length === 0) return [];
  const args: unknown[] = [JSON.stringify(rids), spec.param];
  let sql = INCLUDE_SQL;
  if (spec.targetType !== undefined) {
    sql += ' AND x.ref_type = ?';
    args.push(spec.targetType);
  }
  const visible = restriction('t', where);
  return firstRows(store.statement(`${sql}${visible.sql} ORDER BY t.ref ${roundedLimit(limit)}`).all(...args, ...visible.args) as FoundRow[], limit);
}

function revinclude(store: SqliteStore, spec: IncludeSpec, from: readonly FoundRow[], limit: number, where?: readonly Condition[]): FoundRow[] {
  const refs = from.filter((r) => spec.targetType === undefined || r.type === spec.targetType).map((r) => r.ref);
  if (refs.length === 0) return [];
  const visible = restriction('s', where);
  const st = store.statement(`${REVINCLUDE_SQL}${visible.sql} ORDER BY s.ref ${roundedLimit(limit)}`);
  return firstRows(st.all(spec.sourceType, spec.param, JSON.stringify(refs), ...visible.args) as FoundRow[], limit);
}

/**
 * The limit written into the SQL (see limitClause), rounded up to a power of
 * two: the include limit changes from round to round, and each distinct
 * text is one more prepared statement. The rows beyond `limit` are dropped
 * ({@link firstRows}), so the answer is the one `LIMIT limit` would give.
 */
function roundedLimit(limit: number): string {
  return limitClause(limit <= 1 ? limit : 2 ** Math.ceil(Math.log2(limit)));
}

function firstRows(rows: FoundRow[], limit: number): FoundRow[] {
  return rows.length > limit ? rows.slice(0, limit) : rows;
}

/** `AND (checks)` of SearchPlan.includeWhere on the included row, or nothing. */
function restriction(alias: string, where: readonly Condition[] | undefined): { sql: string; args: unknown[] } {
  if (!where || where.length === 0) return { sql: '', args: [] };
  const f = new WhereCompiler().checks({ alias, types: [] }, where);
  return { sql: ` AND (${f.sql})`, args: f.args };
}
