/**
 * FHIR search query -> SearchPlan. This is where every search rule of the
 * spec lives (parameter types, modifiers, prefixes, precision, chains,
 * `_has`, result parameters); the store adapters only execute the plan.
 * @see https://hl7.org/fhir/R4/search.html
 */
import { errors } from '../outcomes';
import { decodeCursor } from './cursor';
import { conditionOf } from './parse-condition';
import { lookupParam, UnknownParamError } from './parse-params';
import {
  parseCount,
  parseElements,
  parseInclude,
  parseSort,
  parseSummary,
  parseTotal,
  type Summary,
  type TotalMode,
} from './parse-result';
import type { Condition, Cursor, IncludeSpec, SearchPlan, SortKey } from './plan';
import { FORMAT_PARAMETERS } from '../format-params';

export { decodeCursor, encodeCursor } from './cursor';

/** How the server searches (from config and the request's `Prefer: handling`). */
export interface SearchOptions {
  /** Public base URL (`http://host/fhir`): absolute references to it are local. */
  baseUrl: string;
  /** `_count` when the client gives none. */
  defaultCount: number;
  /** Largest page; a larger `_count` is lowered to it. */
  maxCount: number;
  /** `Prefer: handling=lenient`: unknown / unsupported parameters are ignored (and reported) instead of 400. */
  lenient: boolean;
  /** Bound on included resources per page (default {@link DEFAULT_MAX_INCLUDES}). */
  maxIncludes?: number;
  /** "Now" in epoch ms for the `ap` prefix on dates (default Date.now(); tests pin it). */
  now?: number;
}

/** A parsed search: the plan for the store, and what the HTTP layer needs to shape the Bundle. */
export interface ParsedSearch {
  plan: SearchPlan;
  summary?: Summary;
  elements?: string[];
  /** The parameters actually applied, in a canonical order, for the Bundle `self` link (without _cursor). */
  selfParams: [string, string][];
  /** Unknown parameters ignored under lenient handling (reported by the caller). */
  ignored: string[];
}

export const DEFAULT_MAX_INCLUDES = 1000;

/**
 * Without `_total=accurate`, matches are counted up to this many; beyond it
 * the Bundle has no total. Counting every match of a broad search costs
 * several times the page itself, and few clients need more than "over 1,000".
 */
export const DEFAULT_TOTAL_LIMIT = 1000;

/**
 * Bounds on the size of one search, well above what any real client sends:
 * past them a query is refused (400) rather than handed to a database whose
 * own limits (expression depth, bound variables) it would exceed.
 */
export const MAX_SEARCH_PARAMETERS = 100;
export const MAX_SEARCH_VALUES = 500;

/** Result parameters that make no sense twice. */
const SINGLE = new Set(['_count', '_sort', '_total', '_summary', '_cursor', '_type']);
const RESULT = new Set([...SINGLE, '_elements', '_include', '_revinclude']);
/** Sort parameter types whose stored sort values are numbers (see index-entry.ts sortValuesOf). */
const NUMERIC_SORT = new Set(['date', 'number', 'quantity']);

/**
 * Checks that a decoded cursor belongs to this search: one value per sort key,
 * of the type that key sorts by, and a row of a searched type.
 */
function checkCursor(types: readonly string[], sort: readonly SortKey[], c: Cursor): Cursor {
  const fail = (why: string) => errors.badRequest(`Parameter '_cursor' does not belong to this search (${why}): follow the Bundle's links as given`);
  if (c.values.length !== sort.length) {
    throw fail('different _sort');
  }
  if (!types.includes(c.ref.slice(0, c.ref.indexOf('/')))) {
    throw fail('different resource type');
  }
  sort.forEach((k, i) => {
    const v = c.values[i];
    const numeric = k.param === '_lastUpdated' || (k.param !== '_id' && NUMERIC_SORT.has(lookupParam(types, k.param).type));
    const ok = v === null ? !k.param.startsWith('_') : typeof v === (numeric ? 'number' : 'string');
    if (!ok) {
      throw fail(`bad value for ${k.param}`);
    }
  });
  return c;
}

/** Refuses queries beyond MAX_SEARCH_PARAMETERS parameters or MAX_SEARCH_VALUES comma-separated values. */
function checkSize(params: readonly [string, string][]): void {
  const search = params.filter(([name]) => !FORMAT_PARAMETERS.has(name) && !RESULT.has(name.split(':')[0]));
  if (search.length > MAX_SEARCH_PARAMETERS) {
    throw errors.badRequest(`A search may have at most ${MAX_SEARCH_PARAMETERS} search parameters (got ${search.length})`);
  }
  // An escaped comma (\,) is data, not a separator.
  const values = search.reduce((n, [, v]) => n + v.split(/(?<!\\),/).length, 0);
  if (values > MAX_SEARCH_VALUES) {
    throw errors.badRequest(`A search may have at most ${MAX_SEARCH_VALUES} values in all (got ${values})`);
  }
}

