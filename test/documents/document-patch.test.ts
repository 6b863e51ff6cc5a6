import { Label, VISIBILITY_SYSTEM } from '../../src/access/codes';
import { IS_ARCHIVED_EXTENSION } from '../../src/fhir/document-rules';
import { dmpConsent, dmpDocument, dmpPatient, ids, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';
import { example } from './examples';

const V3 = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const body = (name: string) => example(`patch/${name}.json-patch.json`);

/**
 * DMP-RULES.md § 3 rules 7 and 8, § 4: every JSON Patch body of the
 * reference examples (PDSm for the DMP, TD3.3a–d) applied by the actor the
 * draft names, on each store; then what may not change.
 */
describe.each(STORES)('document PATCH bodies and immutability ($name)', (fixture) => {
  let w: DmpWorld;
  let P: string;
  let author: Client;
  let gp: Client;
  let patient: Client;
  let pharmacist: Client;

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    gp = await w.as('gp');
    author = await w.as('author');
    pharmacist = await w.as('pharmacist');
    P = (await gp.post('Patient', dmpPatient('285047512399301'))).body.id;
    patient = await w.as('patient', P);
    expect((await patient.post('Consent', dmpConsent(P, 'permit', [RPPS.pharmacist]))).status).toBe(201);
  });
  afterAll(async () => {
    await w.close();
  });

  /** A document of the author, labelled "normal" (v3 N) first, as the DMP's examples assume. */
  const newDocument = async (identifier?: string) => {
    const d = dmpDocument(P, '57833-6') as unknown as Record<string, unknown>;
    d.securityLabel = [{ coding: [{ system: V3, code: 'N' }] }];
    if (identifier) d.identifier = [{ system: 'urn:ietf:rfc:3986', value: identifier }];
    const res = await author.post('DocumentReference', d);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const labels = async (id: string) => ((await author.get(`DocumentReference/${id}`)).body.securityLabel ?? []).flatMap((l: { coding: { code: string }[] }) => l.coding.map((c) => c.code));
  const visible = async (c: Client, id: string) => ids((await c.get(`DocumentReference?patient=${P}&_count=100`)).body).includes(id);

  test('TD3.3a masquer / démasquer (the patient): hidden from an authorised pharmacist, still seen by the médecin traitant, then shown again', async () => {
    const id = await newDocument();
    expect((await patient.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3a-masquer-PS'))).status).toBe(200);
    expect(await labels(id)).toEqual([Label.maskedFromProfessionals]);
    expect(await visible(pharmacist, id)).toBe(false);
    expect((await pharmacist.get(`DocumentReference/${id}`)).status).toBe(404);
    expect(await visible(gp, id)).toBe(true);
    expect((await patient.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3a-demasquer-PS'))).status).toBe(200);
    expect(await labels(id)).toEqual(['N']);
    expect(await visible(pharmacist, id)).toBe(true);
  });

  test('TD3.3a masquer by the author on the patient\'s behalf', async () => {
    const id = await newDocument();
    expect((await author.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3a-masquer-PS'))).status).toBe(200);
    expect(await visible(pharmacist, id)).toBe(false);
  });

  test('TD3.3b invisible / visible to the patient (the author): the patient loses and regains it; the patient may not do it', async () => {
    const id = await newDocument();
    expect((await patient.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3b-invisible-patient'))).status).toBe(403);
    expect((await author.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3b-invisible-patient'))).status).toBe(200);
    expect(await labels(id)).toEqual([Label.invisibleToPatient]);
    expect(await visible(patient, id)).toBe(false);
    expect((await patient.get(`DocumentReference/${id}`)).status).toBe(404);
    expect((await author.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3b-visible-patient'))).status).toBe(200);
    expect(await visible(patient, id)).toBe(true);
  });

  test('TD3.3d archiver / désarchiver (the patient): the isArchived extension is added, then set false; searchable both ways', async () => {
    const id = await newDocument();
    expect((await patient.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3d-archiver'))).status).toBe(200);
    const archived = (await author.get(`DocumentReference/${id}`)).body;
    expect(archived.extension).toEqual([{ url: IS_ARCHIVED_EXTENSION, valueBoolean: true }]);
    expect(ids((await gp.get(`DocumentReference?patient=${P}&isArchived=true`)).body)).toEqual([id]);
    expect((await patient.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3d-desarchiver'))).status).toBe(200);
    expect((await author.get(`DocumentReference/${id}`)).body.extension).toEqual([{ url: IS_ARCHIVED_EXTENSION, valueBoolean: false }]);
    expect(ids((await gp.get(`DocumentReference?patient=${P}&isArchived=true`)).body)).toEqual([]);
    // Archiving again replaces the existing extension (its index found by URL), it does not add a second one.
    expect((await patient.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3d-archiver'))).status).toBe(200);
    expect((await author.get(`DocumentReference/${id}`)).body.extension).toEqual([{ url: IS_ARCHIVED_EXTENSION, valueBoolean: true }]);
  });

  test('TD3.3c supprimer (status entered-in-error): the author only; the history keeps every version', async () => {
    const id = await newDocument();
    for (const other of [gp, patient]) {
      const res = await other.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3c-supprimer-status-entered-in-error'));
      expect(res.status).toBe(403);
      expect(res.body.issue[0].details.text).toMatch(/not-the-author/);
    }
    expect((await author.patch(`DocumentReference/${id}`, body('pdsm4dmp-TD3.3c-supprimer-status-entered-in-error'))).status).toBe(200);
    expect(ids((await gp.get(`DocumentReference?patient=${P}&status=current&_count=100`)).body)).not.toContain(id);
    const history = (await author.get(`DocumentReference/${id}/_history`)).body;
    expect(history.entry.map((e: { resource: { status: string } }) => e.resource.status)).toEqual(['entered-in-error', 'current']);
  });

  test('PDSm requires conditional PATCH on the identifier: it works with the same bodies', async () => {
    const id = await newDocument('urn:oid:1.2.250.1.999.77');
    const res = await patient.patch('DocumentReference?identifier=urn:ietf:rfc:3986|urn:oid:1.2.250.1.999.77', body('pdsm4dmp-TD3.3a-masquer-PS'));
    expect(res.status).toBe(200);
    expect(await labels(id)).toEqual([Label.maskedFromProfessionals]);
  });

  test('the PDSm flux-03 example is refused (422), nothing stored: its extension path has typographic quotes and names the SearchParameter, not the extension', async () => {
    // It is broken three ways (reference README, point 12): "current " with a trailing space, securityLabel replaced by
    // a bare string, and that path. The path is the first thing the patch engine meets; either of the others would be a 400.
    const id = await newDocument();
    const res = await author.patch(`DocumentReference/${id}`, body('pdsm-st_maj-flux03-example'));
    expect(res.status).toBe(422);
    expect(res.body.issue[0].details.text).toMatch(/^JSON Patch operation 2 \(replace \/extension\[url:\u201d.*PDSm-isArchived\u201d\]\/valueBoolean\) failed: its path does not exist/);
    const [status, label] = body('pdsm-st_maj-flux03-example') as unknown as unknown[];
    for (const op of [[status], [label]]) {
      const r = await author.patch(`DocumentReference/${id}`, op);
      expect(r.status).toBe(400);
    }
    expect((await author.get(`DocumentReference/${id}`)).body.meta.versionId).toBe('1');
  });

  describe('what may not change (405), whoever asks', () => {
    test.each([
      ['the description', [{ op: 'replace', path: '/description', value: 'rewritten' }]],
      ['the content', [{ op: 'replace', path: '/content/0/attachment/data', value: Buffer.from('other').toString('base64') }]],
      ['the date', [{ op: 'add', path: '/date', value: '2026-01-01T00:00:00Z' }]],
      ['the type', [{ op: 'replace', path: '/type/coding/0/code', value: '11488-4' }]],
      ['another extension', [{ op: 'add', path: '/extension', value: [{ url: 'https://example.org/other', valueBoolean: true }] }]],
      ['a label together with the content', [{ op: 'replace', path: '/securityLabel/0/coding/0/code', value: 'R' }, { op: 'remove', path: '/description' }]],
    ])('PATCH of %s', async (_what, ops) => {
      const id = await newDocument();
      const res = await author.patch(`DocumentReference/${id}`, ops);
      expect(res.status).toBe(405);
      expect((await author.get(`DocumentReference/${id}`)).body.meta.versionId).toBe('1');
    });

    test('PUT of an existing DocumentReference, even unchanged', async () => {
      const id = await newDocument();
      const current = (await author.get(`DocumentReference/${id}`)).body;
      expect((await author.put(`DocumentReference/${id}`, current)).status).toBe(405);
    });

    test('DELETE by anyone but the author is 403; the author\'s is logical (410 after, the history stays)', async () => {
      const id = await newDocument();
      expect((await gp.delete(`DocumentReference/${id}`)).status).toBe(403);
      expect((await patient.delete(`DocumentReference/${id}`)).status).toBe(403);
      expect((await author.delete(`DocumentReference/${id}`)).status).toBe(200);
      expect((await author.get(`DocumentReference/${id}`)).status).toBe(410);
      expect((await author.get(`DocumentReference/${id}/_history/1`)).body.description).toBe('document 57833-6');
    });
  });

  test('the labels a patch sets are the TRE_A07 system the DMP-RULES name', () => {
    expect(body('pdsm4dmp-TD3.3a-masquer-PS')[0].value.coding[0].system).toBe(VISIBILITY_SYSTEM);
  });
});
