/**
 * Low-level pieces of search value parsing: escape-aware splitting, the
 * predicate (DNF) algebra, prefixes, and the precision ranges of numbers.
 * Everything here is pure; the type-specific parsers build on it.
 * @see https://hl7.org/fhir/R4/search.html#escaping
 */
import { errors } from '../outcomes';
import type { EntryField } from './index-entry';
import type { Comparison, ComparisonOp, EntryPredicate } from './plan';
import { decimalRange } from './values';

/**
 * Splits `s` on every unescaped `sep`, keeping the escapes in the pieces (so
 * that a piece can be split again on another separator before it is
 * unescaped). `a\,b,c` on `,` gives `a\,b` and `c`.
 * @see https://hl7.org/fhir/R4/search.html#escaping
 */
export function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

/** Removes the search escapes: `\,` `\$` `\|` `\\` become the character itself. */
export function unescapeValue(s: string): string {
  return s.replace(/\\([\\,$|])/g, '$1');
}

/** One comparison; absent `value` for isNull / notNull. */
export function cmp(field: EntryField, op: ComparisonOp, value?: Comparison['value']): Comparison {
  return value === undefined ? { field, op } : { field, op, value };
}

/** A predicate with one conjunction. */
export function all(...comparisons: Comparison[]): EntryPredicate {
  return [comparisons];
}

/** Conjunction of DNF predicates (distributes the alternatives). */
export function and(...preds: EntryPredicate[]): EntryPredicate {
  let acc: EntryPredicate = [[]];
  for (const p of preds) {
    const next: Comparison[][] = [];
    for (const a of acc) {
      for (const b of p) {
        next.push([...a, ...b]);
      }
    }
    acc = next;
  }
  return acc;
}

/**
 * Disjunction of DNF predicates. When every alternative is a single `eq` on
 * the same field (`code=a,b,c`), they become one `in`: one index lookup
 * instead of an OR the adapter would have to optimise itself.
 */
export function or(preds: EntryPredicate[]): EntryPredicate {
  const flat = preds.flat();
  if (flat.length > 1 && flat.every((c) => c.length === 1 && c[0].op === 'eq' && c[0].field === flat[0][0].field)) {
    const values = [...new Set(flat.map((c) => c[0].value as string | number))];
    return values.length === 1 ? all(cmp(flat[0][0].field, 'eq', values[0])) : all(cmp(flat[0][0].field, 'in', values));
  }
  return flat;
}

/** The comparison prefixes of ordered types. @see https://hl7.org/fhir/R4/search.html#prefix */
export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type Prefix = (typeof PREFIXES)[number];

/**
 * Splits the prefix off an ordered value (`ge2020` -> `ge`, `2020`). No prefix
 * means `eq`. Two letters that are not a prefix before a number (`xx2020`)
 * are refused as an unknown prefix.
 */
export function splitPrefix(param: string, value: string): { prefix: Prefix; rest: string } {
  const m = /^([a-z]{2})(.*)$/s.exec(value);
  if (!m) {
    return { prefix: 'eq', rest: value };
  }
  if (!(PREFIXES as readonly string[]).includes(m[1])) {
    if (!/^[\d+.-]/.test(m[2])) {
      // Not a prefix followed by a value (`notadate`): let the type parser say what is wrong.
      return { prefix: 'eq', rest: value };
    }
    throw errors.badRequest(`Parameter '${param}': unknown prefix '${m[1]}' in '${value}' (allowed: ${PREFIXES.join(', ')})`);
  }
  return { prefix: m[1] as Prefix, rest: m[2] };
}

/**
 * A search number and its implicit precision range [lo, hi) (see
 * decimalRange: `100` is [99.5, 100.5), `1e2` is [50, 150)).
 * @see https://hl7.org/fhir/R4/search.html#number
 */
export function numberRange(param: string, raw: string): { value: number; lo: number; hi: number } {
  const r = raw.length > 64 ? undefined : decimalRange(raw);
  if (!r) {
    const isNumber = raw.length <= 64 && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw);
    throw errors.badRequest(`Parameter '${param}': '${raw}' is ${isNumber ? 'out of range' : 'not a number'}`);
  }
  return { value: Number(raw), lo: r.low, hi: r.high };
}

