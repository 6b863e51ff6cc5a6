import { CREATOR_EXTENSION } from '../../src/access/codes';
import { dmpDocument, dmpPatient, openDmpWorld, RPPS, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/** The creator of a resource is recorded by the server; a client cannot claim authorship. */
describe.each(STORES)('creator mark ($name)', (fixture) => {
  let w: DmpWorld;
  beforeAll(async () => {
    w = await openDmpWorld(fixture);
  });
  afterAll(async () => {
    await w.close();
  });

  test('a client-supplied creator is replaced by the caller, and kept on later versions', async () => {
    const gp = await w.as('gp');
    const P = (await gp.post('Patient', dmpPatient('230017512345620'))).body.id;
    const forged = {
      ...dmpDocument(P, '11488-4'),
      meta: { extension: [{ url: CREATOR_EXTENSION, valueIdentifier: { system: 'https://rpps.esante.gouv.fr', value: RPPS.gp } }] },
    };
    const stranger = await w.as('stranger');
    const created = await stranger.post('DocumentReference', forged);
    expect(created.status).toBe(201);
    const mark = (r: { meta: { extension: { url: string; valueIdentifier: { value: string } }[] } }) =>
      r.meta.extension.filter((e) => e.url === CREATOR_EXTENSION).map((e) => e.valueIdentifier.value);
    expect(mark(created.body)).toEqual([RPPS.stranger]);
    // The forged "author" cannot delete it; the real one can still patch it, and the mark stays.
    expect((await gp.delete(`DocumentReference/${created.body.id}`)).status).toBe(403);
    const patched = await stranger.patch(`DocumentReference/${created.body.id}`, [{ op: 'replace', path: '/status', value: 'current' }]);
    expect(mark(patched.body)).toEqual([RPPS.stranger]);
  });
});
