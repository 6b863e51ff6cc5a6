import type { Principal } from '../auth/principal';
import { Reason } from './decision';

/**
 * Who may search the access history (`GET AuditEvent?patient=...`): the
 * patient and the legal representatives only, for their own DMP (the
 * usual DMP rules then restrict it to that DMP). Anyone else, the
 * administrator and the médecin traitant included, is refused (403):
 * DMP-RULES.md § 8 item 12. Returns the refusal's reason, or undefined.
 * @see https://hl7.org/fhir/R4/auditevent.html#search
 */
export function accessHistoryRefusal(p: Principal): Reason | undefined {
  return p.role === 'patient' || p.role === 'representative' ? undefined : Reason.historyPatientOnly;
}

/**
 * Who may verify a DMP's audit chain (`Patient/{id}/$verify-audit`): its
 * patient, his legal representatives, and the administrator (whose job is
 * the integrity of the system, not reading the history: the report names
 * only positions and AuditEvent ids). Returns the refusal's reason, or undefined.
 */
export function verifyAuditRefusal(p: Principal, patientId: string): Reason | undefined {
  if (p.role === 'admin') return undefined;
  if ((p.role === 'patient' || p.role === 'representative') && p.patient === patientId) return undefined;
  return Reason.historyPatientOnly;
}

/**
 * Whose access history a caller reads: the DMP the caller acts for (a
 * patient's own, a representative's child's). Naming another patient is a
 * refusal; so is a caller acting for no patient. Returns the patient id or
 * the refusal's reason.
 */
export function historyPatient(p: Principal, requested: string | undefined): { patient: string } | { refused: Reason } {
  const refused = accessHistoryRefusal(p);
  if (refused) return { refused };
  if (!p.patient || (requested !== undefined && requested !== p.patient)) return { refused: Reason.notOwnRecord };
  return { patient: p.patient };
}
