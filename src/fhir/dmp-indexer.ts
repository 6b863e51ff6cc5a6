import type { Resource } from '@medplum/fhirtypes';
import { attachmentBinaries } from '../access/binary';
import { AccessParam } from '../access/codes';
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
  return { extract: (r) => [...base.extract(r), ...accessIndexEntries(accessFacets(r, matrix)), ...binaryEntries(r, baseUrl)] };
}

/** A document's attachments pointing at local Binaries, so that a Binary read finds them (AccessParam.binary). */
function binaryEntries(r: Resource, baseUrl: string): IndexEntry[] {
  return attachmentBinaries(r, baseUrl).map((id) => ({
    kind: 'reference' as const,
    param: AccessParam.binary,
    ref: `Binary/${id}`,
    type: 'Binary',
    id,
    idSystem: null,
    idValue: null,
  }));
}
