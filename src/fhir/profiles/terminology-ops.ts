import type { Coding, Parameters, ValueSet } from '@medplum/fhirtypes';
import { errors } from '../outcomes';
import type { TerminologyStore } from './terminology';

/** Parameters of `$expand`. @see https://hl7.org/fhir/R4/valueset-operation-expand.html */
export interface ExpandParams {
  url?: string;
  valueSet?: ValueSet;
  filter?: string;
  count?: number;
  offset?: number;
}

function nonNegative(name: string, raw: number | undefined, fallback: number): number {
  if (raw === undefined) {
    return fallback;
  }
  if (!Number.isInteger(raw) || raw < 0) {
    throw errors.badRequest(`${name} must be a non-negative integer`, name);
  }
  return raw;
}

/**
 * `ValueSet/$expand` over terminology/: `filter` matches code or display
 * (case- and accent-insensitive substring), `offset`/`count` page the result.
 * @see https://hl7.org/fhir/R4/valueset-operation-expand.html
 */
export function expand(store: TerminologyStore, p: ExpandParams): ValueSet {
  const vs = p.valueSet ?? (p.url ? store.valueSet(p.url) : undefined);
  if (!vs) {
    throw p.url ? errors.notFound(`ValueSet ${p.url} is not known`) : errors.badRequest('$expand needs url (or a ValueSet)', 'url');
  }
  const expansion = p.valueSet ? store.expandResource(p.valueSet) : store.expand(p.url as string);
  if (!expansion || !expansion.complete) {
    throw errors.unprocessable(`ValueSet ${vs.url} cannot be expanded here: it includes code systems this server does not hold`);
  }
  const needle = p.filter ? fold(p.filter) : undefined;
  const matched = needle ? expansion.codes.filter((c) => fold(c.code).includes(needle) || fold(c.display ?? '').includes(needle)) : expansion.codes;
  const offset = nonNegative('offset', p.offset, 0);
  const count = nonNegative('count', p.count, matched.length);
  const { compose: _compose, text: _text, ...rest } = vs;
  return {
    ...rest,
    expansion: {
      identifier: `urn:uuid:${crypto.randomUUID()}`,
      timestamp: new Date().toISOString(),
      total: matched.length,
      offset,
      ...(needle ? { parameter: [{ name: 'filter', valueString: p.filter }] } : {}),
      contains: matched.slice(offset, offset + count).map((c) => ({ system: c.system, code: c.code, ...(c.display ? { display: c.display } : {}) })),
    },
  };
}

function fold(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/**
 * `ValueSet/$validate-code`: is the code (or one coding of the concept) in the set?
 * @see https://hl7.org/fhir/R4/valueset-operation-validate-code.html
 */
export function validateCode(store: TerminologyStore, url: string | undefined, codings: Coding[]): Parameters {
  if (!url) {
    throw errors.badRequest('$validate-code needs url', 'url');
  }
  const expansion = store.expand(url);
  if (!expansion) {
    throw errors.notFound(`ValueSet ${url} is not known`);
  }
  if (codings.length === 0 || codings.some((c) => !c.code)) {
    throw errors.badRequest('$validate-code needs code (with system), coding or codeableConcept', 'code');
  }
  const hit = codings.map((c) => expansion.codes.find((x) => x.code === c.code && (c.system === undefined || x.system === c.system))).find(Boolean);
  const shown = codings.map((c) => `${c.system ?? ''}#${c.code}`).join(', ');
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'result', valueBoolean: hit !== undefined },
      hit
        ? { name: 'display', valueString: hit.display ?? hit.code }
        : { name: 'message', valueString: `${shown} is not in the value set ${url}` },
    ],
  };
}

/**
 * `CodeSystem/$lookup`: name, version and display of a code.
 * @see https://hl7.org/fhir/R4/codesystem-operation-lookup.html
 */
export function lookup(store: TerminologyStore, system: string | undefined, code: string | undefined): Parameters {
  if (!system || !code) {
    throw errors.badRequest('$lookup needs system and code', system ? 'code' : 'system');
  }
  const cs = store.codeSystem(system);
  if (!cs) {
    throw errors.notFound(`CodeSystem ${system} is not known`);
  }
  const concept = store.lookup(system, code);
  if (!concept) {
    throw errors.notFound(`Code ${code} is not in ${system}`);
  }
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'name', valueString: cs.name ?? cs.url },
      ...(cs.version ? [{ name: 'version', valueString: cs.version }] : []),
      { name: 'display', valueString: concept.display ?? concept.code },
      ...(concept.definition ? [{ name: 'definition', valueString: concept.definition }] : []),
    ],
  };
}
