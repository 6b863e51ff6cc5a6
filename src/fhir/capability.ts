import { getSearchParameters } from '@medplum/core';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
  SearchParameter,
} from '@medplum/fhirtypes';
import { loadDefinitions } from './definitions';
import { isImplemented } from './search/parse-params';

/** Interactions every registered type supports. @see https://hl7.org/fhir/R4/capabilitystatement.html */
const TYPE_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;

/** Parameters the store answers from its own columns rather than index entries. */
const COLUMN_PARAMS: CapabilityStatementRestResourceSearchParam[] = [
  { name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id' },
  { name: '_lastUpdated', type: 'date', definition: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated' },
];

/**
 * The search parameters a type supports: every R4 parameter of the type that
 * has a FHIRPath expression and is not of type `special` (those are indexed at
 * write time), plus `_id` and `_lastUpdated`.
 * @see https://hl7.org/fhir/R4/search.html
 */
export function supportedSearchParameters(type: string): SearchParameter[] {
  return Object.values(getSearchParameters(type) ?? {}).filter(
    (sp) => isImplemented(sp) && sp.code !== '_id' && sp.code !== '_lastUpdated',
  );
}

function resourceEntry(type: string, revIncludes: Map<string, string[]>): CapabilityStatementRestResource {
  const params = supportedSearchParameters(type);
  return {
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: TYPE_INTERACTIONS.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-match',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    searchInclude: params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`),
    searchRevInclude: revIncludes.get(type) ?? [],
    searchParam: [
      ...COLUMN_PARAMS,
      ...params.map((p) => ({ name: p.code as string, type: p.type, definition: p.url })),
    ],
  };
}

/** `Source:param` revincludes, per target type. */
function revIncludesByTarget(types: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const source of types) {
    for (const p of supportedSearchParameters(source)) {
      if (p.type !== 'reference') continue;
      for (const target of p.target ?? []) {
        const list = out.get(target) ?? [];
        list.push(`${source}:${p.code}`);
        out.set(target, list);
      }
    }
  }
  return out;
}

/**
 * The CapabilityStatement, built from what is really registered: the stored
 * types, the interactions the router serves, the indexed search parameters.
 * @see https://hl7.org/fhir/R4/capabilitystatement.html
 */
export function buildCapabilityStatement(opts: { baseUrl: string; version: string; date: string }): CapabilityStatement {
  const { resourceTypes } = loadDefinitions();
  const rev = revIncludesByTarget(resourceTypes);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: opts.date,
    publisher: 'dmp-fhir-server',
    kind: 'instance',
    software: { name: 'dmp-fhir-server', version: opts.version },
    implementation: { description: 'FHIR R4 server for the French Dossier Médical Partagé', url: opts.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        resource: resourceTypes.map((t) => resourceEntry(t, rev)),
        interaction: [{ code: 'history-system' }, { code: 'search-system' }],
        searchParam: COLUMN_PARAMS,
      },
    ],
  };
}
