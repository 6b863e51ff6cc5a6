import type { Db } from 'mongodb';
import type { ResourceStore } from '../../src/store/port';

/**
 * Rewrites an audit chain link's record directly in MongoDB, behind the
 * server's back (the intruder of the tamper-evidence tests).
 */
export async function tamperMongoLink(store: ResourceStore, chain: string, seq: number, record: unknown): Promise<void> {
  const db = (store as unknown as { db: Db }).db;
  const res = await db.collection('chain_links').updateOne({ chain, seq }, { $set: { json: JSON.stringify(record) } });
  if (res.matchedCount !== 1) throw new Error(`no link ${chain}#${seq}`);
}
