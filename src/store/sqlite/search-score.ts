import type { ScalarEntryKind } from '../../fhir/search/index-entry';
import type { Comparison, Condition, EntryPredicate, LastUpdatedCondition } from '../../fhir/search/plan';
import { bounded, intersect, predicateBounds, spanRange, type Bounds, type SpanRange } from './search-date-span';

/**
 * Conditions scoring this much or more never drive a query: they have no
 * index that narrows them (`contains`, `:missing=false`, `:text`) and would
 * materialize every row of a parameter; checking them per candidate row,
 * with the resource scan stopping at the page size, is cheaper.
 */
export const DRIVER_LIMIT = 8;

/** Conditions scoring this much or less (an id, a reference) are always narrow enough to drive. */
export const NARROW_SCORE = 2;

/**
 * A range bounded on both sides (`_lastUpdated` or a date parameter's
 * conditions together, search-date-span.ts): one closed index range, better
 * than a one-sided range (6) but not than an equality on a code (3).
 */
export const BOUNDED_SCORE = 5;

/**
 * Fields whose column leads a `(type, param, column)` index (schema.ts).
 * Other fields can only be filtered after reading a whole parameter.
 */
const INDEXED: Record<ScalarEntryKind, readonly string[]> = {
  token: ['code'],
  string: ['value'],
  reference: ['ref', 'id', 'idValue'],
  date: ['low', 'high'],
  number: ['value'],
  quantity: ['value'],
  uri: ['value'],
};

/** Equality on these usually singles out one resource or a handful (a patient's data). */
const POINTED: Partial<Record<ScalarEntryKind, true>> = { reference: true };

/**
 * Business identifiers (`identifier`: an INS, a lab's report id, a document's
 * id) single out one resource, like an id: `identifier=system|value` and a
 * chain through it (`patient.identifier=`, ITI-67 by INS) drive the query
 * before a code shared by most resources (`status=current`).
 */
const IDENTIFYING_PARAMS: ReadonlySet<string> = new Set(['identifier']);

function comparisonScore(kind: ScalarEntryKind, c: Comparison, identifying = false): number {
  if (!INDEXED[kind].includes(c.field)) return DRIVER_LIMIT;
  switch (c.op) {
    case 'eq':
    case 'in':
      return identifying ? 1 : POINTED[kind] ? 2 : 3;
    case 'startsWith':
      return 4;
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return 6;
    default:
      return DRIVER_LIMIT;
  }
}

/** A DNF predicate drives as well as its worst alternative (each is one index lookup). */
function predicateScore(kind: ScalarEntryKind, pred: EntryPredicate, identifying = false): number {
  if (pred.length === 0) return 0;
  return Math.max(...pred.map((alt) => Math.min(DRIVER_LIMIT, ...alt.map((c) => comparisonScore(kind, c, identifying)))));
}

/**
 * How well a condition would drive the query through an index: lower is more
 * selective. A heuristic, without statistics: a reference to one resource
 * beats a code, which beats a prefix, which beats a range.
 * @see https://hl7.org/fhir/R4/search.html
 */
export function conditionScore(c: Condition): number {
  switch (c.kind) {
    case 'id':
      return c.negate ? Infinity : 1;
    case 'entry':
      return c.negate ? Infinity : predicateScore(c.entryKind, c.predicate, c.entryKind === 'token' && IDENTIFYING_PARAMS.has(c.param));
    case 'composite': {
      if (c.anyOf.length === 0) return 0;
      return Math.max(
        ...c.anyOf.map((parts) => (parts.length === 0 ? 0 : predicateScore(parts[0].entryKind, parts[0].predicate) + 1)),
      );
    }
    case 'lastUpdated':
      return 7;
    case 'chain':
    case 'has':
      // Selective through its own inner driver, plus one hop through the reference index.
      return Math.min(DRIVER_LIMIT, pickDriver(c.where)?.score ?? DRIVER_LIMIT) + 1;
    default:
      return Infinity;
  }
}

/**
 * What drives a query: one of its conditions (for `_lastUpdated`, with the
 * bounds all `_lastUpdated` conditions imply together), or the span range of
 * a date parameter (search-date-span.ts), every condition then being a check.
 */
export type Driver =
  | { kind: 'condition'; index: number; score: number; bounds?: Bounds }
  | { kind: 'span'; range: SpanRange; score: number };

const isLastUpdated = (c: Condition): c is LastUpdatedCondition => c.kind === 'lastUpdated';

/** The driver of a query, or undefined when no condition narrows it enough (see {@link DRIVER_LIMIT}). */
export function pickDriver(conds: readonly Condition[]): Driver | undefined {
  // lastUpdated is a point per resource: conditions together bound it, and a two-sided bound is one index range.
  const lu = intersect(conds.filter(isLastUpdated).map((c) => predicateBounds(c.predicate)));
  let driver: Driver | undefined;
  conds.forEach((c, i) => {
    const score = c.kind === 'lastUpdated' && bounded(lu) ? BOUNDED_SCORE : conditionScore(c);
    if (score < (driver?.score ?? DRIVER_LIMIT)) {
      driver = { kind: 'condition', index: i, score, ...(c.kind === 'lastUpdated' ? { bounds: lu } : {}) };
    }
  });
  if (BOUNDED_SCORE < (driver?.score ?? DRIVER_LIMIT)) {
    const range = spanRange(conds);
    if (range) driver = { kind: 'span', range, score: BOUNDED_SCORE };
  }
  return driver;
}
