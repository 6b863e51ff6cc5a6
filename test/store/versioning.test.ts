import { VersionConflict, type ResourceStore, type VersionWrite } from '../../src/store/port';
import { STORES } from '../support/stores';

/** A version write for tests; the JSON mirrors what FhirService would store. */
function version(
  type: string,
  id: string,
  versionId: number,
  expectedVersion: number,
  lastUpdated: string,
  extra: Partial<VersionWrite> = {},
): VersionWrite {
  const deleted = extra.deleted ?? false;
  return {
    type,
    id,
    versionId,
    expectedVersion,
    lastUpdated,
    method: deleted ? 'DELETE' : versionId === 1 ? 'POST' : 'PUT',
    deleted,
    json: deleted ? null : JSON.stringify({ resourceType: type, id, meta: { versionId: String(versionId), lastUpdated } }),
    index: [],
    ...extra,
  };
}

const T0 = '2026-01-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

describe.each(STORES)('store conformance: versions ($name)', (fixture) => {
  let store: ResourceStore;
  beforeEach(async () => {
    store = await fixture.open();
  });
  afterEach(async () => {
    await fixture.dispose(store);
  });

  test('a created resource reads back as version 1', async () => {
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    const cur = await store.readCurrent('Patient', 'p1');
    expect(cur).toMatchObject({ type: 'Patient', id: 'p1', versionId: 1, lastUpdated: at(0), deleted: false, method: 'POST' });
    expect(JSON.parse(cur?.json as string)).toMatchObject({ resourceType: 'Patient', id: 'p1' });
  });

  test('unknown resources and versions read as undefined', async () => {
    expect(await store.readCurrent('Patient', 'nope')).toBeUndefined();
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    expect(await store.readVersion('Patient', 'p1', 2)).toBeUndefined();
    expect(await store.readCurrent('Observation', 'p1')).toBeUndefined();
  });

  test('an update appends a version and leaves the old one unchanged', async () => {
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    await store.write(version('Patient', 'p1', 2, 1, at(5)));
    expect((await store.readCurrent('Patient', 'p1'))?.versionId).toBe(2);
    const v1 = await store.readVersion('Patient', 'p1', 1);
    expect(v1).toMatchObject({ versionId: 1, lastUpdated: at(0) });
    expect(JSON.parse(v1?.json as string).meta.versionId).toBe('1');
  });

  test('a write against a stale version is refused with the actual version', async () => {
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    await store.write(version('Patient', 'p1', 2, 1, at(1)));
    const err = await store.write(version('Patient', 'p1', 2, 1, at(2))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VersionConflict);
    expect((err as VersionConflict).actualVersion).toBe(2);
    expect((await store.readCurrent('Patient', 'p1'))?.lastUpdated).toBe(at(1));
  });

  test('creating an existing resource conflicts', async () => {
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    await expect(store.write(version('Patient', 'p1', 1, 0, at(1)))).rejects.toBeInstanceOf(VersionConflict);
  });

  test('the same id in two types is two resources', async () => {
    await store.write(version('Patient', 'x', 1, 0, at(0)));
    await store.write(version('Observation', 'x', 1, 0, at(0)));
    expect((await store.readCurrent('Observation', 'x'))?.type).toBe('Observation');
  });

  test('a delete is a tombstone version; history stays readable', async () => {
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    await store.write(version('Patient', 'p1', 2, 1, at(1), { deleted: true }));
    const cur = await store.readCurrent('Patient', 'p1');
    expect(cur).toMatchObject({ versionId: 2, deleted: true, json: null, method: 'DELETE' });
    expect((await store.readVersion('Patient', 'p1', 1))?.deleted).toBe(false);
  });

  test('a deleted resource can be brought back by a new version', async () => {
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    await store.write(version('Patient', 'p1', 2, 1, at(1), { deleted: true }));
    await store.write(version('Patient', 'p1', 3, 2, at(2)));
    expect(await store.readCurrent('Patient', 'p1')).toMatchObject({ versionId: 3, deleted: false });
  });

  test('of 20 concurrent writers holding the same version, exactly one wins', async () => {
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.write(version('Patient', 'p1', 2, 1, at(10 + i), { json: JSON.stringify({ resourceType: 'Patient', id: 'p1', n: i }) })),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflict);
    }
    const winner = results.findIndex((r) => r.status === 'fulfilled');
    const cur = await store.readCurrent('Patient', 'p1');
    expect(JSON.parse(cur?.json as string).n).toBe(winner);
    const hist = await store.history({ type: 'Patient', id: 'p1', count: 50 });
    expect(hist.entries.map((e) => e.versionId)).toEqual([2, 1]);
  });

  test('concurrent creates of one id: exactly one wins', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.write(version('Patient', 'same', 1, 0, at(i)))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  test('readMany returns current versions and omits tombstones and unknown ids', async () => {
    await store.write(version('Patient', 'a', 1, 0, at(0)));
    await store.write(version('Patient', 'b', 1, 0, at(0)));
    await store.write(version('Patient', 'b', 2, 1, at(1)));
    await store.write(version('Patient', 'c', 1, 0, at(0)));
    await store.write(version('Patient', 'c', 2, 1, at(1), { deleted: true }));
    const many = await store.readMany('Patient', ['a', 'b', 'c', 'zzz']);
    expect(many.map((r) => `${r.id}@${r.versionId}`).sort()).toEqual(['a@1', 'b@2']);
    expect(await store.readMany('Patient', [])).toEqual([]);
  });
});

