import type { Document } from 'mongodb';
import { hasExoticNumbers } from '../../fhir/json/lossless';
import { sortValues, type IndexEntry } from '../../fhir/search/index-entry';
import type { VersionRecord, VersionWrite, WriteMethod } from '../port';
import { historyKey } from '../port';

// The BSON documents of the MongoDB adapter, and the conversions at the
// adapter boundary: the port speaks JSON strings, the database holds real
// documents so that operators can inspect and query them.

/** One immutable version, `_id` = `Type/id/versionId`. @see https://hl7.org/fhir/R4/http.html#versioning */
export interface VersionDoc {
  _id: string;
  type: string;
  id: string;
  v: number;
  /**
   * The version this one was written over (0 for the first). A unique index
   * on (type, id, prev) makes "exactly one successor per version" the
   * compare-and-set of write(): see versions.ts.
   */
  prev: number;
  lu: string;
  method: WriteMethod;
  deleted: boolean;
  res: Document | null;
  /**
   * The resource's JSON text as written, kept only when it holds a number
   * whose text `JSON.parse` would not give back (a decimal `1.50`, `0.0010`,
   * `1e2`: FHIR keeps a decimal's significant digits). `res` then holds the
   * numbers' values, for operators and queries, and reads return `raw`, so
   * the resource comes back exactly as sent. Most resources have no `raw`.
   * @see https://hl7.org/fhir/R4/datatypes.html#decimal
   */
  raw?: string;
  hkey: string;
  /** The unique keys this version holds (VersionWrite.uniqueKeys), when any. */
  uk?: string[];
  /**
   * Present while the current-resources document may not yet reflect this
   * version (between the commit point and the roll-forward); carries what the
   * roll-forward needs, since index entries cannot be recomputed here.
   */
  pending?: PendingIndex;
  /**
   * Present while the version is staged by a transaction Bundle on a
   * deployment without multi-document transactions (see staged-commit.ts):
   * readers ignore it until its transaction's commit point, and roll it
   * forward (or back) when they meet it after a crash.
   */
  txn?: StagedTxn;
}

/** Which transaction staged a version or a unique-key claim, when, and which process. */
export interface StagedTxn {
  id: string;
  /** When staging began (epoch ms): a transaction still uncommitted long after is abandoned. */
  at: number;
  /** `host|pid|instance` of the staging store, so a restarted process knows its predecessor is gone. */
  owner: string;
}

/** What a pending version carries to roll the current document forward. */
export interface PendingIndex {
  /** When the version was committed (epoch ms): a sparse index on it lists pending versions. */
  at: number;
  idx: IdxElem[];
  sort: Record<string, SortPair>;
}

/** The current version of one resource, `_id` = `Type/id`: what searches run over. */
export interface CurrentDoc {
  _id: string;
  type: string;
  id: string;
  v: number;
  lu: string;
  /** lastUpdated in epoch ms, for `_lastUpdated` conditions and sorting. */
  luMs: number;
  method: WriteMethod;
  deleted: boolean;
  res: Document | null;
  /** The version's {@link VersionDoc.raw}. */
  raw?: string;
  /** The index entries, flattened (see {@link toIdx}). */
  idx: IdxElem[];
  /** Per-parameter sort values, keyed by {@link sortKeyOf}(param). */
  sort: Record<string, SortPair>;
}

export interface SortPair {
  lo: string | number;
  hi: string | number;
}

/**
 * One index entry in the `idx` sub-array: `p` = parameter code, `k` = entry
 * kind, then the entry's own fields under their index-entry.ts names (so plan
 * predicates name them directly). A composite entry keeps each part in `c0`,
 * `c1`, ... of the same element, so that `$elemMatch` ties the parts of one
 * combination together.
 */
export type IdxElem = Record<string, string | number | boolean | null | Record<string, string | number | null>>;

export const versionKey = (type: string, id: string, versionId: number): string => `${type}/${id}/${versionId}`;
export const resourceKey = (type: string, id: string): string => `${type}/${id}`;

/**
 * Sort values live in an object keyed by parameter code; a key may not contain
 * `.` nor start with `$` in BSON, so those (and `%`, the escape) are encoded.
 */
