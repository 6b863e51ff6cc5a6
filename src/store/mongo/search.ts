import { FhirError, issue, outcome } from '../../fhir/outcomes';
import type { Condition, Cursor, SearchPage, SearchPlan } from '../../fhir/search/plan';
import type { HistoryQuery } from '../port';
import { toRecord, type CurrentDoc } from './documents';
import { and, type Filter } from './filter';
import { findIncludes } from './includes';
import { cursorOf, keysetFilter, sortSpec } from './keyset';
import { SUBQUERY_CAP, type QueryRunner } from './runner';
import { compileChecks, compileWhere, type SubqueryResolver } from './search-compile';

/**
 * Runs a SearchPlan on MongoDB:
 * 1. conditions -> one filter over current resources (search-compile.ts);
 *    chains and `_has` are resolved first to lists of `Type/id` (capped at
 *    `cap`, {@link SUBQUERY_CAP} by default: beyond it the search is refused
 *    as too costly);
 * 2. `countDocuments` for the total, ignoring cursor and page size;
 * 3. the page: sorted by stored sort values then `Type/id`, a keyset filter
 *    for the cursor, `count + 1` rows (the extra one says a next page exists);
 * 4. includes (includes.ts).
 * Cursors, their boundaries and the include cut follow the SQLite adapter
 * exactly, so the conformance suites see identical pages.
 * @see https://hl7.org/fhir/R4/search.html
 */
export async function searchMongo(runner: QueryRunner, plan: SearchPlan, cap = SUBQUERY_CAP): Promise<SearchPage> {
  const resolver = subqueries(runner, cap);
  const filter = await compileWhere(plan.types, plan.where, resolver);
  const page: SearchPage = { matches: [], included: [], includesTruncated: false };
  const count = async () => {
    const n = await runner.count(filter, plan.totalLimit === undefined ? undefined : plan.totalLimit + 1);
    // Beyond the limit the total is omitted (see SearchPlan.totalLimit).
    return plan.totalLimit !== undefined && n > plan.totalLimit ? undefined : n;
  };
  if (plan.count <= 0) {
    if (plan.total) page.total = await count();
    return page;
  }
  const withIncludes = plan.include.length + plan.revinclude.length > 0;
  const { docs, next, prev } = await readPage(runner, plan, filter, withIncludes);
  if (plan.total) {
    // A first page with every match on it is its own count (as in the SQLite adapter).
    page.total = !plan.cursor && !next ? docs.length : await count();
  }
  page.matches = docs.map(toRecord);
  if (withIncludes) {
    const inc = await findIncludes(runner, plan, docs, resolver);
    page.included = inc.docs.map(toRecord);
    page.includesTruncated = inc.truncated;
  }
  if (next) page.next = next;
  if (prev) page.prev = prev;
  return page;
}

async function readPage(
  runner: QueryRunner,
  plan: SearchPlan,
  filter: Filter,
  withIdx: boolean,
): Promise<{ docs: CurrentDoc[]; next?: Cursor; prev?: Cursor }> {
  const cursor = plan.cursor;
  const backwards = cursor?.direction === 'prev';
  const bounded = cursor ? and([filter, keysetFilter(plan.sort, cursor)]) : filter;
  let docs = await runner.find(bounded, {
    sort: sortSpec(plan.sort, backwards),
    limit: plan.count + 1,
    // The index entries are only needed to follow _include references.
    projection: withIdx ? undefined : { idx: 0 },
  });
  const more = docs.length > plan.count;
  docs = docs.slice(0, plan.count);
  if (backwards) {
    docs.reverse();
  }
  // With no rows left (rows deleted since the previous page), the cursor itself is the boundary.
  const first = docs.length > 0 ? cursorOf(docs[0], plan.sort, 'prev') : cursor && { ...cursor, direction: 'prev' as const };
  const last =
    docs.length > 0 ? cursorOf(docs[docs.length - 1], plan.sort, 'next') : cursor && { ...cursor, direction: 'next' as const };
  const hasAfter = backwards ? last !== undefined && (await exists(runner, plan, filter, last)) : more;
  const hasBefore = backwards ? more : cursor !== undefined && first !== undefined && (await exists(runner, plan, filter, first));
  return { docs, next: hasAfter ? last : undefined, prev: hasBefore ? first : undefined };
}

/** Whether any match lies beyond `c` in its direction. */
async function exists(runner: QueryRunner, plan: SearchPlan, filter: Filter, c: Cursor): Promise<boolean> {
  const rows = await runner.find(and([filter, keysetFilter(plan.sort, c)]), { limit: 1, projection: { _id: 1 } });
  return rows.length > 0;
}

function tooCostly(what: string, cap: number): FhirError {
  return new FhirError(400, outcome(issue('too-costly', `Search too broad: ${what} matches more than ${cap} resources; narrow it`)));
}

/** Chains and `_has` run as their own searches first (MongoDB has no join the filter could use). */
function subqueries(runner: QueryRunner, cap: number): SubqueryResolver {
  const resolver: SubqueryResolver = {
    async refsOf(types: readonly string[], where: readonly Condition[]) {
      const filter = await compileWhere(types, where, resolver);
      const docs = await runner.find(filter, { projection: { _id: 1 }, limit: cap + 1 });
      if (docs.length > cap) {
        throw tooCostly('a chained parameter', cap);
      }
      return docs.map((d) => d._id);
    },
    async targetsOf(sourceType: string, param: string, where: readonly Condition[]) {
      const filter = await compileWhere([sourceType], where, resolver);
      const refs = await runner.referenceTargets(filter, param, cap);
      if (refs === undefined || refs.length > cap) {
        throw tooCostly('a _has condition', cap);
      }
      return refs;
    },
  };
  return resolver;
}

/**
 * `Type/id` of the current resources a restricted history may show
 * (HistoryQuery.where), capped like the inner query of a chain.
 */
export async function visibleRefs(runner: QueryRunner, q: HistoryQuery, cap = SUBQUERY_CAP): Promise<string[]> {
  const checks = await compileChecks(q.where ?? [], subqueries(runner, cap));
  const filter = and([q.type ? { type: { $eq: q.type } } : {}, { deleted: { $eq: false } }, checks]);
  const docs = await runner.find(filter, { projection: { _id: 1 }, limit: cap + 1 });
  if (docs.length > cap) {
    throw tooCostly('the history', cap);
  }
  return docs.map((d) => d._id);
}
