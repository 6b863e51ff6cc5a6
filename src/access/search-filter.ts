import type { Principal } from '../auth/principal';
import type { Condition, EntryCondition } from '../fhir/search/plan';
import { AccessParam, DocType, Label, RPPS_SYSTEM } from './codes';
import { effectiveProfession, type DmpAccess } from './dmp-access';
import { principalKey } from './facts';
import { matrixRule, type AccessMatrix } from './matrix';

/** The DMPs a search may return resources of, grouped by the caller's access level to each. */
export type AccessGroups = ReadonlyMap<Exclude<DmpAccess['level'], 'none'>, readonly string[]>;

/**
 * The caller's access restriction as plan conditions in disjunctive normal
 * form (a resource is visible when, for some alternative, every condition
 * holds), over the synthetic index entries of facets.ts. FhirService adds it
 * to the search plan, at the top and inside chains and `_has`, so stores
 * filter inside their query and totals and paging count only what the caller
 * may see. It says exactly what {@link hiddenBecause} says per resource.
 */
export function searchRestriction(p: Principal, groups: AccessGroups, matrix: AccessMatrix, gp?: GpRelation): Condition[][] {
  const out: Condition[][] = [];
  const mine = creatorIs(p);
  for (const [level, ids] of groups) {
    if (ids.length === 0) continue;
    const inDmp = inPatients(ids);
    // Factored as "in these DMPs and (rule or own)": the DMP test runs once per row, the cheap ones first.
    switch (level) {
      case 'patient':
        out.push([inDmp, labelAbsent(Label.invisibleToPatient)]);
        break;
      case 'representative':
        out.push([inDmp, labelAbsent(Label.invisibleToPatient), labelAbsent(Label.invisibleToRepresentatives)]);
        break;
      case 'full':
        out.push([gp ? gpDmps(gp) : inDmp, ...(gp && gp.blocked.length > 0 ? [{ ...inPatients(gp.blocked), negate: true }] : []), anyOf([[docTypeNoneOf([DocType.patientOnly])], [mine]])]);
        break;
      case 'matrix': {
        const rule = matrixRule(matrix, effectiveProfession(p));
        if (rule.kind === 'anyOf' && ids.length * rule.types.length <= MAX_PAIRS) {
          // One probe: a (patient, allowed type) pair of a resource not masked from professionals.
          const pairs = ids.flatMap((id) => rule.types.map((t) => `${id}|${t}`));
          out.push([patientDocTypes(pairs, UNMASKED)], [inDmp, mine]);
          break;
        }
        const docs = rule.kind === 'none' ? undefined : rule.kind === 'noneOf' ? docTypeNoneOf(rule.types) : docTypeAnyOf(rule.types);
        out.push([inDmp, anyOf([...(docs ? [[docs, labelAbsent(Label.maskedFromProfessionals)]] : []), [mine]])]);
        break;
      }
      case 'own':
        out.push([inDmp, mine]);
        break;
    }
  }
  out.push([noPatient()]); // directory and conformance resources
  return out;
}

/** Above this many (patient, type) pairs, the three-probe form is used (a long list costs more than it saves). */
const MAX_PAIRS = 64;

/** Label letter sets without MASQUE_PS (see labelFlags). */
const UNMASKED = ['-', 'P', 'PR', 'R'];

function patientDocTypes(pairs: readonly string[], flags: readonly string[]): Condition {
  return {
    kind: 'entry',
    entryKind: 'token',
    param: AccessParam.patientDocType,
    predicate: [[{ field: 'code', op: 'in', value: pairs }, { field: 'system', op: 'in', value: flags }]],
  };
}

function anyOf(alternatives: Condition[][]): Condition {
  return { kind: 'anyOf', alternatives };
}

/**
 * The DMPs of a médecin traitant as a join instead of a list: open
 * Patients whose `generalPractitioner` names his RPPS (on the reference's
 * identifier, or through a Practitioner carrying it), minus the DMPs that
 * blocked him. Exactly the `full` group of dmpAccess; for a médecin traitant
 * of thousands of patients a list of them costs too much on every row.
 */
export interface GpRelation {
  rpps: string;
  /** `Practitioner/id` of the Practitioners carrying the RPPS. */
  practitioners: readonly string[];
  /** DMPs where he is médecin traitant but blocked (few). */
  blocked: readonly string[];
}

function gpDmps(gp: GpRelation): Condition {
  const byIdentifier: Condition = {
    kind: 'entry',
    entryKind: 'reference',
    param: 'general-practitioner',
    predicate: [[{ field: 'idSystem', op: 'eq', value: RPPS_SYSTEM }, { field: 'idValue', op: 'eq', value: gp.rpps }]],
  };
  const byPractitioner: Condition[][] =
    gp.practitioners.length > 0
      ? [[{ kind: 'entry', entryKind: 'reference', param: 'general-practitioner', predicate: [[{ field: 'ref', op: 'in', value: gp.practitioners }]] }]]
      : [];
  const closed: Condition = { kind: 'entry', entryKind: 'token', param: 'active', predicate: [[{ field: 'code', op: 'eq', value: 'false' }]], negate: true };
  return {
    kind: 'chain',
    param: AccessParam.patient,
    targetTypes: ['Patient'],
    where: [anyOf([[byIdentifier], ...byPractitioner]), closed],
  };
}

/**
 * What a professional created, in every DMP but those listed (closed, or
 * blocking them): see AUTHOR_READS_DESPITE.
 */
export function ownDocumentsExcept(p: Principal, excluded: readonly string[]): Condition[] {
  if (excluded.length === 0) return [creatorIs(p)];
  return [creatorIs(p), { ...inPatients(excluded), negate: true }];
}

/** A feeder reads its own submissions in every DMP. */
export function ownSubmissions(p: Principal): Condition[][] {
  return [[noPatient()], [creatorIs(p)]];
}

/** Only directory and conformance resources (administrator, Assurance Maladie). */
export function noPatientData(): Condition[][] {
  return [[noPatient()]];
}

function noPatient(): Condition {
  return { kind: 'entry', entryKind: 'reference', param: AccessParam.patient, predicate: [[]], negate: true };
}

function inPatients(ids: readonly string[]): EntryCondition {
  const refs = ids.map((id) => `Patient/${id}`);
  return { kind: 'entry', entryKind: 'reference', param: AccessParam.patient, predicate: [[{ field: 'ref', op: 'in', value: refs }]] };
}

function labelAbsent(code: string): Condition {
  return { kind: 'entry', entryKind: 'token', param: AccessParam.label, predicate: [[{ field: 'code', op: 'eq', value: code }]], negate: true };
}

function docTypeNoneOf(types: readonly string[]): Condition {
  return { kind: 'entry', entryKind: 'token', param: AccessParam.docType, predicate: [[{ field: 'code', op: 'in', value: types }]], negate: true };
}

function docTypeAnyOf(types: readonly string[]): Condition {
  return { kind: 'entry', entryKind: 'token', param: AccessParam.docType, predicate: [[{ field: 'code', op: 'in', value: types }]] };
}

function creatorIs(p: Principal): Condition {
  const k = principalKey(p);
  return {
    kind: 'entry',
    entryKind: 'token',
    param: AccessParam.creator,
    predicate: [[{ field: 'system', op: 'eq', value: k.system }, { field: 'code', op: 'eq', value: k.value }]],
  };
}
