import type { ScalarEntryKind } from '../../fhir/search/index-entry';

/**
 * Index tables, one per entry kind. Each row belongs to the current version of
 * one resource (`rid`), carries the resource type (so that every lookup is
 * `(type, param, value)`-indexed), and `grp`: null for a plain entry, or the
 * number of the composite combination the row is a part of (its `param` is
 * then `<composite code>#<part index>`). `plainValueIndex`: the table's value
 * indexes hold plain rows only (`WHERE grp IS NULL`, see SCHEMA), so a value
 * lookup must say `grp IS NULL` for SQLite to use them.
 */
export const INDEX_TABLES: Record<ScalarEntryKind, { table: string; columns: readonly string[]; plainValueIndex?: true }> = {
  token: { table: 'ix_token', columns: ['system', 'code', 'text'] },
  string: { table: 'ix_string', columns: ['value', 'exact'], plainValueIndex: true },
  reference: { table: 'ix_reference', columns: ['ref', 'ref_type', 'ref_id', 'id_system', 'id_value'] },
  date: { table: 'ix_date', columns: ['low', 'high'], plainValueIndex: true },
  number: { table: 'ix_number', columns: ['value', 'low', 'high'], plainValueIndex: true },
  quantity: { table: 'ix_quantity', columns: ['value', 'low', 'high', 'system', 'code', 'unit'], plainValueIndex: true },
  uri: { table: 'ix_uri', columns: ['value'], plainValueIndex: true },
};

/** One day in ms: a date-only value (`2024-01-15`) is exactly this wide, minus 1 ms. */
export const DAY_MS = 86_400_000;

/**
 * Span classes of `ix_date_span` rows: class i holds the (resource, param)
 * pairs whose whole extent (max entry high - min entry low) is at most
 * `DATE_SPAN_WIDTHS[i]` ms (day, month and year precision); class
 * `DATE_SPAN_WIDTHS.length` holds the wider ones (long or open Periods,
 * values spread over years). Stored data depends on these numbers: changing
 * them needs a new table name, so that the backfill below runs again.
 * @see https://hl7.org/fhir/R4/search.html#date
 */
export const DATE_SPAN_WIDTHS: readonly number[] = [DAY_MS, 31 * DAY_MS, 366 * DAY_MS];

/** The span class of an extent [low, high] (see {@link DATE_SPAN_WIDTHS}). */
export function dateSpanClass(low: number, high: number): number {
  const i = DATE_SPAN_WIDTHS.findIndex((w) => high - low <= w);
  return i < 0 ? DATE_SPAN_WIDTHS.length : i;
}

/** The same classification in SQL, for the backfill of existing databases. */
const SPAN_CLASS_SQL = `CASE ${DATE_SPAN_WIDTHS.map((w, i) => `WHEN high - low <= ${w} THEN ${i}`).join(' ')}
  ELSE ${DATE_SPAN_WIDTHS.length} END`;

/** Entry field name (index-entry.ts) to column name, where they differ. */
export const COLUMN_OF_FIELD: Record<string, string> = {
  type: 'ref_type',
  id: 'ref_id',
  idSystem: 'id_system',
  idValue: 'id_value',
};

