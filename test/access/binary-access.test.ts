import type { AuditEvent } from '@medplum/fhirtypes';
import request from 'supertest';
import { Label } from '../../src/access/codes';
import { BASE_URL } from '../support/app';
import { dmpConsent, dmpDocument, dmpPatient, openDmpWorld, RPPS, type ActorName, type DmpWorld } from '../support/dmp-world';
import { rawBody } from '../support/raw-body';
import { STORES } from '../support/stores';

const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256))]);

/**
 * Who reads a Binary (DMP-RULES.md § 4): its uploader, and whoever may read
 * a DocumentReference pointing to it, with that document's labels; anyone
 * else gets exactly the answer of an unknown Binary. Each retrieval is one
 * AuditEvent naming the document's patient (§ 8). ITI-68: the attachment
 * URL gives the bytes with the document's content type.
 */
describe.each(STORES)('Binary access, audit and ITI-68 ($name)', (fixture) => {
  let world: DmpWorld;
  let pid: string;
  let seq = 0;

  const bearer = async (actor: ActorName) => `Bearer ${await world.token(actor, pid)}`;
  /** GET the bytes as `actor`, with a fresh X-Request-Id. */
  async function fetchBinary(actor: ActorName, path: string, headers: Record<string, string> = {}) {
    const rid = `binary-test-${++seq}`;
    const res = await rawBody(
      request(world.app)
        .get(path.startsWith('/') ? path : `/fhir/${path}`)
        .set('Authorization', await bearer(actor))
        .set('X-Request-Id', rid)
        .set(headers),
    );
    return { res, rid, body: res.body as Buffer };
  }
  async function uploadAs(actor: ActorName, bytes: Buffer, type = 'application/pdf'): Promise<string> {
    const res = await request(world.app).post('/fhir/Binary').set('Authorization', await bearer(actor)).set('Content-Type', type).send(bytes);
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  /** A document of `pid` by `actor`, pointing at `url`. */
  async function documentAs(actor: ActorName, url: string, labels: string[] = [], type = '11502-2'): Promise<string> {
    const doc = dmpDocument(pid, type, labels) as unknown as { content: { attachment: Record<string, unknown> }[] };
    doc.content = [{ attachment: { contentType: 'application/pdf', url } }];
    const res = await (await world.as(actor, pid)).post('DocumentReference', doc);
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  async function auditsOf(rid: string): Promise<AuditEvent[]> {
    const found: AuditEvent[] = [];
    for (const chain of await world.store.listChains(undefined, 1000)) {
      for (const link of await world.store.chainLinks(chain, 0, 100000)) {
        const ev = JSON.parse(link.json) as AuditEvent;
        if (ev.entity?.some((e) => e.what?.identifier?.value === rid)) found.push(ev);
      }
    }
    return found;
  }

  beforeAll(async () => {
    world = await openDmpWorld(fixture);
    const created = await (await world.as('gp')).post('Patient', dmpPatient('285017512345678'));
    expect(created.status).toBe(201);
    pid = created.body.id;
    // The dietitian is authorised; the stranger is not.
    expect((await (await world.as('patient', pid)).post('Consent', dmpConsent(pid, 'permit', [RPPS.dietitian]))).status).toBe(201);
  });
  afterAll(async () => {
    await world.close();
  });

  test('the uploader, the médecin traitant, an authorised reader and the patient read it; a stranger gets the answer of an unknown Binary', async () => {
    const id = await uploadAs('author', PDF);
    // Before any document points to it, only its uploader reads it.
    expect((await fetchBinary('author', `Binary/${id}`)).res.status).toBe(200);
    expect((await fetchBinary('gp', `Binary/${id}`)).res.status).toBe(404);
    await documentAs('author', `Binary/${id}`);
    for (const actor of ['author', 'gp', 'dietitian', 'patient'] as const) {
      const { res, body } = await fetchBinary(actor, `Binary/${id}`);
      expect([actor, res.status]).toEqual([actor, 200]);
      expect(Buffer.compare(body, PDF)).toBe(0);
    }
    const hidden = await fetchBinary('stranger', `Binary/${id}`);
    const unknown = await fetchBinary('stranger', 'Binary/00000000-0000-4000-8000-000000000000');
    expect(hidden.res.status).toBe(404);
    expect(unknown.res.status).toBe(404);
    const text = (r: { body: Buffer }) => JSON.parse(r.body.toString()).issue[0].details.text.replace(/Binary\/[^ ]+/, 'Binary/X');
    expect(text(hidden)).toBe(text(unknown));
    // Nor by vread, nor as FHIR JSON, nor by search.
    expect((await fetchBinary('stranger', `Binary/${id}/_history/1`)).res.status).toBe(404);
    expect((await fetchBinary('stranger', `Binary/${id}`, { Accept: 'application/fhir+json' })).res.status).toBe(404);
    const search = await (await world.as('stranger')).get(`Binary?_id=${id}`);
    expect(search.status).toBe(200);
    expect(search.body.total ?? 0).toBe(0);
  });

  test('a masked document hides its Binary from the professionals it is masked from, not from the médecin traitant', async () => {
    const id = await uploadAs('author', PDF);
    await documentAs('author', `Binary/${id}`, [Label.maskedFromProfessionals]);
    expect((await fetchBinary('dietitian', `Binary/${id}`)).res.status).toBe(404);
    expect((await fetchBinary('gp', `Binary/${id}`)).res.status).toBe(200);
    expect((await fetchBinary('author', `Binary/${id}`)).res.status).toBe(200);
  });

  test.each([
    ['names no securityContext (the server gives it the patient)', undefined],
    ['names the Patient as its securityContext', 'PATIENT'],
  ])('a masked document sent in a transaction hides its Binary, whose securityContext %s', async (_what, context) => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:6b0e4f0e-0000-4000-8000-000000000001',
          resource: { resourceType: 'Binary', contentType: 'application/pdf', ...(context ? { securityContext: { reference: `Patient/${pid}` } } : {}), data: PDF.toString('base64') },
          request: { method: 'POST', url: 'Binary' },
        },
        {
          fullUrl: 'urn:uuid:6b0e4f0e-0000-4000-8000-000000000002',
          resource: { ...dmpDocument(pid, '11502-2', [Label.maskedFromProfessionals]), content: [{ attachment: { contentType: 'application/pdf', url: 'urn:uuid:6b0e4f0e-0000-4000-8000-000000000001' } }] },
          request: { method: 'POST', url: 'DocumentReference' },
        },
      ],
    };
    const res = await (await world.as('author')).post('', bundle);
    expect(res.status).toBe(200);
    const binaryId = (res.body.entry[0].response.location as string).split('/')[1];
    const docId = (res.body.entry[1].response.location as string).split('/')[1];
    expect((await (await world.as('dietitian')).get(`DocumentReference/${docId}`)).status).toBe(404);
    expect((await fetchBinary('dietitian', `Binary/${binaryId}`)).res.status).toBe(404);
    expect((await fetchBinary('dietitian', `Binary/${binaryId}`, { Accept: 'application/fhir+json' })).res.status).toBe(404);
    expect((await (await world.as('dietitian')).get(`Binary?_id=${binaryId}`)).body.total ?? 0).toBe(0);
    expect((await fetchBinary('gp', `Binary/${binaryId}`)).res.status).toBe(200);
    expect((await fetchBinary('author', `Binary/${binaryId}`)).res.status).toBe(200);
    // Without a securityContext of its own, the Binary is given its document's.
    const stored = JSON.parse((await world.store.readCurrent('Binary', binaryId))?.json as string);
    expect(stored.securityContext.reference).toBe(context ? `Patient/${pid}` : `DocumentReference/${docId}`);
  });

  test('a document written by someone else does not open another uploader’s Binary', async () => {
    const id = await uploadAs('author', PDF);
    // The stranger may feed the DMP, and reads his own documents: pointing one at the author's Binary gives him nothing.
    await documentAs('stranger', `Binary/${id}`);
    expect((await fetchBinary('stranger', `Binary/${id}`)).res.status).toBe(404);
  });

  test('ITI-65 then ITI-68: the Binary of a transaction, named by its securityContext, read at the absolute attachment URL', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:5a0e4f0e-0000-4000-8000-000000000001',
          resource: { resourceType: 'Binary', contentType: 'application/pdf', securityContext: { reference: 'urn:uuid:5a0e4f0e-0000-4000-8000-000000000002' }, data: PDF.toString('base64') },
          request: { method: 'POST', url: 'Binary' },
        },
        {
          fullUrl: 'urn:uuid:5a0e4f0e-0000-4000-8000-000000000002',
          resource: { ...dmpDocument(pid, '11502-2'), content: [{ attachment: { contentType: 'application/pdf', url: 'urn:uuid:5a0e4f0e-0000-4000-8000-000000000001' } }] },
          request: { method: 'POST', url: 'DocumentReference' },
        },
      ],
    };
    const res = await (await world.as('lab')).post('', bundle);
    expect(res.status).toBe(200);
    const binaryId = (res.body.entry[0].response.location as string).split('/')[1];
    const docId = (res.body.entry[1].response.location as string).split('/')[1];
    const doc = (await (await world.as('gp')).get(`DocumentReference/${docId}`)).body;
    expect(doc.content[0].attachment.url).toBe(`Binary/${binaryId}`);
    const stored = JSON.parse((await world.store.readCurrent('Binary', binaryId))?.json as string);
    expect(stored.data).toBeUndefined();
    expect(stored.securityContext.reference).toBe(`DocumentReference/${docId}`);
    // The absolute form of the attachment URL (under BASE_URL) is the same Binary.
    const absolute = `${BASE_URL}/${doc.content[0].attachment.url}`;
    const { res: got, body } = await fetchBinary('gp', new URL(absolute).pathname);
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe(doc.content[0].attachment.contentType);
    expect(Buffer.compare(body, PDF)).toBe(0);
    expect((await fetchBinary('stranger', new URL(absolute).pathname)).res.status).toBe(404);
  });

  test('a retrieval writes one AuditEvent naming the Binary and the document’s patient', async () => {
    const id = await uploadAs('author', PDF);
    await documentAs('author', `Binary/${id}`);
    const { res, rid } = await fetchBinary('gp', `Binary/${id}`);
    expect(res.status).toBe(200);
    const events = await auditsOf(rid);
    expect(events).toHaveLength(1);
    const ev = events[0];
    expect(ev.subtype?.[0]?.code).toBe('read');
    expect(ev.outcome).toBe('0');
    const refs = (ev.entity ?? []).map((e) => e.what?.reference);
    expect(refs).toContain(`Binary/${id}/_history/1`);
    expect(refs).toContain(`Patient/${pid}`);
    // A refused retrieval is one AuditEvent too, with its failure.
    const refused = await fetchBinary('stranger', `Binary/${id}`);
    const denial = await auditsOf(refused.rid);
    expect(denial).toHaveLength(1);
    expect(denial[0].outcome).not.toBe('0');
  });

  test('a range that selects no byte is a 416 audited as a failure; a 304 comes before the range, and a satisfiable range is a success', async () => {
    const id = await uploadAs('author', PDF);
    await documentAs('author', `Binary/${id}`);
    const beyond = await fetchBinary('gp', `Binary/${id}`, { Range: `bytes=${PDF.length}-` });
    expect(beyond.res.status).toBe(416);
    expect(beyond.res.headers['content-range']).toBe(`bytes */${PDF.length}`);
    expect(beyond.body.toString()).not.toContain('%PDF');
    const [refused] = await auditsOf(beyond.rid);
    expect(refused.outcome).toBe('4');
    expect(refused.entity?.map((e) => e.what?.reference)).toContain(`Patient/${pid}`);
    const cached = await fetchBinary('gp', `Binary/${id}`, { Range: `bytes=${PDF.length}-`, 'If-None-Match': 'W/"1"' });
    expect(cached.res.status).toBe(304);
    expect((await auditsOf(cached.rid))[0].outcome).toBe('0');
    const part = await fetchBinary('gp', `Binary/${id}`, { Range: 'bytes=0-3' });
    expect(part.res.status).toBe(206);
    expect(part.body.toString()).toBe(PDF.subarray(0, 4).toString());
    expect((await auditsOf(part.rid))[0].outcome).toBe('0');
  });
});
