import type { Principal } from '../auth/principal';
import { DocType, Label, type EmergencyPurpose } from './codes';
import { Reason } from './decision';
import type { AccessFacets } from './facets';
import type { PatientFacts } from './facts';
import { matrixAllows, type AccessMatrix } from './matrix';

/**
 * What a principal may read of one DMP (DMP-RULES.md § 5 table):
 * - `none`: nothing (403), with the reason;
 * - `patient`, `representative`: the patient side, minus the labels hiding from them;
 * - `full`: the médecin traitant: everything but the patient side's own records;
 * - `matrix`: an authorised professional, or an emergency access: the matrix, minus MASQUE_PS;
 * - `own`: a feeder: its own submissions only.
 * A creator always reads what it created, at every level but `none`.
 */
export type DmpAccess =
  | { level: 'none'; reason: Reason }
  | { level: 'patient' | 'representative' | 'full' | 'own' }
  | { level: 'matrix'; emergency?: EmergencyPurpose };

/** Roles refused everything, even with the patient's consent (L1111-18). */
export const REFUSED_ROLES: ReadonlySet<string> = new Set(['insurer', 'employer', 'occupational-physician']);

/**
 * The emergency mode a principal acts in: bris de glace for a professional,
 * Centre 15 for a regulator; any other combination is normal access.
 */
export function emergencyMode(p: Principal): EmergencyPurpose | undefined {
  if (p.role === 'professional' && p.purposeOfUse === 'bris_de_glace') return 'bris_de_glace';
  if (p.role === 'regulator' && p.purposeOfUse === 'centre_15') return 'centre_15';
  return undefined;
}

/** The profession the matrix applies to; a Centre 15 regulator is a physician (project rule). */
export function effectiveProfession(p: Principal): string | undefined {
  return p.profession ?? (p.role === 'regulator' ? '10' : undefined);
}

/** @see DmpAccess */
export function dmpAccess(p: Principal, f: PatientFacts): DmpAccess {
  switch (p.role) {
    case 'patient':
    case 'representative':
      return p.patient === f.patientId && f.exists ? { level: p.role } : { level: 'none', reason: Reason.notOwnRecord };
    case 'feeder':
      // Reading back its own submissions; writes to a closed DMP are refused by the write rules.
      return { level: 'own' };
    case 'professional':
    case 'regulator':
      return professionalAccess(p, f);
    case 'admin':
    case 'assurance-maladie':
      return { level: 'none', reason: Reason.noClinicalAccess };
    default:
      return { level: 'none', reason: Reason.refusedRole };
  }
}

function professionalAccess(p: Principal, f: PatientFacts): DmpAccess {
  const rpps = p.rpps ?? '';
  if (!f.exists) return { level: 'none', reason: Reason.unknownPatient };
  if (f.closed) return { level: 'none', reason: Reason.dmpClosed };
  if (f.blocked.has(rpps)) return { level: 'none', reason: Reason.blocked };
  if (p.role === 'professional' && f.gpRpps.has(rpps)) return { level: 'full' };
  if (f.permitted.has(rpps)) return { level: 'matrix' };
  const mode = emergencyMode(p);
  if (mode) {
    return f.opposed.has(mode) ? { level: 'none', reason: Reason.emergencyOpposed } : { level: 'matrix', emergency: mode };
  }
  return { level: 'none', reason: Reason.noAuthorisation };
}

/**
 * Whether a resource of a DMP is visible at an access level; undefined when
 * it is, else the reason it is hidden. `creator` is the caller's
 * principal key (`system|value`).
 */
export function hiddenBecause(
  access: Exclude<DmpAccess, { level: 'none' }>,
  facets: AccessFacets,
  caller: { creatorKey: string; profession?: string },
  matrix: AccessMatrix,
): Reason | undefined {
  const own = facets.creator !== undefined && facets.creator === caller.creatorKey;
  switch (access.level) {
    case 'patient':
      return facets.labels.has(Label.invisibleToPatient) ? Reason.label : undefined;
    case 'representative':
      return facets.labels.has(Label.invisibleToPatient) || facets.labels.has(Label.invisibleToRepresentatives) ? Reason.label : undefined;
    case 'full':
      return own || !facets.docTypes.includes(DocType.patientOnly) ? undefined : Reason.matrix;
    case 'own':
      return own ? undefined : Reason.notOwnSubmission;
    case 'matrix':
      if (own) return undefined;
      if (facets.labels.has(Label.maskedFromProfessionals)) return Reason.label;
      return matrixAllows(matrix, caller.profession, facets.docTypes) ? undefined : Reason.matrix;
  }
}
