import { RPPS_SYSTEM } from '../../src/access/codes';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/**
 * A médecin traitant of many DMPs gets his cross-patient restriction as a
 * join on the Patients' general-practitioner (not a list): the same answers
 * as the list form. The list limit is forced to 0 here so that three DMPs
 * take the join path; the other access tests cover the list path.
 */
describe.each(STORES)('médecin traitant restriction as a join ($name)', (fixture) => {
  let joined: DmpWorld;
  let listed: DmpWorld;
  const seeded: { world: DmpWorld; docs: Record<string, string> }[] = [];

  async function seed(w: DmpWorld): Promise<Record<string, string>> {
    const gp = await w.as('gp');
    const admin = await w.as('admin');
    // One DMP names him by identifier, one through a Practitioner resource; one is closed; one blocks him; one is another doctor's.
    const practitioner = (await admin.post('Practitioner', { resourceType: 'Practitioner', identifier: [{ system: RPPS_SYSTEM, value: RPPS.gp }] })).body.id;
    const byId = (await gp.post('Patient', dmpPatient('240017512345631'))).body.id;
    const byRef = (await gp.post('Patient', { ...dmpPatient('240017512345632'), generalPractitioner: [{ reference: `Practitioner/${practitioner}` }] })).body.id;
    const closed = (await gp.post('Patient', dmpPatient('240017512345633'))).body.id;
    const blocking = (await gp.post('Patient', dmpPatient('240017512345634'))).body.id;
    const other = (await gp.post('Patient', dmpPatient('240017512345635', RPPS.author))).body.id;
    const author = await w.as('author');
    const docs: Record<string, string> = {};
    for (const [name, pid] of Object.entries({ byId, byRef, closed, blocking, other })) {
      docs[name] = (await author.post('DocumentReference', dmpDocument(pid, '11488-4'))).body.id;
    }
    expect((await (await w.as('patient', closed)).post(`Patient/${closed}/$close`, undefined)).status).toBe(200);
    expect((await (await w.as('patient', blocking)).post('Consent', dmpConsent(blocking, 'deny', [RPPS.gp]))).status).toBe(201);
    return docs;
  }

  beforeAll(async () => {
    joined = await openDmpWorld(fixture, { accessListLimit: 0 });
    listed = await openDmpWorld(fixture);
    for (const world of [joined, listed]) seeded.push({ world, docs: await seed(world) });
  });
  afterAll(async () => {
    await joined.close();
    await listed.close();
  });

  test('a cross-patient search returns the open, unblocked DMPs he is médecin traitant of, by identifier or Practitioner', async () => {
    for (const { world, docs } of seeded) {
      const gp = await world.as('gp');
      const found = (await gp.get('DocumentReference?_total=accurate')).body;
      expect(ids(found).sort()).toEqual([docs.byId, docs.byRef].sort());
      expect(found.total).toBe(2);
    }
  });
});
