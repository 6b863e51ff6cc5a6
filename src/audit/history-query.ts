import type { AuditEvent } from '@medplum/fhirtypes';
import { errors, issue } from '../fhir/outcomes';
import { NARROW_INDEX } from '../fhir/search/parse-params';
import { splitPrefix } from '../fhir/search/parse-values';
import { dateRange, normalizeReference } from '../fhir/search/values';

/**
 * The access history's query (`GET AuditEvent?...`, DMP-RULES.md § 8 item
 * 12), parsed: the patient whose chain is read, the filters as one
 * predicate over AuditEvents, paging and order. The history is answered
 * from the patient's hash chain, not from the resource index (see
 * docs/audit.md), so it has its own, small parser: every filter of the
 * AuditEvent search parameters it declares.
 * @see https://hl7.org/fhir/R4/auditevent.html#search
 */
export interface HistoryQuery {
  /** The patient named by `patient=` (undefined: the caller's own DMP). */
  patient?: string;
  matches(event: AuditEvent): boolean;
  /** True when some filter is given (the total then needs a scan). */
  filtered: boolean;
  count: number;
  /** Newest first (default) or oldest first (`_sort=date`). */
  newestFirst: boolean;
  /** Paging position: links strictly beyond this seq (in the query's order). */
  cursor?: number;
  totalAccurate: boolean;
  /** Query parameters to repeat in the page links (filters, `_count`, `_sort`). */
  linkParams: [string, string][];
  /** Parameters ignored under `handling=lenient`, for a warning. */
  ignored: string[];
}

type Filter = (e: AuditEvent) => boolean;

/** The parameters declared for AuditEvent (parse-params.ts NARROW_INDEX, also the CapabilityStatement's): filterOf implements exactly these. */
const HISTORY_PARAMS = NARROW_INDEX.AuditEvent as ReadonlySet<string>;

/** Parameters that do not filter. */
const CONTROL = new Set(['_count', '_sort', '_total', '_cursor', '_format', '_pretty', '_summary', '_elements']);

/**
 * Parses the history's parameters. Values of one parameter separated by
 * commas are alternatives (OR); repeated parameters must all hold (AND), as
 * in every FHIR search. Unknown parameters are 400, or ignored when lenient.
 * @see https://hl7.org/fhir/R4/search.html
 */
export function parseHistoryQuery(
  params: readonly [string, string][],
  opts: { baseUrl: string; defaultCount: number; maxCount: number; lenient: boolean },
): HistoryQuery {
  const filters: Filter[] = [];
  const linkParams: [string, string][] = [];
  const ignored: string[] = [];
  let patient: string | undefined;
  let count = opts.defaultCount;
  let newestFirst = true;
  let cursor: number | undefined;
  let totalAccurate = false;
  for (const [rawName, value] of params) {
    const [name, modifier] = rawName.split(':', 2);
    if (CONTROL.has(name)) {
      if (name === '_count') count = Math.min(positiveInt('_count', value), opts.maxCount);
      if (name === '_sort') newestFirst = sortOrder(value);
      if (name === '_total') totalAccurate = value === 'accurate';
      if (name === '_cursor') cursor = positiveInt('_cursor', value);
      if (name !== '_cursor' && name !== '_format' && name !== '_pretty') linkParams.push([rawName, value]);
      continue;
    }
    const alternatives = value.split(',');
    const filter = filterOf(name, modifier, alternatives, opts.baseUrl);
    if (!filter) {
      if (opts.lenient) {
        ignored.push(rawName);
        continue;
      }
      throw errors.badRequest(`Unknown search parameter '${rawName}' for AuditEvent (the access history supports ${[...HISTORY_PARAMS].join(', ')})`, rawName);
    }
    if (name === 'patient') {
      const ids = alternatives.map((v) => referenceId(v, 'Patient', opts.baseUrl));
      if (ids.length !== 1 || !ids[0] || (patient !== undefined && patient !== ids[0])) {
        throw errors.badRequest('The access history is read for one patient at a time: patient=Patient/{id}', 'patient');
      }
      patient = ids[0];
    } else {
      filters.push(filter);
    }
    linkParams.push([rawName, value]);
  }
  return {
    patient,
    matches: (e) => filters.every((f) => f(e)),
    filtered: filters.length > 0,
    count,
    newestFirst,
    cursor,
    totalAccurate,
    linkParams,
    ignored,
  };
}

