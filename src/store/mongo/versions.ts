import { MongoServerError, type Collection } from 'mongodb';
import { VersionConflict, type VersionWrite } from '../port';
import { toCurrentDoc, toVersionDoc, versionKey, type CurrentDoc, type VersionDoc } from './documents';
import { ChangeCounters, type CounterDoc } from './counters';
import { isTransient } from './transient';
import { UniqueKeys, type UniqueKeyDoc } from './unique-keys';

/**
 * The write protocol of the MongoDB adapter: compare-and-set without
 * multi-document transactions (FerretDB has none; on MongoDB this also keeps
 * a write to two single-document operations, each atomic on its own).
 *
 * 1. Commit point: insert the version document. Two unique indexes guard it:
 *    `_id` = `Type/id/versionId`, and (type, id, prev) where prev is the
 *    expected version, so every version has at most one successor and a
 *    resource at most one first version. The versions of a resource thus form
 *    one chain, and "version E exists and has no successor yet" is exactly
 *    "E is current". Of concurrent writers holding the same expected version,
 *    one insert succeeds; the others get a duplicate key: VersionConflict.
 * 2. Roll forward: replace the current-resources document if it holds an
 *    older version (`v < versionId`, an upsert for a new resource). The
 *    condition makes it idempotent and order-free: a slow writer can never
 *    move a resource back.
 * 3. Clear the version's `pending` field (it carries the index entries the
 *    roll-forward needs). Not awaited by the writer: it is only a marker.
 *
 * The write resolves after step 2, so an acknowledged version is visible to
 * searches. If the process dies between 1 and 2, the version is committed
 * (history and readCurrent show it, since they read the versions collection)
 * and still pending: the next reader or writer of the resource, or the
 * sweep at start-up ({@link VersionLog.recover}), rolls the current document
 * forward from it. Nothing wedges: the next writer conflicts once (its
 * expected version is no longer current), reads again and succeeds.
 * @see https://hl7.org/fhir/R4/http.html#concurrency
 */
export class VersionLog {
  private readonly cleanups = new Set<Promise<unknown>>();
  readonly uniqueKeys: UniqueKeys;
  /**
   * Decides what a version staged by a transaction Bundle is to readers
   * (staged-commit.ts): itself once committed, null before. Set by the store.
   */
  stagedVisible: (doc: VersionDoc) => Promise<VersionDoc | null> = async () => null;
  private readonly counters: ChangeCounters;

  constructor(
    private readonly versions: Collection<VersionDoc>,
    private readonly resources: Collection<CurrentDoc>,
    keys: Collection<UniqueKeyDoc>,
    counters: Collection<CounterDoc>,
  ) {
    this.uniqueKeys = new UniqueKeys(keys, (type, id) => this.newest(type, id));
    this.counters = new ChangeCounters(counters);
  }

  /** @see ResourceStore.changeMarker */
  marker(types: readonly string[]): Promise<string> {
    return this.counters.marker(types);
  }

  async write(w: VersionWrite): Promise<void> {
    if (w.versionId <= w.expectedVersion) {
      throw await this.conflict(w.type, w.id);
    }
    if (w.expectedVersion > 0) {
      // The unique (type, id, prev) index alone would accept a successor of a
      // version that never existed; the chain argument needs E to exist.
      const base = await this.versions.findOne(
        { _id: { $eq: versionKey(w.type, w.id, w.expectedVersion) } },
        { projection: { _id: 1 } },
      );
      if (!base) {
        throw await this.conflict(w.type, w.id);
      }
    }
    const doc = toVersionDoc(w);
    // Unique keys are claimed before the commit point (see unique-keys.ts).
    const claims = w.deleted ? [] : (w.uniqueKeys ?? []);
    await this.uniqueKeys.claim({ ...w, uniqueKeys: claims });
    try {
      // Driver retryable writes (replica sets) are deduplicated by the server
      // with the session's transaction number, so a retried insert that had
      // succeeded reports success, not a duplicate key.
      await this.versions.insertOne(doc);
    } catch (err) {
      await this.uniqueKeys.giveBack(`${w.type}/${w.id}`, w.versionId, claims).catch(() => undefined);
      if (isDuplicateKey(err)) {
        throw await this.conflict(w.type, w.id);
      }
      throw err;
    }
    await this.settleCommitted(doc, w.deleted || w.uniqueKeys !== undefined);
  }

