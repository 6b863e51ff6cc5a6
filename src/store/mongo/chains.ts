import type { Collection } from 'mongodb';
import { StoreUnavailable, VersionConflict, type ChainedWrite, type ChainHead, type ChainLink } from '../port';
import { RECORD_PROJECTION, toRecord, toVersionDoc, versionKey, type VersionDoc } from './documents';
import { PerKeyQueue } from './per-key-queue';
import { isTransient } from './transient';
import { isDuplicateKey, type VersionLog } from './versions';

/** One link, `_id` = {@link linkKey}(chain, seq): its insert is the commit point. */
export interface ChainLinkDoc {
  _id: string;
  chain: string;
  seq: number;
  /** The hash `seal` returned. */
  hash: string;
  /** `_id` of the record's version document (`Type/id/1`). */
  version: string;
  /**
   * Present until the record is materialized (between the commit point and
   * the writes that follow it): the full version document, so that anyone
   * can finish them.
   */
  pending?: { at: number; version: VersionDoc };
}

/**
 * One document per chain holding at least one link (what listChains reads).
 * `seq` is a hint, a lower bound of the head's seq, where head look-ups
 * start; the links are the truth.
 */
export interface ChainDoc {
  _id: string;
  seq: number;
}

/** The `_id` of a link. Unambiguous: the seq is what follows the last `#`. */
export const linkKey = (chain: string, seq: number): string => `${chain}#${seq}`;

/** Lost races with other processes before an append gives up (503: the caller may retry). */
const MAX_ATTEMPTS = 20;
/** Quick retries of the materialization of a committed link before leaving it to the next reader. */
const MATERIALIZE_ATTEMPTS = 3;
/** Links probed per round trip when looking for a head past the hint. */
const PROBE = 8;

