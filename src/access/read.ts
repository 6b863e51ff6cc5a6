import type { Principal } from '../auth/principal';
import { ALLOW, deny, hide, Reason, type Decision } from './decision';
import { dmpAccess, effectiveProfession, hiddenBecause, REFUSED_ROLES, type DmpAccess } from './dmp-access';
import type { AccessFacets } from './facets';
import { principalKeyString, type PatientFacts } from './facts';
import type { AccessMatrix } from './matrix';

/** Roles that may look up any Patient resource (to learn whether a DMP exists, and to feed it). */
export const PATIENT_LOOKUP_ROLES: ReadonlySet<string> = new Set(['professional', 'regulator', 'feeder', 'assurance-maladie']);

/**
 * A professional still reads what they created in a DMP they have no
 * authorisation to (DMP-RULES.md § 4: the author keeps seeing their
 * documents), but not once blocked or the DMP is closed.
 */
export const AUTHOR_READS_DESPITE: ReadonlySet<Reason> = new Set([Reason.noAuthorisation, Reason.emergencyOpposed, Reason.unknownPatient]);

/**
 * May `p` read this resource (read, vread, instance history, include)?
 * Directory and conformance resources: everyone but the refused roles.
 * Patient data: per DMP ({@link dmpAccess}); a resource in several DMPs is
 * readable through any of them. A Patient resource is readable by the
 * lookup roles whatever their right to its DMP (DMP-RULES.md § 5).
 */
export function decideRead(p: Principal, facets: AccessFacets, factsOf: (patientId: string) => PatientFacts, matrix: AccessMatrix): Decision {
  if (REFUSED_ROLES.has(p.role)) {
    return deny(Reason.refusedRole);
  }
  if (facets.cls !== 'patient-data') {
    return ALLOW;
  }
  if (facets.type === 'Patient' && PATIENT_LOOKUP_ROLES.has(p.role)) {
    return ALLOW;
  }
  const caller = { creatorKey: principalKeyString(p), profession: effectiveProfession(p) };
  const own = facets.creator !== undefined && facets.creator === caller.creatorKey;
  let refusal: Decision | undefined;
  for (const patientId of facets.patients) {
    const access = dmpAccess(p, factsOf(patientId));
    if (access.level === 'none') {
      if (own && AUTHOR_READS_DESPITE.has(access.reason)) return ALLOW;
      refusal ??= deny(access.reason);
      continue;
    }
    const hidden = hiddenBecause(access, facets, caller, matrix);
    if (!hidden) {
      return ALLOW;
    }
    refusal = hide(hidden);
  }
  return refusal ?? deny(Reason.unknownPatient);
}

/**
 * May `p` see anything of a DMP (a search scoped to that patient, `$everything`)?
 * 403 when not (DMP-RULES.md § 5: "for a search scoped to that patient").
 */
export function decideDmp(p: Principal, facts: PatientFacts): { decision: Decision; access: DmpAccess } {
  if (REFUSED_ROLES.has(p.role)) {
    return { decision: deny(Reason.refusedRole), access: { level: 'none', reason: Reason.refusedRole } };
  }
  const access = dmpAccess(p, facts);
  return { decision: access.level === 'none' ? deny(access.reason) : ALLOW, access };
}
