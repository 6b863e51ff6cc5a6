/**
 * Two-sided date ranges (`date=ge2024-01-01&date=lt2024-02-01`).
 *
 * Such a search is two conditions, `high > a OR ...` and `low < b`, each
 * matching about half of a parameter's entries: no single B-tree range over
 * ix_date answers `high >= L AND low <= U`. But the ranges imply necessary
 * bounds on each resource's extent (min entry low, max entry high), stored
 * in `ix_date_span` with a span class (schema.ts): a resource of class i
 * whose extent reaches L (max high >= L) starts no earlier than L - W_i, so
 * its candidates are the closed range `low BETWEEN L - W_i AND U` of that
 * class; the unbounded class is read as `low <= U`, filtered on `high >= L`.
 * The union is a superset of the matches; every condition is still checked
 * exactly (search-where.ts), so results are those of the plain compilation.
 * @see https://hl7.org/fhir/R4/search.html#date
 */
import type { Comparison, Condition, EntryCondition, EntryPredicate } from '../../fhir/search/plan';
import { DATE_SPAN_WIDTHS } from './schema';
import { and, concat, frag, inList, type Frag } from './search-sql';

/** Necessary bounds: every satisfying entry (or instant) has high >= lower and low <= upper. */
export interface Bounds {
  lower: number;
  upper: number;
}

const NONE: Bounds = { lower: -Infinity, upper: Infinity };
const LOWER_OPS = new Set<Comparison['op']>(['gt', 'ge', 'eq', 'in']);
const UPPER_OPS = new Set<Comparison['op']>(['lt', 'le', 'eq', 'in']);

/** The smallest and largest number a comparison's value holds, when it holds numbers only. */
function valueRange(c: Comparison): [number, number] | undefined {
  const values = Array.isArray(c.value) ? c.value : [c.value];
  if (values.length === 0 || values.some((v) => typeof v !== 'number' || Number.isNaN(v))) return undefined;
  return [Math.min(...(values as number[])), Math.max(...(values as number[]))];
}

/**
 * Bounds implied by a predicate over date entries (fields `low` <= `high`),
 * or over a point (`_lastUpdated`, where both fields are the same instant).
 * A lower bound on either field bounds `high` from below (low <= high), an
 * upper bound on either field bounds `low` from above. Within a conjunct the
 * tightest bound holds; across the OR only the loosest is implied. Strict
 * comparisons give non-strict bounds: a superset, which is all that is needed.
 */
export function predicateBounds(pred: EntryPredicate): Bounds {
  // A false predicate ([]) matches nothing; claiming no bound is still safe.
  if (pred.length === 0) return NONE;
  let lower = Infinity;
  let upper = -Infinity;
  for (const alt of pred) {
    let lo = -Infinity;
    let hi = Infinity;
    for (const c of alt) {
      const range = valueRange(c);
      if (!range) continue;
      if (LOWER_OPS.has(c.op)) lo = Math.max(lo, range[0]);
      if (UPPER_OPS.has(c.op)) hi = Math.min(hi, range[1]);
    }
    lower = Math.min(lower, lo);
    upper = Math.max(upper, hi);
  }
  return { lower, upper };
}

/** Bounds that hold for all of several conditions at once. */
export function intersect(bounds: readonly Bounds[]): Bounds {
  return bounds.reduce((a, b) => ({ lower: Math.max(a.lower, b.lower), upper: Math.min(a.upper, b.upper) }), NONE);
}

export const bounded = (b: Bounds): boolean => Number.isFinite(b.lower) && Number.isFinite(b.upper);

/** A candidate range for one date parameter, found through ix_date_span. */
export interface SpanRange {
  param: string;
  bounds: Bounds;
}

const positiveDate = (c: Condition): c is EntryCondition => c.kind === 'entry' && c.entryKind === 'date' && !c.negate;

/**
 * The date parameter whose positive conditions, together, bound the extent
 * on both sides (the narrowest such when several do), or undefined. A
 * parameter with a condition that is a closed ix_date range on its own
 * (`date=2024-01-15`) is left to that condition's driver, which reads
 * exactly its matching entries.
 */
export function spanRange(conds: readonly Condition[]): SpanRange | undefined {
  const byParam = new Map<string, EntryCondition[]>();
  for (const c of conds.filter(positiveDate)) {
    byParam.set(c.param, [...(byParam.get(c.param) ?? []), c]);
  }
  let best: SpanRange | undefined;
  for (const [param, list] of byParam) {
    if (list.some((c) => c.predicate.length > 0 && c.predicate.every(closed))) continue;
    const bounds = intersect(list.map((c) => predicateBounds(c.predicate)));
    if (!bounded(bounds)) continue;
    if (!best || bounds.upper - bounds.lower < best.bounds.upper - best.bounds.lower) best = { param, bounds };
  }
  return best;
}

/** Whether an alternative, with its implied bounds, is a closed range on one ix_date column. */
function closed(alt: readonly Comparison[]): boolean {
  const all = withImpliedBounds(alt);
  return (['low', 'high'] as const).some(
    (f) => all.some((c) => c.field === f && LOWER_OPS.has(c.op)) && all.some((c) => c.field === f && UPPER_OPS.has(c.op)),
  );
}

/**
 * The candidate rids of a span range: one bounded index range of
 * ix_date_span(type, param, span, low, high) per span class.
 */
export function spanSelects(alias: () => string, types: readonly string[], range: SpanRange): Frag[] {
  const { lower, upper } = range.bounds;
  const classes = [...DATE_SPAN_WIDTHS.map((w) => lower - w), -Infinity];
  return classes.map((from, span) => {
    const s = alias();
    // The unbounded class has no lower limit on low: binding -Infinity would be a float compare, so leave it out.
    const lowRange = Number.isFinite(from)
      ? frag(`${s}.low >= ? AND ${s}.low <= ?`, from, upper)
      : frag(`${s}.low <= ?`, upper);
    return concat([
      `SELECT ${s}.rid FROM ix_date_span ${s} WHERE`,
      and([
        inList(`${s}.type`, types),
        frag(`${s}.param = ? AND ${s}.span = ${span}`, range.param),
        lowRange,
        frag(`${s}.high >= ?`, lower),
      ]),
    ]);
  });
}

/**
 * Adds the bounds a date alternative implies because every entry has
 * low <= high: `high <= b` gives `low <= b`, `low >= a` gives `high >= a`.
 * Redundant for the result, but it turns "low from a to infinity, then filter
 * on high" into the closed index range `low BETWEEN a AND b`.
 */
export function withImpliedBounds(alt: readonly Comparison[]): Comparison[] {
  const out = [...alt];
  for (const c of alt) {
    if (c.field === 'high' && (c.op === 'lt' || c.op === 'le' || c.op === 'eq')) {
      out.push({ field: 'low', op: c.op === 'lt' ? 'lt' : 'le', value: c.value });
    } else if (c.field === 'low' && (c.op === 'gt' || c.op === 'ge' || c.op === 'eq')) {
      out.push({ field: 'high', op: c.op === 'gt' ? 'gt' : 'ge', value: c.value });
    }
  }
  return out;
}
