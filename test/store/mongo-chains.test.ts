import crypto from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { linkKey, type ChainDoc, type ChainLinkDoc } from '../../src/store/mongo/chains';
import { toVersionDoc, type CurrentDoc, type VersionDoc } from '../../src/store/mongo/documents';
import { CHAIN_LINKS, CHAINS, RESOURCES, VERSIONS } from '../../src/store/mongo/indexes';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import type { ChainHead } from '../../src/store/port';
import { allLinks, chained, chainProblem, linkHash, recordJson } from './chain-support';
import { plan, refIs } from './search-support';

/**
 * MongoDB adapter specifics of the hash chains (src/store/mongo/chains.ts):
 * what is stored, and the roll-forward of a link whose writer died after
 * its commit point (the insert of the link document) and before the record
 * was materialized. Runs against the server in MONGODB_URL (FerretDB in CI);
 * skipped without it.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
const URL = process.env.MONGODB_URL;
const describeMongo = URL ? describe : describe.skip;

describeMongo('mongo adapter: hash chain storage and interrupted appends', () => {
  let dbName: string;
  let store: MongoStore;
  let client: MongoClient;
  let db: Db;

  beforeEach(async () => {
    dbName = `test_${crypto.randomBytes(6).toString('hex')}`;
    store = new MongoStore({ url: URL as string, dbName });
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

  const links = () => db.collection<ChainLinkDoc>(CHAIN_LINKS);
  const version = (id: string) => db.collection<VersionDoc>(VERSIONS).findOne({ _id: `AuditEvent/${id}/1` });
  const searchIds = async (s: MongoStore, chain: string) =>
    (await s.search(plan('AuditEvent', [refIs('patient', chain)]))).matches.map((m) => m.id).sort();

  /**
   * What an appender that died right after its commit point leaves: the link
   * document, sealed over `head`, with its record pending; nothing else.
   */
  async function commitOnly(chain: string, id: string, head: ChainHead | undefined): Promise<{ seq: number; hash: string; json: string }> {
    const w = chained(chain, id);
    const json = recordJson(id, w.lastUpdated, head);
    const hash = linkHash(head, json);
    const seq = (head?.seq ?? 0) + 1;
    const v = toVersionDoc({ type: 'AuditEvent', id, versionId: 1, expectedVersion: 0, lastUpdated: w.lastUpdated, method: 'POST', deleted: false, json, index: w.index });
    await links().insertOne({ _id: linkKey(chain, seq), chain, seq, hash, version: v._id, pending: { at: Date.now(), version: v } });
    return { seq, hash, json };
  }

  /** Nothing of the record is visible yet, only its committed link. */
  async function expectUnmaterialized(chain: string, id: string): Promise<void> {
    expect(await version(id)).toBeNull();
    expect(await searchIds(store, chain)).not.toContain(id);
  }

  /** The link is materialized: record readable and searchable, pending cleared. */
  async function expectMaterialized(s: MongoStore, chain: string, id: string, seq: number): Promise<void> {
    expect(await s.readCurrent('AuditEvent', id)).toMatchObject({ versionId: 1, method: 'POST', deleted: false });
    expect(await searchIds(s, chain)).toContain(id);
    expect((await links().findOne({ _id: linkKey(chain, seq) }))?.pending).toBeUndefined();
    expect(await s.listChains(undefined, 100)).toContain(chain);
  }

  test('links, records and the chain directory as stored; nothing left pending', async () => {
    const w = chained('Patient/s', 's1');
    await store.appendChained([w, chained('Patient/s', 's2')]);
    await store.close(); // waits for the version's pending-marker clean-up
    const l = await links().findOne({ _id: 'Patient/s#1' });
    expect(l).toEqual({ _id: 'Patient/s#1', chain: 'Patient/s', seq: 1, hash: w.sealed?.hash, version: 'AuditEvent/s1/1' });
    expect(await db.collection<ChainDoc>(CHAINS).findOne({ _id: 'Patient/s' })).toEqual({ _id: 'Patient/s', seq: 2 });
    const v = await version('s1');
    expect(v).toMatchObject({ v: 1, prev: 0, method: 'POST', deleted: false, res: JSON.parse(w.sealed?.json as string) });
    expect(v?.pending).toBeUndefined();
    const cur = await db.collection<CurrentDoc>(RESOURCES).findOne({ _id: 'AuditEvent/s1' });
    expect(cur?.idx).toEqual(expect.arrayContaining([expect.objectContaining({ p: 'patient', k: 'reference', ref: 'Patient/s' })]));
    await store.init();
  });

  test('the next append materializes a link whose writer died after committing it, and seals over it', async () => {
    await store.appendChained([chained('Patient/n', 'n1')]);
    await store.appendChained([chained('Patient/n', 'n2')]);
    const l3 = await commitOnly('Patient/n', 'n3', await store.chainHead('Patient/n'));
    await expectUnmaterialized('Patient/n', 'n3');
    // This store still believes the head is seq 2: its insert of seq 3 loses, it reads on.
    const w4 = chained('Patient/n', 'n4');
    await store.appendChained([w4]);
    expect(w4.calls.at(-1)).toEqual({ seq: 3, hash: l3.hash });
    await expectMaterialized(store, 'Patient/n', 'n3', 3);
    const all = await allLinks(store, 'Patient/n');
    expect(chainProblem(all)).toBeUndefined();
    expect(all.map((l) => l.record.id)).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(all[2].record.json).toBe(l3.json);
  });

  test('a first link committed only is materialized by chainLinks', async () => {
    const l1 = await commitOnly('Patient/c', 'c1', undefined);
    await expectUnmaterialized('Patient/c', 'c1');
    expect(await store.listChains(undefined, 10)).toEqual([]);
    const got = await store.chainLinks('Patient/c', 0, 10);
    expect(got.map((l) => [l.seq, l.hash, l.record.json])).toEqual([[1, l1.hash, l1.json]]);
    await expectMaterialized(store, 'Patient/c', 'c1', 1);
  });

  test('a link committed only is materialized by chainHead', async () => {
    await store.appendChained([chained('Patient/h', 'h1')]);
    const l2 = await commitOnly('Patient/h', 'h2', await store.chainHead('Patient/h'));
    await expectUnmaterialized('Patient/h', 'h2');
    expect(await store.chainHead('Patient/h')).toEqual({ seq: 2, hash: l2.hash });
    await expectMaterialized(store, 'Patient/h', 'h2', 2);
  });

  test('init() materializes every link a crash left pending', async () => {
    await store.appendChained([chained('Patient/i', 'i1')]);
    const i2 = await commitOnly('Patient/i', 'i2', await store.chainHead('Patient/i'));
    const j1 = await commitOnly('Patient/j', 'j1', undefined);
    await expectUnmaterialized('Patient/i', 'i2');
    const restarted = new MongoStore({ url: URL as string, dbName });
    await restarted.init();
    try {
      expect(await links().countDocuments({ 'pending.at': { $exists: true } })).toBe(0);
      expect(await version('i2')).toMatchObject({ v: 1 });
      expect(await version('j1')).toMatchObject({ v: 1 });
      await expectMaterialized(restarted, 'Patient/i', 'i2', 2);
      await expectMaterialized(restarted, 'Patient/j', 'j1', 1);
      expect(await restarted.chainHead('Patient/i')).toEqual({ seq: 2, hash: i2.hash });
      expect(await restarted.chainHead('Patient/j')).toEqual({ seq: 1, hash: j1.hash });
      expect(chainProblem(await allLinks(restarted, 'Patient/i'))).toBeUndefined();
    } finally {
      await restarted.close();
    }
  });

  test('a materialization interrupted half-way (version in, link still pending) is finished once, without duplicates', async () => {
    await store.appendChained([chained('Patient/m', 'm1')]);
    const m2 = await commitOnly('Patient/m', 'm2', await store.chainHead('Patient/m'));
    const pending = (await links().findOne({ _id: linkKey('Patient/m', 2) }))?.pending;
    // The version document went in (itself still pending), nothing after it.
    await db.collection<VersionDoc>(VERSIONS).insertOne(pending?.version as VersionDoc);
    expect(await searchIds(store, 'Patient/m')).toEqual(['m1']);
    await Promise.all([store.chainLinks('Patient/m', 0, 10), store.chainHead('Patient/m'), store.appendChained([chained('Patient/m', 'm3')])]);
    await expectMaterialized(store, 'Patient/m', 'm2', 2);
    expect(await db.collection(VERSIONS).countDocuments({ type: 'AuditEvent', id: 'm2' })).toBe(1);
    const all = await allLinks(store, 'Patient/m');
    expect(chainProblem(all)).toBeUndefined();
    expect(all.map((l) => l.hash)).toContain(m2.hash);
    expect(all.length).toBe(3);
  });
});
