import type { Filter } from './filter';

/**
 * MongoDB query semantics, in JavaScript, for the subset of operators the
 * search compiler emits ($and, $or, $nor, $eq, $ne, $lt, $lte, $gt, $gte,
 * $in, $nin, $regex, $elemMatch). It exists for FerretDB 1.x, which answers
 * `$elemMatch` on sub-documents wrongly (it only implements operator-only
 * `$elemMatch` on scalar arrays): there the adapter sends {@link relax}ed
 * filters, a superset FerretDB evaluates correctly, and keeps the documents
 * for which {@link matches} holds. On MongoDB the exact filter runs on the server.
 *
 * Semantics followed (MongoDB manual, "Query and Projection Operators"):
 * a path through an array matches when any element matches; `{f: null}`
 * matches a missing field; comparisons only hold between values of the same
 * type bracket (numbers with numbers, strings with strings); strings compare
 * by UTF-8 bytes, i.e. by code point.
 * @see https://hl7.org/fhir/R4/search.html
 */
export function matches(filter: Filter, doc: unknown): boolean {
  for (const [key, cond] of Object.entries(filter)) {
    if (!clause(key, cond, doc)) {
      return false;
    }
  }
  return true;
}

function clause(key: string, cond: unknown, doc: unknown): boolean {
  switch (key) {
    case '$and':
      return (cond as Filter[]).every((f) => matches(f, doc));
    case '$or':
      return (cond as Filter[]).some((f) => matches(f, doc));
    case '$nor':
      return !(cond as Filter[]).some((f) => matches(f, doc));
  }
  if (key.startsWith('$')) {
    throw new Error(`filter-eval: unsupported operator ${key}`);
  }
  if (isOperatorObject(cond)) {
    return Object.entries(cond as Filter).every(([op, arg]) => operator(op, arg, doc, key));
  }
  return operator('$eq', cond, doc, key);
}

function isOperatorObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k.startsWith('$'));
}

/** Values at a dotted path; arrays met on the way (and at the end) are expanded. `undefined` marks a missing field. */
function valuesAt(doc: unknown, path: string[]): unknown[] {
  if (path.length === 0) {
    return Array.isArray(doc) ? [doc, ...doc] : [doc];
  }
  if (Array.isArray(doc)) {
    return doc.flatMap((el) => (el !== null && typeof el === 'object' ? valuesAt(el, path) : []));
  }
  if (doc === null || typeof doc !== 'object') {
    return [undefined];
  }
  const next = (doc as Record<string, unknown>)[path[0]];
  return next === undefined ? [undefined] : valuesAt(next, path.slice(1));
}

/** Code point order, as MongoDB compares strings (JS `<` compares UTF-16 units). */
function compareStrings(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return Buffer.compare(x, y);
}

/** Comparison within one type bracket; undefined when the values are not comparable. */
function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return compareStrings(a, b);
  }
  return undefined;
}

function equals(value: unknown, arg: unknown): boolean {
  if (arg === null) {
    return value === null || value === undefined;
  }
  return compare(value, arg) === 0 || (typeof arg === 'boolean' && value === arg);
}

function operator(op: string, arg: unknown, doc: unknown, key: string): boolean {
  const path = key.split('.');
  if (op === '$elemMatch') {
    const holder = valuesAt(doc, path.slice(0, -1));
    return holder.some((h) => {
      const arr = h !== null && typeof h === 'object' ? (h as Record<string, unknown>)[path[path.length - 1]] : undefined;
      return Array.isArray(arr) && arr.some((el) => el !== null && typeof el === 'object' && matches(arg as Filter, el));
    });
  }
  const values = valuesAt(doc, path);
  switch (op) {
    case '$eq':
      return values.some((v) => equals(v, arg));
    case '$ne':
      return !values.some((v) => equals(v, arg));
    case '$in':
      return (arg as unknown[]).some((a) => values.some((v) => equals(v, a)));
    case '$nin':
      return !(arg as unknown[]).some((a) => values.some((v) => equals(v, a)));
    case '$lt':
      return values.some((v) => (compare(v, arg) ?? 0) < 0);
    case '$lte':
      return values.some((v) => compare(v, arg) !== undefined && (compare(v, arg) as number) <= 0);
    case '$gt':
      return values.some((v) => (compare(v, arg) ?? 0) > 0);
    case '$gte':
      return values.some((v) => compare(v, arg) !== undefined && (compare(v, arg) as number) >= 0);
    case '$regex': {
      const re = new RegExp(arg as string, 'u');
      return values.some((v) => typeof v === 'string' && re.test(v));
    }
    default:
      throw new Error(`filter-eval: unsupported operator ${op}`);
  }
}

/**
 * A superset of `filter` that FerretDB evaluates like MongoDB: `$elemMatch`
 * becomes an equality on the element's parameter code (`idx.p`), and a
 * negation that contains one is dropped (the negation of a superset is not
 * a superset). Everything else (scalar fields) is kept as is.
 */
export function relax(filter: Filter): Filter {
  const out: Filter = {};
  const and: Filter[] = [];
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and') {
      and.push(...(cond as Filter[]).map(relax).filter((f) => Object.keys(f).length > 0));
    } else if (key === '$or') {
      const alts = (cond as Filter[]).map(relax);
      if (!alts.some((f) => Object.keys(f).length === 0)) {
        and.push({ $or: alts });
      }
    } else if (key === '$nor') {
      if (!hasElemMatch(cond)) {
        and.push({ $nor: cond });
      }
    } else if (isOperatorObject(cond) && '$elemMatch' in (cond as Filter)) {
      const p = ((cond as Filter).$elemMatch as Filter).p as Filter | undefined;
      if (p && typeof p === 'object' && typeof p.$eq === 'string') {
        and.push({ [`${key}.p`]: { $eq: p.$eq } });
      }
    } else {
      out[key] = cond;
    }
  }
  return and.length === 0 ? out : { ...out, $and: and };
}

function hasElemMatch(v: unknown): boolean {
  if (Array.isArray(v)) {
    return v.some(hasElemMatch);
  }
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).some(([k, x]) => k === '$elemMatch' || hasElemMatch(x));
  }
  return false;
}
