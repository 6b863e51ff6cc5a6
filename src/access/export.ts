import type { Principal } from '../auth/principal';
import { ALLOW, deny, Reason, type Decision } from './decision';
import { resourceClass } from './facets';

/**
 * The level of a Bulk Data kick-off request.
 * @see https://hl7.org/fhir/uv/bulkdata/STU2/export.html#endpoint---system-level-export
 */
export type ExportLevel = 'system' | 'all-patients' | 'group' | 'patient';

/** What a kick-off asks for, as the rule looks at it. */
export interface ExportAsk {
  level: ExportLevel;
  /** `Patient/{id}/$export`: the DMP asked for. */
  patientId?: string;
  /** The types asked for (`_type`), or undefined for "every type the level covers". */
  types?: readonly string[];
}

/**
 * Who may bulk-export what (DMP-RULES.md § 5, **project rule**, data
 * portability):
 * - `Patient/{id}/$export`: the patient, and the legal representatives
 *   acting for that patient (token `patient` claim = id), only; the same
 *   labels then apply as for their reads (INVISIBLE_PATIENT, and
 *   INVISIBLE_REPRESENTANTS_LEGAUX for a representative). Everyone else,
 *   the médecin traitant and the administrator included, is refused: a
 *   bulk export is never a way to copy someone else's record.
 * - system level `$export`: the administrator only, and only for directory
 *   and conformance types (the default when `_type` is absent); a clinical
 *   type in `_type` is refused. Everyone else is refused.
 * - `Patient/$export` and `Group/{id}/$export` export several patients'
 *   records by definition: refused for everyone (the administrator's
 *   directory export is the system level).
 * A refusal is a 403 (deny), never a 404: the rule looks only at who asks,
 * not at the data.
 */
export function decideExport(p: Principal, ask: ExportAsk): Decision {
  switch (ask.level) {
    case 'patient':
      if ((p.role === 'patient' || p.role === 'representative') && p.patient !== undefined && p.patient === ask.patientId) return ALLOW;
      return deny(Reason.bulkExport);
    case 'system':
      if (p.role !== 'admin') return deny(Reason.bulkExport);
      return (ask.types ?? []).every((t) => resourceClass(t) !== 'patient-data') ? ALLOW : deny(Reason.bulkExport);
    default:
      return deny(Reason.bulkExport);
  }
}

/**
 * Whose an export job is (**project rule**): its status, files and cancel
 * answer only a caller with the same role, subject and patient as the one
 * that started it; to anyone else it is unknown (404), so a job id alone
 * never reveals that a record was exported.
 */
export function exportJobOwner(p: Principal | undefined): string {
  return p ? JSON.stringify([p.role, p.sub, p.patient ?? null]) : 'anonymous';
}

/** The types a system-level export covers when `_type` is absent: what holds no patient data. */
export function nonClinicalTypes(stored: readonly string[]): string[] {
  return stored.filter((t) => resourceClass(t) !== 'patient-data');
}
