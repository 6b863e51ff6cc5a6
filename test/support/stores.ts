import crypto from 'node:crypto';
import type { ResourceStore } from '../../src/store/port';
import { MongoStore } from '../../src/store/mongo/mongo-store';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store';

/** A fresh, empty store of one adapter, and how to throw it away. */
export interface StoreFixture {
  name: 'sqlite' | 'mongo';
  open(): Promise<ResourceStore>;
  /** Closes the store and deletes its data. */
  dispose(store: ResourceStore): Promise<void>;
}

const sqlite: StoreFixture = {
  name: 'sqlite',
  async open() {
    const store = new SqliteStore({ dataDir: '', fileName: ':memory:' });
    await store.init();
    return store;
  },
  async dispose(store) {
    await store.close();
  },
};

const mongo: StoreFixture = {
  name: 'mongo',
  async open() {
    const url = process.env.MONGODB_URL as string;
    // One database per store: test files run in parallel and never see each other's data.
    const store = new MongoStore({ url, dbName: `test_${crypto.randomBytes(6).toString('hex')}` });
    await store.init();
    return store;
  },
  async dispose(store) {
    await (store as MongoStore).dropDatabase();
    await store.close();
  },
};

/**
 * The adapters every conformance test runs against: SQLite always, MongoDB
 * when MONGODB_URL is set (.ci/run sets it, pointing at FerretDB).
 */
export const STORES: StoreFixture[] = process.env.MONGODB_URL ? [sqlite, mongo] : [sqlite];
