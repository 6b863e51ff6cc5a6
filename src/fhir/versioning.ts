import type { Meta, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { VersionRecord } from '../store/port';

/**
 * A resource as the service hands it out: identity, version and the stored
 * JSON text (serialized once, at write time; reads send it as is).
 */
export interface StoredResource {
  type: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  json: string;
  /** Validation warnings of the write that made this version (e.g. an unknown meta.profile); not stored. */
  warnings?: OperationOutcomeIssue[];
}

/** The live (non-deleted) resource of a version record. */
export function storedResource(v: VersionRecord): StoredResource {
  return { type: v.type, id: v.id, versionId: v.versionId, lastUpdated: v.lastUpdated, json: v.json as string };
}

/**
 * The lastUpdated of a new version: now, but never earlier than (or equal to)
 * the previous version's, so a resource's history stays in order even when
 * the clocks of several server processes disagree.
 * @see https://hl7.org/fhir/R4/resource.html#Meta
 */
export function nextLastUpdated(previous: string | undefined, nowMs: number): string {
  const prevMs = previous ? Date.parse(previous) : -Infinity;
  return new Date(Math.max(nowMs, prevMs + 1)).toISOString();
}

/**
 * The resource as stored: `resourceType`, `id`, `meta` first, with the
 * server-owned `meta.versionId` / `meta.lastUpdated`. Client meta (profile,
 * security, tag, source) is kept.
 * @see https://hl7.org/fhir/R4/resource.html#Meta
 */
export function stampMeta<T extends Resource>(resource: T, id: string, versionId: number, lastUpdated: string): T {
  const { resourceType, id: _ignored, meta, ...rest } = resource as Resource & Record<string, unknown>;
  const { versionId: _v, lastUpdated: _l, ...clientMeta } = (meta ?? {}) as Meta;
  return {
    resourceType,
    id,
    meta: { versionId: String(versionId), lastUpdated, ...clientMeta },
    ...rest,
  } as unknown as T;
}

/** `W/"3"` for version 3. @see https://hl7.org/fhir/R4/http.html#versioning */
export function etag(versionId: number): string {
  return `W/"${versionId}"`;
}
