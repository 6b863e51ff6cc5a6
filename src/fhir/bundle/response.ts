import type { OperationOutcome } from '@medplum/fhirtypes';
import { bundleJson, type RawEntry } from '../bundles';
import { FhirError, informational } from '../outcomes';
import { etag, type StoredResource } from '../versioning';

/** `Prefer: return=`, applied to every entry of a batch or transaction. @see https://hl7.org/fhir/R4/http.html#ops */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome' | undefined;

/** What one entry answered: `Bundle.entry.response` plus the resource to carry, if any. */
export interface EntryResult {
  status: number;
  location?: string;
  etag?: string;
  lastModified?: string;
  /** The resource as JSON text (`Bundle.entry.resource`). */
  resource?: string;
  outcome?: OperationOutcome;
  /** The written resource's JSON even when `Prefer` leaves it out of the answer (for the entry's AuditEvent). */
  written?: string;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A create / update / patch, answered as `Prefer` asks. */
export function writtenResult(r: StoredResource, created: boolean, prefer: ReturnPreference): EntryResult {
  const out: EntryResult = {
    status: created ? 201 : 200,
    location: `${r.type}/${r.id}/_history/${r.versionId}`,
    etag: etag(r.versionId),
    lastModified: r.lastUpdated,
    written: r.json,
  };
  if (prefer === 'OperationOutcome') {
    const done = informational(`${created ? 'Created' : 'Updated'} ${r.type}/${r.id} version ${r.versionId}`);
    out.outcome = { ...done, issue: [...done.issue, ...(r.warnings ?? [])] };
  } else if (prefer !== 'minimal') {
    out.resource = r.json;
  }
  return out;
}

/** A delete: 200 with the tombstone's ETag (none when nothing was deleted), an outcome when asked. */
export function deletedResult(versionId: number | undefined, text: string, prefer: ReturnPreference): EntryResult {
  return {
    status: 200,
    ...(versionId !== undefined ? { etag: etag(versionId) } : {}),
    ...(prefer === 'OperationOutcome' ? { outcome: informational(text) } : {}),
  };
}

/** A read, vread or search result (JSON text); `304` when the client's copy is current. */
export function readResult(json: string, version?: Pick<StoredResource, 'versionId' | 'lastUpdated'>): EntryResult {
  return { status: 200, resource: json, ...(version ? { etag: etag(version.versionId), lastModified: version.lastUpdated } : {}) };
}

/** A failed entry of a batch: its status and OperationOutcome. Unexpected errors stay errors (500 for the whole request). */
export function failedResult(err: unknown): EntryResult {
  if (!(err instanceof FhirError)) throw err;
  return { status: err.status, outcome: err.outcome };
}

/**
 * The `batch-response` / `transaction-response` Bundle, entries in the
 * order of the request's entries.
 * @see https://hl7.org/fhir/R4/bundle.html#transaction-response
 */
export function responseBundle(kind: 'batch' | 'transaction', results: readonly EntryResult[]): string {
  const entries: RawEntry[] = results.map((r) => ({
    resource: r.resource,
    rest: {
      response: {
        status: `${r.status} ${REASONS[r.status] ?? ''}`.trim(),
        ...(r.location !== undefined ? { location: r.location } : {}),
        ...(r.etag !== undefined ? { etag: r.etag } : {}),
        ...(r.lastModified !== undefined ? { lastModified: r.lastModified } : {}),
        ...(r.outcome !== undefined ? { outcome: r.outcome } : {}),
      },
    },
  }));
  return bundleJson({ type: `${kind}-response`, link: [] }, entries);
}
