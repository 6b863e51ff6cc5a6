import type { Document } from 'mongodb';
import type { Comparison } from '../../fhir/search/plan';

/**
 * Building blocks of the MongoDB filters the search compiler emits. Every
 * value that reaches a filter goes through {@link scalar}: plan values are
 * data, and an object slipped into a filter would be read as an operator.
 * @see https://hl7.org/fhir/R4/search.html
 */
export type Filter = Document;

/** Matches every document. */
export const TRUE: Filter = Object.freeze({}) as Filter;
/** Matches no document (no `_id` is in the empty list). */
export const FALSE: Filter = Object.freeze({ _id: Object.freeze({ $in: Object.freeze([]) }) }) as Filter;

export const isTrue = (f: Filter): boolean => Object.keys(f).length === 0;
export const isFalse = (f: Filter): boolean => f === FALSE;

/** Conjunction with constant folding; plain field maps without shared keys are merged (index-friendlier). */
export function and(filters: readonly Filter[]): Filter {
  const kept: Filter[] = [];
  for (const f of filters) {
    if (isFalse(f)) {
      return FALSE;
    }
    if (!isTrue(f)) {
      kept.push(f);
    }
  }
  if (kept.length === 0) {
    return TRUE;
  }
  if (kept.length === 1) {
    return kept[0];
  }
  const merged: Filter = {};
  const rest: Filter[] = [];
  for (const f of kept) {
    if (Object.keys(f).some((k) => k in merged)) {
      rest.push(f);
    } else {
      Object.assign(merged, f);
    }
  }
  if (rest.length === 0) {
    return merged;
  }
  return { $and: [merged, ...rest] };
}

/** Disjunction with constant folding. */
export function or(filters: readonly Filter[]): Filter {
  const kept: Filter[] = [];
  for (const f of filters) {
    if (isTrue(f)) {
      return TRUE;
    }
    if (!isFalse(f)) {
      kept.push(f);
    }
  }
  if (kept.length === 0) {
    return FALSE;
  }
  return kept.length === 1 ? kept[0] : { $or: kept };
}

/** Negation ($nor: true when the filter does not match; also when a field is missing). */
export function not(f: Filter): Filter {
  if (isTrue(f)) {
    return FALSE;
  }
  if (isFalse(f)) {
    return TRUE;
  }
  return { $nor: [f] };
}

/** A plan value as a filter operand: only strings and finite numbers pass. */
export function scalar(v: unknown): string | number {
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) {
    return v;
  }
  throw new Error(`Search value must be a string or a finite number, got ${typeof v}`);
}

function str(v: unknown): string {
  if (typeof v !== 'string') {
    throw new Error(`Search value must be a string, got ${typeof v}`);
  }
  return v;
}

/** Escapes every character with a meaning in a regular expression (PCRE on MongoDB, RE2 on FerretDB, JS here). */
export function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * The least string greater than every string that starts with `prefix`, in
 * code point order (MongoDB compares strings by UTF-8 bytes, which is code
 * point order): the last code point incremented, dropping maximal ones.
 * Undefined when no such bound exists (empty prefix, or only U+10FFFF).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) as number);
  while (cps.length > 0) {
    const last = cps.pop() as number;
    if (last < 0x10ffff) {
      // Surrogate code points cannot appear in a UTF-8 string: skip over them.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return String.fromCodePoint(...cps, next);
    }
  }
  return undefined;
}

/** The operator object for one comparison (see plan.ts ComparisonOp). */
function operators(c: Comparison): Filter {
  switch (c.op) {
    case 'eq':
      return { $eq: scalar(c.value) };
    case 'lt':
      return { $lt: scalar(c.value) };
    case 'le':
      return { $lte: scalar(c.value) };
    case 'gt':
      return { $gt: scalar(c.value) };
    case 'ge':
      return { $gte: scalar(c.value) };
    case 'in': {
      // A lone value is a one-element list, as in the SQLite adapter.
      const list: unknown[] = Array.isArray(c.value) ? c.value : c.value === undefined ? [] : [c.value];
      return { $in: list.map(scalar) };
    }
    case 'startsWith': {
      // A range, not a regex: it bounds an index scan on MongoDB.
      const prefix = str(c.value);
      const upper = prefixUpperBound(prefix);
      return upper === undefined ? { $gte: prefix } : { $gte: prefix, $lt: upper };
    }
    case 'contains':
      return { $regex: escapeRegExp(str(c.value)) };
    case 'isNull':
      return { $eq: null };
    case 'notNull':
      return { $ne: null };
    default:
      throw new Error(`Unknown comparison operator ${String((c as Comparison).op)}`);
  }
}

/**
 * A conjunction of comparisons, each on `fieldOf(comparison.field)`. The
 * operators of one field share an object when they do not repeat; a repeated
 * operator goes to a separate clause.
 */
export function comparisons(list: readonly Comparison[], fieldOf: (field: string) => string): Filter {
  const byField: Filter = {};
  const extra: Filter[] = [];
  for (const c of list) {
    const path = fieldOf(c.field);
    const ops = operators(c);
    const cur = byField[path] as Filter | undefined;
    if (!cur) {
      byField[path] = ops;
    } else if (Object.keys(ops).some((k) => k in cur)) {
      extra.push({ [path]: ops });
    } else {
      Object.assign(cur, ops);
    }
  }
  return extra.length === 0 ? byField : { $and: [byField, ...extra] };
}