describe.each(STORES)('store conformance: history ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    // p1: v1 @0, v2 @10, deleted v3 @20; p2: v1 @5; o1 (Observation): v1 @15; p3: v1 @10 (same ms as p1 v2)
    await store.write(version('Patient', 'p1', 1, 0, at(0)));
    await store.write(version('Patient', 'p2', 1, 0, at(5)));
    await store.write(version('Patient', 'p1', 2, 1, at(10)));
    await store.write(version('Patient', 'p3', 1, 0, at(10)));
    await store.write(version('Observation', 'o1', 1, 0, at(15)));
    await store.write(version('Patient', 'p1', 3, 2, at(20), { deleted: true }));
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  const keys = (entries: { type: string; id: string; versionId: number }[]) =>
    entries.map((e) => `${e.type}/${e.id}/${e.versionId}`);

  test('instance history is newest first and includes the tombstone', async () => {
    const page = await store.history({ type: 'Patient', id: 'p1', count: 10 });
    expect(keys(page.entries)).toEqual(['Patient/p1/3', 'Patient/p1/2', 'Patient/p1/1']);
    expect(page.entries[0]).toMatchObject({ deleted: true, method: 'DELETE' });
    expect(page).toMatchObject({ total: 3, hasOlder: false, hasNewer: false });
  });

  test('type history covers every resource of the type, newest first', async () => {
    const page = await store.history({ type: 'Patient', count: 10 });
    expect(keys(page.entries)).toEqual(['Patient/p1/3', 'Patient/p3/1', 'Patient/p1/2', 'Patient/p2/1', 'Patient/p1/1']);
    expect(page.total).toBe(5);
  });

  test('system history covers every type', async () => {
    const page = await store.history({ count: 10 });
    expect(keys(page.entries)).toEqual([
      'Patient/p1/3',
      'Observation/o1/1',
      'Patient/p3/1',
      'Patient/p1/2',
      'Patient/p2/1',
      'Patient/p1/1',
    ]);
  });

  test('_since keeps versions at or after the instant', async () => {
    const page = await store.history({ type: 'Patient', since: at(10), count: 10 });
    expect(keys(page.entries)).toEqual(['Patient/p1/3', 'Patient/p3/1', 'Patient/p1/2']);
    expect(page.total).toBe(3);
  });

  test('keyset paging walks older and back newer without gaps or repeats', async () => {
    const first = await store.history({ count: 2 });
    expect(keys(first.entries)).toEqual(['Patient/p1/3', 'Observation/o1/1']);
    expect(first).toMatchObject({ hasOlder: true, hasNewer: false, total: 6 });

    const { historyKey } = await import('../../src/store/port');
    const second = await store.history({ count: 2, cursor: { key: historyKey(first.entries[1]), direction: 'older' } });
    expect(keys(second.entries)).toEqual(['Patient/p3/1', 'Patient/p1/2']);
    expect(second).toMatchObject({ hasOlder: true, hasNewer: true });

    const third = await store.history({ count: 2, cursor: { key: historyKey(second.entries[1]), direction: 'older' } });
    expect(keys(third.entries)).toEqual(['Patient/p2/1', 'Patient/p1/1']);
    expect(third).toMatchObject({ hasOlder: false, hasNewer: true });

    const back = await store.history({ count: 2, cursor: { key: historyKey(third.entries[0]), direction: 'newer' } });
    expect(keys(back.entries)).toEqual(['Patient/p3/1', 'Patient/p1/2']);
    expect(back).toMatchObject({ hasOlder: true, hasNewer: true });
  });

  test('a page cursor survives a concurrent write', async () => {
    const first = await store.history({ type: 'Patient', count: 2 });
    await store.write(version('Patient', 'late', 1, 0, at(30)));
    const { historyKey } = await import('../../src/store/port');
    const second = await store.history({
      type: 'Patient',
      count: 2,
      cursor: { key: historyKey(first.entries[1]), direction: 'older' },
    });
    expect(keys(second.entries)).toEqual(['Patient/p1/2', 'Patient/p2/1']);
  });
});
