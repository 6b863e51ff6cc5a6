import type { Resource } from '@medplum/fhirtypes';
import { accessFacets, accessIndexEntries } from '../access/facets';
import type { AccessMatrix } from '../access/matrix';
import { createIndexer } from './search/extract';
import type { IndexEntry } from './search/index-entry';

/**
 * The index entries every stored version carries: the R4 search parameters
 * (search/extract.ts) plus the synthetic access entries (access/facets.ts),
 * so that any later search filters by the DMP rules inside its query.
 * createApp indexes every write with it, and the server's own writes that
 * bypass FhirService (the notifications' Communications) use the same, so
 * the two can never drift.
 * @see https://hl7.org/fhir/R4/search.html
 */
export function dmpIndexer(baseUrl: string, matrix: AccessMatrix): { extract(r: Resource): IndexEntry[] } {
  const base = createIndexer({ baseUrl });
  return { extract: (r) => [...base.extract(r), ...accessIndexEntries(accessFacets(r, matrix))] };
}
