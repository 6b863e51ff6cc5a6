import type { Db, IndexDescription } from 'mongodb';

/** Collection names. */
export const VERSIONS = 'versions';
export const RESOURCES = 'resources';
/** Hash chains (chains.ts): one directory document per chain, and the links. */
export const CHAINS = 'chains';
export const CHAIN_LINKS = 'chain_links';
/** Decisions of staged transactions (staged-commit.ts): `_id` = transaction id, state committed or aborted. */
export const TXNS = 'txns';

/**
 * Indexes of the immutable versions collection.
 * @see https://hl7.org/fhir/R4/http.html#history
 */
export const VERSION_INDEXES: IndexDescription[] = [
  // The compare-and-set: one successor per version (and one first version per
  // resource, prev = 0). Also finds the newest version: sort prev descending.
  { key: { type: 1, id: 1, prev: -1 }, name: 'cas', unique: true },
  { key: { hkey: -1 }, name: 'history_system' },
  { key: { type: 1, hkey: -1 }, name: 'history_type' },
  { key: { type: 1, id: 1, hkey: -1 }, name: 'history_instance' },
  // Only pending versions have the field: the recovery sweep at start-up reads them.
  { key: { 'pending.at': 1 }, name: 'pending', sparse: true },
  // Only versions staged by a transaction not yet rolled forward (staged-commit.ts).
  { key: { 'txn.id': 1 }, name: 'staged', sparse: true },
];

/**
 * Indexes of the current-resources collection. The `idx.*` ones are compound
 * multikey indexes over the index sub-array: with `$elemMatch` MongoDB bounds
 * every listed field of the same element, so a token search is an index seek
 * on (type, param, code, system), a date search a range on (type, param, low).
 * Sorting on a search parameter is not indexed (values live under
 * `sort.<param>`; a wildcard index could serve them on MongoDB, FerretDB has none).
 * @see https://hl7.org/fhir/R4/search.html
 */
export const RESOURCE_INDEXES: IndexDescription[] = [
  // Default order (Type/id) and _id searches.
  { key: { type: 1, deleted: 1, _id: 1 }, name: 'type_ref' },
  { key: { type: 1, deleted: 1, luMs: 1 }, name: 'type_lastupdated' },
  { key: { type: 1, 'idx.p': 1, 'idx.code': 1, 'idx.system': 1 }, name: 'ix_token' },
  { key: { type: 1, 'idx.p': 1, 'idx.value': 1 }, name: 'ix_value' },
  { key: { type: 1, 'idx.p': 1, 'idx.ref': 1 }, name: 'ix_reference' },
  { key: { type: 1, 'idx.p': 1, 'idx.idValue': 1 }, name: 'ix_ref_identifier' },
  { key: { type: 1, 'idx.p': 1, 'idx.low': 1 }, name: 'ix_date_low' },
  { key: { type: 1, 'idx.p': 1, 'idx.high': 1 }, name: 'ix_date_high' },
  { key: { type: 1, 'idx.p': 1, 'idx.c0.code': 1 }, name: 'ix_composite' },
];

/** Indexes of the chain links (the `chains` directory needs only its `_id`). */
export const CHAIN_LINK_INDEXES: IndexDescription[] = [
  // One link per (chain, seq) (the `_id` chain#seq says it too), read in seq order.
  { key: { chain: 1, seq: 1 }, name: 'chain_seq', unique: true },
];

/** Creates the indexes the collections are missing (collections are created with their first index). */
export async function ensureIndexes(db: Db): Promise<void> {
  await ensure(db, VERSIONS, VERSION_INDEXES);
  await ensure(db, RESOURCES, RESOURCE_INDEXES);
  await ensure(db, CHAIN_LINKS, CHAIN_LINK_INDEXES);
}

/**
 * Only the missing ones, one by one: FerretDB 1.24 drops the connection
 * (a server-side panic) on a `createIndexes` of two or more indexes that
 * all exist already, i.e. on every restart. MongoDB would accept either way.
 */
async function ensure(db: Db, name: string, specs: readonly IndexDescription[]): Promise<void> {
  const coll = db.collection(name);
  const existing = new Set<string>();
  const known = await db.listCollections({ name }, { nameOnly: true }).toArray();
  if (known.length > 0) {
    for (const ix of await coll.listIndexes().toArray()) {
      existing.add(ix.name as string);
    }
  }
  for (const spec of specs) {
    if (!existing.has(spec.name as string)) {
      await coll.createIndexes([spec]);
    }
  }
}
