import crypto from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import type { IndexEntry } from '../../src/fhir/search/index-entry';
import { toVersionDoc, type CurrentDoc, type VersionDoc } from '../../src/store/mongo/documents';
import { RESOURCES, VERSIONS } from '../../src/store/mongo/indexes';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import { VersionConflict, type VersionWrite } from '../../src/store/port';

/**
 * MongoDB adapter specifics of the write protocol (src/store/mongo/versions.ts):
 * what is stored, and recovery from a write interrupted between its commit
 * point (the version insert) and the roll-forward of the current document.
 * Runs against the server in MONGODB_URL (FerretDB in CI).
 */
/** Set by .ci/run; jest.config.js leaves this file out when it is not. */
const URL = process.env.MONGODB_URL as string;

const tok = (code: string): IndexEntry => ({ kind: 'token', param: 'code', system: 'urn:s', code, text: null });
const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + s * 1000).toISOString();

function version(id: string, versionId: number, expectedVersion: number, code: string): VersionWrite {
  const lastUpdated = at(versionId);
  return {
    type: 'Basic',
    id,
    versionId,
    expectedVersion,
    lastUpdated,
    method: versionId === 1 ? 'POST' : 'PUT',
    deleted: false,
    json: JSON.stringify({ resourceType: 'Basic', id, meta: { versionId: String(versionId), lastUpdated }, code: { text: code } }),
    index: [tok(code)],
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

describe('mongo adapter: storage and interrupted writes', () => {
  let dbName: string;
  let store: MongoStore;
  let client: MongoClient;
  let db: Db;

  beforeEach(async () => {
    dbName = `test_${crypto.randomBytes(6).toString('hex')}`;
    store = new MongoStore({ url: URL, dbName });
    await store.init();
    client = new MongoClient(URL);
    await client.connect();
    db = client.db(dbName);
  });
  afterEach(async () => {
    await store.dropDatabase();
    await store.close();
    await client.close();
  });

  const current = (id: string) => db.collection<CurrentDoc>(RESOURCES).findOne({ _id: `Basic/${id}` });
  /** Simulates a writer that died right after its commit point: the version is in, nothing else happened. */
  const commitOnly = (w: VersionWrite) => db.collection<VersionDoc>(VERSIONS).insertOne(toVersionDoc(w));
  const searchIds = async (s: MongoStore, code: string) => (await s.search(codeSearch(code))).matches.map((m) => `${m.id}@${m.versionId}`);

  test('resources are stored as BSON documents, with index entries and sort values on the current document', async () => {
    await store.write(version('b1', 1, 0, 'alpha'));
    await store.close(); // waits for the pending-marker clean-up
    const v = await db.collection<VersionDoc>(VERSIONS).findOne({ _id: 'Basic/b1/1' });
    expect(v?.res).toEqual({ resourceType: 'Basic', id: 'b1', meta: { versionId: '1', lastUpdated: at(1) }, code: { text: 'alpha' } });
    expect(v?.pending).toBeUndefined();
    const cur = await current('b1');
    expect(cur).toMatchObject({ v: 1, deleted: false, res: { resourceType: 'Basic', code: { text: 'alpha' } } });
    expect(cur?.idx).toEqual([{ p: 'code', k: 'token', system: 'urn:s', code: 'alpha', text: null }]);
    expect(cur?.sort).toEqual({ code: { lo: 'alpha', hi: 'alpha' } });
    await store.init();
  });

  test('a reader rolls forward a version whose writer died after committing it', async () => {
    await store.write(version('b1', 1, 0, 'alpha'));
    await commitOnly(version('b1', 2, 1, 'beta'));
    expect((await current('b1'))?.v).toBe(1);
    expect(await searchIds(store, 'beta')).toEqual([]);

    const read = await store.readCurrent('Basic', 'b1');
    expect(read).toMatchObject({ versionId: 2 });
    expect(JSON.parse(read?.json as string).code.text).toBe('beta');
    expect((await current('b1'))?.v).toBe(2);
    expect(await searchIds(store, 'beta')).toEqual(['b1@2']);
    expect(await searchIds(store, 'alpha')).toEqual([]);
  });

  test('a writer holding the pre-crash version conflicts once, then the resource accepts writes again', async () => {
    await store.write(version('b1', 1, 0, 'alpha'));
    await commitOnly(version('b1', 2, 1, 'beta'));

    const err = await store.write(version('b1', 2, 1, 'gamma')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VersionConflict);
    expect((err as VersionConflict).actualVersion).toBe(2);
    // The conflict rolled the current document forward before answering.
    expect(await searchIds(store, 'beta')).toEqual(['b1@2']);

    await store.write(version('b1', 3, 2, 'gamma'));
    expect(await store.readCurrent('Basic', 'b1')).toMatchObject({ versionId: 3 });
    expect(await searchIds(store, 'gamma')).toEqual(['b1@3']);
    const hist = await store.history({ type: 'Basic', id: 'b1', count: 10 });
    expect(hist.entries.map((e) => e.versionId)).toEqual([3, 2, 1]);
  });

  test('init() rolls forward every version a crash left pending, and never moves a resource back', async () => {
    await store.write(version('b1', 1, 0, 'alpha'));
    await commitOnly(version('b1', 2, 1, 'beta'));
    await commitOnly(version('b1', 3, 2, 'gamma'));
    await commitOnly(version('b2', 1, 0, 'delta'));

    const restarted = new MongoStore({ url: URL, dbName });
    await restarted.init();
    try {
      expect(await searchIds(restarted, 'gamma')).toEqual(['b1@3']);
      expect(await searchIds(restarted, 'beta')).toEqual([]);
      expect(await searchIds(restarted, 'delta')).toEqual(['b2@1']);
      expect(await db.collection(VERSIONS).countDocuments({ 'pending.at': { $exists: true } })).toBe(0);
      expect((await current('b1'))?.v).toBe(3);
    } finally {
      await restarted.close();
    }
  });

  test('a write over a version that never existed conflicts and stores nothing', async () => {
    await store.write(version('b1', 1, 0, 'alpha'));
    const err = await store.write(version('b1', 6, 5, 'beta')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VersionConflict);
    expect((err as VersionConflict).actualVersion).toBe(1);
    expect(await db.collection(VERSIONS).countDocuments({ type: 'Basic', id: 'b1' })).toBe(1);
  });

  test('writers in two processes (two clients) holding the same version: exactly one wins', async () => {
    const other = new MongoStore({ url: URL, dbName });
    await other.init();
    try {
      await store.write(version('b1', 1, 0, 'alpha'));
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? other : store).write(version('b1', 2, 1, `c${i}`))),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionConflict);
      }
      expect(await searchIds(store, `c${won[0]}`)).toEqual(['b1@2']);
      expect(JSON.parse((await other.readCurrent('Basic', 'b1'))?.json as string).code.text).toBe(`c${won[0]}`);
    } finally {
      await other.close();
    }
  });
});
