import type { Resource } from '@medplum/fhirtypes';
import type { IndexEntry } from '../fhir/search/index-entry';
import { AccessParam, CREATOR_EXTENSION, DocType, LABEL_LETTER, LABELS } from './codes';
import type { AccessMatrix } from './matrix';

/**
 * Holds no patient data: readable by every authenticated principal but the
 * always-refused roles; written by the administrator and feeders
 * (DMP-RULES.md § 5, directory resources).
 */
export const DIRECTORY_TYPES: ReadonlySet<string> = new Set([
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'Device',
  'HealthcareService',
  'Endpoint',
]);

/** Conformance and terminology: readable by everyone authenticated, written by the administrator. */
export const CONFORMANCE_TYPES: ReadonlySet<string> = new Set([
  'CapabilityStatement',
  'CodeSystem',
  'CompartmentDefinition',
  'ConceptMap',
  'GraphDefinition',
  'ImplementationGuide',
  'MessageDefinition',
  'NamingSystem',
  'OperationDefinition',
  'SearchParameter',
  'StructureDefinition',
  'StructureMap',
  'TerminologyCapabilities',
  'ValueSet',
]);

export type ResourceClass = 'patient-data' | 'directory' | 'conformance';

/** Every other type may hold patient data, so it is in a DMP (safe by default). */
export function resourceClass(type: string): ResourceClass {
  return DIRECTORY_TYPES.has(type) ? 'directory' : CONFORMANCE_TYPES.has(type) ? 'conformance' : 'patient-data';
}

/**
 * The DMP "patient" of patient data whose patient reference could not be
 * resolved to a local Patient (e.g. only an identifier): it is in no reader's
 * DMP, so only its creator sees it.
 */
export const NO_PATIENT = '#unresolved';

/**
 * What the access rules look at in a resource. Computed from the resource
 * itself (reads) and turned into index entries at write time (searches), by
 * the same code, so that a read and a search always agree.
 */
export interface AccessFacets {
  type: string;
  cls: ResourceClass;
  /** Ids of the patients whose DMP holds it (patient data only; never empty then). */
  patients: readonly string[];
  /** TRE_A07 visibility labels present (securityLabel or meta.security). */
  labels: ReadonlySet<string>;
  /** Document types for the matrix (patient data only; never empty then). */
  docTypes: readonly string[];
  /** `system|value` of the creating principal, when recorded. */
  creator?: string;
}

/**
 * The facets of a resource. A resource of patient data belongs to every
 * patient it references (`Patient/id`, anywhere in it): a superset of the R4
 * Patient compartment, so nothing that mentions a patient escapes that
 * patient's rules; a Patient belongs to itself.
 * @see https://hl7.org/fhir/R4/compartmentdefinition-patient.html
 */
export function accessFacets(resource: Resource, matrix: AccessMatrix): AccessFacets {
  const type = resource.resourceType;
  const cls = resourceClass(type);
  const labels = new Set<string>();
  for (const c of resource.meta?.security ?? []) {
    if (c.code && LABELS.includes(c.code)) labels.add(c.code);
  }
  const creator = creatorOf(resource);
  if (cls !== 'patient-data') {
    return { type, cls, patients: [], labels, docTypes: [], creator };
  }
  const patients = new Set<string>();
  if (type === 'Patient' && resource.id) {
    patients.add(resource.id);
  }
  collectPatientRefs(resource, patients, 0);
  if (type === 'DocumentReference') {
    for (const cc of resource.securityLabel ?? []) {
      for (const c of cc.coding ?? []) {
        if (c.code && LABELS.includes(c.code)) labels.add(c.code);
      }
    }
  }
  return {
    type,
    cls,
    patients: patients.size > 0 ? [...patients] : [NO_PATIENT],
    labels,
    docTypes: docTypesOf(resource, matrix),
    creator,
  };
}

/** The matrix document types: DocumentReference.type codes, else the type's category. */
function docTypesOf(resource: Resource, matrix: AccessMatrix): string[] {
  if (resource.resourceType === 'DocumentReference') {
    const codes = (resource.type?.coding ?? []).map((c) => c.code).filter((c): c is string => !!c);
    if (codes.length > 0) return [...new Set(codes)];
  }
  return [matrix.resourceCategories.get(resource.resourceType) ?? DocType.other];
}

function creatorOf(resource: Resource): string | undefined {
  const ext = resource.meta?.extension?.find((e) => e.url === CREATOR_EXTENSION);
  const id = ext?.valueIdentifier;
  return id?.system && id.value ? `${id.system}|${id.value}` : undefined;
}

const PATIENT_REF = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/.*)?$/;
const MAX_DEPTH = 32;

/** Local `Patient/id` references anywhere in the value (contained resources included). */
function collectPatientRefs(value: unknown, out: Set<string>, depth: number): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') {
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectPatientRefs(v, out, depth + 1);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === 'reference' && typeof v === 'string') {
      const m = PATIENT_REF.exec(v);
      if (m) out.add(m[1]);
    } else if (typeof v === 'object') {
      collectPatientRefs(v, out, depth + 1);
    }
  }
}

const REFERENCE_IN_JSON = /"reference":"((?:[^"\\]|\\.)*)"/g;

/**
 * The patients of a stored resource read from its JSON text, without
 * parsing it: the same set as {@link accessFacets}' `patients` (every
 * `reference` naming `Patient/id`, anywhere; a Patient is its own), for the
 * audit of searches and histories, which name the DMPs of every resource
 * they return. Empty for directory and conformance resources.
 */
export function patientsInJson(type: string, id: string, json: string): string[] {
  if (resourceClass(type) !== 'patient-data') return [];
  const out = new Set<string>();
  if (type === 'Patient') out.add(id);
  for (const m of json.matchAll(REFERENCE_IN_JSON)) {
    const p = PATIENT_REF.exec(m[1]);
    if (p) out.add(p[1]);
  }
  return out.size > 0 ? [...out] : [NO_PATIENT];
}

/** The labels as sorted letters (`-` for none), the `system` of `dmp-pdl` entries. */
export function labelFlags(labels: ReadonlySet<string>): string {
  const letters = [...labels].map((l) => LABEL_LETTER[l]).filter(Boolean).sort().join('');
  return letters || '-';
}

/**
 * The synthetic index entries of {@link AccessParam}, written with every
 * version so that the access restriction is part of each store query.
 */
export function accessIndexEntries(f: AccessFacets): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (const id of f.patients) {
    const ref = `Patient/${id}`;
    out.push({ kind: 'reference', param: AccessParam.patient, ref, type: 'Patient', id, idSystem: null, idValue: null });
  }
  for (const code of f.labels) {
    out.push({ kind: 'token', param: AccessParam.label, system: null, code, text: null });
  }
  for (const code of f.docTypes) {
    out.push({ kind: 'token', param: AccessParam.docType, system: null, code, text: null });
  }
  const flags = labelFlags(f.labels);
  for (const id of f.patients) {
    for (const code of f.docTypes) {
      out.push({ kind: 'token', param: AccessParam.patientDocType, system: flags, code: `${id}|${code}`, text: null });
    }
  }
  if (f.creator) {
    const bar = f.creator.indexOf('|');
    out.push({ kind: 'token', param: AccessParam.creator, system: f.creator.slice(0, bar), code: f.creator.slice(bar + 1), text: null });
  }
  return out;
}
