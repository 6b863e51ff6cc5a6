import type { Resource } from '@medplum/fhirtypes';
import { Label } from '../../src/access/codes';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/**
 * A masked document must stay hidden from an authorised pharmacist on every
 * path: in results, in totals and in includes (issue: "for every path ... a
 * test that shows a hidden resource stays hidden").
 */
describe.each(STORES)('a hidden resource stays hidden on every path ($name)', (fixture) => {
  let w: DmpWorld;
  let P: string;
  let visible: string; // a prescription the pharmacist may read
  let masked: string; // a masked prescription
  let note: string; // a consultation note: outside the pharmacist's matrix
  let ph: Client;

  const observationOf = (target: string): Resource =>
    ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${P}` },
      derivedFrom: [{ reference: `DocumentReference/${target}` }],
      valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    }) as Resource;

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    const gp = await w.as('gp');
    P = (await gp.post('Patient', dmpPatient('277017512345601'))).body.id;
    await (await w.as('patient', P)).post('Consent', dmpConsent(P, 'permit', [RPPS.pharmacist]));
    const author = await w.as('author');
    visible = (await author.post('DocumentReference', dmpDocument(P, '57833-6', [], 'visible prescription'))).body.id;
    masked = (await author.post('DocumentReference', dmpDocument(P, '57833-6', [Label.maskedFromProfessionals], 'masked prescription'))).body.id;
    note = (await author.post('DocumentReference', dmpDocument(P, '11488-4', [], 'consultation note'))).body.id;
    // Observations (visible to a pharmacist) pointing at each document, for includes, chains and _has.
    for (const target of [visible, masked, note]) {
      expect((await author.post('Observation', observationOf(target))).status).toBe(201);
    }
    // Give the masked document a second version, for vread and history.
    expect((await author.patch(`DocumentReference/${masked}`, [{ op: 'replace', path: '/status', value: 'current' }])).status).toBe(200);
    ph = await w.as('pharmacist');
  });
  afterAll(async () => {
    await w.close();
  });

  const body = async (query: string) => {
    const res = await ph.get(query);
    expect(res.status).toBe(200);
    return res.body;
  };
  const allIds = (b: { entry?: { resource?: { id?: string } }[] }) => (b.entry ?? []).map((e) => e.resource?.id);

  test('read and vread: 404 exactly as an unknown id', async () => {
    for (const path of [`DocumentReference/${masked}`, `DocumentReference/${masked}/_history/1`, `DocumentReference/${note}`]) {
      const res = await ph.get(path);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toMatch(/prescription|consultation/);
    }
    expect((await ph.get(`DocumentReference/${visible}`)).status).toBe(200);
  });

  test('instance history is 404; type and system history leave it out, totals included', async () => {
    expect((await ph.get(`DocumentReference/${masked}/_history`)).status).toBe(404);
    const typeHistory = await body('DocumentReference/_history');
    expect(allIds(typeHistory)).toEqual([visible]);
    expect(typeHistory.total).toBe(1);
    const system = await body('_history?_count=100');
    expect(allIds(system)).not.toContain(masked);
    expect(allIds(system)).not.toContain(note);
    expect(system.total).toBe(system.entry.length);
  });

  test('search: results, total, _total=accurate, _summary=count and paging count only what is visible', async () => {
    const all = await body(`DocumentReference?patient=${P}&_total=accurate`);
    expect(ids(all)).toEqual([visible]);
    expect(all.total).toBe(1);
    expect((await body(`DocumentReference?patient=${P}&_summary=count`)).total).toBe(1);
    expect((await body(`DocumentReference?_id=${masked}`)).total).toBe(0);
    const page = await body(`DocumentReference?patient=${P}&_count=1&_total=accurate`);
    expect(page.link.find((l: { relation: string }) => l.relation === 'next')).toBeUndefined();
  });

  test('_include and _revinclude (with :iterate) carry only visible resources', async () => {
    const inc = await body(`Observation?patient=${P}&_include=Observation:derived-from`);
    const matches = (inc.entry as { search: { mode: string } }[]).filter((e) => e.search.mode === 'match');
    expect(matches).toHaveLength(3); // the Observations themselves are visible
    const included = (inc.entry as { resource: { id: string }; search: { mode: string } }[]).filter((e) => e.search.mode === 'include').map((e) => e.resource.id);
    expect(included).toEqual([visible]);
    const rev = await body(`Patient?_id=${P}&_revinclude=DocumentReference:subject&_revinclude:iterate=Observation:derived-from`);
    const revIds = allIds(rev);
    expect(revIds).toContain(visible);
    expect(revIds).not.toContain(masked);
    expect(revIds).not.toContain(note);
  });

  test('chains and _has do not reveal a hidden resource through criteria', async () => {
    const chained = await body(`Observation?derived-from:DocumentReference.security-label=MASQUE_PS`);
    expect(chained.total ?? ids(chained).length).toBe(0);
    const has = await body(`Patient?_id=${P}&_has:DocumentReference:subject:security-label=MASQUE_PS`);
    expect(ids(has)).toEqual([]);
    const hasVisible = await body(`Patient?_id=${P}&_has:DocumentReference:subject:type=57833-6`);
    expect(ids(hasVisible)).toEqual([P]);
  });

  test('conditional create, update, patch and delete match only what the caller may see', async () => {
    const q = `_id=${masked}`;
    // Update and patch: no visible match; an update then creates, a patch is 404.
    expect((await ph.patch(`DocumentReference?${q}`, [{ op: 'replace', path: '/status', value: 'entered-in-error' }])).status).toBe(404);
    const del = await ph.delete(`DocumentReference?${q}`);
    expect(del.status).toBe(200);
    expect(JSON.stringify(del.body)).toMatch(/nothing was deleted/i);
    // The masked document is untouched.
    const author = await w.as('author');
    const still = await author.get(`DocumentReference/${masked}`);
    expect(still.body.status).toBe('current');
    // If-None-Exist does not match the hidden resource: the pharmacist's create goes ahead.
    const created = await ph.post('DocumentReference', dmpDocument(P, '57833-6'), { 'If-None-Exist': `_id=${masked}` });
    expect(created.status).toBe(201);
    expect(created.body.id).not.toBe(masked);
  });

  test('GET /fhir?_type= and writes to a hidden resource are refused as if it did not exist', async () => {
    const sys = await body(`?_type=DocumentReference,Observation&patient=${P}`);
    expect(allIds(sys)).toContain(visible);
    expect(allIds(sys)).not.toContain(masked);
    expect(allIds(sys)).not.toContain(note);
    expect((await ph.patch(`DocumentReference/${masked}`, [{ op: 'replace', path: '/status', value: 'superseded' }])).status).toBe(404);
    expect((await ph.delete(`DocumentReference/${masked}`)).status).toBe(404);
    // A visible document the pharmacist did not write: 403, only the author deletes.
    expect((await ph.delete(`DocumentReference/${visible}`)).status).toBe(403);
  });
});
