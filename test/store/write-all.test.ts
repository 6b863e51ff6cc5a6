import crypto from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import type { IndexEntry } from '../../src/fhir/search/index-entry';
import { toVersionDoc, type CurrentDoc, type VersionDoc } from '../../src/store/mongo/documents';
import { RESOURCES, TXNS, VERSIONS } from '../../src/store/mongo/indexes';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import { GroupConflict, UniqueConflict, VersionConflict, type ResourceStore, type VersionWrite } from '../../src/store/port';
import { STORES } from '../support/stores';

const tok = (code: string): IndexEntry => ({ kind: 'token', param: 'code', system: 'urn:s', code, text: null });
const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + s * 1000).toISOString();

function version(id: string, versionId: number, expectedVersion: number, code: string, extra: Partial<VersionWrite> = {}): VersionWrite {
  const lastUpdated = at(versionId);
  const deleted = extra.deleted ?? false;
  return {
    type: 'Basic',
    id,
    versionId,
    expectedVersion,
    lastUpdated,
    method: deleted ? 'DELETE' : versionId === 1 ? 'POST' : 'PUT',
    deleted,
    json: deleted ? null : JSON.stringify({ resourceType: 'Basic', id, meta: { versionId: String(versionId), lastUpdated }, code: { text: code } }),
    index: deleted ? [] : [tok(code)],
    ...extra,
  };
}

const codeSearch = (code: string) => ({
  types: ['Basic'],
  where: [{ kind: 'entry' as const, entryKind: 'token' as const, param: 'code', predicate: [[{ field: 'code' as const, op: 'eq' as const, value: code }]] }],
  sort: [],
  count: 10,
  total: false,
  include: [],
  revinclude: [],
  maxIncludes: 10,
});

async function searchIds(store: ResourceStore, code: string): Promise<string[]> {
  return (await store.search(codeSearch(code))).matches.map((m) => `${m.id}@${m.versionId}`);
}

