import type { Resource } from '@medplum/fhirtypes';
import type { Principal } from '../../src/auth/principal';
import { CREATOR_EXTENSION, Label, RPPS_SYSTEM, VISIBILITY_SYSTEM, type EmergencyPurpose } from '../../src/access/codes';
import { principalKey, type PatientFacts } from '../../src/access/facts';
import { loadAccessMatrix } from '../../src/access/matrix';

export const matrix = loadAccessMatrix();

export const RPPS = { gp: '10000000001', pharmacist: '10000000002', dietitian: '10000000003', other: '10000000004', regulator: '10000000005', emergency: '10000000006' };

/** A principal as a verified token gives it. */
export function principal(p: Partial<Principal> & Pick<Principal, 'role'>): Principal {
  return { sub: `${p.role}-${p.rpps ?? p.patient ?? 'x'}`, purposeOfUse: 'normal', scopes: [], ...p };
}

export const pro = (rpps: string, profession: string, purposeOfUse: Principal['purposeOfUse'] = 'normal') =>
  principal({ role: 'professional', rpps, profession, purposeOfUse });

/** Facts of DMP `p1`: médecin traitant `gp`, a permit for the pharmacist and the dietitian unless said otherwise. */
export function facts(over: Partial<Omit<PatientFacts, 'gpRpps' | 'permitted' | 'blocked' | 'opposed'>> & {
  gp?: string[];
  permitted?: string[];
  blocked?: string[];
  opposed?: EmergencyPurpose[];
} = {}): PatientFacts {
  return {
    patientId: over.patientId ?? 'p1',
    exists: over.exists ?? true,
    closed: over.closed ?? false,
    gpRpps: new Set(over.gp ?? [RPPS.gp]),
    permitted: new Set(over.permitted ?? [RPPS.pharmacist, RPPS.dietitian]),
    blocked: new Set(over.blocked ?? []),
    opposed: new Set(over.opposed ?? []),
  };
}

/** A DocumentReference of patient p1 with a LOINC/TRE_A05 type, labels, and its creator. */
export function doc(type: string, opts: { labels?: string[]; creator?: Principal; patient?: string } = {}): Resource {
  const creator = opts.creator ?? pro(RPPS.other, '10');
  return {
    resourceType: 'DocumentReference',
    id: `doc-${type}-${(opts.labels ?? []).join('-')}`,
    meta: { extension: [{ url: CREATOR_EXTENSION, valueIdentifier: principalKey(creator) }] },
    status: 'current',
    type: { coding: [{ system: /^\d/.test(type) ? 'http://loinc.org' : 'urn:tre-a05', code: type }] },
    subject: { reference: `Patient/${opts.patient ?? 'p1'}` },
    securityLabel: (opts.labels ?? []).map((code) => ({ coding: [{ system: VISIBILITY_SYSTEM, code }] })),
    content: [{ attachment: { contentType: 'application/pdf', url: 'Binary/b1' } }],
  } as Resource;
}

export const structured = (resourceType: string, patient = 'p1'): Resource =>
  ({ resourceType, id: `${resourceType}-1`, subject: { reference: `Patient/${patient}` }, patient: { reference: `Patient/${patient}` } }) as unknown as Resource;

export { Label, RPPS_SYSTEM };
