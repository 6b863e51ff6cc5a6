import type { Readable } from 'node:stream';
import type { IndexEntry } from '../fhir/search/index-entry';
import type { Condition, SearchPlan, SearchPage } from '../fhir/search/plan';

/**
 * The storage port. Adapters (SQLite, MongoDB) implement it and pass the same
 * conformance suite (test/store/). They know nothing of FHIR policy, access
 * or audit: FhirService is the only caller.
 *
 * Versioning model: every write appends an immutable version; the current
 * version of a resource is the newest one; a delete appends a tombstone.
 * @see https://hl7.org/fhir/R4/http.html#versioning
 */
export interface ResourceStore {
  /** 'sqlite' or 'mongo', for logs and the CapabilityStatement software. */
  readonly kind: StoreKind;
  /** Facts for the start-up log (what kind of deployment, which guarantees); no secrets. */
  describe(): Record<string, unknown>;
  /** Creates tables / collections / indexes when missing. Idempotent. */
  init(): Promise<void>;
  close(): Promise<void>;

  /** The current version (possibly a tombstone), or undefined if the resource never existed. */
  readCurrent(type: string, id: string): Promise<VersionRecord | undefined>;
  /** One version (possibly a tombstone), or undefined. */
  readVersion(type: string, id: string, versionId: number): Promise<VersionRecord | undefined>;
  /** Current versions of several resources of one type (tombstones omitted), in no particular order. */
  readMany(type: string, ids: readonly string[]): Promise<VersionRecord[]>;

  /**
   * Appends a version if, and only if, the current version is still
   * `write.expectedVersion` (0: the resource must not exist yet). This is the
   * compare-and-set every update relies on: of concurrent writers holding the
   * same expected version, exactly one succeeds and the others get a
   * {@link VersionConflict}. Resolves only once the write is durable.
   */
  write(write: VersionWrite): Promise<void>;

  /**
   * Appends a group of versions all or nothing (a FHIR transaction Bundle):
   * each write is the compare-and-set of {@link write}, and if any of them
   * fails (a {@link VersionConflict} or {@link UniqueConflict}), none of the
   * group is written and the promise rejects with a {@link GroupConflict}
   * naming the write. Readers never see part of a group: before it resolves
   * every version is visible (searches included) or, after a crash, the
   * store's recovery makes the group all visible or all gone. Resolves only
   * once every write is durable. The writes name distinct resources, and
   * keys a tombstone of the group releases may be claimed by a later write
   * of the same group (delete then re-create an INS).
   * @see https://hl7.org/fhir/R4/http.html#trules
   */
  writeAll(writes: readonly VersionWrite[]): Promise<void>;

  /** Versions, newest first, with keyset paging (stable under concurrent writes). */
  history(query: HistoryQuery): Promise<HistoryPage>;

  /** Runs a compiled search plan over current, non-deleted resources. */
  search(plan: SearchPlan): Promise<SearchPage>;

  /**
   * An opaque value that changes whenever a version of a resource of one of
   * `types` is written, by this process or any other on the same database.
   * One indexed lookup: FhirService calls it on every request to know whether
   * its cached access facts (Consents, Patients) are still current.
   */
  changeMarker(types: readonly string[]): Promise<string>;

  /**
   * Physically removes a resource: every version, its index entries and its
   * unique keys, as if it never existed. Only the purge command calls it
   * (DMP-RULES.md § 1: the data of a DMP closed more than 10 years ago);
   * every other removal is a logical delete (a tombstone version).
   */
  purge(type: string, id: string): Promise<void>;

  /**
   * Appends records to hash chains: the audit log (the AuditEvents of one
   * patient form one chain, DMP-RULES.md § 8 item 11). A chain is an
   * append-only log of its own, outside the versioned resources and their
   * search index: one row (SQLite) or document (MongoDB) per record, so
   * recording an access costs one insert. The store reads the chain's head
   * and calls `seal(head)` at the moment it can make "advance the head" and
   * "store the record" one atomic step, so that several processes writing
   * to one database never fork or break a chain. Resolves once every write
   * is durable; rejects if any failed (the others still stand).
   */
  appendChained(writes: readonly ChainedWrite[]): Promise<void>;