/**
 * The schema. `resource` has one row per resource (its current version, maybe
 * a tombstone); `version` holds every version, immutable; `sort_value` holds
 * the per-parameter sort values of current versions.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS version (
  vrow INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated TEXT NOT NULL,
  method TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  json TEXT,
  hkey TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS version_key ON version(type, id, version);
CREATE INDEX IF NOT EXISTS version_type_hkey ON version(type, hkey);
CREATE INDEX IF NOT EXISTS version_hkey ON version(hkey);

-- One counter per resource type, bumped by every write in its transaction:
-- changeMarker() reads them to tell any process that a type was written.
CREATE TABLE IF NOT EXISTS change_counter (type TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
-- Keys no two live resources may hold (VersionWrite.uniqueKeys), owned by resource.rid.
CREATE TABLE IF NOT EXISTS unique_key (key TEXT PRIMARY KEY, rid INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unique_key_rid ON unique_key(rid);

-- Hash chains (ResourceStore.appendChained, chains.ts): the newest link of
-- each chain, and every link with its record (the audit log: one row per
-- AuditEvent, outside the resource tables and their index).
CREATE TABLE IF NOT EXISTS chain_head (chain TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chain_entry (
  erow INTEGER PRIMARY KEY,
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS chain_entry_seq ON chain_entry(chain, seq);

CREATE TABLE IF NOT EXISTS resource (
  rid INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  ref TEXT NOT NULL,
  version INTEGER NOT NULL,
  vrow INTEGER NOT NULL,
  last_updated_ms INTEGER NOT NULL,
  deleted INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS resource_key ON resource(type, id);
CREATE INDEX IF NOT EXISTS resource_type_ref ON resource(type, deleted, ref);
CREATE INDEX IF NOT EXISTS resource_type_lu ON resource(type, deleted, last_updated_ms);

CREATE TABLE IF NOT EXISTS sort_value (
  rid INTEGER NOT NULL,
  param TEXT NOT NULL,
  low,
  high,
  PRIMARY KEY (rid, param)
) WITHOUT ROWID;

-- Value indexes lead with (type, param, value) and end with rid, so that a
-- search driver reads its candidate rids from the index alone, without one
-- table lookup per entry; columns that predicates combine with the value
-- (system, the other end of a date range, ...) are included for the same reason.
-- The (rid, param) indexes serve per-resource checks, includes and deletes.
-- Value indexes are partial where some rows are never looked up by value
-- (each such row costs a B-tree insert, often at a random place, on every
-- write): the date, number, quantity, string and uri value indexes hold plain
-- entries only (grp IS NULL), because a composite's parts after the first are
-- reached through (rid, param), and no R4 composite starts with one of these
-- kinds (they start with a token or a reference, whose value indexes keep
-- every row); search-where.ts says \`grp IS NULL\` in the lookups of those
-- tables, so that SQLite may use them. The identifier index of references
-- holds only the references that have an identifier value.
-- Index names carry a version: an older database gets the new indexes and
-- loses the ones they replace.
DROP INDEX IF EXISTS ix_token_code;
DROP INDEX IF EXISTS ix_string_value;
DROP INDEX IF EXISTS ix_reference_ref;
DROP INDEX IF EXISTS ix_reference_id;
DROP INDEX IF EXISTS ix_reference_ident;
DROP INDEX IF EXISTS ix_date_low;
DROP INDEX IF EXISTS ix_date_high;
DROP INDEX IF EXISTS ix_date_rid;
DROP INDEX IF EXISTS ix_number_value;
DROP INDEX IF EXISTS ix_quantity_value;
DROP INDEX IF EXISTS ix_uri_value;
DROP INDEX IF EXISTS ix_reference_ident2;
DROP INDEX IF EXISTS ix_date_low2;
DROP INDEX IF EXISTS ix_date_high2;
DROP INDEX IF EXISTS ix_number_value2;
DROP INDEX IF EXISTS ix_quantity_value2;
DROP INDEX IF EXISTS ix_string_value2;
DROP INDEX IF EXISTS ix_uri_value2;

CREATE TABLE IF NOT EXISTS ix_token (rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, grp INTEGER, system TEXT, code TEXT, text TEXT);
CREATE INDEX IF NOT EXISTS ix_token_code2 ON ix_token(type, param, code, system, rid);
CREATE INDEX IF NOT EXISTS ix_token_rid ON ix_token(rid, param);

CREATE TABLE IF NOT EXISTS ix_string (rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, grp INTEGER, value TEXT NOT NULL, exact TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_string_value3 ON ix_string(type, param, value, rid) WHERE grp IS NULL;
CREATE INDEX IF NOT EXISTS ix_string_rid ON ix_string(rid, param);

CREATE TABLE IF NOT EXISTS ix_reference (rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, grp INTEGER, ref TEXT, ref_type TEXT, ref_id TEXT, id_system TEXT, id_value TEXT);
CREATE INDEX IF NOT EXISTS ix_reference_ref2 ON ix_reference(type, param, ref, rid);
CREATE INDEX IF NOT EXISTS ix_reference_id2 ON ix_reference(type, param, ref_id, ref_type, rid);
CREATE INDEX IF NOT EXISTS ix_reference_ident3 ON ix_reference(type, param, id_value, id_system, rid) WHERE id_value IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_reference_rid ON ix_reference(rid, param);

CREATE TABLE IF NOT EXISTS ix_date (rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, grp INTEGER, low INTEGER NOT NULL, high INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ix_date_low3 ON ix_date(type, param, low, high, rid) WHERE grp IS NULL;
CREATE INDEX IF NOT EXISTS ix_date_high3 ON ix_date(type, param, high, low, rid) WHERE grp IS NULL;
-- Per-resource checks of date conditions compare low and high: reading them from
-- the index saves one table lookup per entry checked.
CREATE INDEX IF NOT EXISTS ix_date_rid2 ON ix_date(rid, param, low, high);

-- Per resource and plain date parameter: the extent of its entries (min low,
-- max high) and its span class. A two-sided range search reads its candidates
-- as one bounded low range per class (search-date-span.ts), where ix_date
-- can only offer the half of a parameter on one side of either bound.
CREATE TABLE IF NOT EXISTS ix_date_span (
  rid INTEGER NOT NULL,
  type TEXT NOT NULL,
  param TEXT NOT NULL,
  span INTEGER NOT NULL,
  low INTEGER NOT NULL,
  high INTEGER NOT NULL,
  PRIMARY KEY (rid, param)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_date_span_low ON ix_date_span(type, param, span, low, high);
-- Backfill, for databases written before ix_date_span existed. The table is
-- empty exactly when ix_date has no plain rows (both are written together), so
-- this copies once; one statement, so atomic. At every later start the guard
-- row g is absent and, joined first (CROSS JOIN fixes the order), it keeps
-- SQLite from reading ix_date at all.
INSERT INTO ix_date_span (rid, type, param, span, low, high)
  SELECT rid, type, param, ${SPAN_CLASS_SQL}, low, high FROM (
    SELECT d.rid, d.type, d.param, MIN(d.low) AS low, MAX(d.high) AS high
    FROM (SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM ix_date_span)) AS g CROSS JOIN ix_date d
    WHERE d.grp IS NULL
    GROUP BY d.rid, d.param
  );

CREATE TABLE IF NOT EXISTS ix_number (rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, grp INTEGER, value REAL NOT NULL, low REAL, high REAL);
CREATE INDEX IF NOT EXISTS ix_number_value3 ON ix_number(type, param, value, rid) WHERE grp IS NULL;
CREATE INDEX IF NOT EXISTS ix_number_rid ON ix_number(rid, param);

CREATE TABLE IF NOT EXISTS ix_quantity (rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, grp INTEGER, value REAL NOT NULL, system TEXT, code TEXT, unit TEXT, low REAL, high REAL);
CREATE INDEX IF NOT EXISTS ix_quantity_value3 ON ix_quantity(type, param, value, code, system, rid) WHERE grp IS NULL;
CREATE INDEX IF NOT EXISTS ix_quantity_rid ON ix_quantity(rid, param);

CREATE TABLE IF NOT EXISTS ix_uri (rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, grp INTEGER, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_uri_value3 ON ix_uri(type, param, value, rid) WHERE grp IS NULL;
CREATE INDEX IF NOT EXISTS ix_uri_rid ON ix_uri(rid, param);
`;
