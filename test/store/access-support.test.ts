import type { IndexEntry } from '../../src/fhir/search/index-entry';
import type { Condition, SearchPlan } from '../../src/fhir/search/plan';
import { UniqueConflict, type ResourceStore, type VersionWrite } from '../../src/store/port';
import { STORES } from '../support/stores';

/** The store features access control relies on, on every adapter: anyOf, restricted history, change markers, unique keys, purge. */
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

const token = (param: string, code: string): IndexEntry => ({ kind: 'token', param, system: null, code, text: null });
const ref = (param: string, target: string): IndexEntry => ({
  kind: 'reference',
  param,
  ref: target,
  type: target.split('/')[0],
  id: target.split('/')[1],
  idSystem: null,
  idValue: null,
});

function write(type: string, id: string, v: number, index: IndexEntry[], extra: Partial<VersionWrite> = {}): VersionWrite {
  return {
    type,
    id,
    versionId: v,
    expectedVersion: v - 1,
    lastUpdated: at(v * 10 + id.length),
    method: v === 1 ? 'POST' : 'PUT',
    deleted: false,
    json: JSON.stringify({ resourceType: type, id }),
    index,
    ...extra,
  };
}

const entry = (param: string, kind: 'token' | 'reference', field: 'code' | 'ref', op: 'eq' | 'in', value: string | string[], negate = false): Condition => ({
  kind: 'entry',
  entryKind: kind,
  param,
  predicate: [[{ field, op, value }]],
  ...(negate ? { negate } : {}),
});

function plan(types: string[], where: Condition[]): SearchPlan {
  return { types, where, sort: [], count: 100, total: true, include: [], revinclude: [], maxIncludes: 100 };
}