  /** The links of one chain, oldest first, after `afterSeq` (exclusive; 0 = from the start), at most `limit`. */
  chainLinks(chain: string, afterSeq: number, limit: number): Promise<ChainLink[]>;

  /** The links of one chain, newest first, before `beforeSeq` (exclusive; undefined = from the head), at most `limit`. */
  chainLinksBefore(chain: string, beforeSeq: number | undefined, limit: number): Promise<ChainLink[]>;

  /** The current head of a chain (undefined when the chain has no link yet). */
  chainHead(chain: string): Promise<ChainHead | undefined>;

  /** Keys of every chain holding at least one link, in ascending order, after `after` (exclusive), at most `limit`. */
  listChains(after: string | undefined, limit: number): Promise<string[]>;

  /** Removes a chain and all its links (the purge of a DMP closed more than 10 years ago, with its audit). */
  purgeChain(chain: string): Promise<void>;

  /**
   * Stores content outside the versions (the bytes of a Binary): reads
   * `source` to its end, streaming (never holding it whole), under a new id, and resolves with that id only once the
   * content is durable. A version pointing at it is written afterwards, so
   * no version ever points at missing content; content whose version never
   * came (a refused write, a crash in between) is unreachable, and removed
   * by {@link deleteContent} when the writer knows. If `source` fails
   * (e.g. too large), nothing is kept and the promise rejects with its error.
   * @see https://hl7.org/fhir/R4/binary.html
   */
  putContent(source: Readable): Promise<string>;

  /**
   * The bytes of stored content, streamed, from `range.start` (inclusive) to
   * `range.end` (exclusive), or all of them. Rejects (or the stream fails)
   * when the id is unknown.
   */
  openContent(id: string, range?: ContentRange): Promise<Readable>;

  /** Removes content (unknown ids are ignored). */
  deleteContent(id: string): Promise<void>;
}

/** A byte range of stored content: start inclusive, end exclusive. */
export interface ContentRange {
  start: number;
  end: number;
}

/**
 * One record to append to a hash chain (see {@link ResourceStore.appendChained}).
 * The record's JSON is only known once the chain's head is: it carries the
 * previous link's hash and its own position.
 */
export interface ChainedWrite {
  /** The chain, e.g. `Patient/123`, or `system` for records of no single patient. */
  chain: string;
  /**
   * Builds the record given the chain's head (undefined: it is the first
   * link, seq 1): the JSON to store and the hash the next link will carry.
   * Pure and synchronous; the store may call it again after losing a race,
   * and keeps the last result.
   */
  seal(head: ChainHead | undefined): { json: string; hash: string };
}

/** The newest link of a chain. */
export interface ChainHead {
  seq: number;
  /** The hash `seal` returned for that link. */
  hash: string;
}

/** One link of a chain, with the record as stored now (which a tamperer may have changed). */
export interface ChainLink {
  seq: number;
  /** The hash `seal` returned when the link was written. */
  hash: string;
  /** The record's JSON as stored now. */
  json: string;
}

export type StoreKind = 'sqlite' | 'mongo';

/** How a version came to be; history entries report it as `request.method`. */
export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One stored version. `json` is the full resource (with meta), or null for a tombstone. */
export interface VersionRecord {
  type: string;
  id: string;
  versionId: number;
  /** ISO instant with milliseconds, UTC (`meta.lastUpdated`). */
  lastUpdated: string;
  method: WriteMethod;
  deleted: boolean;
  json: string | null;
}

/** A version to append (see {@link ResourceStore.write}). */
export interface VersionWrite extends VersionRecord {
  /** The version the writer read as current; 0 when the resource must not exist yet. */
  expectedVersion: number;
  /** Search index entries of the new current version (empty for a tombstone). */
  index: readonly IndexEntry[];
  /**
   * Keys that no other current, live resource may hold (e.g. one Patient per
   * INS: `Patient|urn:oid:1.2.250.1.213.1.4.8|123`). The new version holds
   * exactly these; a tombstone holds none. If another live resource holds one
   * of them, the write fails with {@link UniqueConflict} and nothing is
   * written, also under concurrent writers in several processes.
   */
  uniqueKeys?: readonly string[];
}

