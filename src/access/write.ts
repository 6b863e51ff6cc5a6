import type { Principal } from '../auth/principal';
import { Label } from './codes';
import { ALLOW, deny, hide, Reason, type Decision } from './decision';
import { dmpAccess, REFUSED_ROLES } from './dmp-access';
import { NO_PATIENT, type AccessFacets } from './facets';
import { principalKeyString, type PatientFacts } from './facts';
import type { AccessMatrix } from './matrix';
import { decideRead } from './read';

/** Written by the server only (audit, notifications). */
export const SERVER_ONLY_TYPES: ReadonlySet<string> = new Set(['AuditEvent', 'Communication']);

/** What a write does, as the rules see it. */
export interface WriteRequest {
  op: 'create' | 'update' | 'patch' | 'delete';
  /** Facets of the current version (update, patch, delete of an existing resource). */
  before?: AccessFacets;
  /** Facets of the new version (create, update, patch). */
  after?: AccessFacets;
  /** For a Consent written by a professional: a permit naming only him. */
  selfPermit?: boolean;
  /**
   * A DocumentReference's `status` changes (superseded by a replacement,
   * entered-in-error when deleted): for its author only (DMP-RULES.md § 3,
   * rules 6 and 8).
   */
  statusChange?: boolean;
}

/**
 * May `p` make this write (DMP-RULES.md § 3 feeding, § 4 labels, § 5 "may
 * write")? Feeding needs no read right; changing or deleting an existing
 * resource is for its creator, with the label, Consent and Patient
 * exceptions of the patient side and the médecin traitant. An existing
 * resource the caller may not see is hidden (404) exactly as on read.
 */
export function decideWrite(p: Principal, w: WriteRequest, factsOf: (patientId: string) => PatientFacts, matrix: AccessMatrix): Decision {
  if (REFUSED_ROLES.has(p.role)) return deny(Reason.refusedRole);
  const facets = (w.after ?? w.before) as AccessFacets;
  if (facets.cls === 'conformance') return p.role === 'admin' ? ALLOW : deny(Reason.writeNotAllowed);
  if (facets.cls === 'directory') return p.role === 'admin' || p.role === 'feeder' ? ALLOW : deny(Reason.writeNotAllowed);
  if (SERVER_ONLY_TYPES.has(facets.type) || p.role === 'admin') return deny(Reason.writeNotAllowed);

  const me = principalKeyString(p);
  let exception = false;
  if (w.before) {
    const own = w.before.creator === me;
    // Only its uploader changes a Binary; to anyone else it answers as if unknown (a Binary never confirms it exists).
    if (!own && w.before.type === 'Binary') return hide(Reason.notCreator);
    if (!own) {
      const read = decideRead(p, w.before, factsOf, matrix);
      if (read.effect !== 'allow') return read;
      if (!nonCreatorMayChange(p, w, factsOf)) return deny(Reason.notCreator);
      exception = true;
    }
  }
  if (w.after) {
    const target = feedTarget(p, w.after, factsOf);
    if (target.effect !== 'allow') return target;
    const content = exception ? ALLOW : contentAllowed(p, w);
    if (content.effect !== 'allow') return content;
  }
  return labelChangesAllowed(p, w, factsOf);
}

/** The DMPs written to must exist, be open, and not have blocked the writer. */
function feedTarget(p: Principal, after: AccessFacets, factsOf: (id: string) => PatientFacts): Decision {
  for (const id of after.patients) {
    const f = factsOf(id);
    if (!f.exists) {
      // A new Patient opens its own DMP.
      if (after.type === 'Patient' && after.patients.length === 1) continue;
      // A Binary names no patient: it is read through the documents pointing to it (access/binary.ts).
      if (after.type === 'Binary' && id === NO_PATIENT) continue;
      return deny(Reason.unknownPatient);
    }
    if (f.closed) return deny(Reason.dmpClosed);
    if ((p.role === 'patient' || p.role === 'representative') && p.patient !== id) return deny(Reason.notOwnRecord);
    if (p.rpps && f.blocked.has(p.rpps)) return deny(Reason.blocked);
  }
  return ALLOW;
}

