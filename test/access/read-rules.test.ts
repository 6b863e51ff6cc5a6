import { accessFacets } from '../../src/access/facets';
import type { Principal } from '../../src/auth/principal';
import { unknownPatient, type PatientFacts } from '../../src/access/facts';
import { decideRead } from '../../src/access/read';
import { doc, facts, Label, matrix, principal, pro, RPPS, structured } from './helpers';

const read = (p: Principal, r = doc('11488-4'), f: PatientFacts = facts()) =>
  decideRead(p, accessFacets(r, matrix), (id) => (id === f.patientId ? f : unknownPatient(id)), matrix);
const effect = (p: Principal, r = doc('11488-4'), f?: PatientFacts) => read(p, r, f).effect;

const patient = principal({ role: 'patient', patient: 'p1' });
const representative = principal({ role: 'representative', patient: 'p1' });
const gp = pro(RPPS.gp, '10');
const pharmacist = pro(RPPS.pharmacist, '21');
const dietitian = pro(RPPS.dietitian, '95');
const stranger = pro('10000000009', '10');

describe('DMP-RULES § 5: who may read (one block per row of the table)', () => {
  test('patient: own DMP allowed, another DMP refused (403)', () => {
    expect(effect(patient)).toBe('allow');
    expect(read(principal({ role: 'patient', patient: 'p2' }))).toEqual({ effect: 'deny', reason: 'not-own-record' });
  });
  test('patient: INVISIBLE_PATIENT is hidden (404), other labels are not', () => {
    expect(read(patient, doc('11488-4', { labels: [Label.invisibleToPatient] }))).toEqual({ effect: 'hide', reason: 'hidden-by-label' });
    expect(effect(patient, doc('11488-4', { labels: [Label.maskedFromProfessionals] }))).toBe('allow');
    expect(effect(patient, doc('11488-4', { labels: [Label.invisibleToRepresentatives] }))).toBe('allow');
  });
  test('legal representative: the minor DMP without INVISIBLE_PATIENT and INVISIBLE_REPRESENTANTS_LEGAUX', () => {
    expect(effect(representative)).toBe('allow');
    expect(effect(representative, doc('11488-4', { labels: [Label.invisibleToRepresentatives] }))).toBe('hide');
    expect(effect(representative, doc('11488-4', { labels: [Label.invisibleToPatient] }))).toBe('hide');
    expect(effect(principal({ role: 'representative', patient: 'p9' }))).toBe('deny');
  });
  test('médecin traitant: everything, masked included, but not the patient side records (Consent)', () => {
    expect(effect(gp, doc('11488-4', { labels: [Label.maskedFromProfessionals] }))).toBe('allow');
    expect(effect(gp, doc('REMB'))).toBe('allow');
    expect(effect(gp, structured('Consent'))).toBe('hide');
  });
  test('authorised professional: the matrix, minus MASQUE_PS unless author', () => {
    expect(effect(pharmacist, doc('57833-6'))).toBe('allow');
    expect(read(pharmacist, doc('11488-4'))).toEqual({ effect: 'hide', reason: 'not-in-profession-matrix' });
    expect(read(pharmacist, doc('57833-6', { labels: [Label.maskedFromProfessionals] }))).toEqual({ effect: 'hide', reason: 'hidden-by-label' });
    expect(effect(pharmacist, doc('57833-6', { labels: [Label.maskedFromProfessionals], creator: pharmacist }))).toBe('allow');
  });
  test('professional without authorisation: 403', () => {
    expect(read(stranger)).toEqual({ effect: 'deny', reason: 'no-authorisation' });
  });
  test('the author reads their own document without authorisation, but not once blocked or the DMP is closed', () => {
    const author = pro(RPPS.other, '10');
    expect(effect(author, doc('11488-4', { labels: [Label.maskedFromProfessionals] }))).toBe('allow');
    expect(read(author, doc('11488-4'), facts({ blocked: [RPPS.other] }))).toEqual({ effect: 'deny', reason: 'blocked-by-patient' });
    expect(read(author, doc('11488-4'), facts({ closed: true }))).toEqual({ effect: 'deny', reason: 'dmp-closed' });
  });
  test('blocked professional: 403 even with a permit, even as médecin traitant', () => {
    const f = facts({ blocked: [RPPS.pharmacist, RPPS.gp] });
    expect(read(pharmacist, doc('57833-6'), f)).toEqual({ effect: 'deny', reason: 'blocked-by-patient' });
    expect(read(gp, doc('57833-6'), f)).toEqual({ effect: 'deny', reason: 'blocked-by-patient' });
  });
  test('bris de glace: as authorised without authorisation, unless opposed; MASQUE_PS stays hidden', () => {
    const bdg = pro(RPPS.emergency, '10', 'bris_de_glace');
    expect(effect(bdg)).toBe('allow');
    expect(effect(bdg, doc('11488-4', { labels: [Label.maskedFromProfessionals] }))).toBe('hide');
    expect(read(bdg, doc('11488-4'), facts({ opposed: ['bris_de_glace'] }))).toEqual({ effect: 'deny', reason: 'emergency-access-opposed' });
    expect(effect(bdg, doc('11488-4'), facts({ opposed: ['centre_15'] }))).toBe('allow');
  });
  test('Centre 15 regulator: as authorised without authorisation, unless opposed', () => {
    const reg = principal({ role: 'regulator', rpps: RPPS.regulator, purposeOfUse: 'centre_15' });
    expect(effect(reg)).toBe('allow');
    expect(effect(reg, doc('11488-4'), facts({ opposed: ['centre_15'] }))).toBe('deny');
    expect(effect(principal({ role: 'regulator', rpps: RPPS.regulator }))).toBe('deny');
    // Centre 15 is for regulators: a professional claiming it gets normal access.
    expect(effect(pro('10000000009', '10', 'centre_15'))).toBe('deny');
  });
  test('feeder: its own submissions only', () => {
    const lab = principal({ role: 'feeder', sub: 'lab-1' });
    expect(effect(lab, doc('11502-2', { creator: lab }))).toBe('allow');
    expect(read(lab, doc('11502-2'))).toEqual({ effect: 'hide', reason: 'not-own-submission' });
  });
  test('Assurance Maladie reads nothing, not even its REMB submissions', () => {
    const am = principal({ role: 'assurance-maladie', sub: 'cnam' });
    expect(read(am, doc('REMB', { creator: am }))).toEqual({ effect: 'deny', reason: 'role-reads-no-clinical-data' });
  });
  test.each(['insurer', 'employer', 'occupational-physician'] as const)('%s: nothing, even with a Consent, not even the directory', (role) => {
    const p = principal({ role, rpps: RPPS.pharmacist, profession: '10' });
    expect(read(p, doc('11488-4'), facts({ permitted: [RPPS.pharmacist] }))).toEqual({ effect: 'deny', reason: 'refused-role' });
    expect(effect(p, { resourceType: 'Practitioner', id: 'x' })).toBe('deny');
  });
  test('administrator: conformance and directory resources, no clinical data', () => {
    const admin = principal({ role: 'admin', sub: 'ops' });
    expect(effect(admin, { resourceType: 'StructureDefinition', id: 'x' } as never)).toBe('allow');
    expect(effect(admin, { resourceType: 'Organization', id: 'x' })).toBe('allow');
    expect(effect(admin, doc('11488-4'))).toBe('deny');
    expect(effect(admin, { resourceType: 'Patient', id: 'p1' })).toBe('deny');
  });
  test('closed DMP: refused to professionals (médecin traitant included), readable by its patient', () => {
    const closed = facts({ closed: true });
    expect(read(gp, doc('11488-4'), closed)).toEqual({ effect: 'deny', reason: 'dmp-closed' });
    expect(effect(pro(RPPS.emergency, '10', 'bris_de_glace'), doc('11488-4'), closed)).toBe('deny');
    expect(effect(patient, doc('11488-4'), closed)).toBe('allow');
  });
  test('any professional, feeder or Assurance Maladie reads a Patient resource (to find a DMP by INS)', () => {
    for (const p of [stranger, principal({ role: 'feeder' }), principal({ role: 'assurance-maladie' })]) {
      expect(effect(p, { resourceType: 'Patient', id: 'p1' })).toBe('allow');
    }
  });
});

