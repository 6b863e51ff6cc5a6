import { MongoClient } from 'mongodb';
import type { CompositeCondition, EntryCondition } from '../../src/fhir/search/plan';
import type { ResourceStore } from '../../src/store/port';
import { addNumberRanges as upgradeMongo } from '../../src/store/mongo/number-ranges';
import type { MongoStore } from '../../src/store/mongo/mongo-store';
import { addNumberRanges as upgradeSqlite } from '../../src/store/sqlite/number-ranges';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store';
import { cmp, composite, entry, matchIds, num, qty, Seeder, tok } from './search-support';
import { STORES } from '../support/stores';

/**
 * A database written before number and quantity entries had `low` / `high`
 * (the implicit range of the value's text) gets them at start-up, computed
 * from the value's own text, so precision-range searches find old data.
 * @see https://hl7.org/fhir/R4/search.html#number
 */
describe.each(STORES)('number ranges added to an older database ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('Observation', 'o1', [qty('value-quantity', 1.5), num('probability', 0.12), composite('combo', tok('code', null, 'x'), qty('value', 72))]);
    await s.put('Observation', 'o2', [qty('value-quantity', 1.51)]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  /** Takes the ranges away as an older version of the store wrote them, then runs the upgrade. */
  async function makeOldAndUpgrade(): Promise<void> {
    if (fixture.name === 'sqlite') {
      const db = (store as SqliteStore).db;
      for (const t of ['ix_number', 'ix_quantity']) db.exec(`ALTER TABLE ${t} DROP COLUMN low; ALTER TABLE ${t} DROP COLUMN high;`);
      upgradeSqlite(db);
      upgradeSqlite(db); // once done, nothing more to do
      return;
    }
    const { url, dbName } = (store as MongoStore).options;
    const client = await new MongoClient(url).connect();
    try {
      const db = client.db(dbName);
      expect(await db.collection('migrations').countDocuments({ _id: 'number-ranges' as never })).toBe(1);
      const strip = (el: Record<string, unknown>) => {
        delete el.low;
        delete el.high;
        for (const [k, v] of Object.entries(el)) if (/^c\d+$/.test(k)) strip(v as Record<string, unknown>);
        return el;
      };
      for (const d of await db.collection('resources').find({}).toArray()) {
        await db.collection('resources').updateOne({ _id: d._id }, { $set: { idx: (d.idx as Record<string, unknown>[]).map(strip) } });
      }
      await db.collection('migrations').deleteMany({});
      // Two processes starting on the same database at once: both upgrade, neither fails.
      await Promise.all([upgradeMongo(db), upgradeMongo(db), upgradeMongo(db)]);
      expect(await db.collection('migrations').countDocuments({ _id: 'number-ranges' as never })).toBe(1);
    } finally {
      await client.close();
    }
  }

  test('eq on the ranges finds the old entries again, composites included', async () => {
    // 1.50 = [1.495, 1.505): the search range must contain the stored one.
    const within = (param: string, lo: number, hi: number) => entry('quantity', param, [[cmp('low', 'ge', lo), cmp('high', 'le', hi)]]);
    expect(await matchIds(store, 'Observation', [within('value-quantity', 1.45, 1.55)])).toEqual(['o1', 'o2']);
    await makeOldAndUpgrade();
    expect(await matchIds(store, 'Observation', [within('value-quantity', 1.45, 1.55)])).toEqual(['o1', 'o2']);
    expect(await matchIds(store, 'Observation', [within('value-quantity', 1.495, 1.505)])).toEqual([]);
    expect(await matchIds(store, 'Observation', [within('value-quantity', 1.505, 1.515)])).toEqual(['o2']);
    expect(await matchIds(store, 'Observation', [entry('number', 'probability', [[cmp('low', 'ge', 0.115), cmp('high', 'le', 0.125)]])])).toEqual(['o1']);
    const part = (e: EntryCondition) => ({ entryKind: e.entryKind, predicate: e.predicate });
    const combo: CompositeCondition = { kind: 'composite', param: 'combo', anyOf: [[part(entry('token', 'code', [[cmp('code', 'eq', 'x')]])), part(within('value', 71.5, 72.5))]] };
    expect(await matchIds(store, 'Observation', [combo])).toEqual(['o1']);
  });
});
