import type { Config } from '../config';
import { MongoStore } from './mongo/mongo-store';
import type { ResourceStore } from './port';
import { SqliteStore } from './sqlite/sqlite-store';

export type { ResourceStore } from './port';

/**
 * Opens the configured store: MongoDB when MONGODB_URL is set, the embedded
 * SQLite file in DATA_DIR otherwise. Tables, collections and indexes are
 * created before this resolves.
 */
export async function openStore(config: Pick<Config, 'mongodbUrl' | 'mongodbDb' | 'dataDir'>): Promise<ResourceStore> {
  const store: ResourceStore = config.mongodbUrl
    ? new MongoStore({ url: config.mongodbUrl, dbName: config.mongodbDb })
    : new SqliteStore({ dataDir: config.dataDir });
  await store.init();
  return store;
}
