import type { DocumentReference, Resource } from '@medplum/fhirtypes';
import { Label } from '../access/codes';
import { NO_PATIENT, type AccessFacets } from '../access/facets';

/** A resource an interaction touched, as its AuditEvent names it. */
export interface TouchedResource {
  type: string;
  id: string;
  versionId?: number;
  /** Ids of the patients whose DMP holds it (none for directory and conformance resources). */
  patients: readonly string[];
  /**
   * What a portal shows: a document's title and type. Left out for a
   * document hidden from the patient or the representatives (DMP-RULES.md
   * § 4): the history names it only as "a document".
   */
  name?: string;
  description?: string;
  /** Hidden from the patient or the representatives: named only as "a document", without its reference. */
  hidden?: boolean;
}

/** Most resources one AuditEvent lists (a search page can hold 1,000): the count of the others is given. */
export const MAX_LISTED_RESOURCES = 50;

/**
 * What one interaction touched, filled by FhirService while it runs and read
 * once at the end to build the AuditEvent(s). Nothing here decides: it only
 * remembers (the patients, the resources, the query).
 */
export class AuditTrace {
  readonly patients = new Set<string>();
  readonly resources: TouchedResource[] = [];
  private readonly seen = new Map<string, TouchedResource>();
  /** Instance, type or system level (history, search). */
  level: 'instance' | 'type' | 'system' = 'type';
  /** The search or operation as requested: `GET Observation?patient=...`. */
  query?: string;
  /** `$close`, `$validate`, ... */
  operation?: string;
  /** Set by a successful create: the resource as stored (for notifications). */
  created?: Resource;
  /** The last version a write hook saw about to be stored (so the service need not parse it back). */
  stored?: Resource;

  /** A patient concerned although no resource of his was read (a search scoped to his DMP that found nothing). */
  patient(id: string): void {
    if (id !== NO_PATIENT) this.patients.add(id);
  }

  /** A resource the interaction read, returned, wrote or was refused. */
  touch(resource: Resource, facets: Pick<AccessFacets, 'patients' | 'labels'>, versionId?: number): void {
    const key = `${resource.resourceType}/${resource.id}`;
    const patients = facets.patients.filter((p) => p !== NO_PATIENT);
    for (const p of patients) this.patients.add(p);
    const known = this.seen.get(key);
    if (known) {
      // Seen first by the access check, now stored: the version is known.
      known.versionId = versionId ?? known.versionId;
      return;
    }
    const hidden = facets.labels.has(Label.invisibleToPatient) || facets.labels.has(Label.invisibleToRepresentatives);
    const touched: TouchedResource = {
      type: resource.resourceType,
      id: resource.id as string,
      versionId,
      patients,
      ...(hidden ? { hidden } : resource.resourceType === 'DocumentReference' ? documentNames(resource) : {}),
    };
    this.seen.set(key, touched);
    this.resources.push(touched);
  }

  /** A resource known by reference and its patients only (a delete's target, a search result that is not a document). */
  touchRef(type: string, id: string, patients: readonly string[] = [], versionId?: number): void {
    const key = `${type}/${id}`;
    for (const p of patients) this.patient(p);
    if (this.seen.has(key)) return;
    const touched: TouchedResource = { type, id, versionId, patients: patients.filter((p) => p !== NO_PATIENT) };
    this.seen.set(key, touched);
    this.resources.push(touched);
  }
}

function documentNames(doc: DocumentReference): Pick<TouchedResource, 'name' | 'description'> {
  const type = doc.type?.coding?.[0];
  const title = doc.description ?? doc.content?.[0]?.attachment?.title ?? doc.type?.text ?? type?.display;
  const description = type ? [type.display, type.code].filter(Boolean).join(' — ') : undefined;
  return { ...(title ? { name: title } : {}), ...(description ? { description } : {}) };
}
