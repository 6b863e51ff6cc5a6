import { MongoServerError, type Collection } from 'mongodb';
import { UniqueConflict, type VersionWrite } from '../port';
import { resourceKey, type StagedTxn, type VersionDoc } from './documents';


/** A claim on a unique key: `_id` = the key, `ref` = `Type/id` of its holder, `v` = the version that claimed it. */
export interface UniqueKeyDoc {
  _id: string;
  ref: string;
  v: number;
  /** When it was claimed (epoch ms). */
  at: number;
  /** Set while a staged transaction holds the claim (staged-commit.ts). */
  txn?: StagedTxn;
  /** The claim this transaction took over, restored if the transaction rolls back. */
  was?: { ref: string; v: number; at: number };
}

/** How a transaction claims keys: which transaction, and the resources it deletes (their keys are free to it). */
export interface TxnClaim {
  txn: StagedTxn;
  releasing: ReadonlySet<string>;
}

export const UNIQUE_KEYS = 'unique_keys';

/**
 * A claim whose version never got committed (its writer died or lost its
 * race) is taken over after this long; a live writer commits in milliseconds.
 */
const LEASE_MS = 30_000;
const MAX_ATTEMPTS = 5;

/**
 * Unique keys (VersionWrite.uniqueKeys) without multi-document transactions.
 * The unique `_id` of `unique_keys` makes one claim per key win. A claim is
 * live while its holder's newest version holds the key (`uk` on the version
 * document), or while it is younger than the lease and its version is not
 * committed yet. A stale claim is taken over by compare-and-set on
 * (ref, v). A writer claims its keys before its version's commit point and
 * releases the keys it no longer holds after it; a crash in between leaves
 * claims that become stale, never a key blocked for good.
 */
export class UniqueKeys {
  constructor(
    private readonly keys: Collection<UniqueKeyDoc>,
    private readonly newest: (type: string, id: string) => Promise<VersionDoc | null>,
    private readonly now: () => number = Date.now,
    /** Settles the staged transaction holding a claim (rolled forward or back when it can be); set by the store. */
    public settleTxn: (txn: StagedTxn) => Promise<void> = async () => undefined,
  ) {}

  /**
   * Claims every key of the write, or throws UniqueConflict (claims already
   * made are given back). Within a transaction (`tx`), the claims carry its
   * id and what they took over: the transaction's roll-back restores them.
   */
  async claim(w: VersionWrite, tx?: TxnClaim): Promise<void> {
    const ref = resourceKey(w.type, w.id);
    const claimed: string[] = [];
    try {
      for (const key of w.uniqueKeys ?? []) {
        await this.claimOne(key, ref, w.versionId, tx);
        claimed.push(key);
      }
    } catch (err) {
      if (!tx) await this.giveBack(ref, w.versionId, claimed);
      throw err;
    }
  }

  /** A transaction rolled back: its claims go back to what they were before it (or away). */
  async restore(txnId: string): Promise<void> {
    for (const c of await this.keys.find({ 'txn.id': { $eq: txnId } }).toArray()) {
      if (c.was) {
        await this.keys.replaceOne({ _id: { $eq: c._id }, 'txn.id': { $eq: txnId } }, { ...c.was });
      } else {
        await this.keys.deleteOne({ _id: { $eq: c._id }, 'txn.id': { $eq: txnId } });
      }
    }
  }

  /** A transaction is committed: its claims are plain claims now. */
  async settled(txnId: string): Promise<void> {
    await this.keys.updateMany({ 'txn.id': { $eq: txnId } }, { $unset: { txn: '' as const, was: '' as const } });
  }

  /** Transactions holding claims (the start-up sweep settles those no staged version names). */
  async stagedTxns(): Promise<StagedTxn[]> {
    const docs = await this.keys.find({ txn: { $exists: true } }, { projection: { txn: 1 } }).toArray();
    return docs.map((d) => d.txn as StagedTxn);
  }

  /** After a failed write: the claims this version made go back. */
  async giveBack(ref: string, v: number, keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.keys.deleteMany({ _id: { $in: [...keys] }, ref: { $eq: ref }, v: { $eq: v } });
  }

  /** After a committed write: the resource keeps only the keys its new version holds. */
  async release(ref: string, keep: readonly string[]): Promise<void> {
    await this.keys.deleteMany({ ref: { $eq: ref }, _id: { $nin: [...keep] } });
  }

  private async claimOne(key: string, ref: string, v: number, tx?: TxnClaim): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await this.keys.insertOne({ _id: key, ref, v, at: this.now(), ...(tx ? { txn: tx.txn } : {}) });
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      let holder = await this.keys.findOne({ _id: { $eq: key } });
      if (holder?.txn && holder.txn.id !== tx?.txn.id) {
        // Another transaction's claim: finish or undo that transaction if it is over, then look again.
        await this.settleTxn(holder.txn);
        holder = await this.keys.findOne({ _id: { $eq: key } });
      }
      if (!holder) continue; // released meanwhile: try again
      // A resource this transaction deletes gives its keys up to it (restored if the transaction rolls back).
      const freed = tx?.releasing.has(holder.ref) === true;
      // A claim of a transaction still in flight is live whatever it names.
      const foreignTxn = holder.txn !== undefined && holder.txn.id !== tx?.txn.id;
      if (foreignTxn || (holder.ref !== ref && !freed && (await this.live(holder, key)))) {
        throw new UniqueConflict(key, holder.ref);
      }
      // Our own resource's older claim, or a stale one: take it over if nobody changed it meanwhile.
      const change = tx
        ? { $set: { ref, v, at: this.now(), txn: tx.txn, was: { ref: holder.ref, v: holder.v, at: holder.at } } }
        : { $set: { ref, v, at: this.now() }, $unset: { txn: '' as const, was: '' as const } };
      const taken = await this.keys.updateOne({ _id: { $eq: key }, ref: { $eq: holder.ref }, v: { $eq: holder.v } }, change);
      if (taken.modifiedCount === 1) return;
    }
    throw new UniqueConflict(key, 'unknown');
  }

  private async live(holder: UniqueKeyDoc, key: string): Promise<boolean> {
    const slash = holder.ref.indexOf('/');
    const newest = await this.newest(holder.ref.slice(0, slash), holder.ref.slice(slash + 1));
    if (newest && newest.v >= holder.v) {
      return !newest.deleted && (newest.uk ?? []).includes(key);
    }
    // Its version is not committed (yet): a writer in flight, unless the lease ran out.
    return this.now() - holder.at < LEASE_MS;
  }
}

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}
