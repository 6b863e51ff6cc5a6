import type { Resource } from '@medplum/fhirtypes';
import { accessFacets } from '../../src/access/facets';
import { unknownPatient, type PatientFacts } from '../../src/access/facts';
import { decideWrite, type WriteRequest } from '../../src/access/write';
import type { Principal } from '../../src/auth/principal';
import { doc, facts, Label, matrix, principal, pro, RPPS, structured } from './helpers';

const f = (r: Resource | undefined) => r && accessFacets(r, matrix);
function write(p: Principal, op: WriteRequest['op'], before?: Resource, after?: Resource, dmp: PatientFacts = facts(), selfPermit = false) {
  return decideWrite(p, { op, before: f(before), after: f(after), selfPermit }, (id) => (id === dmp.patientId ? dmp : unknownPatient(id)), matrix);
}
const effect = (...a: Parameters<typeof write>) => write(...a).effect;
const withLabels = (r: Resource, labels: string[]) => doc((r as { type: { coding: { code: string }[] } }).type.coding[0].code, { labels, creator: creatorOf(r) });
const creators = new Map<Resource, Principal>();
function docBy(p: Principal, type = '11488-4', labels: string[] = []): Resource {
  const r = doc(type, { creator: p, labels });
  creators.set(r, p);
  return r;
}
const creatorOf = (r: Resource) => creators.get(r) as Principal;

const patient = principal({ role: 'patient', patient: 'p1' });
const gp = pro(RPPS.gp, '10');
const pharmacist = pro(RPPS.pharmacist, '21');
const stranger = pro(RPPS.other, '10');
const lab = principal({ role: 'feeder', sub: 'lab' });
const am = principal({ role: 'assurance-maladie', sub: 'cnam' });

describe('DMP-RULES § 3 and § 5: who may write', () => {
  test('feeding needs no read right: a professional without authorisation and a lab create documents', () => {
    expect(effect(stranger, 'create', undefined, docBy(stranger))).toBe('allow');
    expect(effect(lab, 'create', undefined, docBy(lab, '11502-2'))).toBe('allow');
  });
  test('a closed DMP or an unknown patient refuses feeding', () => {
    expect(write(stranger, 'create', undefined, docBy(stranger), facts({ closed: true }))).toEqual({ effect: 'deny', reason: 'dmp-closed' });
    expect(write(lab, 'create', undefined, doc('11502-2', { creator: lab, patient: 'p9' }))).toEqual({ effect: 'deny', reason: 'unknown-patient' });
  });
  test('a blocked professional writes nothing', () => {
    expect(effect(stranger, 'create', undefined, docBy(stranger), facts({ blocked: [RPPS.other] }))).toBe('deny');
  });
  test('only the author deletes; others who can see it get 403, others who cannot get 404', () => {
    const d = docBy(stranger, '57833-6');
    expect(effect(stranger, 'delete', d)).toBe('allow');
    expect(write(gp, 'delete', d)).toEqual({ effect: 'deny', reason: 'not-the-author' });
    expect(write(patient, 'delete', d)).toEqual({ effect: 'deny', reason: 'not-the-author' });
    expect(effect(pharmacist, 'delete', docBy(stranger, '57833-6', [Label.maskedFromProfessionals]))).toBe('hide');
    expect(effect(lab, 'delete', d)).toBe('hide');
  });
  test('a feeder replaces and deletes its own submissions without reading the DMP', () => {
    const d = docBy(lab, '11502-2');
    expect(effect(lab, 'delete', d)).toBe('allow');
    expect(effect(lab, 'patch', d, { ...d, status: 'superseded' } as Resource)).toBe('allow');
  });
  test('Assurance Maladie writes REMB only', () => {
    expect(effect(am, 'create', undefined, docBy(am, 'REMB'))).toBe('allow');
    expect(effect(am, 'create', undefined, docBy(am, '11488-4'))).toBe('deny');
    expect(effect(am, 'create', undefined, structured('Observation'))).toBe('deny');
  });
  test.each(['insurer', 'employer', 'occupational-physician'] as const)('%s writes nothing', (role) => {
    expect(effect(principal({ role }), 'create', undefined, docBy(principal({ role })))).toBe('deny');
  });
  test('administrator: conformance and directory only', () => {
    const admin = principal({ role: 'admin', sub: 'ops' });
    expect(effect(admin, 'create', undefined, { resourceType: 'ValueSet', id: 'v', status: 'active' } as Resource)).toBe('allow');
    expect(effect(admin, 'create', undefined, { resourceType: 'Practitioner', id: 'x' })).toBe('allow');
    expect(effect(admin, 'create', undefined, docBy(admin))).toBe('deny');
    expect(effect(pharmacist, 'create', undefined, { resourceType: 'ValueSet', id: 'v', status: 'active' } as Resource)).toBe('deny');
    expect(effect(lab, 'create', undefined, { resourceType: 'Organization', id: 'o' })).toBe('allow');
  });
  test('audit and notifications are written by the server only', () => {
    expect(effect(patient, 'create', undefined, structured('Communication'))).toBe('deny');
  });
  test('Consents: the patient manages them; a professional records only a permit for himself', () => {
    const c = { ...structured('Consent'), status: 'active' } as Resource;
    expect(effect(patient, 'create', undefined, c)).toBe('allow');
    expect(effect(pharmacist, 'create', undefined, c, facts(), true)).toBe('allow');
    expect(write(pharmacist, 'create', undefined, c, facts(), false)).toEqual({ effect: 'deny', reason: 'consent-not-allowed' });
    expect(effect(pharmacist, 'create', undefined, c, facts({ blocked: [RPPS.pharmacist] }), true)).toBe('deny');
    expect(effect(lab, 'create', undefined, c)).toBe('deny');
    // The patient revokes a Consent a professional recorded.
    const byPro = { ...c, meta: docBy(pharmacist).meta } as Resource;
    expect(effect(patient, 'delete', byPro)).toBe('allow');
    expect(effect(principal({ role: 'patient', patient: 'p2' }), 'create', undefined, c)).toBe('deny');
  });
});

describe('DMP-RULES § 4: who sets and removes labels', () => {
  const d = docBy(stranger, '57833-6');
  test('MASQUE_PS: the patient, the author and the médecin traitant; not another professional', () => {
    const masked = withLabels(d, [Label.maskedFromProfessionals]);
    expect(effect(patient, 'patch', d, masked)).toBe('allow');
    expect(effect(stranger, 'patch', d, masked)).toBe('allow');
    expect(effect(gp, 'patch', d, masked)).toBe('allow');
    expect(write(pharmacist, 'patch', d, masked)).toEqual({ effect: 'deny', reason: 'label-change-not-allowed' });
    expect(effect(patient, 'patch', masked, d)).toBe('allow');
  });
  test('INVISIBLE_PATIENT: professionals, never the patient side', () => {
    const hidden = withLabels(d, [Label.invisibleToPatient]);
    expect(effect(stranger, 'patch', d, hidden)).toBe('allow');
    expect(effect(pharmacist, 'patch', d, hidden)).toBe('allow');
    expect(effect(patient, 'patch', d, hidden)).toBe('deny');
    expect(effect(patient, 'create', undefined, doc('11488-4', { creator: patient, labels: [Label.invisibleToPatient] }))).toBe('deny');
    // Lifted by a professional: the patient sees it again.
    expect(effect(stranger, 'patch', hidden, d)).toBe('allow');
  });
});
