import { isStoredResourceType } from '../definitions';
import { FORMAT_PARAMETERS } from '../format-params';
import type { PageLimits } from '../history';
import { errors } from '../outcomes';
import { parseSearch } from '../search/parse';
import type { Condition } from '../search/plan';
import { dateRange } from '../search/values';
import type { CompartmentPosition } from './compartment-reader';

/** `_type` (comma-separated, repeatable): the stored types named, in order, without repeats; 400 for an unknown one. */
export function parseTypes(params: readonly [string, string][]): string[] | undefined {
  const named = params.filter(([k]) => k === '_type').flatMap(([, v]) => v.split(',').map((t) => t.trim()).filter(Boolean));
  for (const t of named) {
    if (!isStoredResourceType(t)) throw errors.badRequest(`Unknown resource type "${t}" in _type`, '_type');
  }
  return named.length > 0 ? [...new Set(named)] : undefined;
}

/** `_since`: a FHIR instant, as epoch ms (400 otherwise). */
export function parseSince(value: string): number {
  const range = /T/.test(value) ? dateRange(value) : undefined;
  if (!range) throw errors.badRequest(`_since must be a FHIR instant such as 2024-01-01T00:00:00Z (got "${value}")`, '_since');
  return range.low;
}

/** What `Patient/{id}/$everything` was asked. */
export interface EverythingParams {
  count: number;
  sinceMs?: number;
  types?: string[];
  from: CompartmentPosition;
  /** Echoed in the `self` and `next` links. */
  selfParams: [string, string][];
}

/**
 * The parameters of `$everything`: `_count`, `_since`, `_type` and the
 * paging `_cursor`; `start` and `end` (care dates) are not supported (400);
 * other parameters are 400 unless the client asked for lenient handling.
 * @see https://hl7.org/fhir/R4/patient-operation-everything.html
 */
export function parseEverythingParams(params: readonly [string, string][], limits: PageLimits, lenient: boolean): EverythingParams {
  const out: EverythingParams = { count: limits.defaultCount, from: { group: 0 }, selfParams: [], types: parseTypes(params) };
  for (const [name, value] of params) {
    switch (name) {
      case '_count':
        if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw errors.badRequest(`_count must be a positive integer (got "${value}")`, '_count');
        out.count = Math.min(Number(value), limits.maxCount);
        break;
      case '_since':
        out.sinceMs = parseSince(value);
        out.selfParams.push(['_since', value]);
        break;
      case '_type':
        break;
      case '_cursor':
        out.from = decodePosition(value);
        break;
      case 'start':
      case 'end':
        throw errors.badRequest(`$everything parameter ${name} is not supported by this server (use _since or _type)`, name);
      default:
        if (!FORMAT_PARAMETERS.has(name) && !lenient) throw errors.badRequest(`Unknown $everything parameter "${name}"`, name);
    }
  }
  if (out.types) out.selfParams.unshift(['_type', out.types.join(',')]);
  out.selfParams.push(['_count', String(out.count)]);
  return out;
}

const POSITION_REF = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

/** A compartment position as an opaque, URL-safe `_cursor`. */
export function encodePosition(p: CompartmentPosition): string {
  return Buffer.from(JSON.stringify(['e1', p.group, p.after ?? null]), 'utf8').toString('base64url');
}

function decodePosition(s: string): CompartmentPosition {
  const bad = () => errors.badRequest("Parameter '_cursor' is not a valid paging cursor: follow the Bundle's next link as given", '_cursor');
  if (s.length > 512 || !/^[A-Za-z0-9_-]+$/.test(s)) throw bad();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(v) || v.length !== 3 || v[0] !== 'e1' || !Number.isInteger(v[1]) || v[1] < 0 || v[1] > 1000) throw bad();
  if (v[2] !== null && (typeof v[2] !== 'string' || !POSITION_REF.test(v[2]))) throw bad();
  return { group: v[1] as number, after: (v[2] as string | null) ?? undefined };
}

/** The NDJSON formats a kick-off may ask for (`_outputFormat`); the files are always `application/fhir+ndjson`. */
export const OUTPUT_FORMATS: ReadonlySet<string> = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

/** What a Bulk Data kick-off asked, validated. */
export interface ExportParams {
  types?: string[];
  sinceMs?: number;
  since?: string;
  /** `_typeFilter` per type: alternatives (a resource matching any of them is exported). */
  typeFilters: Map<string, Condition[][]>;
}

/**
 * The kick-off parameters: `_outputFormat` (NDJSON only), `_since`,
 * `_type`, `_typeFilter` (`Type?search`, repeatable or comma-separated;
 * filters of one type are alternatives; chains, `_has`, includes, sorting
 * and paging parameters are refused in them). Unsupported parameters
 * (`_elements`, `patient`, `includeAssociatedData`) are 400 unless the
 * client asked for lenient handling.
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html#query-parameters
 */
export function parseExportParams(params: readonly [string, string][], searchOpts: { baseUrl: string; maxCount: number }, lenient: boolean): ExportParams {
  const out: ExportParams = { types: parseTypes(params), typeFilters: new Map() };
  for (const [name, value] of params) {
    switch (name) {
      case '_outputFormat':
        if (!OUTPUT_FORMATS.has(value)) throw errors.badRequest(`_outputFormat must be one of ${[...OUTPUT_FORMATS].join(', ')} (got "${value}")`, '_outputFormat');
        break;
      case '_since':
        out.sinceMs = parseSince(value);
        out.since = value;
        break;
      case '_type':
        break;
      case '_typeFilter':
        for (const q of splitTypeFilters(value)) addTypeFilter(out, q, searchOpts);
        break;
      default:
        if (!FORMAT_PARAMETERS.has(name) && !lenient) throw errors.badRequest(`Unsupported $export parameter "${name}"`, name);
    }
  }
  for (const t of out.typeFilters.keys()) {
    if (out.types && !out.types.includes(t)) throw errors.badRequest(`_typeFilter names ${t}, which _type does not include`, '_typeFilter');
  }
  return out;
}

/** `A?x=1,B?y=2`: a comma starts a new filter only where a type and `?` follow (commas inside values stay). */
function splitTypeFilters(value: string): string[] {
  return value.split(/,(?=[A-Z][A-Za-z]+\?)/).map((s) => s.trim()).filter(Boolean);
}

const NOT_IN_FILTERS = /^(_include|_revinclude|_sort|_count|_cursor|_total|_summary|_elements|_has|_type)(:|$)/;

function addTypeFilter(out: ExportParams, query: string, opts: { baseUrl: string; maxCount: number }): void {
  const m = /^([A-Z][A-Za-z]+)\?(.+)$/.exec(query);
  if (!m || !isStoredResourceType(m[1])) throw errors.badRequest(`_typeFilter must be Type?search-parameters (got "${query}")`, '_typeFilter');
  const criteria = [...new URLSearchParams(m[2])];
  for (const [k] of criteria) {
    if (NOT_IN_FILTERS.test(k) || k.includes('.')) throw errors.badRequest(`_typeFilter: parameter "${k}" is not supported in a filter`, '_typeFilter');
  }
  const parsed = parseSearch([m[1]], criteria, { baseUrl: opts.baseUrl, defaultCount: 1, maxCount: opts.maxCount, lenient: false });
  const list = out.typeFilters.get(m[1]) ?? [];
  list.push(parsed.plan.where);
  out.typeFilters.set(m[1], list);
}
