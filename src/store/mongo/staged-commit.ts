import crypto from 'node:crypto';
import os from 'node:os';
import type { Collection } from 'mongodb';
import { checkDistinct, GroupConflict, UniqueConflict, VersionConflict, type VersionWrite } from '../port';
import { resourceKey, toVersionDoc, versionKey, type StagedTxn, type VersionDoc } from './documents';
import { isTransient } from './transient';
import type { UniqueKeys } from './unique-keys';
import { isDuplicateKey, type VersionLog } from './versions';

/** The decision of a staged transaction: inserting it is the commit point (or the abort). */
export interface TxnDoc {
  _id: string;
  state: 'committed' | 'aborted';
  at: number;
}

/** A transaction still uncommitted this long after it began staging is abandoned (rolled back by whoever meets it). */
export const STAGED_TIMEOUT_MS = 30_000;
/** Aborted decisions are kept this long, so a writer that outlived its timeout can never commit afterwards. */
const ABORTED_KEPT_MS = 24 * 3600_000;

/** Store instances of this process that may be staging right now (see {@link processGone}). */
const LIVE_INSTANCES = new Set<string>();

/**
 * All-or-nothing groups of writes (ResourceStore.writeAll) on a deployment
 * without multi-document transactions (FerretDB, a standalone mongod), in the
 * spirit of versions.ts:
 *
 * 1. Stage: each version is inserted into `versions` as usual (so it takes
 *    its compare-and-set slot: a concurrent writer of the resource conflicts)
 *    but marked `txn`; unique keys are claimed with the same mark. Every
 *    reader (readCurrent, readVersion, history) treats a marked version whose
 *    transaction has no decision as absent, and searches never see it: the
 *    current-resources documents are not touched yet. A conflict while
 *    staging aborts: staged versions and claims are undone.
 * 2. Commit point: insert of `{_id: txn, state: 'committed'}` into `txns`.
 *    Its unique `_id` makes it race-free against an abort, which is the
 *    insert of the same `_id` with state `aborted`: exactly one wins.
 * 3. Roll forward: current documents advanced (as for a single write), marks
 *    removed, keys a tombstone gave up released, then the decision removed.
 *    The group is acknowledged after this step. While it runs, a search may
 *    see part of the group for a moment (current documents move one by
 *    one); readCurrent, readVersion and history complete the roll-forward
 *    of a committed group before they answer.
 *
 * Whoever meets a marked version (a reader, a claimer, the start-up sweep)
 * settles it: committed, it rolls forward; aborted, or abandoned (its
 * process is gone, or older than {@link STAGED_TIMEOUT_MS}), it is aborted
 * and rolled back; otherwise it is in flight and stays invisible.
 * @see https://hl7.org/fhir/R4/http.html#trules
 */
export class StagedCommit {
  /** This store instance, as written in `txn.owner`. */
  readonly owner = `${os.hostname()}|${process.pid}|${crypto.randomUUID()}`;

  constructor(
    private readonly versions: Collection<VersionDoc>,
    private readonly txns: Collection<TxnDoc>,
    private readonly log: VersionLog,
    private readonly keys: UniqueKeys,
    private readonly timeoutMs = STAGED_TIMEOUT_MS,
  ) {
    LIVE_INSTANCES.add(this.owner);
    keys.settleTxn = (txn) => this.settle(txn).then(() => undefined);
  }

  /** The store is closing: its transactions (if any were left) count as abandoned. */
  retire(): void {
    LIVE_INSTANCES.delete(this.owner);
  }

