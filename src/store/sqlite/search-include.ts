import type { IncludeSpec, SearchPlan } from '../../fhir/search/plan';
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
 * `_include` / `_revinclude` over the reference index. Round one applies
 * every spec to the page's matches; each further round applies the
 * `:iterate` specs to what the previous round added, until nothing new comes.
 * Each round's new resources are taken in `Type/id` order, so when
 * `maxIncludes` cuts, the kept set is the same on every adapter.
 * @see https://hl7.org/fhir/R4/search.html#include
 */
export function findIncludes(
  store: SqliteStore,
  plan: SearchPlan,
  matches: readonly FoundRow[],
): { rows: FoundRow[]; truncated: boolean } {
  const seen = new Set(matches.map((m) => m.rid));
  const found: FoundRow[] = [];
  let frontier: readonly FoundRow[] = matches;
  let first = true;
  let truncated = false;
  const specs = [...plan.include.map((s) => ({ s, rev: false })), ...plan.revinclude.map((s) => ({ s, rev: true }))];
  while (frontier.length > 0 && !truncated) {
    const active = first ? specs : specs.filter((x) => x.s.iterate);
    if (active.length === 0) break;
    const remaining = plan.maxIncludes - found.length;
    // Rows already seen may come back; asking for that many more still yields `remaining + 1` new ones when they exist.
    const limit = remaining + 1 + seen.size;
    const fresh = new Map<number, FoundRow>();
    for (const { s, rev } of active) {
      for (const row of rev ? revinclude(store, s, frontier, limit) : include(store, s, frontier, limit)) {
        if (!seen.has(row.rid)) fresh.set(row.rid, row);
      }
    }
    let next = [...fresh.values()].sort(byRef);
    if (next.length > remaining) {
      truncated = true;
      next = next.slice(0, remaining);
    }
    for (const row of next) {
      seen.add(row.rid);
      found.push(row);
    }
    frontier = next;
    first = false;
  }
  return { rows: found.sort(byRef), truncated };
}

function include(store: SqliteStore, spec: IncludeSpec, from: readonly FoundRow[], limit: number): FoundRow[] {
  const rids = from.filter((r) => r.type === spec.sourceType).map((r) => r.rid);
  if (rids.length === 0) return [];
  const args: unknown[] = [JSON.stringify(rids), spec.param];
  let sql = INCLUDE_SQL;
  if (spec.targetType !== undefined) {
    sql += ' AND x.ref_type = ?';
    args.push(spec.targetType);
  }
  return store.statement(`${sql} ORDER BY t.ref LIMIT ?`).all(...args, limit) as FoundRow[];
}

function revinclude(store: SqliteStore, spec: IncludeSpec, from: readonly FoundRow[], limit: number): FoundRow[] {
  const refs = from.filter((r) => spec.targetType === undefined || r.type === spec.targetType).map((r) => r.ref);
  if (refs.length === 0) return [];
  const st = store.statement(`${REVINCLUDE_SQL} ORDER BY s.ref LIMIT ?`);
  return st.all(spec.sourceType, spec.param, JSON.stringify(refs), limit) as FoundRow[];
}

const byRef = (a: FoundRow, b: FoundRow) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
