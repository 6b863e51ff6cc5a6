/**
 * The independent side of the end-to-end search tests: FHIR R4 search
 * semantics written directly from the specification as plain predicates over
 * the generated resources, plus an HTTP helper that collects every page of a
 * searchset. Deliberately shares no code with src/fhir/search.
 * @see https://hl7.org/fhir/R4/search.html
 */
import type { Express } from 'express';
import request from 'supertest';
import { BASE_URL } from './app';

/** Case- and accent-insensitive form of a string (string search: "case and accent insensitive"). */
export const fold = (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** Default string search: some value starts with the search text, ignoring case and accents. */
export const startsWith = (values: (string | undefined)[], q: string): boolean =>
  values.some((v) => v !== undefined && fold(v).startsWith(fold(q)));

/** `:contains`: the search text occurs anywhere in some value, ignoring case and accents. */
export const contains = (values: (string | undefined)[], q: string): boolean =>
  values.some((v) => v !== undefined && fold(v).includes(fold(q)));

/** A token-like value: Coding, Identifier or ContactPoint, reduced to system and code/value. */
export interface Tok {
  system?: string;
  code?: string;
  value?: string;
}

/**
 * Token search `[system]|[code]`, `code`, `|code`, `system|`.
 * @see https://hl7.org/fhir/R4/search.html#token
 */
export function tokenMatches(items: Tok[] | undefined, q: string): boolean {
  return (items ?? []).some((t) => {
    const code = t.code ?? t.value;
    const bar = q.indexOf('|');
    if (bar < 0) return code === q;
    const sys = q.slice(0, bar);
    const c = q.slice(bar + 1);
    const sysOk = sys === '' ? t.system === undefined : t.system === sys;
    return sysOk && (c === '' || code === c);
  });
}

/**
 * The implicit range of a date/dateTime/instant, epoch ms, inclusive. No zone
 * means UTC (the spec leaves that to the server; this one documents UTC).
 */
export function dateRange(v: string): [number, number] {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(v);
  if (!m) throw new Error(`oracle: not a date: ${v}`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const zoneMs = !zone || zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
  const start = Date.UTC(+y, mo ? +mo - 1 : 0, d ? +d : 1, h ? +h : 0, mi ? +mi : 0, s ? +s : 0, frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0) - zoneMs;
  let end: number;
  if (!mo) end = Date.UTC(+y + 1, 0, 1) - zoneMs;
  else if (!d) end = Date.UTC(+y, +mo, 1) - zoneMs;
  else if (!h) end = Date.UTC(+y, +mo - 1, +d + 1) - zoneMs;
  else if (!s) end = start + 60_000;
  else if (!frac) end = start + 1000;
  else end = start + Math.max(1, 10 ** (3 - frac.length));
  return [start, end - 1];
}

/**
 * Date search with a prefix, straight from the R4 prefix table: the search
 * value's range vs the target's range.
 * @see https://hl7.org/fhir/R4/search.html#prefix
 */
export function dateMatches(target: string | [number, number] | undefined, q: string): boolean {
  if (target === undefined) return false;
  const [tl, th] = typeof target === 'string' ? dateRange(target) : target;
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb)?(.*)$/.exec(q) as RegExpExecArray;
  const [sl, sh] = dateRange(m[2]);
  const contained = tl >= sl && th <= sh;
  switch (m[1] ?? 'eq') {
    case 'eq':
      return contained;
    case 'ne':
      return !contained;
    case 'gt':
      return th > sh; // the range above the search value overlaps the target
    case 'lt':
      return tl < sl;
    case 'ge':
      return th > sh || contained;
    case 'le':
      return tl < sl || contained;
    case 'sa':
      return tl > sh; // starts after the end of the search range
    case 'eb':
      return th < sl; // ends before the start of the search range
  }
  throw new Error(`oracle: prefix ${m[1]}`);
}

/**
 * Number search with a prefix: eq/ne/sa/eb compare the implicit precision
 * range of the search value (`0.15` means [0.145, 0.155)) with the stored
 * value's (its text: `72.5` means [72.45, 72.55)): eq when the first
 * contains the second; the ordering prefixes compare the exact values.
 * Computed on integers scaled by 10^6 so that no float rounding decides.
 * @see https://hl7.org/fhir/R4/search.html#number
 */
export function numberMatches(value: number | undefined, q: string): boolean {
  if (value === undefined) return false;
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb)?(-?\d+(?:\.(\d+))?)$/.exec(q);
  if (!m) throw new Error(`oracle: not a number search: ${q}`);
  const stored = /^-?\d+(?:\.(\d+))?$/.exec(String(value));
  if (!stored) throw new Error(`oracle: stored value ${value} is not a plain decimal`);
  const scale = 1e6;
  const v = Math.round(value * scale);
  const n = Math.round(Number(m[2]) * scale);
  const half = scale / 10 ** (m[3]?.length ?? 0) / 2;
  const storedHalf = scale / 10 ** (stored[1]?.length ?? 0) / 2;
  const eq = v - storedHalf >= n - half && v + storedHalf <= n + half;
  switch (m[1] ?? 'eq') {
    case 'eq':
      return eq;
    case 'ne':
      return !eq;
    case 'gt':
      return v > n;
    case 'lt':
      return v < n;
    case 'sa':
      return v - storedHalf >= n + half;
    case 'eb':
      return v + storedHalf <= n - half;
    case 'ge':
      return v >= n;
    case 'le':
      return v <= n;
  }
  throw new Error(`oracle: prefix ${m[1]}`);
}