/** The warning of a lenient search that ignored parameters. */
export function ignoredWarning(q: HistoryQuery) {
  return q.ignored.length > 0 ? issue('not-supported', `Unknown search parameters ignored: ${q.ignored.join(', ')}`, undefined, 'warning') : undefined;
}

function filterOf(name: string, modifier: string | undefined, values: string[], baseUrl: string): Filter | undefined {
  if (modifier !== undefined || !HISTORY_PARAMS.has(name)) {
    // No modifier is supported on the history's parameters, nor any parameter not declared.
    return undefined;
  }
  const any = (test: (v: string) => Filter): Filter => {
    const tests = values.map(test);
    return (e) => tests.some((t) => t(e));
  };
  switch (name) {
    case 'patient':
      return () => true;
    case '_id':
      return any((v) => (e) => e.id === v);
    case 'date':
    case '_lastUpdated':
      // An AuditEvent is written once, when it is recorded: its lastUpdated is its date.
      return any((v) => dateFilter(v));
    case 'action':
      return any((v) => (e) => e.action === v);
    case 'outcome':
      return any((v) => (e) => e.outcome === v);
    case 'altid':
      return any((v) => (e) => (e.agent ?? []).some((a) => a.altId === v));
    case 'type':
      return any((v) => tokenFilter(v, (e) => (e.type ? [e.type] : [])));
    case 'subtype':
      return any((v) => tokenFilter(v, (e) => e.subtype ?? []));
    case 'agent':
      return any((v) => referenceFilter(v, baseUrl, (e) => (e.agent ?? []).map((a) => a.who?.reference)));
    case 'entity':
      return any((v) => referenceFilter(v, baseUrl, (e) => (e.entity ?? []).map((x) => x.what?.reference)));
    default:
      return undefined;
  }
}

function dateFilter(raw: string): Filter {
  const { prefix, rest } = splitPrefix('date', raw);
  const range = dateRange(rest);
  if (!range) throw errors.badRequest(`Parameter 'date': '${raw}' is not a date`, 'date');
  return (e) => {
    const t = e.recorded ? Date.parse(e.recorded) : NaN;
    if (Number.isNaN(t)) return false;
    switch (prefix) {
      case 'eq':
        return t >= range.low && t <= range.high;
      case 'ne':
        return t < range.low || t > range.high;
      case 'gt':
      case 'sa':
        return t > range.high;
      case 'ge':
        return t >= range.low;
      case 'lt':
      case 'eb':
        return t < range.low;
      case 'le':
        return t <= range.high;
      default:
        throw errors.badRequest(`Parameter 'date': prefix '${prefix}' is not supported here`, 'date');
    }
  };
}

/** `code` or `system|code` (`|code`: no system) against codings. */
function tokenFilter(raw: string, codings: (e: AuditEvent) => { system?: string; code?: string }[]): Filter {
  const bar = raw.indexOf('|');
  const system = bar < 0 ? undefined : raw.slice(0, bar);
  const code = bar < 0 ? raw : raw.slice(bar + 1);
  return (e) => codings(e).some((c) => c.code === code && (system === undefined || (system === '' ? !c.system : c.system === system)));
}

function referenceFilter(raw: string, baseUrl: string, refs: (e: AuditEvent) => (string | undefined)[]): Filter {
  const wanted = normalizeReference(raw, baseUrl)?.ref;
  return (e) => wanted !== undefined && refs(e).some((r) => r !== undefined && normalizeReference(r, baseUrl)?.ref === wanted);
}

/** The id in `Type/id` (or a bare id). */
function referenceId(raw: string, type: string, baseUrl: string): string | undefined {
  const n = normalizeReference(raw.includes('/') ? raw : `${type}/${raw}`, baseUrl);
  return n?.type === type ? (n.id ?? undefined) : undefined;
}

function positiveInt(name: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw errors.badRequest(`${name} must be a non-negative integer`, name);
  return Number(value);
}

function sortOrder(value: string): boolean {
  if (value === '-date' || value === '-_lastUpdated') return true;
  if (value === 'date' || value === '_lastUpdated') return false;
  throw errors.badRequest(`The access history sorts by date only (_sort=-date, the default, or _sort=date)`, '_sort');
}
