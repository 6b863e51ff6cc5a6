import crypto from 'node:crypto';
import { FhirError } from '../../src/fhir/outcomes';
import type { Condition, SearchPlan } from '../../src/fhir/search/plan';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import { plan, ref, refs, Seeder, str, tok } from './search-support';

/**
 * MongoDB adapter specifics of search: the sub-query cap of chains and
 * `_has`, sort values under parameter codes BSON cannot hold as keys, and
 * resource content surviving the BSON round trip. The behaviour shared with
 * SQLite is in the conformance suites (search-*.test.ts).
 */
/** Set by .ci/run; jest.config.js leaves this file out when it is not. */
const URL = process.env.MONGODB_URL as string;

describe('mongo adapter: search specifics', () => {
  let store: MongoStore;
  beforeAll(async () => {
    store = new MongoStore({ url: URL, dbName: `test_${crypto.randomBytes(6).toString('hex')}`, subqueryCap: 3 });
    await store.init();
    const s = new Seeder(store);
    for (const id of ['p1', 'p2', 'p3', 'p4']) {
      await s.put('Patient', id, [tok('gender', null, id === 'p4' ? 'male' : 'female'), str('a.b', `v-${id}`), str('$x', `w-${5 - Number(id[1])}`)]);
    }
    await s.put('Observation', 'o1', [ref('subject', 'Patient/p1'), tok('code', 'urn:c', 'k')]);
    await s.put('Observation', 'o2', [ref('subject', 'Patient/p2'), tok('code', 'urn:c', 'k')]);
    await s.put('Observation', 'o3', [ref('subject', 'Patient/p3'), tok('code', 'urn:c', 'k')]);
    await s.put('Observation', 'o4', [ref('subject', 'Patient/p4'), tok('code', 'urn:c', 'k')]);
    await s.put('Observation', 'o5', [ref('subject', 'Patient/p4'), tok('code', 'urn:c', 'z')]);
  });
  afterAll(async () => {
    await store.dropDatabase();
    await store.close();
  });

  const gender = (g: string): Condition => ({ kind: 'entry', entryKind: 'token', param: 'gender', predicate: [[{ field: 'code', op: 'eq', value: g }]] });
  const codeIs = (c: string): Condition => ({ kind: 'entry', entryKind: 'token', param: 'code', predicate: [[{ field: 'code', op: 'eq', value: c }]] });
  const chain = (where: Condition[]): Condition => ({ kind: 'chain', param: 'subject', targetTypes: ['Patient'], where });
  const has = (where: Condition[]): Condition => ({ kind: 'has', sourceType: 'Observation', param: 'subject', where });
  const run = async (p: SearchPlan) => refs((await store.search(p)).matches);

  test('the server is identified, and FerretDB gets adapter-side $elemMatch', () => {
    const caps = store.capabilities;
    expect(caps.nativeElemMatch).toBe(caps.ferretdb === undefined);
  });

  test('a chain within the cap resolves; beyond it the search is refused as too costly', async () => {
    expect(await run(plan('Observation', [chain([gender('male')])]))).toEqual(['Observation/o4', 'Observation/o5']);
    // Three female patients: exactly the cap, still answered.
    expect(await run(plan('Observation', [chain([gender('female')])]))).toEqual(['Observation/o1', 'Observation/o2', 'Observation/o3']);
    const anyGender: Condition = { kind: 'entry', entryKind: 'token', param: 'gender', predicate: [[]] };
    const err = await store.search(plan('Observation', [chain([anyGender]), codeIs('k')])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).outcome.issue?.[0]).toMatchObject({ code: 'too-costly' });
    expect((err as FhirError).status).toBe(400);
  });

  test('a _has within the cap resolves; beyond it the search is refused as too costly', async () => {
    expect(await run(plan('Patient', [has([codeIs('z')])]))).toEqual(['Patient/p4']);
    // Five observations match, though they point at four patients: the sources are what is capped on FerretDB,
    // the distinct targets on MongoDB; both exceed 3 here.
    await expect(store.search(plan('Patient', [has([codeIs('k')])]))).rejects.toBeInstanceOf(FhirError);
  });

  test('sort values under parameter codes with "." and "$" sort correctly', async () => {
    expect(await run(plan('Patient', [], { sort: [{ param: 'a.b', descending: true }] }))).toEqual(['Patient/p4', 'Patient/p3', 'Patient/p2', 'Patient/p1']);
    expect(await run(plan('Patient', [], { sort: [{ param: '$x', descending: false }] }))).toEqual(['Patient/p4', 'Patient/p3', 'Patient/p2', 'Patient/p1']);
    const page = await store.search(plan('Patient', [], { sort: [{ param: 'a.b', descending: false }], count: 2 }));
    expect(page.next).toEqual({ direction: 'next', values: ['v-p2'], ref: 'Patient/p2' });
    expect(await run(plan('Patient', [], { sort: [{ param: 'a.b', descending: false }], count: 2, cursor: page.next }))).toEqual(['Patient/p3', 'Patient/p4']);
  });

  test('resource content comes back from BSON as the same JSON', async () => {
    const resource = {
      resourceType: 'Patient',
      id: 'rt',
      meta: { versionId: '1', lastUpdated: '2026-02-01T00:00:00.000Z' },
      name: [{ family: 'Ðœßé 😀', given: ['A', 'B'], _given: [null, { extension: [{ url: 'urn:x', valueBoolean: false }] }] }],
      multipleBirthInteger: 2147483648,
      extension: [{ url: 'urn:d', valueDecimal: 0.1 }, { url: 'urn:n', valueInteger: -7 }],
      contained: [],
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">a &amp; b</div>' },
    };
    const json = JSON.stringify(resource);
    await store.write({
      type: 'Patient',
      id: 'rt',
      versionId: 1,
      expectedVersion: 0,
      lastUpdated: resource.meta.lastUpdated,
      method: 'POST',
      deleted: false,
      json,
      index: [tok('gender', null, 'other')],
    });
    expect((await store.readCurrent('Patient', 'rt'))?.json).toBe(json);
    expect((await store.readVersion('Patient', 'rt', 1))?.json).toBe(json);
    expect((await store.readMany('Patient', ['rt']))[0].json).toBe(json);
    expect((await store.search(plan('Patient', [gender('other')]))).matches[0].json).toBe(json);
    expect((await store.history({ type: 'Patient', id: 'rt', count: 1 })).entries[0].json).toBe(json);
  });
});
