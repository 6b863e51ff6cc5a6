import { DIRECTORY_TYPES } from '../../access/facets';
import type { ResourceStore, VersionRecord } from '../../store/port';
import { bundleJson, pageLinks, type RawEntry } from '../bundles';
import type { Restriction } from '../search/restrict';
import { compartmentTypes, directoryRefs } from './compartment';
import { CompartmentReader, readRestricted } from './compartment-reader';
import { encodePosition, type EverythingParams } from './params';

/** What FhirService hands over once the caller may read the DMP. */
export interface EverythingInput {
  store: ResourceStore;
  patientId: string;
  params: EverythingParams;
  /** The types the caller's SMART scopes let through. */
  allowed: (type: string) => boolean;
  /** The caller's restriction over the compartment's types, and over the directory's. */
  compartment?: Restriction;
  directory?: Restriction;
  baseUrl: string;
  /** Told of every resource returned (the audit names them). */
  observe?: (versions: readonly VersionRecord[]) => void;
}

/**
 * `Patient/{id}/$everything` as a searchset Bundle (JSON text): a page of
 * the patient's compartment (`search.mode = match`; `total` counts every
 * match the caller may see), and the directory resources those matches
 * reference (`include`). `_type` limits both; `_since` both too.
 * @see https://hl7.org/fhir/R4/patient-operation-everything.html
 */
export async function everythingBundle(input: EverythingInput): Promise<string> {
  const { params: q, store, baseUrl } = input;
  const wanted = (t: string) => (!q.types || q.types.includes(t)) && input.allowed(t);
  const reader = new CompartmentReader(store, input.patientId, {
    types: new Set(compartmentTypes().filter(wanted)),
    sinceMs: q.sinceMs,
    restriction: input.compartment,
  });
  const counts = await reader.counts();
  const page = await reader.page(q.from, q.count, counts);
  const included = await referencedDirectory(input, page.matches, wanted);
  input.observe?.([...page.matches, ...included]);

  const entry = (mode: 'match' | 'include') => (v: VersionRecord): RawEntry => ({
    fullUrl: `${baseUrl}/${v.type}/${v.id}`,
    resource: v.json as string,
    rest: { search: { mode } },
  });
  const link = pageLinks(`${baseUrl}/Patient/${input.patientId}/$everything`, q.selfParams, { next: page.next && encodePosition(page.next) });
  const total = counts.reduce((a, b) => a + b, 0);
  return bundleJson({ type: 'searchset', total, link }, [...page.matches.map(entry('match')), ...included.map(entry('include'))]);
}

/** The directory resources a page references, read through the store with the caller's restriction. */
async function referencedDirectory(input: EverythingInput, matches: readonly VersionRecord[], wanted: (t: string) => boolean): Promise<VersionRecord[]> {
  const refs = new Set<string>();
  for (const v of matches) directoryRefs(v.json as string, refs);
  const out: VersionRecord[] = [];
  for (const type of [...DIRECTORY_TYPES].filter(wanted)) {
    const ids = [...refs].filter((r) => r.startsWith(`${type}/`)).map((r) => r.slice(type.length + 1));
    out.push(...(await readRestricted(input.store, type, ids, input.params.sinceMs, input.directory)));
  }
  return out;
}