/**
 * Predicate on a number or quantity entry for a prefixed search number.
 * `eq`, `ne`, `sa`, `eb` and `ap` follow the R4 prefix table with ranges on
 * both sides: the search value's precision range [lo, hi) and the stored
 * value's, [low, high) (index-entry.ts): `eq` when the search range fully
 * contains the stored one (`1.5` finds a stored `1.50` and `1.54`; `1.50`
 * finds `1.50` but neither `1.51` nor a stored `1.5`, which may be 1.46),
 * `ne` when it does not, `sa` / `eb` when the stored range lies wholly above
 * / below it, `ap` when it overlaps the search range widened to the spec's
 * recommended ±10% of the value. The ordering prefixes compare the stored
 * value with the exact search value ("lt100: values that are less than
 * exactly 100"; overlapping ranges would make `gt100` and `lt100` both find a
 * stored 100). The value bounds that `eq`, `sa` and `eb` imply are stated
 * too, so that stores narrow by their value indexes.
 * @see https://hl7.org/fhir/R4/search.html#number
 * @see https://hl7.org/fhir/R4/search.html#prefix
 */
export function numberPredicate(prefix: Prefix, n: { value: number; lo: number; hi: number }): EntryPredicate {
  const f: EntryField = 'value';
  switch (prefix) {
    case 'eq':
      return all(cmp(f, 'ge', n.lo), cmp(f, 'lt', n.hi), cmp('low', 'ge', n.lo), cmp('high', 'le', n.hi));
    case 'ne':
      return [[cmp('low', 'lt', n.lo)], [cmp('high', 'gt', n.hi)]];
    case 'gt':
      return all(cmp(f, 'gt', n.value));
    case 'lt':
      return all(cmp(f, 'lt', n.value));
    case 'ge':
      return all(cmp(f, 'ge', n.value));
    case 'le':
      return all(cmp(f, 'le', n.value));
    case 'sa':
      return all(cmp(f, 'ge', n.hi), cmp('low', 'ge', n.hi));
    case 'eb':
      return all(cmp(f, 'lt', n.lo), cmp('high', 'le', n.lo));
    case 'ap': {
      const d = Math.abs(n.value) / 10;
      return all(cmp('low', 'le', Math.max(n.hi, n.value + d)), cmp('high', 'gt', Math.min(n.lo, n.value - d)));
    }
  }
}

/**
 * Predicate on a range entry (`low`/`high`, inclusive, epoch ms) for a search
 * range [lo, hi], following the R4 prefix table literally:
 * - eq: the search range fully contains the entry: low >= lo and high <= hi
 * - ne: it does not: low < lo or high > hi
 * - gt: the range above the search value overlaps the entry: high > hi
 * - lt: the range below overlaps the entry: low < lo
 * - ge: gt, or eq; le: lt, or eq
 * - sa: the entry starts after the search range: low > hi
 * - eb: the entry ends before it: high < lo
 * - ap: the entry overlaps [lo - m, hi + m], where m is 10% of the distance
 *   between `now` and the search range (the spec's recommendation), so that
 *   `ap` on a date long ago is looser than on yesterday; m = 0 when now lies
 *   inside the range.
 * @see https://hl7.org/fhir/R4/search.html#prefix
 */
export function rangePredicate(prefix: Prefix, lo: number, hi: number, now: number): EntryPredicate {
  const inside = [cmp('low', 'ge', lo), cmp('high', 'le', hi)];
  switch (prefix) {
    case 'eq':
      return [inside];
    case 'ne':
      return [[cmp('low', 'lt', lo)], [cmp('high', 'gt', hi)]];
    case 'gt':
      return all(cmp('high', 'gt', hi));
    case 'lt':
      return all(cmp('low', 'lt', lo));
    case 'ge':
      return [[cmp('high', 'gt', hi)], inside];
    case 'le':
      return [[cmp('low', 'lt', lo)], inside];
    case 'sa':
      return all(cmp('low', 'gt', hi));
    case 'eb':
      return all(cmp('high', 'lt', lo));
    case 'ap': {
      const gap = now < lo ? lo - now : now > hi ? now - hi : 0;
      const m = Math.round(gap / 10);
      return all(cmp('low', 'le', hi + m), cmp('high', 'ge', lo - m));
    }
  }
}
