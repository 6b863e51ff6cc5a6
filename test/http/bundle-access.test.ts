import { Label } from '../../src/access/codes';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

/** Bundles under the DMP access rules, over HTTP with real signed tokens: each entry is checked as its single interaction. */
describe.each(STORES)('batch and transaction Bundles under access control ($name)', (fixture) => {
  let w: DmpWorld;
  let P: string; // the pharmacist is authorised here
  let R: string; // another patient's DMP
  let authorsDoc: string;
  let maskedDoc: string;
  let gp: Client;
  let pharmacist: Client;

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    gp = await w.as('gp');
    P = (await gp.post('Patient', dmpPatient('285047512399001'))).body.id;
    R = (await gp.post('Patient', dmpPatient('285047512399002'))).body.id;
    expect((await (await w.as('patient', P)).post('Consent', dmpConsent(P, 'permit', [RPPS.pharmacist]))).status).toBe(201);
    const author = await w.as('author');
    authorsDoc = (await author.post('DocumentReference', dmpDocument(P, '57833-6', [], 'author prescription'))).body.id;
    maskedDoc = (await author.post('DocumentReference', dmpDocument(P, '57833-6', [Label.maskedFromProfessionals], 'masked prescription'))).body.id;
    pharmacist = await w.as('pharmacist');
  });
  afterAll(async () => {
    await w.close();
  });

  const bundle = (type: 'batch' | 'transaction', ...entry: unknown[]) => ({ resourceType: 'Bundle', type, entry });
  const feed = (title: string) => ({ resource: dmpDocument(P, '57833-6', [], title), request: { method: 'POST', url: 'DocumentReference' } });
  const consentForOther = () => ({ resource: dmpConsent(R, 'permit', [RPPS.stranger]), request: { method: 'POST', url: 'Consent' } });
  const titles = async (patient: string) => {
    const res = await gp.get(`DocumentReference?patient=${patient}&_count=100`);
    return (res.body.entry ?? []).map((e: { resource: { description: string } }) => e.resource.description);
  };

  test('a transaction with one entry the caller may not write (a Consent for another patient) stores nothing', async () => {
    const res = await pharmacist.post('', bundle('transaction', feed('tx refused feed'), consentForOther()));
    expect(res.status).toBe(403);
    expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[1]');
    expect(await titles(P)).not.toContain('tx refused feed');
    expect(ids((await gp.get(`Consent?patient=${R}`)).body)).toEqual([]);
  });

  test('the same entries in a batch: the allowed one is stored, the refused one answers 403', async () => {
    const res = await pharmacist.post('', bundle('batch', feed('batch allowed feed'), consentForOther()));
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '403 Forbidden']);
    expect(await titles(P)).toContain('batch allowed feed');
    expect(ids((await gp.get(`Consent?patient=${R}`)).body)).toEqual([]);
  });

  test("a transaction deleting someone else's document stores nothing; the document stays", async () => {
    const res = await pharmacist.post('', bundle('transaction', feed('tx with delete'), { request: { method: 'DELETE', url: `DocumentReference/${authorsDoc}` } }));
    expect(res.status).toBe(403);
    expect(await titles(P)).not.toContain('tx with delete');
    expect((await gp.get(`DocumentReference/${authorsDoc}`)).status).toBe(200);
  });

  test('conditional matching sees what the caller sees: a masked document matches nothing for the pharmacist', async () => {
    const ref = { reference: `DocumentReference?_id=${maskedDoc}` };
    const list = (title: string) => ({
      resource: { resourceType: 'List', status: 'current', mode: 'working', title, subject: { reference: `Patient/${P}` }, entry: [{ item: ref }] },
      request: { method: 'POST', url: 'List' },
    });
    const refused = await pharmacist.post('', bundle('transaction', list('pharmacist list')));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).not.toContain('masked prescription');
    const author = await w.as('author');
    const ok = await author.post('', bundle('transaction', list('author list')));
    expect(ok.status).toBe(200);
    expect(ok.body.entry[0].resource.entry[0].item.reference).toBe(`DocumentReference/${maskedDoc}`);
  });

  test('the rules judge each entry against the data before the transaction: a document for a Patient created in it is refused (422)', async () => {
    const res = await gp.post(
      '',
      bundle(
        'transaction',
        { fullUrl: 'urn:uuid:1d1d0000-0000-4000-8000-000000000001', resource: dmpPatient('285047512399003'), request: { method: 'POST', url: 'Patient' } },
        { resource: { ...dmpDocument('x', '57833-6'), subject: { reference: 'urn:uuid:1d1d0000-0000-4000-8000-000000000001' } }, request: { method: 'POST', url: 'DocumentReference' } },
      ),
    );
    expect(res.status).toBe(422);
    expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[1]');
    expect(ids((await gp.get('Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|285047512399003')).body)).toEqual([]);
  });

  test('a refused role gets 403 for the whole transaction, and a batch refuses each entry', async () => {
    const insurer = await w.as('insurer');
    expect((await insurer.post('', bundle('transaction', feed('insurer feed')))).status).toBe(403);
    const b = await insurer.post('', bundle('batch', { request: { method: 'GET', url: `Patient/${P}` } }));
    expect(b.status).toBe(200);
    expect(b.body.entry[0].response.status).toBe('403 Forbidden');
  });
});