/** A Quantity reduced to what quantity search looks at. */
export interface Qty {
  value?: number;
  system?: string;
  code?: string;
  unit?: string;
}

/**
 * Quantity search `[prefix]number[|system|code]`; `number||code` matches the
 * code or the human unit, whatever the system.
 * @see https://hl7.org/fhir/R4/search.html#quantity
 */
export function quantityMatches(q: Qty | undefined, search: string): boolean {
  if (!q) return false;
  const [num, system, code] = search.split('|');
  if (!numberMatches(q.value, num)) return false;
  if (system === undefined) return true;
  if (system !== '' && q.system !== system) return false;
  return code === '' || q.code === code || (system === '' && q.unit === code);
}

/** One page of a searchset, as the tests look at it. */
export interface Page {
  body: {
    total?: number;
    link: { relation: string; url: string }[];
    entry?: { fullUrl: string; resource: { resourceType: string; id: string }; search: { mode: string } }[];
  };
}

/**
 * GETs `url` (path below the host, e.g. `/fhir/Patient?x=y`) and follows the
 * `next` links; fails the test on any non-200 answer.
 */
export async function allPages(app: Express, url: string): Promise<Page[]> {
  const pages: Page[] = [];
  let next: string | undefined = url;
  for (let guard = 0; next !== undefined; guard++) {
    if (guard > 200) throw new Error(`more than 200 pages for ${url}`);
    const res: request.Response = await request(app).get(next);
    if (res.status !== 200) throw new Error(`GET ${next}: ${res.status} ${JSON.stringify(res.body)}`);
    pages.push(res as unknown as Page);
    next = res.body.link.find((l: { relation: string }) => l.relation === 'next')?.url.replace(BASE_URL, '/fhir');
  }
  return pages;
}

/** `Type/id` of the entries of the given search mode, in Bundle order, over every page. */
export function refsOf(pages: Page[], mode: 'match' | 'include' = 'match'): string[] {
  return pages.flatMap((p) => (p.body.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => `${e.resource.resourceType}/${e.resource.id}`));
}

/** `Type/id` of a resource. */
export const refOf = (r: { resourceType: string; id?: string }): string => `${r.resourceType}/${r.id}`;

/**
 * `/fhir/Type?name=value&...` from a readable query: each value is
 * percent-encoded (accents, `|`, `$`, `+`, spaces), names are kept as written.
 */
