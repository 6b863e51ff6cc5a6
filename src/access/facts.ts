import type { Consent, Patient, Reference } from '@medplum/fhirtypes';
import type { Principal } from '../auth/principal';
import { EMERGENCY_PURPOSES, PRINCIPAL_SYSTEM, RPPS_SYSTEM, type EmergencyPurpose } from './codes';

/**
 * What the access decisions need to know about one DMP, loaded by FhirService
 * (fhir/access-facts.ts) from the Patient and its Consents, and cached.
 * @see https://hl7.org/fhir/R4/consent.html
 */
export interface PatientFacts {
  patientId: string;
  /** False when no live Patient has this id. */
  exists: boolean;
  /** The DMP is closed (`Patient.active = false`). */
  closed: boolean;
  /** RPPS of the médecin traitant(s) (Patient.generalPractitioner). */
  gpRpps: ReadonlySet<string>;
  /** RPPS authorised by an active permit Consent. */
  permitted: ReadonlySet<string>;
  /** RPPS blocked by an active deny Consent. */
  blocked: ReadonlySet<string>;
  /** Emergency access modes the patient opposed. */
  opposed: ReadonlySet<EmergencyPurpose>;
}

/** One active Consent, reduced to what access depends on. */
export interface ConsentFacts {
  patientId: string;
  kind: 'permit' | 'deny';
  /** RPPS of the actors named. */
  rpps: string[];
  /** Emergency modes named in `provision.purpose`. */
  purposes: EmergencyPurpose[];
}

/** The facts of a DMP that does not exist (nobody but its would-be patient is refused anything by them). */
export function unknownPatient(patientId: string): PatientFacts {
  const none = new Set<never>();
  return { patientId, exists: false, closed: false, gpRpps: none, permitted: none, blocked: none, opposed: none };
}

/**
 * Facts of one DMP from its Patient, the RPPS of the Practitioners its
 * references point to, and its Consents.
 */
export function patientFacts(
  patientId: string,
  patient: Patient | undefined,
  practitionerRpps: (ref: Reference) => string | undefined,
  consents: readonly ConsentFacts[],
): PatientFacts {
  if (!patient) {
    return unknownPatient(patientId);
  }
  const gpRpps = new Set<string>();
  for (const ref of patient.generalPractitioner ?? []) {
    const r = rppsOfReference(ref) ?? practitionerRpps(ref);
    if (r) gpRpps.add(r);
  }
  const permitted = new Set<string>();
  const blocked = new Set<string>();
  const opposed = new Set<EmergencyPurpose>();
  for (const c of consents) {
    if (c.kind === 'permit') {
      c.rpps.forEach((r) => permitted.add(r));
    } else {
      c.rpps.forEach((r) => blocked.add(r));
      if (c.rpps.length === 0) c.purposes.forEach((p) => opposed.add(p));
    }
  }
  return { patientId, exists: true, closed: isClosed(patient), gpRpps, permitted, blocked, opposed };
}

/** A DMP is closed when its Patient is inactive (`$close`). */
export function isClosed(patient: Patient): boolean {
  return patient.active === false;
}

/**
 * The access-relevant content of a Consent, or undefined when it does not
 * count: not active, outside its period, or about no local patient.
 * Actors are named by RPPS, on the reference's logical identifier or on the
 * Practitioner it points to (`practitionerRpps`).
 */
export function consentFacts(
  consent: Consent,
  practitionerRpps: (ref: Reference) => string | undefined,
  nowMs: number,
): ConsentFacts | undefined {
  const patientId = /^(?:.*\/)?Patient\/([^/]+)$/.exec(consent.patient?.reference ?? '')?.[1];
  const p = consent.provision;
  if (consent.status !== 'active' || !patientId || !p?.type) {
    return undefined;
  }
  if ((p.period?.start && Date.parse(p.period.start) > nowMs) || (p.period?.end && Date.parse(p.period.end) < nowMs)) {
    return undefined;
  }
  const rpps = (p.actor ?? []).map((a) => rppsOfReference(a.reference) ?? practitionerRpps(a.reference)).filter((r): r is string => !!r);
  const purposes = (p.purpose ?? [])
    .map((c) => c.code)
    .filter((c): c is EmergencyPurpose => (EMERGENCY_PURPOSES as readonly (string | undefined)[]).includes(c));
  return { patientId, kind: p.type, rpps, purposes };
}

/**
 * The next instant after `nowMs` at which {@link consentFacts} of this
 * Consent changes by the mere passing of time: its period starts, or ends
 * (it counts until `end` inclusive); undefined when it never will. Caches
 * of facts must not outlive it.
 * @see https://hl7.org/fhir/R4/consent-definitions.html#Consent.provision.period
 */
export function consentFactsChangeAt(consent: Consent, nowMs: number): number | undefined {
  const start = consent.provision?.period?.start ? Date.parse(consent.provision.period.start) : NaN;
  const end = consent.provision?.period?.end ? Date.parse(consent.provision.period.end) + 1 : NaN;
  const next = [start, end].filter((t) => t > nowMs);
  return next.length > 0 ? Math.min(...next) : undefined;
}

/** The RPPS on a Reference's logical identifier. */
export function rppsOfReference(ref: Reference | undefined): string | undefined {
  return ref?.identifier?.system === RPPS_SYSTEM && ref.identifier.value ? ref.identifier.value : undefined;
}

/**
 * How a principal is named as creator of a resource: professionals by RPPS
 * (so the médecin traitant and authorship rules agree across their
 * software), everyone else by role and `sub`.
 */
export function principalKey(p: Principal): { system: string; value: string } {
  if ((p.role === 'professional' || p.role === 'regulator') && p.rpps) {
    return { system: RPPS_SYSTEM, value: p.rpps };
  }
  return { system: `${PRINCIPAL_SYSTEM}/${p.role}`, value: p.sub };
}

/** {@link principalKey} as `system|value`. */
export function principalKeyString(p: Principal): string {
  const k = principalKey(p);
  return `${k.system}|${k.value}`;
}