describe.each(STORES)('store conformance: access support ($name)', (fixture) => {
  let store: ResourceStore;
  beforeEach(async () => {
    store = await fixture.open();
    // d1: patient A, masked; d2: patient A; d3: patient B; o1: Observation of A deriving from d1; org: no patient.
    await store.write(write('DocumentReference', 'd1', 1, [ref('dmp-patient', 'Patient/A'), token('dmp-label', 'MASQUE_PS')]));
    await store.write(write('DocumentReference', 'd2', 1, [ref('dmp-patient', 'Patient/A')]));
    await store.write(write('DocumentReference', 'd3', 1, [ref('dmp-patient', 'Patient/B')]));
    await store.write(write('Observation', 'o1', 1, [ref('dmp-patient', 'Patient/A'), ref('derived-from', 'DocumentReference/d1')]));
    await store.write(write('Organization', 'org', 1, []));
  });
  afterEach(async () => {
    await fixture.dispose(store);
  });

  const visibleA: Condition = {
    kind: 'anyOf',
    alternatives: [
      [entry('dmp-patient', 'reference', 'ref', 'in', ['Patient/A']), entry('dmp-label', 'token', 'code', 'eq', 'MASQUE_PS', true)],
      [{ kind: 'entry', entryKind: 'reference', param: 'dmp-patient', predicate: [[]], negate: true }],
    ],
  };
  const idsOf = async (p: SearchPlan) => {
    const page = await store.search(p);
    return { ids: page.matches.map((m) => m.id).sort(), total: page.total };
  };

  test('anyOf: alternatives of conjunctions, with negated and missing entries; totals agree', async () => {
    expect(await idsOf(plan(['DocumentReference', 'Organization', 'Observation'], [visibleA]))).toEqual({ ids: ['d2', 'o1', 'org'], total: 3 });
    expect(await idsOf(plan(['DocumentReference'], [{ kind: 'anyOf', alternatives: [] }]))).toEqual({ ids: [], total: 0 });
    expect(await idsOf(plan(['DocumentReference'], [{ kind: 'anyOf', alternatives: [[]] }]))).toEqual({ ids: ['d1', 'd2', 'd3'], total: 3 });
    const nested: Condition = { kind: 'anyOf', alternatives: [[{ kind: 'anyOf', alternatives: [[entry('dmp-patient', 'reference', 'ref', 'eq', 'Patient/B')]] }]] };
    expect(await idsOf(plan(['DocumentReference'], [nested]))).toEqual({ ids: ['d3'], total: 1 });
  });

  test('anyOf inside a chain and a _has', async () => {
    const chain: Condition = { kind: 'chain', param: 'derived-from', targetTypes: ['DocumentReference'], where: [visibleA] };
    expect((await idsOf(plan(['Observation'], [chain]))).ids).toEqual([]);
    const has: Condition = { kind: 'has', sourceType: 'Observation', param: 'derived-from', where: [visibleA] };
    expect((await idsOf(plan(['DocumentReference'], [has]))).ids).toEqual(['d1']);
    const hidden: Condition = { kind: 'has', sourceType: 'Observation', param: 'derived-from', where: [{ kind: 'anyOf', alternatives: [] }] };
    expect((await idsOf(plan(['DocumentReference'], [hidden]))).ids).toEqual([]);
  });

  test('includes and revincludes carry only resources meeting includeWhere', async () => {
    const inc = await store.search({ ...plan(['Observation'], []), include: [{ sourceType: 'Observation', param: 'derived-from', iterate: false }], includeWhere: [visibleA] });
    expect(inc.matches.map((m) => m.id)).toEqual(['o1']);
    expect(inc.included).toEqual([]);
    const open = await store.search({ ...plan(['Observation'], []), include: [{ sourceType: 'Observation', param: 'derived-from', iterate: false }] });
    expect(open.included.map((m) => m.id)).toEqual(['d1']);
    const rev = await store.search({
      ...plan(['DocumentReference'], [{ kind: 'id', ids: ['d1'] }]),
      revinclude: [{ sourceType: 'Observation', param: 'derived-from', iterate: false }],
      includeWhere: [{ kind: 'anyOf', alternatives: [] }],
    });
    expect(rev.included).toEqual([]);
  });

  test('history restricted to resources whose current version is visible', async () => {
    await store.write(write('DocumentReference', 'd2', 2, [ref('dmp-patient', 'Patient/A')]));
    const typeHistory = await store.history({ type: 'DocumentReference', count: 10, where: [visibleA] });
    expect(typeHistory.entries.map((e) => `${e.id}/${e.versionId}`)).toEqual(['d2/2', 'd2/1']);
    expect(typeHistory.total).toBe(2);
    const system = await store.history({ count: 1, where: [visibleA] });
    expect(system.total).toBe(4); // d2 twice, o1, org
    expect(system.hasOlder).toBe(true);
    // A deleted resource's versions are not shown (its current version is a tombstone).
    await store.write({ ...write('DocumentReference', 'd2', 3, []), deleted: true, json: null, method: 'DELETE' });
    expect((await store.history({ type: 'DocumentReference', count: 10, where: [visibleA] })).total).toBe(0);
  });

  test('the change marker moves on writes of the listed types only', async () => {
    const before = await store.changeMarker(['Consent', 'Patient']);
    await store.write(write('Observation', 'o2', 1, []));
    expect(await store.changeMarker(['Consent', 'Patient'])).toBe(before);
    await store.write(write('Consent', 'c1', 1, []));
    const afterConsent = await store.changeMarker(['Consent', 'Patient']);
    expect(afterConsent).not.toBe(before);
    await store.write({ ...write('Consent', 'c1', 2, []), deleted: true, json: null, method: 'DELETE' });
    expect(await store.changeMarker(['Consent', 'Patient'])).not.toBe(afterConsent);
  });

  test('unique keys: one live holder; an update keeps or drops them; a delete releases them', async () => {
    const key = 'Patient|urn:oid:1.2.250.1.213.1.4.8|1';
    await store.write(write('Patient', 'p1', 1, [], { uniqueKeys: [key] }));
    await expect(store.write(write('Patient', 'p2', 1, [], { uniqueKeys: [key] }))).rejects.toBeInstanceOf(UniqueConflict);
    expect(await store.readCurrent('Patient', 'p2')).toBeUndefined();
    await store.write(write('Patient', 'p1', 2, [], { uniqueKeys: [key] })); // the holder keeps it
    await store.write(write('Patient', 'p1', 3, [], { uniqueKeys: [] })); // and drops it
    await store.write(write('Patient', 'p2', 1, [], { uniqueKeys: [key] }));
    await store.write({ ...write('Patient', 'p2', 2, []), deleted: true, json: null, method: 'DELETE' });
    await store.write(write('Patient', 'p3', 1, [], { uniqueKeys: [key] }));
    const err = await store.write(write('Patient', 'p4', 1, [], { uniqueKeys: [key] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UniqueConflict);
    expect((err as UniqueConflict).holder).toBe('Patient/p3');
  });

  test('unique keys under 20 concurrent writers: exactly one wins', async () => {
    const key = 'Patient|urn:oid:1.2.250.1.213.1.4.8|2';
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.write(write('Patient', `c${i}`, 1, [], { uniqueKeys: [key] }))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UniqueConflict);
    }
  });

  test('purge removes every version, the index entries and the keys', async () => {
    const key = 'Patient|urn:oid:1.2.250.1.213.1.4.8|3';
    await store.write(write('Patient', 'gone', 1, [token('name', 'x')], { uniqueKeys: [key] }));
    await store.write(write('Patient', 'gone', 2, [token('name', 'x')], { uniqueKeys: [key] }));
    await store.purge('Patient', 'gone');
    expect(await store.readCurrent('Patient', 'gone')).toBeUndefined();
    expect(await store.readVersion('Patient', 'gone', 1)).toBeUndefined();
    expect((await store.history({ type: 'Patient', id: 'gone', count: 10 })).total).toBe(0);
    expect((await idsOf(plan(['Patient'], [entry('name', 'token', 'code', 'eq', 'x')]))).ids).toEqual([]);
    await store.write(write('Patient', 'new', 1, [], { uniqueKeys: [key] }));
  });
});
