/**
 * Builders shared by the store search conformance suites (test/store/search-*.test.ts).
 * Index entries and plans are written by hand, so these suites depend on
 * neither the query parser nor the index extractor: they pin down what every
 * adapter must do with a given plan over given entries.
 * @see https://hl7.org/fhir/R4/search.html
 */
import {
  normalizeString,
  type CompositeEntry,
  type DateEntry,
  type IndexEntry,
  type NumberEntry,
  type QuantityEntry,
  type ReferenceEntry,
  type StringEntry,
  type TokenEntry,
  type UriEntry,
  type EntryField,
  type ScalarEntryKind,
} from '../../src/fhir/search/index-entry';
import type {
  Comparison,
  ComparisonOp,
  Condition,
  EntryCondition,
  EntryPredicate,
  SearchPage,
  SearchPlan,
} from '../../src/fhir/search/plan';
import type { ResourceStore } from '../../src/store/port';
import { decimalRange } from '../../src/fhir/search/values';

export const tok = (param: string, system: string | null, code: string | null, text: string | null = null): TokenEntry => ({
  kind: 'token',
  param,
  system,
  code,
  text,
});

export const str = (param: string, exact: string): StringEntry => ({
  kind: 'string',
  param,
  value: normalizeString(exact),
  exact,
});

/** A reference entry; `Type/id` targets are local, anything else is kept whole. */
export const ref = (param: string, target: string | null, ident?: { system: string | null; value: string }): ReferenceEntry => {
  const local = target !== null && /^[A-Z][A-Za-z]+\/[^/]+$/.test(target);
  return {
    kind: 'reference',
    param,
    ref: target,
    type: local ? (target as string).split('/')[0] : null,
    id: local ? (target as string).split('/')[1] : null,
    idSystem: ident?.system ?? null,
    idValue: ident?.value ?? null,
  };
};

export const date = (param: string, low: number, high: number = low): DateEntry => ({ kind: 'date', param, low, high });

/** A date entry from ISO instants (low and high inclusive). */
export const dateIso = (param: string, low: string, high: string = low): DateEntry =>
  date(param, Date.parse(low), Date.parse(high));

/** The implicit range of the value's own text (`5` is [4.5, 5.5)), as extraction computes it. */
const ranged = (value: number) => ({ value, ...(decimalRange(String(value)) as { low: number; high: number }) });

export const num = (param: string, value: number): NumberEntry => ({ kind: 'number', param, ...ranged(value) });

export const qty = (
  param: string,
  value: number,
  system: string | null = 'http://unitsofmeasure.org',
  code: string | null = 'mm[Hg]',
  unit: string | null = code,
): QuantityEntry => ({ kind: 'quantity', param, ...ranged(value), system, code, unit });

export const uri = (param: string, value: string): UriEntry => ({ kind: 'uri', param, value });

export const composite = (param: string, ...parts: CompositeEntry['parts']): CompositeEntry => ({ kind: 'composite', param, parts });

/** One comparison. */
export const cmp = (field: EntryField, op: ComparisonOp, value?: Comparison['value']): Comparison =>
  value === undefined ? { field, op } : { field, op, value };

/** An entry condition; `predicate` is in DNF (see plan.ts). */
export const entry = (
  entryKind: ScalarEntryKind,
  param: string,
  predicate: EntryPredicate,
  negate = false,
): EntryCondition => (negate ? { kind: 'entry', entryKind, param, predicate, negate } : { kind: 'entry', entryKind, param, predicate });

/** `param=system|code` (or `param=code` with system undefined). */
export const tokenIs = (param: string, code: string, system?: string | null): EntryCondition =>
  entry('token', param, [
    [
      ...(system === undefined ? [] : system === null ? [cmp('system', 'isNull')] : [cmp('system', 'eq', system)]),
      cmp('code', 'eq', code),
    ],
  ]);

/** `param=Type/id`. */
export const refIs = (param: string, target: string): EntryCondition => entry('reference', param, [[cmp('ref', 'eq', target)]]);

/** A plan with neutral defaults. */
export function plan(types: string | string[], where: Condition[] = [], extra: Partial<SearchPlan> = {}): SearchPlan {
  return {
    types: Array.isArray(types) ? types : [types],
    where,
    sort: [],
    count: 100,
    total: false,
    include: [],
    revinclude: [],
    maxIncludes: 1000,
    ...extra,
  };
}

/** `Type/id` of each record. */
export const refs = (records: { type: string; id: string }[]): string[] => records.map((r) => `${r.type}/${r.id}`);

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/**
 * Writes resources with explicit index entries, keeping track of versions,
 * with lastUpdated one second apart in write order (unless given).
 */
export class Seeder {
  private readonly versions = new Map<string, number>();
  private clock = 0;

  constructor(private readonly store: ResourceStore) {}

  /** Creates or updates `type/id` with these entries; returns its lastUpdated (ms). */
  async put(type: string, id: string, index: IndexEntry[] = [], lastUpdatedMs?: number): Promise<number> {
    const key = `${type}/${id}`;
    const prev = this.versions.get(key) ?? 0;
    const ms = lastUpdatedMs ?? T0 + ++this.clock * 1000;
    const lastUpdated = new Date(ms).toISOString();
    await this.store.write({
      type,
      id,
      versionId: prev + 1,
      expectedVersion: prev,
      lastUpdated,
      method: prev === 0 ? 'POST' : 'PUT',
      deleted: false,
      json: JSON.stringify({ resourceType: type, id, meta: { versionId: String(prev + 1), lastUpdated } }),
      index,
    });
    this.versions.set(key, prev + 1);
    return ms;
  }

  /** Writes a tombstone for `type/id`. */
  async remove(type: string, id: string): Promise<void> {
    const key = `${type}/${id}`;
    const prev = this.versions.get(key) ?? 0;
    await this.store.write({
      type,
      id,
      versionId: prev + 1,
      expectedVersion: prev,
      lastUpdated: new Date(T0 + ++this.clock * 1000).toISOString(),
      method: 'DELETE',
      deleted: true,
      json: null,
      index: [],
    });
    this.versions.set(key, prev + 1);
  }
}

/** Runs `p` and returns the matches as `Type/id`, in the order returned. */
export async function matchRefs(store: ResourceStore, p: SearchPlan): Promise<string[]> {
  const page: SearchPage = await store.search(p);
  return refs(page.matches);
}

/** Runs `p` for one type and returns the matched ids sorted (for set comparisons). */
export async function matchIds(store: ResourceStore, type: string, where: Condition[]): Promise<string[]> {
  const page = await store.search(plan(type, where));
  return page.matches.map((m) => m.id).sort();
}
