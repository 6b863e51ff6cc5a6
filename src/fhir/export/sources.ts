import { DIRECTORY_TYPES } from '../../access/facets';
import type { ResourceStore, VersionRecord } from '../../store/port';
import type { Condition } from '../search/plan';
import type { Restriction } from '../search/restrict';
import { compartmentTypes, sinceCondition } from './compartment';
import { CompartmentReader, pagesOfPlan, readRestricted } from './compartment-reader';
import type { ExportParams } from './params';

/**
 * What an export job reads, built by FhirService once the kick-off is
 * allowed: the types (one NDJSON file each, in this order), each read page
 * by page through the store's search with the caller's restriction inside
 * the query, so that the data set is never held in memory. Patient-level
 * exports also carry the directory resources their resources reference.
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html
 */
export interface ExportSource {
  readonly types: readonly string[];
  /** Directory types written after `types`, from the references of what was written. */
  readonly referencedTypes: readonly string[];
  pages(type: string, pageSize: number): AsyncIterable<VersionRecord[]>;
  referenced(type: string, ids: readonly string[]): Promise<VersionRecord[]>;
  /** The DMPs the export holds (their AuditEvents name them). */
  readonly patients: readonly string[];
}

/**
 * One patient's compartment (and the directory resources it references):
 * `Patient/{id}/$export`. `_type` limits both; a type in neither is 400
 * (checked by the caller).
 */
export function patientSource(
  store: ResourceStore,
  patientId: string,
  q: ExportParams,
  allowed: (type: string) => boolean,
  restriction: { compartment?: Restriction; directory?: Restriction },
): ExportSource {
  const wanted = (t: string) => (!q.types || q.types.includes(t)) && allowed(t);
  const types = compartmentTypes().filter(wanted);
  const reader = new CompartmentReader(store, patientId, { types: new Set(types), sinceMs: q.sinceMs, restriction: restriction.compartment });
  return {
    types,
    referencedTypes: [...DIRECTORY_TYPES].filter(wanted),
    pages: (type, pageSize) => reader.pagesOf(type, pageSize, q.typeFilters.get(type)),
    referenced: (type, ids) => readRestricted(store, type, ids, q.sinceMs, restriction.directory),
    patients: [patientId],
  };
}

/** Every current resource of the given types (system level), restricted like a search. */
export function typesSource(store: ResourceStore, types: readonly string[], q: ExportParams, restriction: Restriction | undefined): ExportSource {
  return {
    types,
    referencedTypes: [],
    pages: (type, pageSize) => {
      const filters = q.typeFilters.get(type);
      const where: Condition[] = [...sinceCondition(q.sinceMs), ...(filters ? [{ kind: 'anyOf' as const, alternatives: filters }] : [])];
      return pagesOfPlan(store, [type], where, pageSize, restriction);
    },
    referenced: async () => [],
    patients: [],
  };
}