/**
 * The hash chains of the MongoDB adapter, without multi-document
 * transactions (FerretDB has none, nor a standalone mongod), in the spirit of
 * versions.ts:
 *
 * 1. Commit point: the insert of link n+1, `_id` = `chain#n+1`, sealed over
 *    link n (the head just read), carrying the full record as `pending`. The
 *    unique `_id` (and unique (chain, seq)) makes exactly one link per seq:
 *    of concurrent appenders over one head, one insert succeeds and the
 *    others get a duplicate key, read the new head, seal again and retry. A
 *    link n+1 can only be sealed over an existing link n: no gap.
 * 2. Materialize, idempotently: the version document (rolled forward into
 *    `resources` as any version is), the chain's directory document.
 * 3. Clear `pending`.
 *
 * Whoever reads a pending link materializes it first: the next append (it
 * reads the head), chainHead, chainLinks, and the start-up sweep
 * ({@link ChainLog.recover}). So a committed link is never lost, and a crash
 * between the steps is rolled forward.
 *
 * The commit point is an insert, not a conditional update of a head
 * document, because FerretDB 1.24 does not apply `updateOne({_id, seq: n})`
 * atomically: two concurrent updates with the same filter can both match
 * (measured: 249 "successful" compare-and-sets for 108 increments), which
 * would fork a chain. Unique-index inserts are atomic there as on MongoDB.
 * Within one process, appends to one chain run one at a time.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
export class ChainLog {
  private readonly queue = new PerKeyQueue();
  /**
   * Heads this process committed and materialized: the next append to the
   * chain seals over them without reading (if another process appended
   * meanwhile, the insert is a duplicate and the head is read).
   */
  private readonly known = new Map<string, ChainHead>();

  constructor(
    private readonly chains: Collection<ChainDoc>,
    private readonly links: Collection<ChainLinkDoc>,
    private readonly versions: Collection<VersionDoc>,
    private readonly log: VersionLog,
  ) {}

  /** @see ResourceStore.appendChained (one write) */
  append(w: ChainedWrite): Promise<void> {
    return this.queue.run(w.chain, () => this.appendOne(w));
  }

  private async appendOne(w: ChainedWrite): Promise<void> {
    const key = versionKey(w.type, w.id, 1);
    const [taken, first] = await Promise.all([
      this.versions.findOne({ _id: { $eq: key } }, { projection: { _id: 1 } }),
      this.known.has(w.chain) ? this.known.get(w.chain) : this.head(w.chain),
    ]);
    if (taken) {
      // A chained write is a new resource: an id in use would link someone else's record.
      throw new VersionConflict(w.type, w.id, (await this.log.newest(w.type, w.id))?.v ?? 1);
    }
    let head = first;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const sealed = w.seal(head);
      const seq = (head?.seq ?? 0) + 1;
      const version = toVersionDoc({
        type: w.type,
        id: w.id,
        versionId: 1,
        expectedVersion: 0,
        lastUpdated: w.lastUpdated,
        method: 'POST',
        deleted: false,
        json: sealed.json,
        index: w.index,
      });
      const link: ChainLinkDoc = {
        _id: linkKey(w.chain, seq),
        chain: w.chain,
        seq,
        hash: sealed.hash,
        version: key,
        pending: { at: Date.now(), version },
      };
      try {
        await this.links.insertOne(link);
      } catch (err) {
        if (!isDuplicateKey(err)) {
          throw err;
        }
        // Another process appended link `seq` first: start again from the new head.
        this.known.delete(w.chain);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * (attempt + 1)));
        head = await this.head(w.chain, head?.seq ?? 0);
        continue;
      }
      await this.settle(link);
      return;
    }
    throw new StoreUnavailable('hash chain contended by other writers');
  }

  /**
   * After the commit point: the write is durable and must not be reported
   * failed. A few quick retries; if the database still refuses, the link
   * stays pending and the next reader or appender (or start-up) finishes it.
   */
  private async settle(link: ChainLinkDoc): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.materialize(link);
        this.known.set(link.chain, { seq: link.seq, hash: link.hash });
        return;
      } catch (err) {
        if (!isTransient(err) || attempt + 1 >= MATERIALIZE_ATTEMPTS) {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
      }
    }
  }

  /** Steps 2 and 3, idempotent: safe to run twice, concurrently, or after a crash anywhere in them. */
  private async materialize(link: ChainLinkDoc): Promise<void> {
    if (!link.pending) {
      return;
    }
    // Independent of each other; both before the marker goes, so that a crash redoes them.
    await Promise.all([this.log.materialize(link.pending.version), this.hint(link.chain, link.seq)]);
    await this.links.updateOne({ _id: { $eq: link._id } }, { $unset: { pending: '' } });
  }

  /** The chain is listed, with a head hint of at least `seq` (a stale hint only costs a probe). */
  private async hint(chain: string, seq: number): Promise<void> {
    try {
      await this.chains.updateOne({ _id: { $eq: chain } }, { $max: { seq } }, { upsert: true });
    } catch (err) {
      if (!isDuplicateKey(err)) {
        throw err;
      }
      // A concurrent upsert created the document first: it exists now.
      await this.chains.updateOne({ _id: { $eq: chain } }, { $max: { seq } });
    }
  }

  /**
   * The head of a chain: the last link, found by point look-ups from the
   * hint (or from `from`, a seq known to exist), after materializing it if
   * it is still pending. @see ResourceStore.chainHead
   */
  async head(chain: string, from?: number): Promise<ChainHead | undefined> {
    let last: ChainLinkDoc | undefined;
    const hinted = from ?? (await this.chains.findOne({ _id: { $eq: chain } }))?.seq ?? 0;
    if (hinted > 0) {
      last = (await this.links.findOne({ _id: { $eq: linkKey(chain, hinted) } })) ?? undefined;
    }
    for (let seq = last?.seq ?? 0; ; ) {
      const ids = Array.from({ length: PROBE }, (_, i) => linkKey(chain, seq + 1 + i));
      const found = new Map((await this.links.find({ _id: { $in: ids } }).toArray()).map((d) => [d.seq, d]));
      let n = 0;
      while (found.has(seq + 1)) {
        if (last?.pending) {
          // The protocol leaves only a head pending; finish any other one passed over all the same.
          await this.materialize(last);
        }
        last = found.get(++seq);
        n++;
      }
      if (n < PROBE) {
        break;
      }
    }
    if (!last) {
      return undefined;
    }
    await this.materialize(last);
    return { seq: last.seq, hash: last.hash };
  }

  /**
   * Links in seq order with their records as stored now in `versions` (a
   * record changed in the database is returned changed; a purged one leaves
   * its link out). @see ResourceStore.chainLinks
   */
  async chainLinks(chain: string, afterSeq: number, limit: number): Promise<ChainLink[]> {
    if (limit <= 0) {
      return [];
    }
    const links = await this.links
      .find({ chain: { $eq: chain }, seq: { $gt: afterSeq } })
      .sort({ seq: 1 })
      .limit(limit)
      .toArray();
    for (const l of links) {
      await this.materialize(l);
    }
    if (links.length === 0) {
      return [];
    }
    const docs = await this.versions.find({ _id: { $in: links.map((l) => l.version) } }, { projection: RECORD_PROJECTION }).toArray();
    const byId = new Map(docs.map((d) => [d._id, d]));
    const out: ChainLink[] = [];
    for (const l of links) {
      const doc = byId.get(l.version);
      if (doc) {
        out.push({ seq: l.seq, hash: l.hash, record: toRecord(doc) });
      }
    }
    return out;
  }

  /** @see ResourceStore.listChains */
  async list(after: string | undefined, limit: number): Promise<string[]> {
    if (limit <= 0) {
      return [];
    }
    const filter = after === undefined ? {} : { _id: { $gt: after } };
    const docs = await this.chains.find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map((d) => d._id);
  }

  /** Materializes every link a crash left pending (start-up). Idempotent, safe beside live appenders. */
  async recover(): Promise<number> {
    let n = 0;
    const cursor = this.links.find({ 'pending.at': { $exists: true } }).sort({ 'pending.at': 1 });
    for await (const doc of cursor) {
      await this.materialize(doc);
      n++;
    }
    return n;
  }
}