describe.each(STORES)('store conformance: writeAll is all or nothing ($name)', (fixture) => {
  let store: ResourceStore;
  beforeEach(async () => {
    store = await fixture.open();
  });
  afterEach(async () => {
    await fixture.dispose(store);
  });

  test('a group of creates, an update and a delete is written whole, searchable at once', async () => {
    await store.write(version('old', 1, 0, 'old'));
    await store.write(version('gone', 1, 0, 'gone'));
    await store.writeAll([version('a', 1, 0, 'alpha'), version('b', 1, 0, 'alpha'), version('old', 2, 1, 'new'), version('gone', 2, 1, '', { deleted: true })]);
    expect(await searchIds(store, 'alpha')).toEqual(expect.arrayContaining(['a@1', 'b@1']));
    expect(await searchIds(store, 'new')).toEqual(['old@2']);
    expect(await searchIds(store, 'gone')).toEqual([]);
    expect(await store.readCurrent('Basic', 'gone')).toMatchObject({ versionId: 2, deleted: true });
    expect((await store.history({ type: 'Basic', count: 20 })).total).toBe(6);
  });

  test('a version conflict on the last write fails the group: nothing of it is visible', async () => {
    await store.write(version('x', 1, 0, 'x1'));
    const err = await store.writeAll([version('c1', 1, 0, 'group'), version('c2', 1, 0, 'group'), version('x', 3, 2, 'group')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupConflict);
    expect((err as GroupConflict).index).toBe(2);
    expect((err as GroupConflict).conflict).toBeInstanceOf(VersionConflict);
    expect(await searchIds(store, 'group')).toEqual([]);
    expect(await store.readCurrent('Basic', 'c1')).toBeUndefined();
    expect(await store.readVersion('Basic', 'c2', 1)).toBeUndefined();
    expect((await store.history({ type: 'Basic', count: 20 })).entries.map((e) => e.id)).toEqual(['x']);
    // The resources of the failed group accept writes afterwards.
    await store.writeAll([version('c1', 1, 0, 'again')]);
    expect(await searchIds(store, 'again')).toEqual(['c1@1']);
  });

  test('a unique-key conflict fails the group; a delete of the holder in the same group frees the key', async () => {
    await store.write(version('p1', 1, 0, 'p', { uniqueKeys: ['ins|1'] }));
    const err = await store.writeAll([version('q1', 1, 0, 'q'), version('p2', 1, 0, 'p', { uniqueKeys: ['ins|1'] })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupConflict);
    expect((err as GroupConflict).index).toBe(1);
    expect((err as GroupConflict).conflict).toBeInstanceOf(UniqueConflict);
    expect(await store.readCurrent('Basic', 'q1')).toBeUndefined();
    // The failed group gave the key back: p1 still holds it.
    await expect(store.write(version('p3', 1, 0, 'p', { uniqueKeys: ['ins|1'] }))).rejects.toBeInstanceOf(UniqueConflict);

    await store.writeAll([version('p1', 2, 1, '', { deleted: true }), version('p2', 1, 0, 'p', { uniqueKeys: ['ins|1'] })]);
    expect(await searchIds(store, 'p')).toEqual(['p2@1']);
    await expect(store.write(version('p4', 1, 0, 'p', { uniqueKeys: ['ins|1'] }))).rejects.toBeInstanceOf(UniqueConflict);
  });

  test('a group whose delete is undone by a conflict keeps the deleted holder and its key', async () => {
    await store.write(version('p1', 1, 0, 'p', { uniqueKeys: ['ins|2'] }));
    await store.write(version('z', 1, 0, 'z'));
    const err = await store
      .writeAll([version('p1', 2, 1, '', { deleted: true }), version('p2', 1, 0, 'p', { uniqueKeys: ['ins|2'] }), version('z', 5, 4, 'z')])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupConflict);
    expect(await store.readCurrent('Basic', 'p1')).toMatchObject({ versionId: 1, deleted: false });
    expect(await store.readCurrent('Basic', 'p2')).toBeUndefined();
    await expect(store.write(version('p5', 1, 0, 'p', { uniqueKeys: ['ins|2'] }))).rejects.toBeInstanceOf(UniqueConflict);
  });

  test('concurrent groups over the same resource: exactly one wins, each whole', async () => {
    await store.write(version('shared', 1, 0, 's'));
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => store.writeAll([version(`own${i}`, 1, 0, `g${i}`), version('shared', 2, 1, `g${i}`)])),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (let i = 0; i < 6; i++) {
      expect(await searchIds(store, `g${i}`)).toEqual(i === won[0] ? expect.arrayContaining([`own${i}@1`, 'shared@2']) : []);
    }
  });
});

