import { BenchError } from './cli';
import { getJson, type SearchBundle } from './http';
import { PAGE_SIZE, type Expected, type SearchWorkload } from './search-workloads';

/** Thrown when a search does not return what the data set says it must. */
export class SearchMismatch extends BenchError {
  constructor(query: string, problem: string) {
    super(`search check failed for GET ${query}: ${problem}`);
    this.name = 'SearchMismatch';
  }
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

function describe(ids: string[]): string {
  return ids.length > 6 ? `${ids.slice(0, 6).join(', ')}, … (${ids.length})` : `[${ids.join(', ')}]`;
}

/**
 * Checks one answer: the matches (exact ids when they fit a page, else a full
 * page of acceptable resources), the total when the server gives one, and the
 * _include'd resources.
 */
function check(query: string, bundle: SearchBundle, exp: Expected): void {
  if (bundle.resourceType !== 'Bundle') throw new SearchMismatch(query, `not a Bundle: ${JSON.stringify(bundle).slice(0, 200)}`);
  const entries = bundle.entry ?? [];
  // Without search.mode, resources of the searched type are the matches.
  const searched = query.slice(0, query.indexOf('?'));
  const isMatch = (e: (typeof entries)[number]) => (e.search?.mode ? e.search.mode === 'match' : e.resource?.resourceType === searched);
  const matches = entries.filter(isMatch);
  const includes = entries.filter((e) => !isMatch(e) && e.search?.mode !== 'outcome');
  const matchIds = matches.map((e) => e.resource?.id ?? '?');
  if (exp.matchCount === 0) throw new SearchMismatch(query, 'the benchmark chose a query without matches (data set too small?)');
  if (exp.matchIds && !sameSet(matchIds, exp.matchIds)) {
    throw new SearchMismatch(query, `expected matches ${describe(exp.matchIds)}, got ${describe(matchIds)}`);
  }
  const page = Math.min(exp.matchCount, PAGE_SIZE);
  if (matches.length !== page) throw new SearchMismatch(query, `expected ${page} matches on the first page (of ${exp.matchCount}), got ${matches.length}`);
  if (bundle.total !== undefined && bundle.total !== exp.matchCount) {
    throw new SearchMismatch(query, `Bundle.total is ${bundle.total}, expected ${exp.matchCount}`);
  }
  if (exp.accept) {
    const bad = matches.find((e) => !exp.accept!(e.resource ?? {}));
    if (bad) throw new SearchMismatch(query, `returned a resource that does not satisfy the criteria: ${JSON.stringify(bad.resource).slice(0, 300)}`);
  }
  if (exp.includeIds) {
    const got = includes.map((e) => e.resource?.id ?? '?');
    if (!sameSet(got, exp.includeIds)) throw new SearchMismatch(query, `expected included ${describe(exp.includeIds)}, got ${describe(got)}`);
  }
}

/**
 * Runs `sample` of the workload's queries (spread over the list) and checks
 * every answer; throws {@link SearchMismatch} on the first wrong one.
 */
export async function verifySearches(base: string, w: SearchWorkload, sample = 30): Promise<void> {
  const step = Math.max(1, Math.floor(w.queries.length / sample));
  for (let i = 0; i < w.queries.length && i / step < sample; i += step) {
    const query = w.queries[i] as string;
    const bundle = await getJson<SearchBundle>(base, query);
    check(query, bundle, w.expected[i] as Expected);
  }
}
