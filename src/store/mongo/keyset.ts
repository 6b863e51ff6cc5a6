import type { Sort } from 'mongodb';
import type { Cursor, SortKey } from '../../fhir/search/plan';
import { sortKeyOf, type CurrentDoc } from './documents';
import { and, FALSE, or, scalar, type Filter } from './filter';

/**
 * `_sort` and keyset paging over the current-resources collection.
 *
 * A parameter sorts by its stored sort value (`low` ascending, `high`
 * descending). MongoDB orders a missing value below every number and
 * string, so missing values come first ascending and last descending, as
 * plan.ts asks, and `Type/id` (`_id`) ascending breaks ties.
 * @see https://hl7.org/fhir/R4/search.html#_sort
 */
export function sortField(key: SortKey): string {
  if (key.param === '_id') {
    return 'id';
  }
  if (key.param === '_lastUpdated') {
    return 'luMs';
  }
  return `sort.${sortKeyOf(key.param)}.${key.descending ? 'hi' : 'lo'}`;
}

/** The MongoDB sort of a plan's keys; `reversed` walks backwards (for `prev` pages). */
export function sortSpec(keys: readonly SortKey[], reversed: boolean): Sort {
  const spec: Record<string, 1 | -1> = {};
  for (const k of keys) {
    const field = sortField(k);
    if (!(field in spec)) {
      spec[field] = k.descending !== reversed ? -1 : 1;
    }
  }
  spec._id = reversed ? -1 : 1;
  return spec;
}

/** The keyset values of a row, aligned with `keys` (null where it has none). */
export function cursorOf(doc: CurrentDoc, keys: readonly SortKey[], direction: Cursor['direction']): Cursor {
  const values = keys.map((k) => {
    if (k.param === '_id') {
      return doc.id;
    }
    if (k.param === '_lastUpdated') {
      return doc.luMs;
    }
    const pair = doc.sort?.[sortKeyOf(k.param)];
    return pair ? (k.descending ? pair.hi : pair.lo) : null;
  });
  return { direction, values, ref: doc._id };
}

/**
 * Rows strictly after (`next`) or before (`prev`) the cursor row in sort
 * order: the usual lexicographic expansion, "keys 0..i-1 equal and key i
 * beyond", with `Type/id` as the last key. For one key, in the order the
 * walk follows (missing lowest, reversed when descending XOR prev):
 * beyond c ascending is `> c` (c missing: any value), beyond c descending is
 * `< c` or missing (c missing: nothing).
 */
export function keysetFilter(keys: readonly SortKey[], cursor: Cursor): Filter {
  if (cursor.values.length !== keys.length) {
    throw new Error('Search cursor does not match the sort of the search');
  }
  const backwards = cursor.direction === 'prev';
  const equal: Filter[] = [];
  const branches: Filter[] = [];
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    const field = sortField(k);
    const raw = cursor.values[i];
    const c = raw === null ? null : scalar(raw);
    if (seen.has(field)) {
      // A repeated key adds nothing to the order; its value is the same.
      return;
    }
    seen.add(field);
    const ascending = k.descending === backwards;
    let beyond: Filter;
    if (ascending) {
      beyond = c === null ? { [field]: { $ne: null } } : { [field]: { $gt: c } };
    } else {
      beyond = c === null ? FALSE : or([{ [field]: { $lt: c } }, { [field]: { $eq: null } }]);
    }
    branches.push(and([...equal, beyond]));
    equal.push({ [field]: { $eq: c } });
  });
  const ref = scalar(cursor.ref);
  branches.push(and([...equal, { _id: backwards ? { $lt: ref } : { $gt: ref } }]));
  return or(branches);
}
