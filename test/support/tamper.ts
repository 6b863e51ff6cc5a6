import type { Db } from 'mongodb';
import type { ResourceStore } from '../../src/store/port';

/**
 * Rewrites a stored version's resource directly in MongoDB, behind the
 * server's back (the intruder of the tamper-evidence tests): both the
 * version document and the current-version document.
 */
export async function tamperMongoVersion(store: ResourceStore, type: string, id: string, resource: unknown): Promise<void> {
  const db = (store as unknown as { db: Db }).db;
  await db.collection('versions').updateMany({ type, id }, { $set: { res: resource } });
  await db.collection('resources').updateOne({ _id: `${type}/${id}` } as never, { $set: { res: resource } });
}
