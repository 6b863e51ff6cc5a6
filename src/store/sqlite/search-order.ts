import type { Cursor, SortKey } from '../../fhir/search/plan';
import { and, concat, FALSE, frag, or, type Frag } from './search-sql';

/** A compiled sort key: the SQL expression of the row's value for it, and its direction. */
export interface OrderKey {
  expr: string;
  descending: boolean;
}

/** Sort keys compiled over the resource alias `r`, with the joins they need. */
export interface Ordering {
  /** `LEFT JOIN sort_value ...` clauses (parameters bound in order). */
  joins: Frag;
  /** Plan keys then the implicit `Type/id` tie-breaker. */
  keys: OrderKey[];
}

/**
 * Compiles `_sort`: a search parameter sorts by its stored sort value (`low`
 * ascending, `high` descending); `_id` and `_lastUpdated` by the resource row.
 * SQLite sorts NULL before everything, which is exactly "missing values first
 * ascending, last descending". `ref` (`Type/id`, unique) ends every order so
 * that keyset cursors are unambiguous.
 * @see https://hl7.org/fhir/R4/search.html#_sort
 */
export function ordering(r: string, sort: readonly SortKey[]): Ordering {
  const joins: Frag[] = [];
  const keys: OrderKey[] = sort.map((k, i) => {
    if (k.param === '_id') return { expr: `${r}.id`, descending: k.descending };
    if (k.param === '_lastUpdated') return { expr: `${r}.last_updated_ms`, descending: k.descending };
    const s = `sv${i}`;
    joins.push(frag(`LEFT JOIN sort_value ${s} ON ${s}.rid = ${r}.rid AND ${s}.param = ?`, k.param));
    return { expr: `${s}.${k.descending ? 'high' : 'low'}`, descending: k.descending };
  });
  keys.push({ expr: `${r}.ref`, descending: false });
  return { joins: concat(joins), keys };
}

/** `ORDER BY` text, optionally reversed (for `prev` pages, read backwards then flipped). */
export function orderBy(keys: readonly OrderKey[], reverse: boolean): string {
  return keys.map((k) => `${k.expr} ${k.descending !== reverse ? 'DESC' : 'ASC'}`).join(', ');
}

/**
 * Rows strictly after (`next`) or before (`prev`) the cursor row in sort
 * order: `k1 > v1 OR (k1 = v1 AND (k2 > v2 OR ...))`, spelled so that NULL
 * (a missing value, sorted first) compares correctly. The formula uses no
 * NOT, so SQL's unknown results can only make a row not match, as intended.
 * @see https://hl7.org/fhir/R4/http.html#paging
 */
export function keyset(
  keys: readonly OrderKey[],
  values: readonly (string | number | null)[],
  ref: string,
  direction: Cursor['direction'],
): Frag {
  const all = [...values.slice(0, keys.length - 1), ref];
  if (all.length !== keys.length) {
    throw new Error('Cursor does not match the sort of the search');
  }
  let rest: Frag = FALSE;
  for (let i = keys.length - 1; i >= 0; i--) {
    const { expr, descending } = keys[i];
    const v = all[i] ?? null;
    // Moving forward in SQL order (NULL first) means greater values ascending, smaller ones descending.
    const greater = (direction === 'next') !== descending;
    const beyond = strictly(expr, v, greater);
    const equal = v === null ? frag(`${expr} IS NULL`) : frag(`${expr} = ?`, v);
    rest = or([beyond, and([equal, rest])]);
  }
  return rest;
}

/** `expr` strictly greater (or smaller) than `v` in SQLite order, where NULL is the smallest value. */
function strictly(expr: string, v: string | number | null, greater: boolean): Frag {
  if (v === null) return greater ? frag(`${expr} IS NOT NULL`) : FALSE;
  return greater ? frag(`${expr} > ?`, v) : frag(`(${expr} < ? OR ${expr} IS NULL)`, v);
}
