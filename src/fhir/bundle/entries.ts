import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Operation } from 'rfc6902';
import { isStoredResourceType } from '../definitions';
import { FORMAT_PARAMETERS } from '../format-params';
import { isValidId } from '../ids';
import { parseJson } from '../json/lossless';
import { errors, FhirError, outcome } from '../outcomes';
import { parseJsonPatch } from '../patch';
import { fhirPathPatchOperations } from '../fhirpath-patch';

/** The methods an entry's `request.method` may name. @see https://hl7.org/fhir/R4/valueset-http-verb.html */
export type EntryMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What one entry asks, parsed and checked; `index` is its place in `Bundle.entry`. */
export interface EntryRequest {
  index: number;
  method: EntryMethod;
  /** `request.url` as the client wrote it (for error texts). */
  url: string;
  type: string;
  id?: string;
  /** GET `Type/id/_history/vid`. */
  vid?: string;
  /** POST `Type/$name` (only `$lookup`, see bundle/README in the code comments of run-entry.ts). */
  operation?: string;
  /** The query of the URL (search, or conditional criteria), format parameters left out. */
  params: [string, string][];
  fullUrl?: string;
  /** The entry's resource (POST, PUT), as parsed JSON: references are rewritten in place. */
  resource?: Record<string, unknown>;
  /** PATCH: the JSON Patch document (from a Binary entry). */
  patch?: Operation[];
  ifMatch?: number;
  ifNoneExist?: [string, string][];
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

/** An entry that could not even be parsed: it fails alone in a batch, and fails a transaction. */
export interface EntryFailure {
  index: number;
  error: FhirError;
}

const METHODS = new Set<EntryMethod>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Operations an entry may run (read-only ones, answered after a transaction's writes). */
const ENTRY_OPERATIONS = new Set(['$lookup']);

/**
 * Checks the Bundle itself: a `batch` or `transaction` with at most
 * `maxEntries` entries (413 beyond: the client must split it).
 * @see https://hl7.org/fhir/R4/http.html#transaction
 */
export function bundleKind(body: unknown, maxEntries: number): { kind: 'batch' | 'transaction'; entries: unknown[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || (body as { resourceType?: unknown }).resourceType !== 'Bundle') {
    throw errors.badRequest('POST to the base URL takes a Bundle of type batch or transaction', 'Bundle');
  }
  const b = body as { type?: unknown; entry?: unknown };
  if (b.type !== 'batch' && b.type !== 'transaction') {
    throw errors.badRequest(`A Bundle of type ${JSON.stringify(b.type)} cannot be processed: use batch or transaction`, 'Bundle.type');
  }
  if (b.entry !== undefined && !Array.isArray(b.entry)) {
    throw errors.badRequest('Bundle.entry must be an array', 'Bundle.entry');
  }
  const entries = (b.entry ?? []) as unknown[];
  if (entries.length > maxEntries) {
    throw errors.payloadTooLarge(`The Bundle has ${entries.length} entries; this server accepts at most ${maxEntries} (BUNDLE_MAX_ENTRIES): split it`);
  }
  return { kind: b.type, entries };
}

/** Parses entry `index`; throws a FhirError naming it. */
export function parseEntry(raw: unknown, index: number, baseUrl: string): EntryRequest {
  try {
    return parse(raw, index, baseUrl);
  } catch (err) {
    throw err instanceof FhirError ? nameEntry(err, index) : err;
  }
}

function parse(raw: unknown, index: number, baseUrl: string): EntryRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw errors.badRequest('A Bundle entry must be an object');
  const e = raw as { fullUrl?: unknown; resource?: unknown; request?: Record<string, unknown> };
  const req = e.request;
  if (typeof req !== 'object' || req === null) throw errors.badRequest('The entry has no request (bdl-3)');
  const method = req.method;
  if (typeof method !== 'string' || !METHODS.has(method as EntryMethod)) throw errors.badRequest(`Unknown request.method ${JSON.stringify(method)}`);
  if (typeof req.url !== 'string' || req.url.trim() === '') throw errors.badRequest('The entry has no request.url');
  const url = req.url.trim();
  const out: EntryRequest = { index, method: method as EntryMethod, url, type: '', params: [] };
  parseUrl(out, relative(url, baseUrl));
  if (e.fullUrl !== undefined) {
    if (typeof e.fullUrl !== 'string') throw errors.badRequest('fullUrl must be a string');
    out.fullUrl = e.fullUrl;
  }
  if (typeof req.ifMatch === 'string') out.ifMatch = versionTag(req.ifMatch, 'ifMatch');
  if (typeof req.ifNoneMatch === 'string') out.ifNoneMatch = req.ifNoneMatch;
  if (typeof req.ifModifiedSince === 'string') {
    if (Number.isNaN(Date.parse(req.ifModifiedSince))) throw errors.badRequest('request.ifModifiedSince must be an instant');
    out.ifModifiedSince = req.ifModifiedSince;
  }
  if (typeof req.ifNoneExist === 'string') {
    const params = criteriaOf(req.ifNoneExist.replace(/^[^?]*\?/, ''));
    if (params.length === 0) throw errors.badRequest('request.ifNoneExist must hold search criteria, e.g. identifier=system|value');
    out.ifNoneExist = params;
  }
  checkShape(out, e.resource);
  return out;
}

/** An absolute URL must be this server's; the rest is `Type[/id[/_history/vid]][?query]`. */
function relative(url: string, baseUrl: string): string {
  if (url.startsWith(`${baseUrl}/`)) return url.slice(baseUrl.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) throw errors.badRequest('request.url must be relative to this server (or start with its base URL)');
  return url.replace(/^\//, '');
}

function parseUrl(out: EntryRequest, url: string): void {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (q >= 0) out.params = criteriaOf(url.slice(q + 1));
  const seg = path.split('/');
  out.type = seg[0];
  if (!isStoredResourceType(out.type)) throw errors.notFound(`Unknown resource type "${out.type}"`);
  if (seg.length === 2 && seg[1].startsWith('$')) out.operation = seg[1];
  else if (seg.length === 2 || (seg.length === 4 && seg[2] === '_history')) {
    out.id = seg[1];
    if (!isValidId(out.id)) throw errors.badRequest(`"${out.id}" is not a valid resource id`);
    if (seg.length === 4) out.vid = seg[3];
  } else if (seg.length !== 1) throw errors.badRequest('request.url must be Type, Type/id, Type/id/_history/vid or Type?criteria');
}

/** Which URL shapes each method takes, and the body it needs. @see https://hl7.org/fhir/R4/http.html#transaction */
function checkShape(out: EntryRequest, resource: unknown): void {
  const { method } = out;
  const conditional = out.id === undefined && out.operation === undefined;
  if (out.operation !== undefined && (method !== 'POST' || !ENTRY_OPERATIONS.has(out.operation))) {
    throw errors.badRequest(`Operation ${out.operation} is not supported in a Bundle entry (only POST $lookup)`);
  }
  if (out.vid !== undefined && method !== 'GET' && method !== 'HEAD') throw errors.badRequest('Only GET may name a version');
  if (method === 'POST' && out.id !== undefined) throw errors.badRequest('POST creates on the type (request.url = Type); use PUT for an id');
  if ((method === 'PUT' || method === 'PATCH' || method === 'DELETE') && conditional && out.params.length === 0) {
    throw errors.badRequest(`${method} needs Type/id or search criteria (Type?criteria)`);
  }
  if (method === 'POST' || method === 'PUT') {
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) throw errors.badRequest(`${method} needs the entry's resource`);
    out.resource = resource as Record<string, unknown>;
  }
  if (method === 'PATCH') out.patch = patchOf(resource, out.type);
}

/**
 * The PATCH body of an entry: a Binary holding the JSON Patch document
 * (base64 `data`, contentType application/json-patch+json), as R4 says;
 * or a FHIRPath Patch (Parameters) of the simple kind IHE MHD sends in an
 * ITI-65 replacement (see fhirpath-patch.ts).
 * @see https://hl7.org/fhir/R4/http.html#transaction
 */
function patchOf(resource: unknown, type: string): Operation[] {
  const r = resource as { resourceType?: unknown; contentType?: unknown; data?: unknown } | undefined;
  if (r?.resourceType === 'Parameters') return fhirPathPatchOperations(r, type);
  if (r?.resourceType !== 'Binary' || typeof r.data !== 'string' || String(r.contentType).split(';')[0].trim() !== 'application/json-patch+json') {
    throw errors.badRequest('PATCH needs a Binary resource with contentType application/json-patch+json and the patch in data');
  }
  let ops: unknown;
  try {
    ops = parseJson(Buffer.from(r.data, 'base64').toString('utf8'));
  } catch {
    throw errors.badRequest('The Binary of a PATCH entry does not hold JSON');
  }
  return parseJsonPatch(ops);
}

function criteriaOf(query: string): [string, string][] {
  return [...new URLSearchParams(query)].filter(([k]) => !FORMAT_PARAMETERS.has(k));
}

function versionTag(tag: string, what: string): number {
  const m = /^\s*(?:W\/)?"(\d{1,10})"\s*$/.exec(tag);
  if (!m) throw errors.badRequest(`request.${what} must be a version ETag such as W/"3"`);
  return Number(m[1]);
}

/**
 * The spec's processing order: DELETE, then POST, then PUT and PATCH, then
 * GET and HEAD; entries keep their Bundle order within each group.
 * @see https://hl7.org/fhir/R4/http.html#trules
 */
export function processingOrder<T extends { method: EntryMethod; index: number }>(entries: readonly T[]): T[] {
  const rank: Record<EntryMethod, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };
  return [...entries].sort((a, b) => rank[a.method] - rank[b.method] || a.index - b.index);
}

/**
 * The error, naming the entry it came from: every issue gets the
 * expression `Bundle.entry[i]` (its own expressions moved under the entry's
 * resource) and a text that starts with the entry.
 */
export function nameEntry(err: FhirError, index: number, what?: string): FhirError {
  const where = `Bundle.entry[${index}]`;
  const issues = (err.outcome.issue ?? []).map((i): OperationOutcomeIssue => ({
    ...i,
    details: { ...i.details, text: `${where}${what ? ` (${what})` : ''}: ${i.details?.text ?? i.diagnostics ?? 'failed'}` },
    expression: [where, ...(i.expression ?? []).filter((x) => !x.startsWith('Bundle.')).map((x) => `${where}.resource${x.includes('.') ? x.slice(x.indexOf('.')) : ''}`)],
  }));
  if (err.outcome.issue?.[0]?.expression?.[0] === where) return err;
  return new FhirError(err.status, outcome(...issues), err.headers);
}
