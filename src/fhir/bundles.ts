import type { BundleLink, OperationOutcome } from '@medplum/fhirtypes';
import type { VersionRecord, WriteMethod } from '../store/port';
import { etag } from './versioning';

/**
 * Bundles are assembled as text: every stored resource is already JSON, so it
 * is spliced in rather than parsed and serialized again. Only the small parts
 * the server makes (links, search modes, request/response) go through
 * JSON.stringify.
 * @see https://hl7.org/fhir/R4/bundle.html
 */
export interface BundleHead {
  type: 'searchset' | 'history' | 'batch-response' | 'transaction-response';
  total?: number;
  link: BundleLink[];
}

/** One entry: `resource` is raw JSON text (or absent), `rest` the other entry fields. */
export interface RawEntry {
  fullUrl?: string;
  resource?: string;
  rest?: Record<string, unknown>;
}

function entryJson(e: RawEntry): string {
  const parts: string[] = [];
  if (e.fullUrl !== undefined) {
    parts.push(`"fullUrl":${JSON.stringify(e.fullUrl)}`);
  }
  if (e.resource !== undefined) {
    parts.push(`"resource":${e.resource}`);
  }
  for (const [k, v] of Object.entries(e.rest ?? {})) {
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** The Bundle's JSON text. */
export function bundleJson(head: BundleHead, entries: readonly RawEntry[]): string {
  const headJson = JSON.stringify({ resourceType: 'Bundle', ...head });
  if (entries.length === 0) {
    return headJson;
  }
  return `${headJson.slice(0, -1)},"entry":[${entries.map(entryJson).join(',')}]}`;
}

const STATUS_OF_METHOD: Record<WriteMethod, string> = {
  POST: '201 Created',
  PUT: '200 OK',
  PATCH: '200 OK',
  DELETE: '204 No Content',
};

/**
 * A history entry: the version's resource (absent for a delete), how it came
 * to be (`request`) and its outcome (`response`).
 * @see https://hl7.org/fhir/R4/http.html#history
 */
export function historyEntry(baseUrl: string, v: VersionRecord): RawEntry {
  return {
    fullUrl: `${baseUrl}/${v.type}/${v.id}`,
    resource: v.deleted ? undefined : (v.json as string),
    rest: {
      request: { method: v.method, url: v.method === 'POST' ? v.type : `${v.type}/${v.id}` },
      response: { status: STATUS_OF_METHOD[v.method], etag: etag(v.versionId), lastModified: v.lastUpdated },
    },
  };
}

/** An entry carrying an OperationOutcome about the search itself (e.g. ignored parameters). */
export function outcomeEntry(outcome: OperationOutcome): RawEntry {
  return { resource: JSON.stringify(outcome), rest: { search: { mode: 'outcome' } } };
}

/** Query string of `params`, in order (values URL-encoded). */
export function queryString(params: readonly (readonly [string, string])[]): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** `base` + `?query` when there is a query. */
export function withQuery(base: string, params: readonly (readonly [string, string])[]): string {
  const q = queryString(params);
  return q ? `${base}?${q}` : base;
}

/**
 * The `self`, `next` and `previous` links of a page: `self` echoes the
 * parameters used; the others add the opaque `_cursor` of the neighbouring
 * page when there is one.
 * @see https://hl7.org/fhir/R4/http.html#paging
 */
export function pageLinks(
  self: string,
  params: readonly (readonly [string, string])[],
  cursors: { next?: string; previous?: string },
): BundleLink[] {
  const link: BundleLink[] = [{ relation: 'self', url: withQuery(self, params) }];
  for (const relation of ['next', 'previous'] as const) {
    const cursor = cursors[relation];
    if (cursor !== undefined) {
      link.push({ relation, url: withQuery(self, [...params, ['_cursor', cursor]]) });
    }
  }
  return link;
}
