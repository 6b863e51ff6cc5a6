import { getDataType, tryGetDataType } from '@medplum/core';
import { parseJson, stringifyJson } from '../json/lossless';

/** The tag a server puts on a resource it returns incomplete. @see https://hl7.org/fhir/R4/search.html#summary */
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/** What to keep of each resource of a search result. */
export type Subset = { summary: 'true' | 'text' | 'data' } | { elements: readonly string[] };

const summaryCache = new Map<string, Set<string>>();
const mandatoryCache = new Map<string, Set<string>>();

/** Top-level elements flagged isSummary in the base definition of `type`. */
function summaryElements(type: string): Set<string> {
  let s = summaryCache.get(type);
  if (!s) {
    s = new Set(getDataType(type).summaryProperties ?? []);
    summaryCache.set(type, s);
  }
  return s;
}

/** Top-level elements with min >= 1: always returned, whatever was asked. */
function mandatoryElements(type: string): Set<string> {
  let s = mandatoryCache.get(type);
  if (!s) {
    s = new Set();
    for (const [key, el] of Object.entries(tryGetDataType(type)?.elements ?? {})) {
      if (el.min > 0) {
        s.add(key.replace('[x]', ''));
      }
    }
    mandatoryCache.set(type, s);
  }
  return s;
}

/** The JSON property names an element name covers (`value[x]` → valueQuantity, `_birthDate` for extensions). */
function keeps(names: Set<string>, property: string): boolean {
  const bare = property.startsWith('_') ? property.slice(1) : property;
  if (names.has(bare)) {
    return true;
  }
  for (const n of names) {
    if (bare.startsWith(n) && /^[A-Z]/.test(bare.slice(n.length))) {
      return true; // choice type: value[x] -> valueQuantity
    }
  }
  return false;
}

/**
 * Applies `_summary` (true / text / data) or `_elements` to one resource's JSON
 * and tags the result SUBSETTED. Only top-level elements are selected;
 * `resourceType`, `id` and `meta` are always kept, as are mandatory elements.
 * @see https://hl7.org/fhir/R4/search.html#summary
 * @see https://hl7.org/fhir/R4/search.html#elements
 */
export function subsetJson(json: string, subset: Subset): string {
  const resource = parseJson(json) as Record<string, unknown> & { resourceType: string; meta?: { tag?: unknown[] } };
  const type = resource.resourceType;
  let keep: (property: string) => boolean;
  if ('elements' in subset) {
    const names = new Set([...subset.elements, ...mandatoryElements(type)]);
    keep = (p) => keeps(names, p);
  } else if (subset.summary === 'data') {
    keep = (p) => p !== 'text';
  } else if (subset.summary === 'text') {
    const names = new Set(['text', ...mandatoryElements(type)]);
    keep = (p) => keeps(names, p);
  } else {
    const names = summaryElements(type);
    keep = (p) => keeps(names, p);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    if (k === 'resourceType' || k === 'id' || k === 'meta' || keep(k)) {
      out[k] = v;
    }
  }
  const meta = { ...((out.meta as object) ?? {}) } as { tag?: unknown[] };
  meta.tag = [...(meta.tag ?? []), SUBSETTED];
  out.meta = meta;
  return stringifyJson(out);
}
