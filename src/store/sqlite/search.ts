import type { Cursor, SearchPage, SearchPlan } from '../../fhir/search/plan';
import type { VersionRecord } from '../port';
import { toRecord, VERSION_COLUMNS, type VersionRow } from './rows';
import { findIncludes, type FoundRow } from './search-include';
import { keyset, orderBy, ordering, type Ordering } from './search-order';
import { and, concat, limitClause, type Frag } from './search-sql';
import { NARROW_SCORE, pickDriver } from './search-score';
import { WhereCompiler } from './search-where';
import type { SqliteStore } from './sqlite-store';

/** A page row: the resource and its values for each plan sort key (`k0`, `k1`, ...). */
type PageRow = FoundRow & Record<string, string | number | null>;

/**
 * Compiles a SearchPlan to SQL over the index tables and runs it:
 * 1. conditions -> WHERE over `resource r` (search-where.ts: one index driver, correlated checks),
 * 2. `COUNT(*)` for the total, ignoring cursor and page size (skipped when
 *    the first page holds every match: its length is the total),
 * 3. the page: `ORDER BY` stored sort values then `ref`, a keyset condition for the cursor, `LIMIT count + 1`
 *    (the extra row says whether a next page exists),
 * 4. includes through the reference index (search-include.ts),
 * 5. the JSON of the page and its includes, in one query.
 * Every value is a bound parameter; statements come from the store's cache.
 * @see https://hl7.org/fhir/R4/search.html
 */
export async function searchSqlite(store: SqliteStore, plan: SearchPlan): Promise<SearchPage> {
  const compiler = new WhereCompiler();
  const scope = { alias: 'r', types: plan.types };
  const base = compiler.resources(scope, plan.where, 'scan').sql;
  const page: SearchPage = { matches: [], included: [], includesTruncated: false };
  if (plan.count <= 0) {
    if (plan.total) page.total = countMatches(store, base, plan.totalLimit);
    return page;
  }

  const order = ordering('r', plan.sort);
  const pageBase = broadDriver(store, compiler, plan) ? compiler.resources(scope, plan.where, 'ordered').sql : base;
  const { rows, next, prev } = readPage(store, plan, pageBase, order);
  if (plan.total) {
    // A first page with every match on it is its own count: no second pass over the matches.
    page.total = !plan.cursor && !next ? rows.length : countMatches(store, base, plan.totalLimit);
  }
  const wanted = plan.include.length + plan.revinclude.length > 0;
  const includes = wanted ? await findIncludes(store, plan, rows) : { rows: [], truncated: false };
  const versions = loadVersions(store, [...rows, ...includes.rows]);
  page.matches = rows.map((r) => versions.get(r.vrow) as VersionRecord);
  page.included = includes.rows.map((r) => versions.get(r.vrow) as VersionRecord);
  page.includesTruncated = includes.truncated;
  if (next) page.next = next;
  if (prev) page.prev = prev;
  return page;
}

/** Above this many matching index entries, a condition is too broad to drive a page in `Type/id` order. */
const BROAD_ENTRIES = 1000;

/**
 * A page in plain `Type/id` order under a broad condition (`Observation?code=X`
 * matching thousands) is cheaper read in order from resource(type, deleted, ref),
 * checking conditions per row until the page is full, than by materializing
 * and sorting every match. Narrow conditions keep their driver: the ordered
 * read would then go through most of the type to fill a page.
 */
function broadDriver(store: SqliteStore, compiler: WhereCompiler, plan: SearchPlan): boolean {
  if (plan.sort.length > 0) return false;
  const driver = pickDriver(plan.where);
  if (!driver || driver.score <= NARROW_SCORE) return false;
  const probe = compiler.probe({ alias: 'r', types: plan.types }, plan.where, driver, BROAD_ENTRIES);
  if (!probe) return false;
  return (store.statement(probe.sql).get(...probe.args) as { n: number }).n >= BROAD_ENTRIES;
}

function readPage(
  store: SqliteStore,
  plan: SearchPlan,
  base: Frag,
  order: Ordering,
): { rows: PageRow[]; next?: Cursor; prev?: Cursor } {
  const cursor = plan.cursor;
  const backwards = cursor?.direction === 'prev';
  const keys = order.keys.map((k, i) => `${k.expr} AS k${i}`).join(', ');
  const bounded = cursor ? and([base, keyset(order.keys, cursor.values, cursor.ref, cursor.direction)]) : base;
  const q = concat([
    `SELECT r.rid, r.type, r.ref, r.vrow, ${keys} FROM resource r`,
    order.joins,
    'WHERE',
    bounded,
    `ORDER BY ${orderBy(order.keys, backwards)} ${limitClause(plan.count + 1)}`,
  ]);
  let rows = store.statement(q.sql).all(...q.args) as PageRow[];
  const more = rows.length > plan.count;
  rows = rows.slice(0, plan.count);
  if (backwards) rows.reverse();

  const cursorOf = (row: PageRow, direction: Cursor['direction']): Cursor => ({
    direction,
    values: plan.sort.map((_, i) => row[`k${i}`] ?? null),
    ref: row.ref,
  });
  // With no rows left (rows deleted since the previous page), the cursor itself is the boundary.
  const first = rows.length > 0 ? cursorOf(rows[0], 'prev') : cursor && { ...cursor, direction: 'prev' as const };
  const last = rows.length > 0 ? cursorOf(rows[rows.length - 1], 'next') : cursor && { ...cursor, direction: 'next' as const };
  const hasAfter = backwards ? last !== undefined && exists(store, base, order, last) : more;
  const hasBefore = backwards ? more : cursor !== undefined && first !== undefined && exists(store, base, order, first);
  return { rows, next: hasAfter ? last : undefined, prev: hasBefore ? first : undefined };
}

/** Whether any match lies beyond `c` in its direction (one indexed probe, LIMIT 1). */
function exists(store: SqliteStore, base: Frag, order: Ordering, c: Cursor): boolean {
  const beyond = keyset(order.keys, c.values, c.ref, c.direction);
  const q = concat(['SELECT 1 FROM resource r', order.joins, 'WHERE', and([base, beyond]), 'LIMIT 1']);
  return store.statement(q.sql).get(...q.args) !== undefined;
}

const VERSIONS_SQL = `SELECT v.vrow, ${VERSION_COLUMNS} FROM version v WHERE v.vrow IN (SELECT value FROM json_each(?))`;

function loadVersions(store: SqliteStore, rows: readonly FoundRow[]): Map<number, VersionRecord> {
  const out = new Map<number, VersionRecord>();
  if (rows.length === 0) return out;
  for (const v of store.statement(VERSIONS_SQL).all(JSON.stringify(rows.map((r) => r.vrow))) as (VersionRow & { vrow: number })[]) {
    out.set(v.vrow, toRecord(v));
  }
  return out;
}

/**
 * The number of matches, or undefined when `limit` is set and there are more:
 * counting stops at limit + 1 rows instead of visiting every match.
 */
function countMatches(store: SqliteStore, base: Frag, limit: number | undefined): number | undefined {
  if (limit === undefined) {
    const st = store.statement(concat(['SELECT COUNT(*) AS n FROM resource r WHERE', base]).sql);
    return (st.get(...base.args) as { n: number }).n;
  }
  const st = store.statement(concat(['SELECT COUNT(*) AS n FROM (SELECT 1 FROM resource r WHERE', base, `${limitClause(limit + 1)})`]).sql);
  const n = (st.get(...base.args) as { n: number }).n;
  return n > limit ? undefined : n;
}