  async writeAll(writes: readonly VersionWrite[]): Promise<void> {
    checkDistinct(writes);
    if (writes.length === 0) return;
    const txn: StagedTxn = { id: crypto.randomUUID(), at: Date.now(), owner: this.owner };
    const releasing = new Set(writes.filter((w) => w.deleted).map((w) => resourceKey(w.type, w.id)));
    const docs: VersionDoc[] = [];
    try {
      for (const [i, w] of writes.entries()) {
        docs.push(await this.stage(i, w, txn, releasing));
      }
    } catch (err) {
      await this.abort(txn.id);
      throw err;
    }
    try {
      await this.txns.insertOne({ _id: txn.id, state: 'committed', at: Date.now() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Somebody judged us abandoned and aborted first: nothing of the group stands.
      await this.rollBack(txn.id);
      throw new GroupConflict(0, new VersionConflict(writes[0].type, writes[0].id, 0));
    }
    await this.settleCommitted(txn.id, docs);
  }

  /**
   * Past the commit point the group is durable: rolling it forward is
   * follow-up work that must not turn it into a reported failure (as for
   * single writes in versions.ts). A few quick retries; if the database
   * still refuses, the marks stay and the next reader, claimer or start-up
   * sweep finishes it.
   */
  private async settleCommitted(txnId: string, docs: readonly VersionDoc[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.rollForward(txnId, docs);
        return;
      } catch (err) {
        if (!isTransient(err) || attempt >= 2) return;
        await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
      }
    }
  }

  /** One write staged (see the class comment); a conflict is a GroupConflict naming it. */
  private async stage(i: number, w: VersionWrite, txn: StagedTxn, releasing: ReadonlySet<string>): Promise<VersionDoc> {
    const conflict = async () => new GroupConflict(i, new VersionConflict(w.type, w.id, (await this.log.newest(w.type, w.id))?.v ?? 0));
    if (w.versionId <= w.expectedVersion) throw await conflict();
    if (w.expectedVersion > 0) {
      const base = await this.versions.findOne({ _id: { $eq: versionKey(w.type, w.id, w.expectedVersion) } }, { projection: { _id: 1, txn: 1 } });
      if (!base || base.txn) throw await conflict();
    }
    try {
      await this.keys.claim({ ...w, uniqueKeys: w.deleted ? [] : (w.uniqueKeys ?? []) }, { txn, releasing });
    } catch (err) {
      if (err instanceof UniqueConflict) throw new GroupConflict(i, err);
      throw err;
    }
    const doc: VersionDoc = { ...toVersionDoc(w), txn };
    try {
      await this.versions.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw await conflict();
      throw err;
    }
    return doc;
  }

  /**
   * What a reader makes of a marked version: the version itself when its
   * transaction committed (rolled forward now), null when it is not
   * (or not yet) part of the data.
   */
  async visible(doc: VersionDoc): Promise<VersionDoc | null> {
    if (!doc.txn) return doc;
    const state = await this.settle(doc.txn);
    if (state !== 'committed') return null;
    return this.versions.findOne({ _id: { $eq: doc._id } });
  }

  /**
   * Settles a transaction met through one of its marks: rolls it forward
   * when committed, back when aborted or abandoned. Returns its state;
   * `open` for one still in flight (left alone).
   */
  async settle(txn: StagedTxn): Promise<'committed' | 'aborted' | 'open'> {
    let decision = await this.txns.findOne({ _id: { $eq: txn.id } });
    if (!decision) {
      const marked = await this.versions.findOne({ 'txn.id': { $eq: txn.id } }, { projection: { _id: 1 } });
      const claims = await this.keys.stagedTxns();
      if (!marked && !claims.some((t) => t.id === txn.id)) {
        // Rolled forward and its decision removed since the mark was read.
        return 'committed';
      }
      if (!this.abandoned(txn)) return 'open';
      try {
        await this.txns.insertOne({ _id: txn.id, state: 'aborted', at: Date.now() });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      decision = await this.txns.findOne({ _id: { $eq: txn.id } });
    }
    if (decision?.state === 'committed') {
      await this.rollForward(txn.id, await this.versions.find({ 'txn.id': { $eq: txn.id } }).toArray());
      return 'committed';
    }
    await this.rollBack(txn.id);
    return 'aborted';
  }

  /**
   * Start-up (and history) sweep: every transaction a mark names is settled,
   * so committed groups are complete and abandoned ones gone. Returns how
   * many were settled (in flight ones are left alone).
   */
  async sweep(): Promise<number> {
    const txns = new Map<string, StagedTxn>();
    for (const d of await this.versions.find({ 'txn.id': { $exists: true } }, { projection: { txn: 1 } }).toArray()) {
      if (d.txn) txns.set(d.txn.id, d.txn);
    }
    for (const t of await this.keys.stagedTxns()) txns.set(t.id, t);
    let n = 0;
    for (const t of txns.values()) {
      if ((await this.settle(t)) !== 'open') n++;
    }
    await this.txns.deleteMany({ state: { $eq: 'aborted' }, at: { $lt: Date.now() - ABORTED_KEPT_MS } });
    return n;
  }

  /** True when a sweep of the history is needed: some version is marked (one indexed probe). */
  async anyStaged(): Promise<boolean> {
    return (await this.versions.findOne({ 'txn.id': { $exists: true } }, { projection: { _id: 1 } })) !== null;
  }

  private abandoned(txn: StagedTxn): boolean {
    return Date.now() - txn.at > this.timeoutMs || processGone(txn.owner);
  }

  /** Decides abort (unless decided already) and undoes the staging. */
  private async abort(txnId: string): Promise<void> {
    try {
      await this.txns.insertOne({ _id: txnId, state: 'aborted', at: Date.now() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    await this.rollBack(txnId);
  }

  /** Staged versions deleted and claims restored; the `aborted` decision stays (see ABORTED_KEPT_MS). */
  private async rollBack(txnId: string): Promise<void> {
    await this.versions.deleteMany({ 'txn.id': { $eq: txnId } });
    await this.keys.restore(txnId);
  }

  /** Idempotent: current documents forward, marks off, keys released, decision removed last. */
  private async rollForward(txnId: string, docs: readonly VersionDoc[]): Promise<void> {
    for (const doc of docs) {
      await this.log.rollForwardNow(doc);
    }
    await this.versions.updateMany({ 'txn.id': { $eq: txnId } }, { $unset: { txn: '' } });
    await this.keys.settled(txnId);
    for (const doc of docs) {
      if (doc.deleted || doc.uk !== undefined) await this.keys.release(resourceKey(doc.type, doc.id), doc.uk ?? []);
    }
    await this.txns.deleteOne({ _id: { $eq: txnId }, state: { $eq: 'committed' } });
  }
}

/**
 * Whether the process that staged a transaction is certainly gone: on this
 * host, its pid no longer runs, or it is this process and the store instance
 * is closed (a crash simulated by a test, or a store reopened). Other hosts
 * rely on the timeout.
 */
function processGone(owner: string): boolean {
  const [host, pidText] = owner.split('|');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid)) return false;
  if (pid === process.pid) return !LIVE_INSTANCES.has(owner);
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