describe('DMP-RULES § 6: the matrix', () => {
  test('a dietitian reads lab results and patient summaries only', () => {
    expect(effect(dietitian, doc('11502-2'))).toBe('allow');
    expect(effect(dietitian, doc('60591-5'))).toBe('allow');
    for (const t of ['57833-6', '11488-4', 'REMB', 'EXPPAT_3']) expect(effect(dietitian, doc(t))).toBe('hide');
    expect(effect(dietitian, structured('Observation'))).toBe('allow');
    expect(effect(dietitian, structured('MedicationRequest'))).toBe('hide');
    expect(effect(dietitian, structured('AllergyIntolerance'))).toBe('allow');
  });
  test('a dentist reads everything but REMB; an unlisted profession nothing', () => {
    const dentist = pro(RPPS.pharmacist, '40');
    expect(effect(dentist, doc('11488-4'))).toBe('allow');
    expect(effect(dentist, doc('REMB'))).toBe('hide');
    expect(effect(pro(RPPS.pharmacist, '99'), doc('11488-4'))).toBe('hide');
    expect(effect(pro(RPPS.pharmacist, '99'), structured('Immunization'))).toBe('hide');
  });
  test('unlisted clinical types are read only by professions that read all types', () => {
    expect(effect(pharmacist, structured('Encounter'))).toBe('hide');
    expect(effect(pro(RPPS.pharmacist, '50'), structured('Encounter'))).toBe('allow');
  });
});

describe('facets', () => {
  test('patient data whose patient cannot be resolved is in no DMP: only its creator reads it', () => {
    const lab = principal({ role: 'feeder', sub: 'lab' });
    const r = { ...doc('11502-2', { creator: lab }), subject: { identifier: { system: 'urn:oid:1.2.250.1.213.1.4.8', value: '1' } } } as never;
    expect(effect(gp, r)).toBe('deny');
    expect(effect(lab, r)).toBe('allow');
  });
  test('meta.security labels count as well as securityLabel', () => {
    const r = { ...structured('Observation'), meta: { security: [{ code: Label.maskedFromProfessionals }] } } as never;
    expect(effect(pharmacist, r)).toBe('hide');
    expect(effect(gp, r)).toBe('allow');
  });
});