/** Thrown by {@link ResourceStore.write} when another live resource holds one of the write's unique keys. */
export class UniqueConflict extends Error {
  constructor(
    readonly key: string,
    /** `Type/id` of the resource holding the key. */
    readonly holder: string,
  ) {
    super(`Unique key held by another resource`);
    this.name = 'UniqueConflict';
  }
}

/** Thrown by {@link ResourceStore.write} when the current version is not the expected one. */
export class VersionConflict extends Error {
  constructor(
    readonly type: string,
    readonly id: string,
    /** The current version found, 0 if none. */
    readonly actualVersion: number,
  ) {
    super(`Version conflict on ${type}/${id}`);
    this.name = 'VersionConflict';
  }
}

/** Thrown by {@link ResourceStore.writeAll}: the write at `index` conflicted, so none of the group was written. */
export class GroupConflict extends Error {
  constructor(
    readonly index: number,
    readonly conflict: VersionConflict | UniqueConflict,
  ) {
    super(`Write ${index} of the group conflicted: ${conflict.message}`);
    this.name = 'GroupConflict';
  }
}

/** Writes of one group must name distinct resources (see {@link ResourceStore.writeAll}). */
export function checkDistinct(writes: readonly VersionWrite[]): void {
  const seen = new Set<string>();
  for (const w of writes) {
    const ref = `${w.type}/${w.id}`;
    if (seen.has(ref)) throw new Error(`writeAll: ${ref} appears twice in one group`);
    seen.add(ref);
  }
}

/**
 * Thrown when the database is momentarily unable to serve (connection lost,
 * no primary, locked by another writer): nothing was written. The HTTP layer
 * answers 503 with Retry-After, so clients retry instead of seeing a bug.
 */
export class StoreUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`Store unavailable: ${reason}`);
    this.name = 'StoreUnavailable';
  }
}

/**
 * A history query: system (no type), type (no id) or instance level.
 * @see https://hl7.org/fhir/R4/http.html#history
 */
export interface HistoryQuery {
  type?: string;
  id?: string;
  /** Only versions with lastUpdated at or after this instant (`_since`). */
  since?: string;
  /** Page size. */
  count: number;
  /** Keyset cursor: continue strictly before (older) or after (newer) this key. */
  cursor?: { key: string; direction: 'older' | 'newer' };
  /**
   * Only versions of resources whose *current* live version satisfies every
   * condition (over its index entries, as in a search); `total` and paging
   * count only those. FhirService passes the caller's access restriction.
   */
  where?: readonly Condition[];
}

export interface HistoryPage {
  /** Newest first. */
  entries: VersionRecord[];
  /** Number of versions matching the query, ignoring the cursor. */
  total: number;
  /** True when older entries exist beyond this page. */
  hasOlder: boolean;
  /** True when newer entries exist before this page. */
  hasNewer: boolean;
}

/**
 * The sort key of a version in history order. Instants in ISO form sort as
 * strings; the zero-padded version keeps the versions of one resource that
 * share a millisecond in order. Both adapters order history by this key.
 */
export function historyKey(v: Pick<VersionRecord, 'lastUpdated' | 'type' | 'id' | 'versionId'>): string {
  return `${v.lastUpdated}|${v.type}|${v.id}|${String(v.versionId).padStart(10, '0')}`;
}

/**
 * Assembles a history page from the rows an adapter read for `q`: at most
 * `q.count + 1` rows in reading order (newest first, or oldest first when
 * the cursor asks for newer rows). The extra row only says that more exist.
 * Both adapters use this, so their pages and flags agree.
 */
export function historyPage(rows: VersionRecord[], q: HistoryQuery, total: number): HistoryPage {
  const newer = q.cursor?.direction === 'newer';
  const more = rows.length > q.count;
  const entries = rows.slice(0, q.count);
  if (newer) {
    entries.reverse();
  }
  return {
    entries,
    total,
    // Reading newer rows from a cursor: the cursor's row itself is older.
    hasOlder: newer ? true : more,
    hasNewer: newer ? more : q.cursor !== undefined,
  };
}
