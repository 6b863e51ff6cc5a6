import { ENTRY_FIELDS, type ScalarEntryKind } from '../../fhir/search/index-entry';
import type {
  Comparison,
  CompositeCondition,
  Condition,
  EntryCondition,
  EntryPredicate,
  LastUpdatedCondition,
} from '../../fhir/search/plan';
import { and, comparisons, FALSE, not, or, scalar, type Filter } from './filter';

/** Resolves the inner queries of chains and `_has` (search.ts runs them). */
export interface SubqueryResolver {
  /** `Type/id` of the current resources of `types` satisfying `where`. */
  refsOf(types: readonly string[], where: readonly Condition[]): Promise<string[]>;
  /** Local targets (`Type/id`) of the `param` references of current `sourceType` resources satisfying `where`. */
  targetsOf(sourceType: string, param: string, where: readonly Condition[]): Promise<string[]>;
}

/**
 * The filter selecting the current, non-deleted resources of `types` that
 * satisfy every condition. Each entry condition is an `$elemMatch` on the
 * `idx` sub-array, so all comparisons of a conjunction hold on the same entry
 * and MongoDB bounds the compound multikey index on (type, idx.p, field).
 * @see https://hl7.org/fhir/R4/search.html
 */
export async function compileWhere(
  types: readonly string[],
  where: readonly Condition[],
  resolver: SubqueryResolver,
): Promise<Filter> {
  const typeFilter = types.length === 1 ? { type: { $eq: scalar(types[0]) } } : { type: { $in: types.map(scalar) } };
  const parts: Filter[] = [typeFilter, { deleted: { $eq: false } }];
  for (const c of where) {
    parts.push(await compileCondition(c, types, resolver));
  }
  return and(parts);
}

/**
 * Conditions alone, on resources of any type (no type or deleted filter):
 * a restricted history's visibility conditions. `_id` conditions need a type
 * and are not expected here.
 */
export async function compileChecks(where: readonly Condition[], resolver: SubqueryResolver): Promise<Filter> {
  const parts: Filter[] = [];
  for (const c of where) {
    parts.push(await compileCondition(c, [], resolver));
  }
  return and(parts);
}

async function compileCondition(c: Condition, types: readonly string[], resolver: SubqueryResolver): Promise<Filter> {
  switch (c.kind) {
    case 'entry':
      return entryCondition(c);
    case 'composite':
      return compositeCondition(c);
    case 'id': {
      const ids = c.ids.map(scalar).map(String);
      if (c.negate) {
        return ids.length === 0 ? {} : { id: { $nin: ids } };
      }
      // `_id` is `Type/id`: one primary-key lookup per type searched.
      return ids.length === 0 ? FALSE : { _id: { $in: types.flatMap((t) => ids.map((id) => `${t}/${id}`)) } };
    }
    case 'lastUpdated':
      return lastUpdatedCondition(c);
    case 'chain': {
      const refs = await resolver.refsOf(c.targetTypes, c.where);
      return refs.length === 0 ? FALSE : referenceTo(c.param, refs);
    }
    case 'has': {
      const refs = await resolver.targetsOf(c.sourceType, c.param, c.where);
      return refs.length === 0 ? FALSE : { _id: { $in: refs } };
    }
    case 'anyOf': {
      const alternatives: Filter[] = [];
      for (const alt of c.alternatives) {
        const parts: Filter[] = [];
        for (const x of alt) parts.push(await compileCondition(x, types, resolver));
        alternatives.push(and(parts));
      }
      return or(alternatives);
    }
    default:
      throw new Error(`Unknown search condition ${String((c as Condition).kind)}`);
  }
}

/** The resource has a `param` reference entry to one of `refs`. */
export function referenceTo(param: string, refs: readonly string[]): Filter {
  return { idx: { $elemMatch: { p: { $eq: scalar(param) }, k: { $eq: 'reference' }, ref: { $in: refs.map(scalar) } } } };
}

/** Maps a plan field name to the stored one, refusing names the entry kind does not have. */
function fieldOf(kind: ScalarEntryKind, prefix = ''): (field: string) => string {
  const allowed: readonly string[] = ENTRY_FIELDS[kind];
  if (!allowed) {
    throw new Error(`Unknown index entry kind ${String(kind)}`);
  }
  return (field) => {
    if (!allowed.includes(field)) {
      throw new Error(`Field ${field} is not a field of ${kind} entries`);
    }
    return prefix + field;
  };
}

/**
 * One `$elemMatch` per conjunction of the predicate, OR-ed at the top level:
 * "some entry satisfies A or B" is "some entry satisfies A, or some entry
 * satisfies B", and each branch keeps its own index bounds.
 */
function entryCondition(c: EntryCondition): Filter {
  const field = fieldOf(c.entryKind);
  const head = { p: { $eq: scalar(c.param) }, k: { $eq: c.entryKind } };
  const positive = or(c.predicate.map((conj) => ({ idx: { $elemMatch: and([head, comparisons(conj, field)]) } })));
  return c.negate ? not(positive) : positive;
}

/** The DNF predicate of one composite part, on the element's `c<i>` sub-document. */
function partFilter(i: number, kind: ScalarEntryKind, predicate: EntryPredicate): Filter {
  const field = fieldOf(kind, `c${i}.`);
  const head = { [`c${i}.k`]: { $eq: kind } };
  return or(predicate.map((conj) => and([head, comparisons(conj, field)])));
}

/** All parts of one alternative must hold on the same composite entry: one `$elemMatch` per alternative. */
function compositeCondition(c: CompositeCondition): Filter {
  const head = { p: { $eq: scalar(c.param) }, k: { $eq: 'composite' } };
  return or(
    c.anyOf.map((alt) => {
      const body = and([head, ...alt.map((part, i) => partFilter(i, part.entryKind, part.predicate))]);
      // A part with an empty (false) predicate makes the whole alternative false.
      return body === FALSE ? FALSE : { idx: { $elemMatch: body } };
    }),
  );
}

/** `_lastUpdated`: both `low` and `high` mean the resource's instant (epoch ms). */
function lastUpdatedCondition(c: LastUpdatedCondition): Filter {
  const field = (f: string): string => {
    if (f !== 'low' && f !== 'high') {
      throw new Error(`Field ${f} is not a _lastUpdated field`);
    }
    return 'luMs';
  };
  return or(
    c.predicate.map((conj: readonly Comparison[]) => {
      for (const cmp of conj) {
        if (cmp.value !== undefined && typeof cmp.value !== 'number' && !Array.isArray(cmp.value)) {
          throw new Error('_lastUpdated values must be epoch milliseconds');
        }
      }
      return comparisons(conj, field);
    }),
  );
}
