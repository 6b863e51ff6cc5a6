import { Label } from '../../src/access/codes';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/** The issue's scenarios, over HTTP with real signed tokens, on every store. */
describe.each(STORES)('DMP access scenarios ($name)', (fixture) => {
  let w: DmpWorld;
  let P: string; // Léa's DMP: médecin traitant gp; pharmacist, dietitian and (blocked) authorised
  let Q: string; // a DMP whose patient opposed both emergency modes
  const doc: Record<string, string> = {};
  let author: Client;

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    const gp = await w.as('gp');
    P = (await gp.post('Patient', dmpPatient('285047512345678'))).body.id;
    Q = (await gp.post('Patient', dmpPatient('185047512345679'))).body.id;
    const patient = await w.as('patient', P);
    for (const c of [
      dmpConsent(P, 'permit', [RPPS.pharmacist, RPPS.dietitian, RPPS.blocked]),
      dmpConsent(P, 'deny', [RPPS.blocked]),
    ]) {
      expect((await patient.post('Consent', c)).status).toBe(201);
    }
    expect((await (await w.as('patient', Q)).post('Consent', dmpConsent(Q, 'deny', [], ['bris_de_glace', 'centre_15']))).status).toBe(201);
    author = await w.as('author');
    const create = async (name: string, body: unknown, by: Client = author) => {
      const res = await by.post('DocumentReference', body);
      expect(res.status).toBe(201);
      doc[name] = res.body.id;
    };
    await create('prescription', dmpDocument(P, '57833-6'));
    await create('consultation', dmpDocument(P, '11488-4'));
    await create('maskedPrescription', dmpDocument(P, '57833-6', [Label.maskedFromProfessionals], 'secret prescription'));
    await create('labReport', dmpDocument(P, '11502-2'));
    await create('announcement', dmpDocument(P, '11488-4', [Label.invisibleToPatient], 'diagnosis to announce'));
    await create('remb', dmpDocument(P, 'REMB'), await w.as('cnam'));
    await create('qReport', dmpDocument(Q, '11488-4'));
  });
  afterAll(async () => {
    await w.close();
  });

  const search = async (c: Client, query: string) => {
    const res = await c.get(query);
    expect(res.status).toBe(200);
    return res.body;
  };

  test('a masked document is absent for an authorised pharmacist, 404 on direct read, visible to its author and the médecin traitant', async () => {
    const pharmacist = await w.as('pharmacist');
    const bundle = await search(pharmacist, `DocumentReference?patient=${P}&_total=accurate`);
    // The pharmacist's matrix: prescriptions, lab reports, REMB; not consultation notes; never the masked one.
    expect(ids(bundle).sort()).toEqual([doc.prescription, doc.labReport, doc.remb].sort());
    expect(bundle.total).toBe(3);
    const read = await pharmacist.get(`DocumentReference/${doc.maskedPrescription}`);
    expect(read.status).toBe(404);
    expect(JSON.stringify(read.body)).not.toContain('secret');
    const unknown = await pharmacist.get('DocumentReference/does-not-exist');
    expect(read.body.issue[0].details.text.replace(doc.maskedPrescription, 'X')).toBe(unknown.body.issue[0].details.text.replace('does-not-exist', 'X'));
    expect((await author.get(`DocumentReference/${doc.maskedPrescription}`)).status).toBe(200);
    const gp = await w.as('gp');
    expect((await gp.get(`DocumentReference/${doc.maskedPrescription}`)).status).toBe(200);
    expect(ids(await search(gp, `DocumentReference?patient=${P}`))).toContain(doc.maskedPrescription);
  });

  test('an INVISIBLE_PATIENT document is absent for the patient until the label is lifted', async () => {
    const patient = await w.as('patient', P);
    expect(ids(await search(patient, `DocumentReference?patient=${P}`))).not.toContain(doc.announcement);
    expect((await patient.get(`DocumentReference/${doc.announcement}`)).status).toBe(404);
    const lift = await author.patch(`DocumentReference/${doc.announcement}`, [{ op: 'replace', path: '/securityLabel', value: [] }]);
    expect(lift.status).toBe(200);
    expect(ids(await search(patient, `DocumentReference?patient=${P}`))).toContain(doc.announcement);
    expect((await patient.get(`DocumentReference/${doc.announcement}`)).status).toBe(200);
  });

  test('a blocked professional is denied even when a permit Consent names him', async () => {
    const blocked = await w.as('blocked');
    expect((await blocked.get(`DocumentReference/${doc.prescription}`)).status).toBe(403);
    expect((await blocked.get(`DocumentReference?patient=${P}`)).status).toBe(403);
    expect(ids(await search(blocked, 'DocumentReference'))).toEqual([]);
  });

  test('bris de glace: allowed when not opposed, MASQUE_PS stays hidden; 403 when opposed', async () => {
    const bdg = await w.as('breakGlass');
    const seen = ids(await search(bdg, `DocumentReference?patient=${P}`));
    expect(seen).toEqual(expect.arrayContaining([doc.prescription, doc.consultation, doc.labReport]));
    expect(seen).not.toContain(doc.maskedPrescription);
    expect((await bdg.get(`DocumentReference/${doc.maskedPrescription}`)).status).toBe(404);
    expect((await bdg.get(`DocumentReference?patient=${Q}`)).status).toBe(403);
    expect((await bdg.get(`DocumentReference/${doc.qReport}`)).status).toBe(403);
    // Without the emergency mode, the same professional has no right.
    expect((await (await w.as('stranger')).get(`DocumentReference?patient=${P}`)).status).toBe(403);
  });

  test('Centre 15: allowed when not opposed, 403 when opposed', async () => {
    const reg = await w.as('regulator');
    expect((await reg.get(`DocumentReference/${doc.consultation}`)).status).toBe(200);
    expect((await reg.get(`DocumentReference/${doc.maskedPrescription}`)).status).toBe(404);
    expect((await reg.get(`DocumentReference/${doc.qReport}`)).status).toBe(403);
  });

  test('an insurer is denied even with the patient consent', async () => {
    await (await w.as('patient', P)).post('Consent', dmpConsent(P, 'permit', [RPPS.stranger]));
    const insurer = await w.as('insurer');
    expect((await insurer.get(`DocumentReference/${doc.prescription}`)).status).toBe(403);
    expect((await insurer.get('DocumentReference')).status).toBe(403);
    expect((await insurer.get(`Patient/${P}`)).status).toBe(403);
    expect((await insurer.post('DocumentReference', dmpDocument(P, '11488-4'))).status).toBe(403);
  });

  test('Assurance Maladie writes REMB and reads nothing', async () => {
    const cnam = await w.as('cnam');
    expect((await cnam.post('DocumentReference', dmpDocument(P, 'REMB'))).status).toBe(201);
    expect((await cnam.post('DocumentReference', dmpDocument(P, '11488-4'))).status).toBe(403);
    expect((await cnam.get(`DocumentReference/${doc.remb}`)).status).toBe(403);
    expect((await cnam.get(`DocumentReference?patient=${P}`)).status).toBe(403);
    expect(ids(await search(cnam, 'DocumentReference'))).toEqual([]);
  });

  test('a dietitian sees only the types the matrix gives dietitians', async () => {
    const dietitian = await w.as('dietitian');
    const bundle = await search(dietitian, `DocumentReference?patient=${P}&_total=accurate`);
    expect(ids(bundle)).toEqual([doc.labReport]);
    expect(bundle.total).toBe(1);
    expect((await dietitian.get(`DocumentReference/${doc.prescription}`)).status).toBe(404);
    expect((await dietitian.get(`DocumentReference?patient=${P}&_summary=count`)).body.total).toBe(1);
  });

  test('a closed DMP refuses its médecin traitant, and lets the patient read it and reopen it', async () => {
    const patient = await w.as('patient', P);
    const gp = await w.as('gp');
    const closed = await patient.post(`Patient/${P}/$close`, { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'décès' }] });
    expect(closed.status).toBe(200);
    expect(closed.body.active).toBe(false);
    try {
      expect((await gp.get(`DocumentReference/${doc.prescription}`)).status).toBe(403);
      expect((await gp.get(`DocumentReference?patient=${P}`)).status).toBe(403);
      expect((await author.post('DocumentReference', dmpDocument(P, '11488-4'))).status).toBe(403);
      expect((await patient.get(`DocumentReference/${doc.prescription}`)).status).toBe(200);
      expect((await gp.post(`Patient/${P}/$reopen`, undefined)).status).toBe(403);
    } finally {
      const reopened = await patient.post(`Patient/${P}/$reopen`, undefined);
      expect(reopened.status).toBe(200);
      expect(reopened.body.active).toBe(true);
    }
    expect((await gp.get(`DocumentReference/${doc.prescription}`)).status).toBe(200);
  });

  test('20 concurrent conditional creates of one INS make exactly one Patient', async () => {
    const gp = await w.as('gp');
    const ins = 'urn:oid:1.2.250.1.213.1.4.8|299017512345600';
    const results = await Promise.all(
      Array.from({ length: 20 }, () => gp.post('Patient', dmpPatient('299017512345600'), { 'If-None-Exist': `identifier=${ins}` })),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of results) {
      expect([200, 201]).toContain(r.status);
      expect(r.body.id).toBe(created[0].body.id);
    }
    const found = await search(gp, `Patient?identifier=${ins}`);
    expect(ids(found)).toEqual([created[0].body.id]);
    // A plain second create of the same INS is a conflict, not a duplicate.
    expect((await gp.post('Patient', dmpPatient('299017512345600'))).status).toBe(409);
  });
});