const byNameThenValue = (a: [string, string], b: [string, string]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/**
 * Parses a search on `types` (one type, or the types of a system search
 * `GET /fhir?_type=A,B`, resolved by the caller; a system search may only
 * use parameters every type has) from its query parameters, in order.
 * - Repeated parameters are ANDed, comma-separated values ORed.
 * - Unknown parameters: 400, or ignored and listed in `ignored` when `lenient`.
 *   Every other problem (unknown modifier, bad prefix, malformed value, chain
 *   on a non-reference) is a 400 naming the parameter, lenient or not.
 * - `_total`: `accurate` counts every match; absent or `estimate` counts up to
 *   DEFAULT_TOTAL_LIMIT and leaves the total out beyond; `none` never counts.
 *   `_summary=count` always counts exactly.
 * - `_format` / `_pretty` are accepted and ignored (HTTP concerns).
 * @see https://hl7.org/fhir/R4/search.html
 */
export function parseSearch(types: string[], params: [string, string][], options: SearchOptions): ParsedSearch {
  if (types.length === 0) {
    throw errors.badRequest('A search needs at least one resource type');
  }
  const ctx = { baseUrl: options.baseUrl, now: options.now ?? Date.now() };
  const where: Condition[] = [];
  const searchSelf: [string, string][] = [];
  const ignored: string[] = [];
  const seen = new Set<string>();
  const include: IncludeSpec[] = [];
  const revinclude: IncludeSpec[] = [];
  const includeSelf: [string, string][] = [];
  let count = Math.min(options.defaultCount, options.maxCount);
  let sort: SortKey[] = [];
  let totalMode: TotalMode = 'estimate';
  let summary: Summary | undefined;
  let elements: string[] | undefined;
  let cursorRaw: string | undefined;
  const given: Record<string, string> = {};
  checkSize(params);

  for (const [name, value] of params) {
    if (FORMAT_PARAMETERS.has(name)) {
      continue;
    }
    const base = name.split(':')[0];
    if (RESULT.has(base)) {
      if (name !== base && base !== '_include' && base !== '_revinclude') {
        throw errors.badRequest(`Parameter '${name}': ${base} takes no modifier`);
      }
      if (SINGLE.has(name) && seen.has(name)) {
        throw errors.badRequest(`Parameter '${name}' may be given only once`);
      }
      seen.add(name);
      if (value === '' && base !== '_type') {
        throw errors.badRequest(`Parameter '${name}' has an empty value`);
      }
    }
    switch (base) {
      case '_count':
        count = parseCount(value, options.maxCount);
        break;
      case '_sort':
        sort = parseSort(types, value);
        given._sort = value;
        break;
      case '_total':
        totalMode = parseTotal(value);
        given._total = value;
        break;
      case '_summary':
        summary = parseSummary(value);
        given._summary = value;
        break;
      case '_elements':
        elements = [...new Set([...(elements ?? []), ...parseElements(types, value)])];
        break;
      case '_include':
      case '_revinclude': {
        (base === '_include' ? include : revinclude).push(...parseInclude(types, name, value));
        includeSelf.push([name.replace(/:recurse$/, ':iterate'), value]);
        break;
      }
      case '_cursor':
        cursorRaw = value;
        break;
      case '_type':
        // Resolved by the caller into `types`; echoed in the self link.
        given._type = types.join(',');
        break;
      default:
        try {
          where.push(conditionOf(ctx, types, name, value));
          searchSelf.push([name, value]);
        } catch (e) {
          if (!(e instanceof UnknownParamError)) {
            throw e;
          }
          if (!options.lenient) {
            throw errors.badRequest(`${e.detail} (send 'Prefer: handling=lenient' to ignore unknown parameters)`);
          }
          if (!ignored.includes(name)) {
            ignored.push(name);
          }
        }
    }
  }

  if (summary === 'count') {
    // Only the number of matches is wanted.
    count = 0;
    totalMode = 'accurate';
  }
  const cursor = cursorRaw === undefined ? undefined : checkCursor(types, sort, decodeCursor(cursorRaw));

  const selfParams: [string, string][] = [];
  if (given._type !== undefined) selfParams.push(['_type', given._type]);
  selfParams.push(...searchSelf.sort(byNameThenValue));
  if (given._sort !== undefined) selfParams.push(['_sort', given._sort]);
  selfParams.push(['_count', String(count)]);
  if (given._total !== undefined) selfParams.push(['_total', given._total]);
  if (given._summary !== undefined) selfParams.push(['_summary', given._summary]);
  if (elements) selfParams.push(['_elements', elements.join(',')]);
  selfParams.push(...includeSelf.sort(byNameThenValue));

  const plan: SearchPlan = {
    types: [...types],
    where,
    sort,
    count,
    total: totalMode !== 'none',
    ...(totalMode === 'estimate' ? { totalLimit: DEFAULT_TOTAL_LIMIT } : {}),
    include,
    revinclude,
    maxIncludes: options.maxIncludes ?? DEFAULT_MAX_INCLUDES,
    ...(cursor ? { cursor } : {}),
  };
  return {
    plan,
    ...(summary ? { summary } : {}),
    ...(elements ? { elements } : {}),
    selfParams,
    ignored,
  };
}
