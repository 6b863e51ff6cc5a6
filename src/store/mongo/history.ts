import type { Collection, Filter } from 'mongodb';
import { historyPage, type HistoryPage, type HistoryQuery } from '../port';
import { RECORD_PROJECTION, toRecord, type VersionDoc } from './documents';

/**
 * History over the versions collection, ordered by `hkey` (port.ts
 * historyKey) newest first, with keyset paging on it: a cursor names a key,
 * not an offset, so concurrent writes never shift a page.
 * @see https://hl7.org/fhir/R4/http.html#history
 */
export async function readHistory(versions: Collection<VersionDoc>, q: HistoryQuery, visible?: readonly string[]): Promise<HistoryPage> {
  for (const v of [q.type, q.id, q.since, q.cursor?.key]) {
    // Values are data: an object here would be read as a query operator.
    if (v !== undefined && typeof v !== 'string') {
      throw new Error('History query values must be strings');
    }
  }
  // Versions staged by a transaction in flight are not history yet (staged-commit.ts).
  const base: Filter<VersionDoc> = { txn: { $exists: false } };
  if (q.type !== undefined) {
    base.type = { $eq: q.type };
  }
  if (q.id !== undefined) {
    base.id = { $eq: q.id };
  }
  if (visible !== undefined) {
    // Versions of the resources the caller may see now (HistoryQuery.where), by type then id.
    const byType = new Map<string, string[]>();
    for (const ref of visible) {
      const slash = ref.indexOf('/');
      byType.set(ref.slice(0, slash), [...(byType.get(ref.slice(0, slash)) ?? []), ref.slice(slash + 1)]);
    }
    if (byType.size === 0) {
      return historyPage([], q, 0);
    }
    base.$or = [...byType].map(([type, ids]) => ({ type: { $eq: type }, id: { $in: ids } }));
  }
  if (q.since !== undefined) {
    // hkey starts with lastUpdated: the same comparison as the SQLite adapter's.
    base.hkey = { $gte: q.since };
  }
  const total = await versions.countDocuments(base);

  const newer = q.cursor?.direction === 'newer';
  const page: Filter<VersionDoc> = { ...base };
  if (q.cursor) {
    const bound = newer ? { $gt: q.cursor.key } : { $lt: q.cursor.key };
    page.hkey = q.since !== undefined ? { $gte: q.since, ...bound } : bound;
  }
  const docs = await versions
    .find(page, { projection: RECORD_PROJECTION })
    .sort({ hkey: newer ? 1 : -1 })
    .limit(q.count + 1)
    .toArray();
  return historyPage(docs.map(toRecord), q, total);
}