/** What each role may feed (a new resource, or a new version of its own). */
function contentAllowed(p: Principal, w: WriteRequest): Decision {
  const after = w.after as AccessFacets;
  switch (p.role) {
    case 'patient':
    case 'representative':
      // Opening a DMP is for professionals and feeders; the patient updates their own Patient.
      return after.type === 'Patient' && w.op === 'create' ? deny(Reason.writeNotAllowed) : ALLOW;
    case 'professional':
    case 'regulator':
      return after.type === 'Consent' && !w.selfPermit ? deny(Reason.consentNotAllowed) : ALLOW;
    case 'feeder':
      return after.type === 'Consent' ? deny(Reason.consentNotAllowed) : ALLOW;
    case 'assurance-maladie':
      // The reimbursement history only (and the Binary / SubmissionSet carrying it).
      if (after.type === 'DocumentReference') return after.docTypes.includes('REMB') ? ALLOW : deny(Reason.writeNotAllowed);
      return after.type === 'Binary' || after.type === 'List' ? ALLOW : deny(Reason.writeNotAllowed);
    default:
      return deny(Reason.writeNotAllowed);
  }
}

/**
 * Changes to someone else's resource: the patient side manages its
 * Consents and its Patient, and may mask and archive documents; professionals
 * who may read a document change its labels (checked by label below), but
 * not its status: replacing (superseded) or deleting (entered-in-error) a
 * document is its author's. The service allows only status, labels and
 * isArchived to change on a DocumentReference at all.
 */
function nonCreatorMayChange(p: Principal, w: WriteRequest, factsOf: (id: string) => PatientFacts): boolean {
  const before = w.before as AccessFacets;
  const patientSide = p.role === 'patient' || p.role === 'representative';
  if (patientSide && (before.type === 'Consent' || (before.type === 'Patient' && w.op !== 'delete'))) {
    return true;
  }
  if (w.op !== 'patch' || before.type !== 'DocumentReference' || w.statusChange) {
    return false;
  }
  if (patientSide) return true;
  return (p.role === 'professional' || p.role === 'regulator') && before.patients.some((id) => dmpAccess(p, factsOf(id)).level !== 'none');
}

/**
 * Labels (DMP-RULES.md § 4): MASQUE_PS is set and removed by the patient
 * side, the author, or the médecin traitant; the INVISIBLE_* labels by
 * professionals and feeders (the author's systems), never by the patient side.
 */
function labelChangesAllowed(p: Principal, w: WriteRequest, factsOf: (id: string) => PatientFacts): Decision {
  const before = w.before?.labels ?? new Set<string>();
  const after = w.after?.labels ?? before;
  const changed = [...new Set([...before, ...after])].filter((l) => before.has(l) !== after.has(l));
  if (changed.length === 0) return ALLOW;
  const facets = (w.after ?? w.before) as AccessFacets;
  const author = w.before ? w.before.creator === principalKeyString(p) : true;
  const patientSide = p.role === 'patient' || p.role === 'representative';
  const gp = p.role === 'professional' && facets.patients.some((id) => dmpAccess(p, factsOf(id)).level === 'full');
  for (const label of changed) {
    const ok =
      label === Label.maskedFromProfessionals
        ? patientSide || author || gp
        : p.role === 'professional' || p.role === 'regulator' || (p.role === 'feeder' && author);
    if (!ok) return deny(Reason.labelChangeNotAllowed);
  }
  return ALLOW;
}

/**
 * `$close` and `$reopen` of a DMP (DMP-RULES.md § 1, project rule): the
 * patient or a legal representative, or an administrator on the patient's
 * request. A closed DMP stays closable and reopenable by them only.
 */
export function decideRecordLife(p: Principal, f: PatientFacts): Decision {
  if (!f.exists) return deny(Reason.unknownPatient);
  if (p.role === 'admin') return ALLOW;
  if ((p.role === 'patient' || p.role === 'representative') && p.patient === f.patientId) return ALLOW;
  return REFUSED_ROLES.has(p.role) ? deny(Reason.refusedRole) : deny(Reason.writeNotAllowed);
}
