import { dmpDocument, dmpPatient, ids, openDmpWorld, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';
import { corrected3_1_1, correctedPdsmReplace, example, PDSM_REPLACE, provideBundle, sha1, TD2, TD2_1, TD2_INS } from './examples';

const INS_REF = `Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|${TD2_INS}`;
const RESPONSE_PROFILE = 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.ProvideDocumentBundleResponse';
type Entry = { response: { status: string; location?: string } };

/** IHE MHD ITI-65 Provide Document Bundle as PDSm profiles it (DMP-RULES.md § 3), over HTTP with real tokens. */
describe.each(STORES)('ITI-65 Provide Document Bundle ($name)', (fixture) => {
  let w: DmpWorld;
  let gp: Client;
  let author: Client;
  let P: string;

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    gp = await w.as('gp');
    author = await w.as('author');
    P = (await gp.post('Patient', dmpPatient(TD2_INS))).body.id;
  });
  afterAll(async () => {
    await w.close();
  });

  const docs = async (query: string) => ids((await gp.get(`DocumentReference?${query}&_count=100`)).body).sort();
  const created = (res: { body: { entry: Entry[] } }, type: string) =>
    res.body.entry.map((e) => e.response.location as string).find((l) => l.startsWith(`${type}/`))?.split('/')[1] as string;

  describe('the real examples', () => {
    test('pdsm4dmp TD2 as published is refused: PDSm 3.1.1 does not allow a Practitioner as SubmissionSet source', async () => {
      const res = await author.post('', example(TD2));
      expect(res.status).toBe(400);
      expect(res.body.issue[0].details.text).toBe('Bundle.entry[0] (POST List): A reference to Practitioner is not allowed here (allowed: PractitionerRole, Device, Patient)');
      expect(await docs(`patient=${P}`)).toEqual([]);
    });

    test('pdsm4dmp TD2 with only its author as a PractitionerRole and masterIdentifier.use (PDSm 3.1.1, MHD) is accepted: the MHD response', async () => {
      const b = corrected3_1_1(example(TD2));
      const res = await author.post('', b);
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('transaction-response');
      expect(res.body.meta.profile).toEqual([RESPONSE_PROFILE]);
      // One entry per request entry, in order, each with its location (MHD ProvideDocumentBundleResponse).
      expect(res.body.entry.map((e: Entry) => [e.response.status, e.response.location?.split('/')[0]])).toEqual([
        ['201 Created', 'List'],
        ['201 Created', 'DocumentReference'],
        ['201 Created', 'Binary'],
      ]);
      const doc = created(res, 'DocumentReference');
      const read = (await gp.get(`DocumentReference/${doc}`)).body;
      // The conditional reference by INS became the DMP's Patient; the attachment points at the stored Binary.
      expect(read.subject.reference).toBe(`Patient/${P}`);
      expect(read.content[0].attachment.url).toBe(`Binary/${created(res, 'Binary')}`);
      const list = (await gp.get(`List/${created(res, 'List')}`)).body;
      expect(list.entry[0].item.reference).toBe(`DocumentReference/${doc}`);
      const bin = (await author.get(`Binary/${created(res, 'Binary')}`).set('Accept', 'application/fhir+json')).body;
      expect(sha1(Buffer.from(bin.data, 'base64'))).toBe(read.content[0].attachment.hash);
    });

    test('pdsm4dmp TD2.1 (replacement, with its FHIRPath Patch) corrected the same way: the old document becomes superseded', async () => {
      expect((await author.put('DocumentReference/doc-x-id', { ...dmpDocument(P, '11488-4'), id: 'doc-x-id' })).status).toBe(201);
      expect((await author.post('', example(TD2_1))).status).toBe(400);
      const res = await author.post('', corrected3_1_1(example(TD2_1)));
      expect(res.status).toBe(200);
      expect(res.body.entry.map((e: Entry) => e.response.location?.replace(/\/[^/]+\/_history/, '/*/_history'))).toEqual([
        'List/*/_history/1',
        'DocumentReference/*/_history/1',
        'DocumentReference/*/_history/2',
        'Binary/*/_history/1',
      ]);
      expect(res.body.entry[2].response.location).toBe('DocumentReference/doc-x-id/_history/2');
      expect((await gp.get('DocumentReference/doc-x-id')).body.status).toBe('superseded');
      const current = await docs(`patient=${P}&status=current`);
      expect(current).toContain(created(res, 'DocumentReference'));
      expect(current).not.toContain('doc-x-id');
    });

    test('the PDSm replace example is refused: its attachment hash is the SHA-1 of "hello", its Binary holds "Hello"', async () => {
      const patient = example('pdsm/Patient-fr-patient-123--branch-add-exemples-iti65.json');
      expect((await author.put('Patient/fr-patient-123', patient)).status).toBe(201);
      expect((await author.put('DocumentReference/doc-old', { ...dmpDocument('fr-patient-123', '11488-4'), id: 'doc-old' })).status).toBe(201);
      const res = await author.post('', example(PDSM_REPLACE));
      expect(res.status).toBe(422);
      expect(res.body.issue[0].details.text).toBe(
        'Bundle.entry[1] (POST DocumentReference): The attachment\'s hash (qvTGHdzF6KLavt4PO0gs2a6pQ00=) is not the SHA-1 of the Binary urn:uuid:33333333-3333-4333-8333-333333333333 (9/+ei3uy4Jtwk1pdeF4MxdnQq/A=)',
      );
      expect(res.body.issue[0].expression).toEqual(['Bundle.entry[1]', 'Bundle.entry[1].resource.content[0].attachment.hash']);
      expect((await author.get('DocumentReference/doc-old')).body.status).toBe('current');
    });

    test('the PDSm replace example with its hash and masterIdentifier.use corrected is accepted and supersedes doc-old', async () => {
      const res = await author.post('', correctedPdsmReplace(example(PDSM_REPLACE)));
      expect(res.status).toBe(200);
      expect(res.body.entry.map((e: Entry) => e.response.status)).toEqual(['201 Created', '201 Created', '200 OK', '201 Created']);
      expect((await author.get('DocumentReference/doc-old')).body.status).toBe('superseded');
    });

    test('the PDSm doc-old example itself cannot be stored: its contained resources carry meta.versionId (dom-4)', async () => {
      const res = await author.put('DocumentReference/doc-old-2', { ...example('pdsm/DocumentReference-doc-old.json'), id: 'doc-old-2' });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toMatch(/dom-4/);
    });
  });

  describe('replacement', () => {
    test('replaces without a PATCH entry: the server marks the old one superseded in the same transaction', async () => {
      const first = await author.post('', provideBundle(INS_REF, 'v1 of the report'));
      const old = created(first, 'DocumentReference');
      const res = await author.post('', provideBundle(INS_REF, 'v2 of the report', { replaces: `DocumentReference/${old}` }));
      expect(res.status).toBe(200);
      // The request's three entries, then the supersession the server added.
      expect(res.body.entry).toHaveLength(4);
      expect(res.body.entry[3].response.location).toBe(`DocumentReference/${old}/_history/2`);
      expect((await gp.get(`DocumentReference/${old}`)).body.status).toBe('superseded');
      const current = await docs(`patient=${P}&status=current`);
      expect(current).toContain(created(res, 'DocumentReference'));
      expect(current).not.toContain(old);
    });

    test("only the old document's author replaces it: another professional's replacement stores nothing", async () => {
      const old = created(await author.post('', provideBundle(INS_REF, 'author original')), 'DocumentReference');
      const before = await docs(`patient=${P}`);
      const res = await gp.post('', provideBundle(INS_REF, 'gp replacement', { replaces: `DocumentReference/${old}` }));
      expect(res.status).toBe(403);
      expect(res.body.issue[0].details.text).toMatch(/not-the-author/);
      expect(await docs(`patient=${P}`)).toEqual(before);
      expect((await gp.get(`DocumentReference/${old}`)).body.status).toBe('current');
    });

    test('a feeder (a lab system without any read right) submits and replaces its own documents', async () => {
      const lab = await w.as('lab');
      const first = await lab.post('', provideBundle(INS_REF, 'lab v1'));
      expect(first.status).toBe(200);
      const old = created(first, 'DocumentReference');
      const res = await lab.post('', provideBundle(INS_REF, 'lab v2', { replaces: `DocumentReference/${old}` }));
      expect(res.status).toBe(200);
      expect((await gp.get(`DocumentReference/${old}`)).body.status).toBe('superseded');
    });
  });

  describe('refusals store nothing', () => {
    test('an unknown patient (conditional reference by an INS no DMP has): 400 saying so', async () => {
      const before = await docs(`patient=${P}`);
      const res = await author.post('', provideBundle('Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|199999999999999', 'nobody'));
      expect(res.status).toBe(400);
      expect(res.body.issue[0].details.text).toMatch(/matches no resource: the patient is unknown/);
      expect(await docs(`patient=${P}`)).toEqual(before);
    });

    test('an unknown patient by id: 422', async () => {
      const res = await author.post('', provideBundle('Patient/no-such-patient', 'nobody'));
      expect(res.status).toBe(422);
      expect(res.body.issue[0].details.text).toMatch(/DMP of a known patient/);
    });

    test('a closed DMP: 403 dmp-closed', async () => {
      const Q = (await gp.post('Patient', dmpPatient('285047512399077'))).body.id;
      const patient = await w.as('patient', Q);
      expect((await patient.post(`Patient/${Q}/$close`, { resourceType: 'Parameters', parameter: [] })).status).toBe(200);
      const res = await author.post('', provideBundle(`Patient/${Q}`, 'too late'));
      expect(res.status).toBe(403);
      expect(res.body.issue[0].details.text).toMatch(/dmp-closed/);
      expect(ids((await patient.get(`DocumentReference?patient=${Q}`)).body)).toEqual([]);
    });

    test.each([
      ['size', (a: Record<string, unknown>) => (a.size = 81), /size \(81\) is not the size of the Binary .* \(\d+ bytes\)/],
      ['hash', (a: Record<string, unknown>) => (a.hash = sha1(Buffer.from('something else'))), /hash .* is not the SHA-1 of the Binary/],
    ])('a DocumentReference whose attachment %s disagrees with its Binary: 422', async (what, spoil, text) => {
      const before = await docs(`patient=${P}`);
      const b = provideBundle(INS_REF, `bad ${what}`);
      spoil(b.entry[1].resource.content[0].attachment);
      const res = await author.post('', b);
      expect(res.status).toBe(422);
      expect(res.body.issue[0].details.text).toMatch(text);
      expect(res.body.issue[0].expression[1]).toBe(`Bundle.entry[1].resource.content[0].attachment.${what}`);
      expect(await docs(`patient=${P}`)).toEqual(before);
    });

    test('inline attachment data is checked the same way', async () => {
      const b = provideBundle(INS_REF, 'inline');
      const att = b.entry[1].resource.content[0].attachment;
      att.data = Buffer.from('inline!').toString('base64');
      delete att.url;
      b.entry.splice(2, 1);
      const res = await author.post('', b);
      expect(res.status).toBe(422);
      expect(res.body.issue[0].details.text).toMatch(/size \(6\) is not the size of its data \(7 bytes\)/);
    });
  });
});
