import type { VersionRecord } from '../../store/port';
import type { EntryField, ScalarEntryKind } from './index-entry';

/**
 * A search, parsed and normalized: the contract between `fhir/search` (which
 * owns every FHIR search rule: parameter types, modifiers, prefixes, precision
 * ranges, chains) and the store adapters (which only translate it to their own
 * query language over the index entries of index-entry.ts). Nothing in a plan
 * needs FHIR knowledge to execute, so both adapters give identical results.
 *
 * Values in a plan are data: adapters bind them as query parameters (SQLite)
 * or compare them as plain strings/numbers (MongoDB), never interpolate them.
 * @see https://hl7.org/fhir/R4/search.html
 */
export interface SearchPlan {
  /** Resource types searched: one for type-level search, several for `GET /fhir?_type=`. */
  types: string[];
  /** Every condition must hold (repeated parameters = AND). */
  where: Condition[];
  /** Sort keys in priority order; the tie-breaker `Type/id` ascending is implicit and always last. */
  sort: SortKey[];
  /** Page size; 0 asks for the total only. */
  count: number;
  /** Continue after / before a row of an earlier page (keyset paging). */
  cursor?: Cursor;
  /** Compute the number of matches (ignoring cursor and count). */
  total: boolean;
  /**
   * With `total`: count at most this many matches; when there are more, the
   * page has no total (FHIR lets a server omit it). Absent: count them all.
   */
  totalLimit?: number;
  /** `_include` specs, applied to the page's matches (and, with iterate, to what they include). */
  include: IncludeSpec[];
  /** `_revinclude` specs, same rules. */
  revinclude: IncludeSpec[];
  /** Upper bound on included resources; beyond it `includesTruncated` is set. */
  maxIncludes: number;
  /**
   * Conditions every included or revincluded resource must satisfy (and
   * every resource an `:iterate` round starts from): FhirService's access
   * restriction, so includes carry only what the caller may see.
   */
  includeWhere?: readonly Condition[];
}

/** One comparison on a field of an index entry (or, for `lastUpdated`, on the resource's instant). */
export interface Comparison {
  field: EntryField;
  op: ComparisonOp;
  /** A string or number for eq/lt/le/gt/ge/startsWith/contains, a list for `in`, absent for isNull/notNull. */
  value?: string | number | readonly (string | number)[];
}

/**
 * - eq, lt, le, gt, ge: ordinary comparison (strings compare by code point).
 * - startsWith, contains: string prefix / substring, case-sensitive (values are pre-normalized).
 * - in: equals one of the listed values.
 * - isNull / notNull: the field is null / not null.
 */
export type ComparisonOp = 'eq' | 'lt' | 'le' | 'gt' | 'ge' | 'startsWith' | 'contains' | 'in' | 'isNull' | 'notNull';

/**
 * A predicate on one index entry, in disjunctive normal form: the entry
 * matches when, for some inner list, every comparison holds. `[[]]` is true
 * (any entry matches); `[]` is false.
 */
export type EntryPredicate = readonly (readonly Comparison[])[];

export type Condition =
  | EntryCondition
  | CompositeCondition
  | IdCondition
  | LastUpdatedCondition
  | ChainCondition
  | HasCondition
  | AnyOfCondition;

/**
 * The resource has (negate: has no) index entry of `entryKind` for `param`
 * that satisfies `predicate`. `:missing=true` is `{ predicate: [[]], negate: true }`,
 * `:missing=false` is `{ predicate: [[]] }`, `:not` negates a match.
 */
export interface EntryCondition {
  kind: 'entry';
  entryKind: ScalarEntryKind;
  param: string;
  predicate: EntryPredicate;
  negate?: boolean;
}

/**
 * The resource has a composite entry for `param` such that, for one of the
 * alternatives, every part i satisfies `parts[i]` (a predicate on the
 * composite entry's `parts[i]`).
 */
export interface CompositeCondition {
  kind: 'composite';
  param: string;
  anyOf: readonly (readonly { entryKind: ScalarEntryKind; predicate: EntryPredicate }[])[];
}

/** `_id`: the resource id is one of `ids` (negate: is none of them). */
export interface IdCondition {
  kind: 'id';
  ids: readonly string[];
  negate?: boolean;
}

/**
 * `_lastUpdated`: a predicate whose fields are `low` and `high`, both meaning
 * the resource's lastUpdated instant in epoch ms (a point: low = high).
 */
export interface LastUpdatedCondition {
  kind: 'lastUpdated';
  predicate: EntryPredicate;
}

/**
 * Chained search (`subject:Patient.name=x`): the resource has a reference
 * entry for `param` whose (type, id) is a current resource of one of
 * `targetTypes` satisfying every condition of `where`.
 */
export interface ChainCondition {
  kind: 'chain';
  param: string;
  targetTypes: readonly string[];
  where: readonly Condition[];
}

/**
 * Reverse chaining (`_has:Observation:patient:code=x`): some current resource
 * of `sourceType` satisfying every condition of `where` has a reference
 * entry for `param` whose ref is this resource's `Type/id`.
 */
export interface HasCondition {
  kind: 'has';
  sourceType: string;
  param: string;
  where: readonly Condition[];
}

/**
 * A disjunction of conjunctions: true when, for some alternative, every
 * condition of it holds. `[]` is false, `[[]]` is true. FhirService uses it to
 * add the caller's access restriction (DMP-RULES.md § 5) to a plan, at the top
 * level and inside chains and `_has`, so that adapters filter inside the
 * query and totals and paging stay exact; adapters know nothing of why.
 */
export interface AnyOfCondition {
  kind: 'anyOf';
  alternatives: readonly (readonly Condition[])[];
}

/**
 * A sort key: a search parameter code (the adapter uses the stored sort
 * values of index-entry.ts `sortValues`: `low` ascending, `high` descending;
 * resources without a value sort first ascending and last descending), or
 * `_id` / `_lastUpdated`.
 */
export interface SortKey {
  param: string;
  descending: boolean;
}

/**
 * A keyset position: the sort values (aligned with `plan.sort`, null where the
 * row had none) and `Type/id` of the row to continue from. `next` returns the
 * rows after it in sort order; `prev` the rows before it (still returned in
 * sort order).
 */
export interface Cursor {
  direction: 'next' | 'prev';
  values: readonly (string | number | null)[];
  ref: string;
}

/**
 * `_include` / `_revinclude`: resources of `sourceType` reference others
 * through `param`; `targetType` restricts the referenced type.
 * @see https://hl7.org/fhir/R4/search.html#include
 */
export interface IncludeSpec {
  sourceType: string;
  param: string;
  targetType?: string;
  iterate: boolean;
}

/** What an adapter returns for a plan. */
export interface SearchPage {
  /** The page's matches, in sort order. */
  matches: VersionRecord[];
  /** Included resources (not also in matches), ordered by `Type/id`. */
  included: VersionRecord[];
  includesTruncated: boolean;
  /** When `plan.total`: the number of matches. */
  total?: number;
  /** Cursor for the following page, when there are more rows after this page. */
  next?: Cursor;
  /** Cursor for the preceding page, when there are rows before this page. */
  prev?: Cursor;
}
