import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FORMAT_PARAMETERS } from '../format-params';
import { errors } from '../outcomes';

/** Types served from memory, from what profiles/ and terminology/ hold. */
export const CONFORMANCE_TYPES = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'SearchParameter']);

type Conf = Resource & { url?: string; version?: string; name?: string; type?: string; base?: string[] };

/** Search parameters supported on the conformance types, and how each matches. */
const MATCHERS: Readonly<Record<string, (r: Conf, v: string) => boolean>> = {
  _id: (r, v) => r.id === v,
  url: (r, v) => r.url === v,
  version: (r, v) => r.version === v,
  name: (r, v) => (r.name ?? '').toLowerCase().startsWith(v.toLowerCase()),
  type: (r, v) => r.resourceType === 'StructureDefinition' && r.type === v,
  base: (r, v) => (r.resourceType === 'SearchParameter' ? (r.base ?? []).includes(v) : false),
};

/** True when every parameter is one the in-memory search answers (no modifiers, no _summary, _include...). */
export function answersFromMemory(params: readonly [string, string][]): boolean {
  return params.length > 0 && params.every(([k]) => k in MATCHERS || k === '_count' || k === '_offset' || FORMAT_PARAMETERS.has(k));
}

/**
 * Search over the loaded conformance resources: `url`, `version`, `name`
 * (starts with, case-insensitive), `type` (StructureDefinition), `base`
 * (SearchParameter), `_id`, each may list alternatives with commas; `_count`
 * (default 50) and `_offset` page. Served from memory: the files are the
 * source of truth and loading hundreds of large StructureDefinitions into the
 * store at every start-up would cost seconds.
 * @see https://hl7.org/fhir/R4/search.html
 */
export function searchConformance(all: readonly Resource[], type: string, params: [string, string][], baseUrl: string): Bundle {
  let matched = all.filter((r) => r.resourceType === type) as Conf[];
  let count = 50;
  let offset = 0;
  for (const [key, value] of params) {
    if (key === '_count' || key === '_offset') {
      if (!/^\d{1,6}$/.test(value)) {
        throw errors.badRequest(`${key} must be a non-negative integer`, key);
      }
      key === '_count' ? (count = Number(value)) : (offset = Number(value));
      continue;
    }
    if (FORMAT_PARAMETERS.has(key)) {
      continue;
    }
    const match = MATCHERS[key];
    if (!match) {
      throw errors.badRequest(`Search parameter ${key} is not supported on ${type} (supported: ${Object.keys(MATCHERS).join(', ')}, _count, _offset)`, key);
    }
    const alternatives = value.split(',');
    matched = matched.filter((r) => alternatives.some((v) => match(r, v)));
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: matched.length,
    link: [{ relation: 'self', url: `${baseUrl}/${type}?${new URLSearchParams(params).toString()}` }],
    entry: matched.slice(offset, offset + count).map((r) => ({ fullUrl: `${baseUrl}/${type}/${r.id}`, resource: r, search: { mode: 'match' } })),
  };
}
