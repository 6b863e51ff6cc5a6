/**
 * What the search parser needs to know about a search parameter, looked up
 * from the R4 SearchParameter definitions loaded into Medplum, and merged
 * across types for system-level search.
 * @see https://hl7.org/fhir/R4/searchparameter.html
 */
import { getSearchParameter, getSearchParameterDetails, getSearchParameters } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { isStoredResourceType, loadDefinitions } from '../definitions';
import { errors } from '../outcomes';

export type ParamType = 'string' | 'token' | 'reference' | 'date' | 'number' | 'quantity' | 'uri' | 'composite' | 'special';

/** A search parameter as the parser sees it. */
export interface ParamInfo {
  code: string;
  type: ParamType;
  /** reference: the allowed target types, sorted; empty when any type may be referenced. */
  targets: readonly string[];
  /** token: the element is an Identifier, so `:of-type` applies. */
  identifier: boolean;
  /** composite: the component parameters, in order. */
  components: readonly ParamInfo[];
}

/**
 * Thrown for a parameter the server does not know (or knows but does not
 * support): under `handling=lenient` these, and only these, are ignored.
 * @see https://hl7.org/fhir/R4/search.html#errors
 */
export class UnknownParamError extends Error {
  constructor(
    readonly param: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * Parameters present in Medplum's definitions that are not R4 and hold no
 * data here (`_compartment` reads Medplum's own `meta.compartment`).
 */
const NOT_R4 = new Set(['_compartment']);

/** Standard parameters this server recognises but does not implement. @see https://hl7.org/fhir/R4/search.html#all */
export const UNSUPPORTED_SPECIAL = new Set(['_text', '_content', '_list', '_query', '_filter', '_contained', '_containedType']);

let byUrl: Map<string, SearchParameter> | undefined;
const cache = new Map<string, ParamInfo | null>();

function definitionByUrl(url: string): SearchParameter | undefined {
  if (!byUrl) {
    byUrl = new Map(loadDefinitions().searchParameters.map((sp) => [sp.url as string, sp]));
  }
  return byUrl.get(url);
}

function infoOf(type: string, sp: SearchParameter): ParamInfo {
  const ptype = sp.type as ParamType;
  let identifier = false;
  if (ptype === 'token') {
    const details = getSearchParameterDetails(type, sp);
    identifier = (details.elementDefinitions ?? []).some((e) => e.type?.some((t) => t.code === 'Identifier'));
  }
  const components =
    ptype === 'composite'
      ? (sp.component ?? []).map((c) => {
          const def = definitionByUrl(c.definition as string);
          if (!def) {
            // A definition bug, not a client error: say which one.
            throw new Error(`SearchParameter ${sp.url}: component ${c.definition} is not defined`);
          }
          return infoOf(type, def);
        })
      : [];
  const targets = ptype === 'reference' ? [...new Set(sp.target ?? [])].filter(isStoredResourceType).sort() : [];
  return { code: sp.code as string, type: ptype, targets, identifier, components };
}

/**
 * Types the server writes itself at the rate of the requests it answers
 * (one AuditEvent per interaction), kept out of the resource index and
 * answered by their own query engine (the access history reads the
 * patients' audit chains: src/audit/history-query.ts). Only the parameters
 * listed here exist for them: they are what the access history needs
 * (DMP-RULES.md § 8: date, agent, action, outcome, subtype, entity, the
 * patient); any other parameter of the type is unknown (400, or ignored
 * when lenient), and the CapabilityStatement lists only these.
 * @see https://hl7.org/fhir/R4/auditevent.html#search
 */
export const NARROW_INDEX: Readonly<Record<string, ReadonlySet<string>>> = {
  AuditEvent: new Set(['_id', '_lastUpdated', 'date', 'agent', 'altid', 'action', 'outcome', 'subtype', 'entity', 'patient', 'type']),
};

/** Whether parameter `code` of `type` is indexed (every implemented one, but for the NARROW_INDEX types). */
export function isIndexedFor(type: string, code: string): boolean {
  return NARROW_INDEX[type]?.has(code) ?? true;
}

/** The parameter `code` of one resource type, or undefined when it has none. */
export function paramOf(type: string, code: string): ParamInfo | undefined {
  const key = `${type}\u0000${code}`;
  let info = cache.get(key);
  if (info === undefined) {
    const sp = NOT_R4.has(code) || !isIndexedFor(type, code) ? undefined : getSearchParameter(type, code);
    info = sp ? infoOf(type, sp) : null;
    cache.set(key, info);
  }
  return info ?? undefined;
}

/**
 * The parameter `code` as defined for every one of `types` (system search
 * may only use parameters that all of its types have). Reference targets are
 * the union over the types. Throws UnknownParamError when a type lacks it,
 * and a 400 when the types disagree on its type.
 * @see https://hl7.org/fhir/R4/search.html#search
 */
export function lookupParam(types: readonly string[], code: string, name = code): ParamInfo {
  if (UNSUPPORTED_SPECIAL.has(code)) {
    throw new UnknownParamError(name, `Parameter '${name}' is not supported by this server`);
  }
  const infos = types.map((t) => paramOf(t, code));
  const missing = types.filter((_, i) => !infos[i]);
  if (missing.length > 0) {
    const where = types.length === 1 ? `for ${types[0]}` : `for ${missing.join(', ')} (a system search may only use parameters every listed type has)`;
    throw new UnknownParamError(name, `Unknown search parameter '${name}' ${where}`);
  }
  const first = infos[0] as ParamInfo;
  if (infos.length === 1) {
    return first;
  }
  if (infos.some((i) => i?.type !== first.type)) {
    throw errors.badRequest(`Parameter '${name}' has different types across ${types.join(', ')}: search one type at a time`);
  }
  const anyTarget = infos.some((i) => i?.type === 'reference' && i.targets.length === 0);
  const targets = anyTarget ? [] : [...new Set(infos.flatMap((i) => i?.targets ?? []))].sort();
  return { ...first, targets, identifier: infos.some((i) => i?.identifier) };
}

/** The types a reference parameter may point to: its targets, or every stored type. */
export function targetTypesOf(info: ParamInfo): readonly string[] {
  return info.targets.length > 0 ? info.targets : loadDefinitions().resourceTypes;
}

/**
 * Whether the server implements `sp`: it has a FHIRPath expression (so it is
 * indexed at write time), is not `special`, and is R4. The CapabilityStatement
 * lists exactly these (plus `_id` and `_lastUpdated`, answered from columns).
 */
export function isImplemented(sp: SearchParameter, type?: string): boolean {
  const code = sp.code as string;
  return !!sp.expression && sp.type !== 'special' && !NOT_R4.has(code) && !UNSUPPORTED_SPECIAL.has(code) && (type === undefined || isIndexedFor(type, code));
}

/** Codes of every search parameter of `type` (for `_include=Type:*`). */
export function paramCodesOf(type: string): string[] {
  return Object.keys(getSearchParameters(type) ?? {}).filter((c) => !NOT_R4.has(c) && isIndexedFor(type, c));
}