/** The adapter's own commit protocol, where the deployment has no transactions (FerretDB in CI). */
const URL = process.env.MONGODB_URL;
(URL ? describe : describe.skip)('mongo adapter: staged transactions after a crash', () => {
  let dbName: string;
  let store: MongoStore;
  let client: MongoClient;
  let db: Db;
  beforeEach(async () => {
    dbName = `test_${crypto.randomBytes(6).toString('hex')}`;
    store = new MongoStore({ url: URL as string, dbName, transactions: 'staged' });
    await store.init();
    client = new MongoClient(URL as string);
    await client.connect();
    db = client.db(dbName);
  });
  afterEach(async () => {
    await store.dropDatabase();
    await store.close();
    await client.close();
  });

  /** What a process killed while staging leaves: marked versions, no decision. `owner` names a process. */
  const stageOnly = (txn: string, owner: string, stagedAt: number, ...writes: VersionWrite[]) =>
    db.collection<VersionDoc>(VERSIONS).insertMany(writes.map((w) => ({ ...toVersionDoc(w), txn: { id: txn, at: stagedAt, owner } })));
  const current = (id: string) => db.collection<CurrentDoc>(RESOURCES).findOne({ _id: `Basic/${id}` });
  const deadOwner = `${require('node:os').hostname()}|${process.pid}|closed-instance`;

  test('the store says which mechanism makes transaction Bundles atomic', () => {
    expect(String(store.describe().transactionBundles)).toMatch(/staged commit protocol/);
  });

  test('a staged, uncommitted transaction of a live writer is invisible to every reader', async () => {
    await store.write(version('b1', 1, 0, 'alpha'));
    await stageOnly('t-live', 'other-host|1|x', Date.now(), version('b1', 2, 1, 'beta'), version('b2', 1, 0, 'beta'));
    expect(await store.readCurrent('Basic', 'b1')).toMatchObject({ versionId: 1 });
    expect(await store.readCurrent('Basic', 'b2')).toBeUndefined();
    expect(await store.readVersion('Basic', 'b1', 2)).toBeUndefined();
    expect(await searchIds(store, 'beta')).toEqual([]);
    expect((await store.history({ type: 'Basic', count: 10 })).entries.map((e) => `${e.id}@${e.versionId}`)).toEqual(['b1@1']);
    // A single writer of a resource held by the transaction in flight conflicts rather than overwriting it.
    await expect(store.write(version('b1', 2, 1, 'gamma'))).rejects.toBeInstanceOf(VersionConflict);
  });

  test('init() rolls back a staged transaction whose process is gone (or that timed out)', async () => {
    await store.write(version('b1', 1, 0, 'alpha'));
    await stageOnly('t-dead', deadOwner, Date.now(), version('b1', 2, 1, 'beta'), version('b2', 1, 0, 'beta'));
    await stageOnly('t-old', 'other-host|1|x', Date.now() - 3_600_000, version('b3', 1, 0, 'beta'));
    const restarted = new MongoStore({ url: URL as string, dbName, transactions: 'staged' });
    await restarted.init();
    try {
      expect(await db.collection(VERSIONS).countDocuments({ txn: { $exists: true } })).toBe(0);
      expect(await db.collection(VERSIONS).countDocuments({ id: { $in: ['b2', 'b3'] } })).toBe(0);
      expect(await restarted.readCurrent('Basic', 'b1')).toMatchObject({ versionId: 1 });
      expect(await db.collection(TXNS).findOne({ _id: 't-dead' as never })).toMatchObject({ state: 'aborted' });
      // The resource is free again.
      await restarted.write(version('b1', 2, 1, 'gamma'));
      expect(await searchIds(restarted, 'gamma')).toEqual(['b1@2']);
    } finally {
      await restarted.close();
    }
  });

  test('init() rolls forward a transaction that passed its commit point before the crash', async () => {
    await store.write(version('b1', 1, 0, 'alpha'));
    await stageOnly('t-done', deadOwner, Date.now(), version('b1', 2, 1, 'beta'), version('b2', 1, 0, 'beta'));
    await db.collection(TXNS).insertOne({ _id: 't-done' as never, state: 'committed', at: Date.now() });
    expect(await searchIds(store, 'beta')).toEqual([]);
    const restarted = new MongoStore({ url: URL as string, dbName, transactions: 'staged' });
    await restarted.init();
    try {
      expect(await searchIds(restarted, 'beta')).toEqual(expect.arrayContaining(['b1@2', 'b2@1']));
      expect((await current('b1'))?.v).toBe(2);
      expect(await db.collection(VERSIONS).countDocuments({ txn: { $exists: true } })).toBe(0);
      expect(await db.collection(TXNS).countDocuments({})).toBe(0);
    } finally {
      await restarted.close();
    }
  });

  test('a reader meeting a committed transaction rolls it forward, whole', async () => {
    await stageOnly('t-read', 'other-host|1|x', Date.now(), version('r1', 1, 0, 'rr'), version('r2', 1, 0, 'rr'));
    await db.collection(TXNS).insertOne({ _id: 't-read' as never, state: 'committed', at: Date.now() });
    expect(await store.readCurrent('Basic', 'r1')).toMatchObject({ versionId: 1 });
    // Reading one resource completed the whole group: the other is searchable too.
    expect(await searchIds(store, 'rr')).toEqual(expect.arrayContaining(['r1@1', 'r2@1']));
  });
});
