import crypto from 'node:crypto';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { UniqueConflict, type VersionWrite } from '../../src/store/port';
import type { VersionDoc } from '../../src/store/mongo/documents';
import { UniqueKeys, type UniqueKeyDoc } from '../../src/store/mongo/unique-keys';

/** The MongoDB unique-key protocol's crash cases, against a real server (FerretDB in CI). */
describe('MongoDB unique keys: stale claims', () => {
  let client: MongoClient;
  let db: Db;
  let keys: Collection<UniqueKeyDoc>;
  let now = 1_000_000;
  const newest = new Map<string, VersionDoc>();
  let uk: UniqueKeys;

  beforeAll(async () => {
    client = await new MongoClient(process.env.MONGODB_URL as string).connect();
    db = client.db(`test_${crypto.randomBytes(6).toString('hex')}`);
    keys = db.collection<UniqueKeyDoc>('unique_keys');
    uk = new UniqueKeys(keys, async (type, id) => newest.get(`${type}/${id}`) ?? null, () => now);
  });
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  const w = (id: string, key: string): VersionWrite =>
    ({ type: 'Patient', id, versionId: 1, expectedVersion: 0, uniqueKeys: [key] }) as unknown as VersionWrite;

  test('a claim whose version never got committed blocks others for the lease only', async () => {
    await uk.claim(w('ghost', 'K1')); // its writer dies before committing a version
    now += 1_000;
    await expect(uk.claim(w('p2', 'K1'))).rejects.toBeInstanceOf(UniqueConflict);
    now += 30_000;
    await uk.claim(w('p2', 'K1'));
    expect((await keys.findOne({ _id: 'K1' }))?.ref).toBe('Patient/p2');
  });

  test('a committed holder keeps its key; once its newest version drops it, the claim is stale', async () => {
    await uk.claim(w('holder', 'K2'));
    newest.set('Patient/holder', { v: 1, deleted: false, uk: ['K2'] } as VersionDoc);
    now += 60_000;
    await expect(uk.claim(w('p3', 'K2'))).rejects.toMatchObject({ holder: 'Patient/holder' });
    newest.set('Patient/holder', { v: 2, deleted: false, uk: [] } as unknown as VersionDoc); // an update without the INS, release not yet done
    await uk.claim(w('p3', 'K2'));
    expect((await keys.findOne({ _id: 'K2' }))?.ref).toBe('Patient/p3');
  });
});
