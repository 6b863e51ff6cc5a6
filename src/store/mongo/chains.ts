import type { Collection } from 'mongodb';
import { StoreUnavailable, type ChainedWrite, type ChainHead, type ChainLink } from '../port';
import { KeyedQueue } from '../../fhir/keyed-queue';
import { isDuplicateKey } from './versions';

/**
 * One link with its record, `_id` = {@link linkKey}(chain, seq): its insert
 * is the commit point of an append. The record is kept as the exact JSON
 * text sealed (its hash is over that text, see audit/chain.ts).
 */
export interface ChainLinkDoc {
  _id: string;
  chain: string;
  seq: number;
  /** The hash `seal` returned. */
  hash: string;
  json: string;
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
/** Links probed per round trip when looking for a head past the hint. */
const PROBE = 8;

/**
 * The hash chains of the MongoDB adapter: an append-only log, one document
 * per record, without multi-document transactions (FerretDB has none, nor a
 * standalone mongod). The commit point is the insert of link n+1, `_id` =
 * `chain#n+1`, sealed over link n (the head just read) and carrying the
 * record: the unique `_id` (and unique (chain, seq)) makes exactly one link
 * per seq. Of concurrent appenders over one head, one insert succeeds and
 * the others get a duplicate key, read the new head, seal again and retry.
 * A link n+1 is only ever sealed over an existing link n: no gap, no fork,
 * and nothing to roll forward after a crash (the insert is the whole write).
 *
 * It is an insert, not a conditional update of a head document, because
 * FerretDB 1.24 does not apply `updateOne({_id, seq: n})` atomically: two
 * concurrent updates with the same filter can both match (measured: 249
 * "successful" compare-and-sets for 108 increments), which would fork a
 * chain. Unique-index inserts are atomic there as on MongoDB. Within one
 * process, appends to one chain run one at a time.
 * @see https://hl7.org/fhir/R4/auditevent.html
 */
export class ChainLog {
  private readonly queue = new KeyedQueue();
  /**
   * Heads this process committed: the next append to the chain seals over
   * them without reading (if another process appended meanwhile, the insert
   * is a duplicate and the head is read).
   */
  private readonly known = new Map<string, ChainHead>();

  constructor(
    private readonly chains: Collection<ChainDoc>,
    private readonly links: Collection<ChainLinkDoc>,
  ) {}

  /** @see ResourceStore.appendChained (one write) */
  append(w: ChainedWrite): Promise<void> {
    return this.queue.run(w.chain, () => this.appendOne(w));
  }

  private async appendOne(w: ChainedWrite): Promise<void> {
    let head = this.known.has(w.chain) ? this.known.get(w.chain) : await this.head(w.chain);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const sealed = w.seal(head);
      const seq = (head?.seq ?? 0) + 1;
      if (seq === 1) {
        // Listed before its first link exists, so that a committed link is never missing from listChains.
        await this.hint(w.chain, 0);
      }
      try {
        await this.links.insertOne({ _id: linkKey(w.chain, seq), chain: w.chain, seq, hash: sealed.hash, json: sealed.json });
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
      this.known.set(w.chain, { seq, hash: sealed.hash });
      // The hint only shortens later head look-ups: a failure here must not fail a committed append.
      if (seq % 16 === 0) await this.hint(w.chain, seq).catch(() => undefined);
      return;
    }
    throw new StoreUnavailable('hash chain contended by other writers');
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
   * hint (or from `from`, a seq known to exist). @see ResourceStore.chainHead
   */
  async head(chain: string, from?: number): Promise<ChainHead | undefined> {
    let last: ChainLinkDoc | undefined;
    const hinted = from ?? (await this.chains.findOne({ _id: { $eq: chain } }))?.seq ?? 0;
    if (hinted > 0) {
      last = (await this.links.findOne({ _id: { $eq: linkKey(chain, hinted) } }, { projection: { json: 0 } })) ?? undefined;
    }
    for (let seq = last?.seq ?? 0; ; ) {
      const ids = Array.from({ length: PROBE }, (_, i) => linkKey(chain, seq + 1 + i));
      const found = new Map((await this.links.find({ _id: { $in: ids } }, { projection: { json: 0 } }).toArray()).map((d) => [d.seq, d]));
      let n = 0;
      while (found.has(seq + 1)) {
        last = found.get(++seq);
        n++;
      }
      if (n < PROBE) {
        break;
      }
    }
    return last ? { seq: last.seq, hash: last.hash } : undefined;
  }

  /** Links oldest first, with their records as stored now. @see ResourceStore.chainLinks */
  async chainLinks(chain: string, afterSeq: number, limit: number): Promise<ChainLink[]> {
    if (limit <= 0) return [];
    const docs = await this.links.find({ chain: { $eq: chain }, seq: { $gt: afterSeq } }).sort({ seq: 1 }).limit(limit).toArray();
    return docs.map(toLink);
  }

  /** Links newest first. @see ResourceStore.chainLinksBefore */
  async chainLinksBefore(chain: string, beforeSeq: number | undefined, limit: number): Promise<ChainLink[]> {
    if (limit <= 0) return [];
    const filter = beforeSeq === undefined ? { chain: { $eq: chain } } : { chain: { $eq: chain }, seq: { $lt: beforeSeq } };
    const docs = await this.links.find(filter).sort({ seq: -1 }).limit(limit).toArray();
    return docs.map(toLink);
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

  /** @see ResourceStore.purgeChain */
  async drop(chain: string): Promise<void> {
    await this.links.deleteMany({ chain: { $eq: chain } });
    await this.chains.deleteOne({ _id: { $eq: chain } });
    this.known.delete(chain);
  }
}

function toLink(d: ChainLinkDoc): ChainLink {
  return { seq: d.seq, hash: d.hash, json: d.json };
}
