/**
 * Search result parameters: `_count`, `_sort`, `_total`, `_summary`,
 * `_elements`, `_include` / `_revinclude`. They shape the page, not the
 * matches.
 * @see https://hl7.org/fhir/R4/search.html#return
 */
import { getDataType } from '@medplum/core';
import { isStoredResourceType } from '../definitions';
import { errors } from '../outcomes';
import { lookupParam, paramCodesOf, paramOf, targetTypesOf, UnknownParamError } from './parse-params';
import type { IncludeSpec, SortKey } from './plan';

/**
 * `_count`: a non-negative integer; above `max` it is lowered to `max` (the
 * spec lets a server return fewer than asked), 0 asks for the total only.
 * @see https://hl7.org/fhir/R4/search.html#count
 */
export function parseCount(raw: string, max: number): number {
  if (!/^\d{1,9}$/.test(raw)) {
    throw errors.badRequest(`Parameter '_count' must be a non-negative integer, got '${raw}'`);
  }
  return Math.min(Number(raw), max);
}

/** Parameter types a server can order by (composite and special have no single value). */
const SORTABLE = new Set(['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri']);

/**
 * `_sort=a,-b`: known, sortable parameters of every searched type, plus
 * `_id` and `_lastUpdated`; `-` means descending. No chained sorts.
 * @see https://hl7.org/fhir/R4/search.html#sort
 */
export function parseSort(types: readonly string[], raw: string): SortKey[] {
  const keys: SortKey[] = [];
  for (const item of raw.split(',')) {
    const descending = item.startsWith('-');
    const param = descending ? item.slice(1) : item;
    if (param === '') {
      throw errors.badRequest(`Parameter '_sort' has an empty sort key in '${raw}'`);
    }
    if (keys.some((k) => k.param === param)) {
      throw errors.badRequest(`Parameter '_sort' names '${param}' twice`);
    }
    if (param !== '_id' && param !== '_lastUpdated') {
      let type: string;
      try {
        type = lookupParam(types, param).type;
      } catch (e) {
        throw e instanceof UnknownParamError ? errors.badRequest(`Parameter '_sort': ${e.detail}`) : e;
      }
      if (!SORTABLE.has(type)) {
        throw errors.badRequest(`Parameter '_sort': '${param}' is a ${type} parameter and cannot be sorted on`);
      }
    }
    keys.push({ param, descending });
  }
  return keys;
}

/**
 * `_total`: `none` skips counting; `estimate` and `accurate` both count
 * exactly (the stores' counts are exact and cheap enough on indexed plans).
 * @see https://hl7.org/fhir/R4/search.html#total
 */
export function parseTotal(raw: string): TotalMode {
  if (raw !== 'none' && raw !== 'estimate' && raw !== 'accurate') {
    throw errors.badRequest(`Parameter '_total' must be none, estimate or accurate, got '${raw}'`);
  }
  return raw;
}

export type TotalMode = 'none' | 'estimate' | 'accurate';

export type Summary = 'true' | 'false' | 'count' | 'data' | 'text';

/** `_summary`. @see https://hl7.org/fhir/R4/search.html#summary */
export function parseSummary(raw: string): Summary {
  if (!['true', 'false', 'count', 'data', 'text'].includes(raw)) {
    throw errors.badRequest(`Parameter '_summary' must be true, false, text, data or count, got '${raw}'`);
  }
  return raw as Summary;
}

/** True when `name` is an element of `type`: `value`, `value[x]` choices by base or typed name (`valueQuantity`). */
function isElementOf(type: string, name: string): boolean {
  const elements = getDataType(type).elements;
  if (elements[name] || elements[`${name}[x]`]) {
    return true;
  }
  return Object.entries(elements).some(
    ([key, el]) =>
      key.endsWith('[x]') &&
      el.type.some((t) => `${key.slice(0, -3)}${t.code.charAt(0).toUpperCase()}${t.code.slice(1)}` === name),
  );
}

/**
 * `_elements=a,b`: top-level element names, each an element of at least one
 * searched type (in system search, elements apply per resource). Unknown
 * names are refused: silently returning less than asked would hide typos.
 * @see https://hl7.org/fhir/R4/search.html#elements
 */
export function parseElements(types: readonly string[], raw: string): string[] {
  const out: string[] = [];
  for (const name of raw.split(',')) {
    if (name === '') {
      throw errors.badRequest(`Parameter '_elements' has an empty element name in '${raw}'`);
    }
    if (!types.some((t) => isElementOf(t, name))) {
      throw errors.badRequest(`Parameter '_elements': '${name}' is not an element of ${types.join(' or ')}`);
    }
    if (!out.includes(name)) {
      out.push(name);
    }
  }
  return out;
}

/**
 * `_include` / `_revinclude` (`:iterate`, alias `:recurse` from STU3):
 * `Source:param[:Target]`, where `param` is a reference parameter of
 * `Source` and `Target` one of its targets; `Source:*` expands to every
 * reference parameter of Source. Without iterate, `_include` must start from
 * a searched type and `_revinclude` must be able to point at one, since
 * anything else can never include a thing.
 * @see https://hl7.org/fhir/R4/search.html#include
 */
export function parseInclude(types: readonly string[], name: string, raw: string): IncludeSpec[] {
  const [base, modifier, ...more] = name.split(':');
  if (more.length > 0 || (modifier !== undefined && modifier !== 'iterate' && modifier !== 'recurse')) {
    throw errors.badRequest(`Parameter '${name}': unknown modifier (only ':iterate' is allowed)`);
  }
  const rev = base === '_revinclude';
  const iterate = modifier !== undefined;
  const parts = raw.split(':');
  const [source, code, target] = parts;
  if (parts.length < 2 || parts.length > 3 || !source || !code || target === '') {
    throw errors.badRequest(`Parameter '${name}' must be 'SourceType:parameter[:TargetType]', got '${raw}'`);
  }
  if (!isStoredResourceType(source)) {
    throw errors.badRequest(`Parameter '${name}': unknown resource type '${source}'`);
  }
  if (target !== undefined && !isStoredResourceType(target)) {
    throw errors.badRequest(`Parameter '${name}': unknown resource type '${target}'`);
  }
  if (!rev && !iterate && !types.includes(source)) {
    throw errors.badRequest(`Parameter '${name}': '${source}' is not a searched type (use _include:iterate to include from included resources)`);
  }
  const codes = code === '*' ? paramCodesOf(source).filter((c) => paramOf(source, c)?.type === 'reference') : [code];
  const specs: IncludeSpec[] = [];
  for (const c of codes) {
    const info = paramOf(source, c);
    if (!info) {
      throw errors.badRequest(`Parameter '${name}': unknown search parameter '${c}' for ${source}`);
    }
    if (info.type !== 'reference') {
      throw errors.badRequest(`Parameter '${name}': '${source}:${c}' is a ${info.type} parameter, not a reference`);
    }
    const reachable = targetTypesOf(info);
    if (target !== undefined && !reachable.includes(target)) {
      if (code === '*') continue;
      throw errors.badRequest(`Parameter '${name}': '${source}:${c}' cannot refer to a ${target}`);
    }
    const pointsTo = target === undefined ? reachable : [target];
    if (rev && !iterate && !types.some((t) => pointsTo.includes(t))) {
      if (code === '*') continue;
      throw errors.badRequest(`Parameter '${name}': '${source}:${c}' cannot refer to ${types.join(' or ')}`);
    }
    specs.push(target === undefined ? { sourceType: source, param: c, iterate } : { sourceType: source, param: c, targetType: target, iterate });
  }
  return specs;
}