export function toUrl(query: string): string {
  const q = query.indexOf('?');
  if (q < 0) return `/fhir/${query}`;
  const params = query
    .slice(q + 1)
    .split('&')
    .map((kv) => {
      const eq = kv.indexOf('=');
      return `${kv.slice(0, eq)}=${encodeURIComponent(kv.slice(eq + 1))}`;
    });
  return `/fhir/${query.slice(0, q)}?${params.join('&')}`;
}

/** One query of a table-driven test and the oracle's predicate for it. */
export interface Case {
  query: string;
  pool: { resourceType: string; id?: string }[];
  pred: (r: never) => boolean;
  /** The point of the query is that nothing matches. */
  empty?: boolean;
}

export const oracleCase = <T extends { resourceType: string; id?: string }>(query: string, pool: T[], pred: (r: T) => boolean, empty = false): Case => ({
  query,
  pool,
  pred: pred as (r: never) => boolean,
  empty,
});

/**
 * Runs `query` over HTTP (every page) and checks that the matches are exactly
 * the resources of the pool the oracle accepts, each once. `guard`: also
 * check that the query is discriminating on this data (some but not all match).
 */
export async function expectExactMatches(app: Express, { query, pool, pred, empty }: Case, guard = true): Promise<void> {
  const expected = pool.filter(pred as (r: unknown) => boolean).map(refOf).sort();
  // Guards the test itself: a query that matches nothing or everything proves
  // little. Only meaningful on the large data set (a small one misses cases).
  if (empty) {
    expect(expected).toEqual([]);
  } else if (guard) {
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(pool.length);
  }
  const got = refsOf(await allPages(app, toUrl(query)));
  expect(new Set(got).size).toBe(got.length);
  expect([...got].sort()).toEqual(expected);
}

/** A `_sort` key as the oracle sees it: the value a resource sorts by (its lowest ascending, highest descending). */
export interface SortSpec<T> {
  key: (r: T) => string | number;
  desc?: boolean;
}

/**
 * Checks a sorted search: exactly the expected resources, and the sequence of
 * their sort keys equal to the oracle's sorted sequence (rows whose keys tie
 * may come in any order: the spec does not fix a tie-breaker).
 */
export async function expectSortedMatches<T extends { resourceType: string; id?: string }>(
  app: Express,
  query: string,
  pool: T[],
  pred: (r: T) => boolean,
  keys: SortSpec<T>[],
): Promise<Page[]> {
  const cmp = (a: T, b: T) => {
    for (const k of keys) {
      const [x, y] = [k.key(a), k.key(b)];
      if (x !== y) return (x < y ? -1 : 1) * (k.desc ? -1 : 1);
    }
    return 0;
  };
  const expected = pool.filter(pred).sort(cmp);
  expect(expected.length).toBeGreaterThan(1);
  const pages = await allPages(app, toUrl(query));
  const byRef = new Map(pool.map((r) => [refOf(r), r]));
  const got = refsOf(pages).map((ref) => byRef.get(ref) as T);
  expect(got.map((r) => (r ? refOf(r) : 'unknown')).sort()).toEqual(expected.map(refOf).sort());
  const keysOf = (r: T) => keys.map((k) => k.key(r));
  expect(got.map(keysOf)).toEqual(expected.map(keysOf));
  return pages;
}

/**
 * A reference as the `Type/id` it points to on this server: absolute URLs
 * with this server's base and version-specific references are the same
 * target (R4 search: references are matched by their logical target).
 * @see https://hl7.org/fhir/R4/search.html#reference
 */
export function localRef(ref: { reference?: string } | string | undefined): string | undefined {
  const r = typeof ref === 'string' ? ref : ref?.reference;
  if (r === undefined) return undefined;
  const rel = r.startsWith(`${BASE_URL}/`) ? r.slice(BASE_URL.length + 1) : r;
  return rel.replace(/\/_history\/[^/]+$/, '');
}
