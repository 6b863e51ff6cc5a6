import { Label, VISIBILITY_SYSTEM } from '../../src/access/codes';
import type { Resource } from '@medplum/fhirtypes';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/** The rows of DMP-RULES § 5 and the labels of § 4 not covered by the scenarios, each allowed and denied, over HTTP. */
describe.each(STORES)('roles and labels over HTTP ($name)', (fixture) => {
  let w: DmpWorld;
  let P: string;
  let other: string;
  let author: Client;
  const doc: Record<string, string> = {};

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    const gp = await w.as('gp');
    P = (await gp.post('Patient', dmpPatient('201017512345602'))).body.id;
    other = (await gp.post('Patient', dmpPatient('201017512345603'))).body.id;
    author = await w.as('author');
    const mk = async (name: string, type: string, labels: string[] = [], by: Client = author, patient = P) => {
      const res = await by.post('DocumentReference', dmpDocument(patient, type, labels));
      expect(res.status).toBe(201);
      doc[name] = res.body.id;
    };
    await mk('plain', '11488-4');
    await mk('notForRepresentatives', '11488-4', [Label.invisibleToRepresentatives]);
    await mk('lab', '11502-2', [], await w.as('lab'));
    await mk('otherLab', '11502-2', [], await w.as('lab'), other);
  });
  afterAll(async () => {
    await w.close();
  });

  test('legal representative: reads the minor DMP but INVISIBLE_REPRESENTANTS_LEGAUX; not another DMP', async () => {
    const rep = await w.as('representative', P);
    const seen = ids((await rep.get(`DocumentReference?patient=${P}`)).body);
    expect(seen).toContain(doc.plain);
    expect(seen).not.toContain(doc.notForRepresentatives);
    expect((await rep.get(`DocumentReference/${doc.notForRepresentatives}`)).status).toBe(404);
    expect((await (await w.as('patient', P)).get(`DocumentReference/${doc.notForRepresentatives}`)).status).toBe(200);
    expect((await rep.get(`DocumentReference?patient=${other}`)).status).toBe(403);
  });

  test('feeder: its own submissions, in every DMP; nothing else', async () => {
    const lab = await w.as('lab');
    expect((await lab.get(`DocumentReference/${doc.lab}`)).status).toBe(200);
    expect((await lab.get(`DocumentReference/${doc.plain}`)).status).toBe(404);
    expect(ids((await lab.get('DocumentReference')).body).sort()).toEqual([doc.lab, doc.otherLab].sort());
  });

  test('two feeders sharing an rpps claim: each finds only its own submissions, search after search', async () => {
    // Restrictions are memoized per principal: the key is the feeder's identity (sub), never a shared claim.
    const first = await w.withClaims({ role: 'feeder', sub: 'feeder-a', rpps: '10000000555' });
    const second = await w.withClaims({ role: 'feeder', sub: 'feeder-b', rpps: '10000000555' });
    const mine = async (by: Client) => {
      const res = await by.post('DocumentReference', dmpDocument(P, '11502-2'));
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const a = await mine(first);
    const b = await mine(second);
    for (let round = 0; round < 2; round++) {
      expect(ids((await first.get(`DocumentReference?patient=${P}`)).body)).toEqual([a]);
      expect(ids((await second.get(`DocumentReference?patient=${P}`)).body)).toEqual([b]);
      expect(ids((await first.get('DocumentReference?type=11502-2')).body).sort()).toEqual([a]);
      expect(ids((await second.get('DocumentReference?type=11502-2')).body).sort()).toEqual([b]);
    }
  });

  test('administrator: conformance and directory, no clinical data', async () => {
    const admin = await w.as('admin');
    expect((await admin.post('ValueSet', { resourceType: 'ValueSet', status: 'active', url: 'https://dmp.example/fhir/ValueSet/t' })).status).toBe(201);
    expect((await admin.post('Organization', { resourceType: 'Organization', name: 'CH Exemple' })).status).toBe(201);
    expect((await admin.get(`DocumentReference/${doc.plain}`)).status).toBe(403);
    expect((await admin.get(`Patient/${P}`)).status).toBe(403);
    expect(ids((await admin.get('DocumentReference')).body)).toEqual([]);
    expect((await admin.post('DocumentReference', dmpDocument(P, '11488-4'))).status).toBe(403);
    expect((await author.post('ValueSet', { resourceType: 'ValueSet', status: 'active' })).status).toBe(403);
  });

  test.each(['employer', 'occupationalPhysician'] as const)('%s: nothing at all', async (role) => {
    const c = await w.as(role);
    expect((await c.get(`DocumentReference/${doc.plain}`)).status).toBe(403);
    expect((await c.get('Organization')).status).toBe(403);
  });

  test('Consents: the patient creates, lists and revokes; a revocation applies from the next request', async () => {
    const patient = await w.as('patient', P);
    const pharmacist = await w.as('pharmacist');
    expect((await pharmacist.get(`DocumentReference?patient=${P}`)).status).toBe(403);
    const consent = await patient.post('Consent', dmpConsent(P, 'permit', [RPPS.pharmacist]));
    expect(consent.status).toBe(201);
    expect((await pharmacist.get(`DocumentReference?patient=${P}`)).status).toBe(200);
    expect(ids((await patient.get(`Consent?patient=${P}`)).body)).toContain(consent.body.id);
    // A professional cannot list the patient's Consents, nor write one for someone else.
    expect(ids((await pharmacist.get(`Consent?patient=${P}`)).body)).toEqual([]);
    expect((await pharmacist.post('Consent', dmpConsent(P, 'permit', [RPPS.dietitian]))).status).toBe(403);
    expect((await patient.delete(`Consent/${consent.body.id}`)).status).toBe(200);
    expect((await pharmacist.get(`DocumentReference?patient=${P}`)).status).toBe(403);
  });

  test('a Consent period: the authorisation starts and ends on time, with no write in between', async () => {
    const patient = await w.as('patient', P);
    const dietitian = await w.as('dietitian');
    const realNow = Date.now();
    const inAMinute = new Date(realNow + 60_000).toISOString();
    const until = dmpConsent(P, 'permit', [RPPS.dietitian]) as Resource & { provision: Record<string, unknown> };
    until.provision.period = { end: inAMinute };
    const consent = await patient.post('Consent', until);
    expect(consent.status).toBe(201);
    const search = () => dietitian.get(`DocumentReference?patient=${P}`);
    expect((await search()).status).toBe(200);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow + 120_000);
    try {
      // Nothing was written since: only the clock says the authorisation is over.
      expect((await search()).status).toBe(403);
      expect((await dietitian.get(`DocumentReference/${doc.plain}`)).status).toBe(403);
    } finally {
      clock.mockRestore();
    }
    expect((await patient.delete(`Consent/${consent.body.id}`)).status).toBe(200);
    const from = dmpConsent(P, 'permit', [RPPS.dietitian]) as Resource & { provision: Record<string, unknown> };
    from.provision.period = { start: inAMinute };
    const later = await patient.post('Consent', from);
    expect(later.status).toBe(201);
    expect((await search()).status).toBe(403);
    const clock2 = jest.spyOn(Date, 'now').mockImplementation(() => realNow + 120_000);
    try {
      expect((await search()).status).toBe(200);
    } finally {
      clock2.mockRestore();
    }
    expect((await patient.delete(`Consent/${later.body.id}`)).status).toBe(200);
  });

  test('a professional records the patient consent for himself, unless blocked', async () => {
    const dietitian = await w.as('dietitian');
    expect((await dietitian.post('Consent', dmpConsent(P, 'permit', [RPPS.dietitian]))).status).toBe(201);
    expect((await dietitian.get(`DocumentReference/${doc.lab}`)).status).toBe(200);
    const patient = await w.as('patient', P);
    expect((await patient.post('Consent', dmpConsent(P, 'deny', [RPPS.stranger]))).status).toBe(201);
    const stranger = await w.as('stranger');
    expect((await stranger.post('Consent', dmpConsent(P, 'permit', [RPPS.stranger]))).status).toBe(403);
    expect((await stranger.get(`DocumentReference/${doc.plain}`)).status).toBe(403);
  });

  test('labels: MASQUE_PS by the patient, author or médecin traitant; INVISIBLE_PATIENT never by the patient side', async () => {
    const mask = [{ op: 'add', path: '/securityLabel/-', value: { coding: [{ system: VISIBILITY_SYSTEM, code: Label.maskedFromProfessionals }] } }];
    const invisible = [{ op: 'add', path: '/securityLabel/-', value: { coding: [{ system: VISIBILITY_SYSTEM, code: Label.invisibleToPatient }] } }];
    const unlabel = [{ op: 'replace', path: '/securityLabel', value: [] }];
    const patient = await w.as('patient', P);
    expect((await patient.patch(`DocumentReference/${doc.plain}`, invisible)).status).toBe(403);
    expect((await patient.patch(`DocumentReference/${doc.plain}`, mask)).status).toBe(200);
    expect((await patient.patch(`DocumentReference/${doc.plain}`, unlabel)).status).toBe(200);
    expect((await (await w.as('gp')).patch(`DocumentReference/${doc.plain}`, mask)).status).toBe(200);
    expect((await author.patch(`DocumentReference/${doc.plain}`, unlabel)).status).toBe(200);
    // The dietitian (authorised, not author) may not mask.
    expect((await (await w.as('dietitian')).patch(`DocumentReference/${doc.lab}`, mask)).status).toBe(403);
  });

  test('documents: content immutable (405), PUT refused (405), only the author deletes', async () => {
    const current = (await author.get(`DocumentReference/${doc.plain}`)).body;
    expect((await author.patch(`DocumentReference/${doc.plain}`, [{ op: 'replace', path: '/description', value: 'changed' }])).status).toBe(405);
    expect((await author.put(`DocumentReference/${doc.plain}`, { ...current, description: 'changed' })).status).toBe(405);
    expect((await (await w.as('gp')).delete(`DocumentReference/${doc.plain}`)).status).toBe(403);
    expect((await author.delete(`DocumentReference/${doc.plain}`)).status).toBe(200);
    expect((await author.get(`DocumentReference/${doc.plain}/_history`)).status).toBe(200);
  });

  test('AuditEvents cannot be written through the API (405)', async () => {
    const admin = await w.as('admin');
    const event = { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2026-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } } };
    expect((await admin.post('AuditEvent', event)).status).toBe(405);
    expect((await admin.put('AuditEvent/x', { ...event, id: 'x' })).status).toBe(405);
    expect((await admin.delete('AuditEvent/x')).status).toBe(405);
    expect((await admin.patch('AuditEvent/x', [])).status).toBe(405);
  });
});
