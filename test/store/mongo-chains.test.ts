import crypto from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { linkKey, type ChainDoc, type ChainLinkDoc } from '../../src/store/mongo/chains';
import { CHAIN_LINKS, CHAINS } from '../../src/store/mongo/indexes';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import { allLinks, chained, chainProblem, idOf, linkHash, recordJson } from './chain-support';

/**
 * MongoDB adapter specifics of the hash chains (src/store/mongo/chains.ts):
 * what is stored (one link document per record, its insert the commit
 * point), a link another process inserted being found by the next append
 * (a duplicate key, then the new head), and a stale head hint. Runs against
 * the server in MONGODB_URL (FerretDB in CI); skipped without it.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
const URL = process.env.MONGODB_URL;
const describeMongo = URL ? describe : describe.skip;

describeMongo('mongo adapter: hash chain storage', () => {
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

  test('one link document per record, with the record as sealed; the chain is listed', async () => {
    const w = chained('Patient/s', 's1');
    await store.appendChained([w, chained('Patient/s', 's2')]);
    const doc = await links().findOne({ _id: linkKey('Patient/s', 1) });
    expect(doc).toMatchObject({ chain: 'Patient/s', seq: 1, hash: w.sealed?.hash, json: w.sealed?.json });
    expect(await links().countDocuments({ chain: 'Patient/s' })).toBe(2);
    expect(await db.collection<ChainDoc>(CHAINS).findOne({ _id: 'Patient/s' })).not.toBeNull();
    expect(await store.listChains(undefined, 10)).toEqual(['Patient/s']);
  });

  test('a link inserted by another writer is found by the next append, which seals over it', async () => {
    await store.appendChained([chained('Patient/n', 'n1')]);
    const [first] = await allLinks(store, 'Patient/n');
    // Another process appends link 2 behind this store's back (this store still believes the head is link 1).
    const json = recordJson('n2', { seq: 1, hash: first.hash });
    const hash = linkHash({ seq: 1, hash: first.hash }, json);
    await links().insertOne({ _id: linkKey('Patient/n', 2), chain: 'Patient/n', seq: 2, hash, json });
    const w3 = chained('Patient/n', 'n3');
    await store.appendChained([w3]);
    expect(w3.calls).toEqual([{ seq: 1, hash: first.hash }, { seq: 2, hash }]);
    const all = await allLinks(store, 'Patient/n');
    expect(chainProblem(all)).toBeUndefined();
    expect(all.map(idOf)).toEqual(['n1', 'n2', 'n3']);
  });

  test('a stale head hint (behind the links) still finds the head', async () => {
    for (let i = 1; i <= 20; i++) await store.appendChained([chained('Patient/h', `h${i}`)]);
    await db.collection<ChainDoc>(CHAINS).updateOne({ _id: 'Patient/h' }, { $set: { seq: 3 } });
    const fresh = new MongoStore({ url: URL as string, dbName });
    await fresh.init();
    try {
      expect((await fresh.chainHead('Patient/h'))?.seq).toBe(20);
      const w = chained('Patient/h', 'h21');
      await fresh.appendChained([w]);
      expect(w.calls.at(-1)?.seq).toBe(20);
      expect(chainProblem(await allLinks(fresh, 'Patient/h'))).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });
});