  /**
   * The version is committed (its insert was the commit point): moving the
   * current document forward is follow-up work that must not turn a durable
   * write into a reported failure. A few quick retries; if the database still
   * refuses, the `pending` marker stays and the next read or write of the
   * resource (or the start-up sweep) finishes it.
   */
  private async settleCommitted(doc: VersionDoc, releaseKeys: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.rollForward(doc);
        if (releaseKeys) {
          // Keys an update dropped, or a delete: stale claims would be taken over anyway, this frees them now.
          await this.uniqueKeys.release(`${doc.type}/${doc.id}`, doc.uk ?? []);
        }
        return;
      } catch (err) {
        if (!isTransient(err) || attempt >= 2) {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
      }
    }
  }

  /**
   * The newest version of a resource (the current one, possibly a
   * tombstone), after rolling the current document forward to it if a
   * writer left it pending.
   */
  async newest(type: string, id: string): Promise<VersionDoc | null> {
    // The chain's last version has the greatest prev: the unique index answers.
    let doc = await this.versions.findOne({ type: { $eq: type }, id: { $eq: id } }, { sort: { prev: -1 } });
    // A staged version of a transaction not yet committed is not there: its predecessor is current.
    for (let hops = 0; doc?.txn && hops < 100; hops++) {
      const seen = await this.stagedVisible(doc);
      if (seen) {
        doc = seen;
        break;
      }
      doc = doc.prev > 0 ? await this.versions.findOne({ _id: { $eq: versionKey(type, id, doc.prev) } }) : null;
    }
    if (doc?.pending) {
      await this.rollForward(doc);
    }
    return doc;
  }

  /**
   * Rolls forward every version still marked pending: after a crash, the
   * current documents (what searches see) catch up with the versions
   * collection before the store serves requests. Idempotent, safe alongside
   * live writers in other processes.
   */
  async recover(): Promise<number> {
    let n = 0;
    // Versions of transactions are settled by their own sweep (staged-commit.ts), as a group.
    const cursor = this.versions.find({ 'pending.at': { $exists: true }, txn: { $exists: false } }).sort({ 'pending.at': 1 });
    for await (const doc of cursor) {
      await this.rollForward(doc, true);
      n++;
    }
    return n;
  }

  /** Waits for the marker clean-ups still in flight (before closing or dropping). */
  async settle(): Promise<void> {
    while (this.cleanups.size > 0) {
      await Promise.allSettled([...this.cleanups]);
    }
  }

  private async conflict(type: string, id: string): Promise<VersionConflict> {
    const cur = await this.newest(type, id);
    return new VersionConflict(type, id, cur?.v ?? 0);
  }

  /** Rolls a committed version forward and waits for its marker to go (transactions: staged-commit.ts). */
  rollForwardNow(doc: VersionDoc): Promise<void> {
    return this.rollForward(doc, true);
  }

  private async rollForward(doc: VersionDoc, awaitCleanup = false): Promise<void> {
    if (!doc.pending) {
      return;
    }
    await this.advance(toCurrentDoc(doc, doc.pending));
    // Before the marker goes: a crash here is redone by recovery, so no process misses the change.
    await this.counters.bump(doc.type);
    // Only once the current document holds this version (or a newer one) may
    // the marker go: readers trust a version without it to be rolled forward.
    const cleanup = this.versions.updateOne({ _id: { $eq: doc._id } }, { $unset: { pending: '' } });
    if (awaitCleanup) {
      await cleanup;
      return;
    }
    const tracked = cleanup.catch(() => undefined).finally(() => this.cleanups.delete(tracked));
    this.cleanups.add(tracked);
  }

  /** Moves the current document to `cur` unless it already holds that version or a newer one. */
  private async advance(cur: CurrentDoc): Promise<void> {
    const filter = { _id: { $eq: cur._id }, v: { $lt: cur.v } };
    try {
      await this.resources.replaceOne(filter, cur, { upsert: true });
    } catch (err) {
      if (!isDuplicateKey(err)) {
        throw err;
      }
      // The upsert found no document with an older version and tried to
      // insert: either the current document is already at or past this
      // version (nothing to do) or a concurrent upsert just created it with an
      // older one (replace it now: the document exists, no upsert needed).
      await this.resources.replaceOne(filter, cur);
    }
  }
}

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}
