import type { Readable } from 'node:stream';
import { MongoClient, type Collection, type Db } from 'mongodb';
import type { SearchPage, SearchPlan } from '../../fhir/search/plan';
import type { ChainedWrite, ChainHead, ChainLink, ContentRange, HistoryPage, HistoryQuery, ResourceStore, VersionRecord, VersionWrite } from '../port';
import { GridFsContent } from './content-gridfs';
import { ChainLog, type ChainDoc, type ChainLinkDoc } from './chains';
import { RECORD_PROJECTION, resourceKey, toRecord, versionKey, type CurrentDoc, type VersionDoc } from './documents';
import { readHistory } from './history';
import { CHAIN_LINKS, CHAINS, ensureIndexes, RESOURCES, TXNS, VERSIONS } from './indexes';
import { addNumberRanges } from './number-ranges';
import { NativeCommit } from './native-commit';
import { StagedCommit, type TxnDoc } from './staged-commit';
import { QueryRunner } from './runner';
import { COUNTERS, type CounterDoc } from './counters';
import { searchMongo, visibleRefs } from './search';
import { UNIQUE_KEYS, type UniqueKeyDoc } from './unique-keys';
import { guarded } from './transient';
import { VersionLog } from './versions';

/** How to reach the database, and adapter tuning. @see https://hl7.org/fhir/R4/search.html */
export interface MongoOptions {
  /** Connection string (mongodb://...). */
  url: string;
  dbName: string;
  /**
   * Most resources the inner query of a chain or `_has` may match before the
   * search is refused as too costly (default runner.ts SUBQUERY_CAP, 10,000).
   */
  subqueryCap?: number;
  /**
   * Who evaluates `$elemMatch` over index entries: `server` (MongoDB),
   * `adapter` (a superset from the server, filtered here: FerretDB 1.x), or
   * `auto` (the default: `adapter` exactly when the server is FerretDB).
   */
  elemMatch?: 'auto' | 'server' | 'adapter';
  /**
   * How writeAll (transaction Bundles) is made atomic: `native` MongoDB
   * multi-document transactions, `staged` the adapter's own commit protocol
   * (staged-commit.ts), or `auto` (the default: native exactly when the
   * deployment has transactions).
   */
  transactions?: 'auto' | 'native' | 'staged';
  /** After how long an uncommitted staged transaction is abandoned (default staged-commit.ts STAGED_TIMEOUT_MS). */
  stagedTimeoutMs?: number;
}

/** What the connected server can do, for start-up logs and the CapabilityStatement. */
export interface MongoCapabilities {
  /** Set when the server is FerretDB (its version). */
  ferretdb?: string;
  /**
   * False on FerretDB 1.x: `$elemMatch` on index entries is evaluated by the
   * adapter over a superset the server returns (see filter-eval.ts).
   */
  nativeElemMatch: boolean;
  /**
   * Whether the deployment can run multi-document transactions (a MongoDB
   * replica set or sharded cluster; not a standalone server, not FerretDB).
   * The store's own writes never need them (see versions.ts).
   */
  transactions: boolean;
}

/**
 * The MongoDB adapter. Two collections:
 * - `versions`: every version, immutable, the resource as a BSON document;
 *   the source of truth for reads and history (see versions.ts for the
 *   transaction-free compare-and-set);
 * - `resources`: one document per resource holding its current version, the
 *   index entries (`idx` sub-array) and sort values: what searches run over.
 * Hash chains (appendChained) add `chain_links` (one document per link,
 * whose insert is the commit point of an append) and `chains` (one per
 * chain, for listChains): see chains.ts.
 * @see https://hl7.org/fhir/R4/http.html
 */
export class MongoStore implements ResourceStore {
  readonly kind = 'mongo' as const;
  private client?: MongoClient;
  private db?: Db;
  private log?: VersionLog;
  private chains?: ChainLog;
  private runner?: QueryRunner;
  private caps?: MongoCapabilities;
  private staged?: StagedCommit;
  private native?: NativeCommit;
  /** Binary bytes in GridFS (content-gridfs.ts). */
  private content?: GridFsContent;

  constructor(readonly options: MongoOptions) {}