export function sortKeyOf(param: string): string {
  return param.replace(/[%.$]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The fields of a scalar entry, without `param` and `kind`. */
function fieldsOf(e: Exclude<IndexEntry, { kind: 'composite' }>): Record<string, string | number | null> {
  switch (e.kind) {
    case 'token':
      return { system: e.system, code: e.code, text: e.text };
    case 'string':
      return { value: e.value, exact: e.exact };
    case 'reference':
      return { ref: e.ref, type: e.type, id: e.id, idSystem: e.idSystem, idValue: e.idValue };
    case 'date':
      return { low: e.low, high: e.high };
    case 'number':
      return { value: e.value, low: e.low, high: e.high };
    case 'quantity':
      return { value: e.value, low: e.low, high: e.high, system: e.system, code: e.code, unit: e.unit };
    case 'uri':
      return { value: e.value };
  }
}

/** Flattens index entries into `idx` elements. */
export function toIdx(entries: readonly IndexEntry[]): IdxElem[] {
  return entries.map((e) => {
    if (e.kind !== 'composite') {
      return { p: e.param, k: e.kind, ...fieldsOf(e) };
    }
    const el: IdxElem = { p: e.param, k: 'composite' };
    e.parts.forEach((part, i) => {
      el[`c${i}`] = { k: part.kind, ...fieldsOf(part) };
    });
    return el;
  });
}

/** Sort values of `entries`, in the stored layout. */
export function toSort(entries: readonly IndexEntry[]): Record<string, SortPair> {
  const out: Record<string, SortPair> = {};
  for (const [param, v] of Object.entries(sortValues(entries))) {
    out[sortKeyOf(param)] = { lo: v.low, hi: v.high };
  }
  return out;
}

/** The version document for a write, marked pending (see {@link VersionDoc.pending}). */
export function toVersionDoc(w: VersionWrite): VersionDoc {
  return {
    _id: versionKey(w.type, w.id, w.versionId),
    type: w.type,
    id: w.id,
    v: w.versionId,
    prev: w.expectedVersion,
    lu: w.lastUpdated,
    method: w.method,
    deleted: w.deleted,
    // Parsed once here: the database holds a document, not an opaque string.
    res: w.deleted || w.json === null ? null : (JSON.parse(w.json) as Document),
    ...(!w.deleted && w.json !== null && hasExoticNumbers(w.json) ? { raw: w.json } : {}),
    hkey: historyKey(w),
    ...(w.uniqueKeys && w.uniqueKeys.length > 0 && !w.deleted ? { uk: [...w.uniqueKeys] } : {}),
    pending: { at: Date.now(), idx: w.deleted ? [] : toIdx(w.index), sort: w.deleted ? {} : toSort(w.index) },
  };
}

/** The current-resources document a version rolls forward to. */
export function toCurrentDoc(v: VersionDoc, index: Pick<PendingIndex, 'idx' | 'sort'>): CurrentDoc {
  return {
    _id: resourceKey(v.type, v.id),
    type: v.type,
    id: v.id,
    v: v.v,
    lu: v.lu,
    luMs: Date.parse(v.lu),
    method: v.method,
    deleted: v.deleted,
    res: v.res,
    ...(v.raw !== undefined ? { raw: v.raw } : {}),
    idx: v.deleted ? [] : index.idx,
    sort: v.deleted ? {} : index.sort,
  };
}

/** Fields every read of a version or current document needs to build a record. */
export const RECORD_PROJECTION = { type: 1, id: 1, v: 1, lu: 1, method: 1, deleted: 1, res: 1, raw: 1 } as const;

/** A version or current document as the port's record (content back to a JSON string). */
export function toRecord(d: Pick<VersionDoc, 'type' | 'id' | 'v' | 'lu' | 'method' | 'deleted' | 'res' | 'raw'>): VersionRecord {
  return {
    type: d.type,
    id: d.id,
    versionId: d.v,
    lastUpdated: d.lu,
    method: d.method,
    deleted: d.deleted,
    json: d.res === null || d.res === undefined ? null : (d.raw ?? JSON.stringify(d.res)),
  };
}
