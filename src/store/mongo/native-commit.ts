import { MongoServerError, type ClientSession, type Collection, type MongoClient } from 'mongodb';
import { checkDistinct, GroupConflict, UniqueConflict, VersionConflict, type VersionWrite } from '../port';
import { toCurrentDoc, toVersionDoc, resourceKey, type CurrentDoc, type VersionDoc } from './documents';
import type { CounterDoc } from './counters';
import type { UniqueKeyDoc } from './unique-keys';

/** A claim younger than this whose version is not committed belongs to a writer in flight (as in unique-keys.ts). */
const LEASE_MS = 30_000;

export interface NativeCollections {
  versions: Collection<VersionDoc>;
  resources: Collection<CurrentDoc>;
  keys: Collection<UniqueKeyDoc>;
  counters: Collection<CounterDoc>;
}

/**
 * All-or-nothing groups of writes (ResourceStore.writeAll) with MongoDB
 * multi-document transactions (replica sets, sharded clusters): every write
 * of the group is checked and applied (version, current document, unique
 * keys, change counter) inside one transaction, committed with majority
 * write concern, journaled. Concurrent single writes (versions.ts) insert
 * into the same unique (type, id, prev) slot, so either they or the
 * transaction conflict; a transient write conflict between transactions is
 * retried by the driver's withTransaction.
 *
 * Not exercised in CI (FerretDB has no transactions): written against the
 * driver's documented API, verified on a MongoDB replica set by hand.
 * @see https://www.mongodb.com/docs/manual/core/transactions/
 * @see https://hl7.org/fhir/R4/http.html#trules
 */
export class NativeCommit {
  constructor(
    private readonly client: MongoClient,
    private readonly c: NativeCollections,
  ) {}

  async writeAll(writes: readonly VersionWrite[]): Promise<void> {
    checkDistinct(writes);
    if (writes.length === 0) return;
    const session = this.client.startSession();
    try {
      await session.withTransaction(
        async () => {
          for (const [i, w] of writes.entries()) {
            await this.apply(session, i, w);
          }
        },
        { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority', journal: true } },
      );
    } finally {
      await session.endSession();
    }
  }

  private async apply(session: ClientSession, i: number, w: VersionWrite): Promise<void> {
    const { versions, resources, keys, counters } = this.c;
    const ref = resourceKey(w.type, w.id);
    const cur = await versions.findOne({ type: { $eq: w.type }, id: { $eq: w.id } }, { sort: { prev: -1 }, session });
    const actual = cur?.v ?? 0;
    if (actual !== w.expectedVersion || w.versionId <= actual) {
      throw new GroupConflict(i, new VersionConflict(w.type, w.id, actual));
    }
    const held = w.deleted ? [] : [...(w.uniqueKeys ?? [])];
    for (const key of held) {
      const holder = await keys.findOne({ _id: { $eq: key } }, { session });
      if (holder && holder.ref !== ref && (await this.live(session, holder, key))) {
        throw new GroupConflict(i, new UniqueConflict(key, holder.ref));
      }
      await keys.replaceOne({ _id: { $eq: key } }, { ref, v: w.versionId, at: Date.now() }, { upsert: true, session });
    }
    // Earlier writes of the group (a delete) are visible here: a key they gave up is free.
    await keys.deleteMany({ ref: { $eq: ref }, _id: { $nin: held } }, { session });
    const doc = toVersionDoc(w);
    const index = doc.pending ?? { idx: [], sort: {} };
    delete doc.pending; // committed and current in the same transaction: nothing to roll forward
    try {
      await versions.insertOne(doc, { session });
    } catch (err) {
      if (err instanceof MongoServerError && err.code === 11000) throw new GroupConflict(i, new VersionConflict(w.type, w.id, actual));
      throw err;
    }
    await resources.replaceOne({ _id: { $eq: ref } }, toCurrentDoc(doc, index), { upsert: true, session });
    await counters.updateOne({ _id: { $eq: w.type } }, { $inc: { n: 1 } }, { upsert: true, session });
  }

  private async live(session: ClientSession, holder: UniqueKeyDoc, key: string): Promise<boolean> {
    const slash = holder.ref.indexOf('/');
    const newest = await this.c.versions.findOne(
      { type: { $eq: holder.ref.slice(0, slash) }, id: { $eq: holder.ref.slice(slash + 1) } },
      { sort: { prev: -1 }, session },
    );
    if (newest && newest.v >= holder.v) return !newest.deleted && (newest.uk ?? []).includes(key);
    return Date.now() - holder.at < LEASE_MS;
  }
}