  /** Connects, creates collections and indexes, and rolls forward writes a crash left pending. */
  async init(): Promise<void> {
    if (this.client) {
      return;
    }
    const client = new MongoClient(this.options.url);
    await client.connect();
    try {
      await this.open(client);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  private async open(client: MongoClient): Promise<void> {
    const db = client.db(this.options.dbName);
    await ensureIndexes(db);
    await addNumberRanges(db);
    const info = await db.admin().command({ buildInfo: 1 });
    const hello = await db.admin().command({ hello: 1 });
    const ferretdb = typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : undefined;
    const mode = this.options.elemMatch ?? 'auto';
    this.caps = {
      ferretdb,
      nativeElemMatch: mode === 'auto' ? ferretdb === undefined : mode === 'server',
      transactions: ferretdb === undefined && (typeof hello.setName === 'string' || hello.msg === 'isdbgrid'),
    };
    // An acknowledged write must survive a failover: majority, journaled.
    const wc = { writeConcern: { w: 'majority' as const, journal: true } };
    const versions = db.collection<VersionDoc>(VERSIONS, wc);
    const resources = db.collection<CurrentDoc>(RESOURCES, wc);
    this.log = new VersionLog(versions, resources, db.collection<UniqueKeyDoc>(UNIQUE_KEYS, wc), db.collection<CounterDoc>(COUNTERS, wc));
    this.runner = new QueryRunner(resources, this.caps.nativeElemMatch);
    this.chains = new ChainLog(db.collection<ChainDoc>(CHAINS, wc), db.collection<ChainLinkDoc>(CHAIN_LINKS, wc));
    const txnMode = this.options.transactions ?? 'auto';
    if (txnMode === 'native' || (txnMode === 'auto' && this.caps.transactions)) {
      this.native = new NativeCommit(client, { versions, resources, keys: db.collection<UniqueKeyDoc>(UNIQUE_KEYS, wc), counters: db.collection<CounterDoc>(COUNTERS, wc) });
    }
    // Always there: versions a staged transaction left behind (e.g. before a switch to native) are settled by it.
    const staged = new StagedCommit(versions, db.collection<TxnDoc>(TXNS, wc), this.log, this.log.uniqueKeys, this.options.stagedTimeoutMs);
    this.staged = staged;
    this.log.stagedVisible = (doc) => staged.visible(doc);
    // Before serving anything, so that searches see every committed version and no half transaction.
    await staged.sweep();
    await this.log.recover();
    this.content = new GridFsContent(db);
    this.client = client;
    this.db = db;
  }

  get capabilities(): MongoCapabilities {
    return this.ready().caps;
  }

  /**
   * What this deployment gives: FerretDB or MongoDB, where `$elemMatch` runs,
   * and whether multi-document transactions exist (single-resource writes
   * never need them; see versions.ts).
   */
  describe(): Record<string, unknown> {
    const caps = this.ready().caps;
    return {
      database: this.options.dbName,
      server: caps.ferretdb ? `FerretDB ${caps.ferretdb}` : 'MongoDB',
      elemMatch: caps.nativeElemMatch ? 'server' : 'adapter (server returns a superset, filtered in the adapter)',
      transactions: caps.transactions,
      transactionBundles: this.native
        ? 'MongoDB multi-document transactions (majority, journaled)'
        : 'staged commit protocol of the adapter (versions staged invisible, one commit document, roll-forward or roll-back on recovery)',
    };
  }

  async close(): Promise<void> {
    if (!this.client) {
      return;
    }
    await this.log?.settle();
    this.staged?.retire();
    await this.client.close();
    this.client = undefined;
  }

  /** Drops the whole database (tests: each store has its own database). */
  async dropDatabase(): Promise<void> {
    const { db, log } = this.ready();
    await log.settle();
    await db.dropDatabase();
  }

  // Every operation below goes through `guarded`: a transient database error
  // becomes StoreUnavailable (503, retry), anything else stays a bug (500).

  readCurrent(type: string, id: string): Promise<VersionRecord | undefined> {
    return guarded(async () => {
      const doc = await this.ready().log.newest(type, id);
      return doc ? toRecord(doc) : undefined;
    });
  }

  readVersion(type: string, id: string, versionId: number): Promise<VersionRecord | undefined> {
    return guarded(async () => {
      const found = await this.versions().findOne({ _id: { $eq: versionKey(type, id, versionId) } }, { projection: { ...RECORD_PROJECTION, txn: 1 } });
      // A version staged by an uncommitted transaction does not exist yet.
      const doc = found?.txn ? await this.ready().staged.visible(found as VersionDoc) : found;
      return doc ? toRecord(doc) : undefined;
    });
  }

  readMany(type: string, ids: readonly string[]): Promise<VersionRecord[]> {
    if (ids.length === 0) {
      return Promise.resolve([]);
    }
    return guarded(async () => {
      const docs = await this.resources()
        .find(
          { _id: { $in: ids.map((id) => resourceKey(type, String(id))) }, deleted: { $eq: false } },
          { projection: RECORD_PROJECTION },
        )
        .toArray();
      return docs.map(toRecord);
    });
  }

  write(write: VersionWrite): Promise<void> {
    return guarded(() => this.ready().log.write(write));
  }

  /** All or nothing: a multi-document transaction, or the staged commit protocol (see describe()). */
  writeAll(writes: readonly VersionWrite[]): Promise<void> {
    return guarded(() => {
      const { staged } = this.ready();
      return this.native ? this.native.writeAll(writes) : staged.writeAll(writes);
    });
  }

  history(query: HistoryQuery): Promise<HistoryPage> {
    return guarded(async () => {
      // Visible resources first (capped like a chain), then their versions.
      const { staged } = this.ready();
      // Transactions committed but not rolled forward (a crash) are completed first; staged ones stay hidden (history.ts).
      if (await staged.anyStaged()) await staged.sweep();
      const refs = query.where ? await visibleRefs(this.ready().runner, query, this.options.subqueryCap) : undefined;
      return readHistory(this.versions(), query, refs);
    });
  }

  changeMarker(types: readonly string[]): Promise<string> {
    return guarded(() => this.ready().log.marker(types));
  }

  purge(type: string, id: string): Promise<void> {
    return guarded(async () => {
      const { db, log } = this.ready();
      await log.settle();
      await this.versions().deleteMany({ type: { $eq: type }, id: { $eq: id } });
      await this.resources().deleteOne({ _id: { $eq: `${type}/${id}` } });
      await db.collection<UniqueKeyDoc>(UNIQUE_KEYS).deleteMany({ ref: { $eq: `${type}/${id}` } });
    });
  }

  search(plan: SearchPlan): Promise<SearchPage> {
    return guarded(() => searchMongo(this.ready().runner, plan, this.options.subqueryCap));
  }

  private ready() {
    if (!this.client || !this.db || !this.log || !this.runner || !this.caps || !this.chains || !this.staged) {
      throw new Error('MongoStore: init() was not called (or the store is closed)');
    }
    return { db: this.db, log: this.log, runner: this.runner, caps: this.caps, chains: this.chains, staged: this.staged };
  }

  private versions(): Collection<VersionDoc> {
    return this.ready().db.collection<VersionDoc>(VERSIONS);
  }

  private resources(): Collection<CurrentDoc> {
    return this.ready().db.collection<CurrentDoc>(RESOURCES);
  }

  /** Writes to different chains run in parallel; waits for all, then rejects with the first failure. */
  appendChained(writes: readonly ChainedWrite[]): Promise<void> {
    return guarded(async () => {
      const { chains } = this.ready();
      const results = await Promise.allSettled(writes.map((w) => chains.append(w)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        throw failed.reason;
      }
    });
  }

  chainLinks(chain: string, afterSeq: number, limit: number): Promise<ChainLink[]> {
    return guarded(() => this.ready().chains.chainLinks(chain, afterSeq, limit));
  }

  chainLinksBefore(chain: string, beforeSeq: number | undefined, limit: number): Promise<ChainLink[]> {
    return guarded(() => this.ready().chains.chainLinksBefore(chain, beforeSeq, limit));
  }

  chainHead(chain: string): Promise<ChainHead | undefined> {
    return guarded(() => this.ready().chains.head(chain));
  }

  purgeChain(chain: string): Promise<void> {
    return guarded(() => this.ready().chains.drop(chain));
  }

  listChains(after: string | undefined, limit: number): Promise<string[]> {
    return guarded(() => this.ready().chains.list(after, limit));
  }

  putContent(source: Readable): Promise<string> {
    return guarded(() => this.gridFs().put(source));
  }

  openContent(id: string, range?: ContentRange): Promise<Readable> {
    return guarded(() => this.gridFs().open(id, range));
  }

  deleteContent(id: string): Promise<void> {
    return guarded(() => this.gridFs().delete(id));
  }

  private gridFs(): GridFsContent {
    this.ready();
    return this.content as GridFsContent;
  }
}
