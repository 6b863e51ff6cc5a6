import type { VersionRecord, WriteMethod } from '../port';

/** A row of the `version` table, as selected with VERSION_COLUMNS. */
export interface VersionRow {
  type: string;
  id: string;
  version: number;
  last_updated: string;
  method: string;
  deleted: number;
  json: string | null;
}

/** The `version` columns a VersionRecord is made of (table alias `v`). */
export const VERSION_COLUMNS = 'v.type, v.id, v.version, v.last_updated, v.method, v.deleted, v.json';

/** A `version` row as the port's VersionRecord. */
export function toRecord(row: VersionRow): VersionRecord {
  return {
    type: row.type,
    id: row.id,
    versionId: row.version,
    lastUpdated: row.last_updated,
    method: row.method as WriteMethod,
    deleted: row.deleted === 1,
    json: row.json,
  };
}
