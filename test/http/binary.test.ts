import crypto from 'node:crypto';
import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { rawBody } from '../support/raw-body';
import { STORES } from '../support/stores';

/** Bytes that are not valid UTF-8 and not all alike: a byte-exact round trip must keep each one. */
function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const raw = rawBody;

describe.each(STORES)('Binary: raw bytes, JSON form, Range, versions ($name)', (fixture) => {
  let t: TestApp;
  const MAX = 64 * 1024;
  beforeAll(async () => {
    t = await openTestApp(fixture, { binaryMaxBytes: MAX });
  });
  afterAll(async () => {
    await t.close();
  });

  const upload = (body: Buffer, type = 'application/pdf') => request(t.app).post('/fhir/Binary').set('Content-Type', type).send(body);
  const transaction = (...entry: unknown[]) =>
    request(t.app).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }));
  const stored = async (id: string, version?: number) => {
    const v = version === undefined ? await t.store.readCurrent('Binary', id) : await t.store.readVersion('Binary', id, version);
    return JSON.parse(v?.json as string);
  };

  test('a raw upload comes back byte for byte with its Content-Type, and its JSON holds no bytes', async () => {
    const body = bytes(50_000);
    const res = await upload(body);
    expect(res.status).toBe(201);
    expect(res.headers.location).toMatch(/\/Binary\/[^/]+\/_history\/1$/);
    expect(res.body.contentType).toBe('application/pdf');
    expect(res.body.data).toBeUndefined();
    const got = await raw(request(t.app).get(`/fhir/Binary/${res.body.id}`));
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('application/pdf');
    expect(got.headers.etag).toBe('W/"1"');
    expect(got.headers['last-modified']).toBeDefined();
    expect(Buffer.compare(got.body, body)).toBe(0);
    const json = await stored(res.body.id);
    expect(json.data).toBeUndefined();
    expect(JSON.stringify(json).length).toBeLessThan(1000);
  });

  test('a FHIR JSON Binary (base64 data) is stored out of its JSON and read back both ways', async () => {
    const body = bytes(3001, 7);
    const res = await request(t.app)
      .post('/fhir/Binary')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Binary', contentType: 'image/png', data: body.toString('base64') }));
    expect(res.status).toBe(201);
    expect((await stored(res.body.id)).data).toBeUndefined();
    const asJson = await request(t.app).get(`/fhir/Binary/${res.body.id}`).set('Accept', FHIR_JSON);
    expect(asJson.status).toBe(200);
    expect(asJson.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(asJson.body.resourceType).toBe('Binary');
    expect(asJson.body.contentType).toBe('image/png');
    expect(Buffer.from(asJson.body.data, 'base64').equals(body)).toBe(true);
    const asBytes = await raw(request(t.app).get(`/fhir/Binary/${res.body.id}`));
    expect(asBytes.headers['content-type']).toBe('image/png');
    expect(Buffer.compare(asBytes.body, body)).toBe(0);
  });

  test('Range: start-end, suffix, open-ended, and an unsatisfiable range is 416', async () => {
    const body = bytes(10_000, 3);
    const id = (await upload(body, 'application/octet-stream')).body.id;
    const get = (range: string) => raw(request(t.app).get(`/fhir/Binary/${id}`).set('Range', range));
    const r1 = await get('bytes=100-199');
    expect(r1.status).toBe(206);
    expect(r1.headers['content-range']).toBe('bytes 100-199/10000');
    expect(Buffer.compare(r1.body, body.subarray(100, 200))).toBe(0);
    const r2 = await get('bytes=-300');
    expect(r2.status).toBe(206);
    expect(r2.headers['content-range']).toBe('bytes 9700-9999/10000');
    expect(Buffer.compare(r2.body, body.subarray(9700))).toBe(0);
    const r3 = await get('bytes=9990-');
    expect(r3.status).toBe(206);
    expect(Buffer.compare(r3.body, body.subarray(9990))).toBe(0);
    const r4 = await get('bytes=5000-99999');
    expect(r4.headers['content-range']).toBe('bytes 5000-9999/10000');
    expect(r4.body.length).toBe(5000);
    const r5 = await get('bytes=10000-');
    expect(r5.status).toBe(416);
    expect(r5.headers['content-range']).toBe('bytes */10000');
  });

  test('PUT makes a new version, and vread of the old version gives its own bytes', async () => {
    const v1 = bytes(2000, 11);
    const v2 = bytes(2500, 12);
    const id = (await upload(v1, 'text/plain')).body.id;
    const put = await request(t.app).put(`/fhir/Binary/${id}`).set('Content-Type', 'application/pdf').set('If-Match', 'W/"1"').send(v2);
    expect(put.status).toBe(200);
    expect(put.body.meta.versionId).toBe('2');
    const current = await raw(request(t.app).get(`/fhir/Binary/${id}`));
    expect(current.headers['content-type']).toBe('application/pdf');
    expect(Buffer.compare(current.body, v2)).toBe(0);
    const old = await raw(request(t.app).get(`/fhir/Binary/${id}/_history/1`));
    expect(old.status).toBe(200);
    expect(old.headers['content-type']).toBe('text/plain');
    expect(old.headers.etag).toBe('W/"1"');
    expect(Buffer.compare(old.body, v1)).toBe(0);
    const stale = await request(t.app).put(`/fhir/Binary/${id}`).set('Content-Type', 'text/plain').set('If-Match', 'W/"1"').send(v1);
    expect(stale.status).toBe(412);
  });

  test('an upload over BINARY_MAX_SIZE is 413 and stores nothing, declared or streamed', async () => {
    const before = (await request(t.app).get('/fhir/Binary/_history')).body.total;
    const declared = await upload(bytes(MAX + 1));
    expect(declared.status).toBe(413);
    expect(declared.body.resourceType).toBe('OperationOutcome');
    const json = await request(t.app)
      .post('/fhir/Binary')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Binary', contentType: 'text/plain', data: bytes(MAX + 10).toString('base64') }));
    expect(json.status).toBe(413);
    expect((await request(t.app).get('/fhir/Binary/_history')).body.total).toBe(before);
  });

  test('a Binary in a transaction is stored out of its JSON, and its document points to it', async () => {
    const body = bytes(4096, 21);
    const binUrl = `urn:uuid:${crypto.randomUUID()}`;
    const res = await transaction(
      { fullUrl: binUrl, resource: { resourceType: 'Binary', contentType: 'application/pdf', data: body.toString('base64') }, request: { method: 'POST', url: 'Binary' } },
      {
        resource: { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'application/pdf', url: binUrl } }] },
        request: { method: 'POST', url: 'DocumentReference' },
      },
    );
    expect(res.status).toBe(200);
    const binaryId = (res.body.entry[0].response.location as string).split('/')[1];
    const json = await stored(binaryId);
    expect(json.data).toBeUndefined();
    const docId = (res.body.entry[1].response.location as string).split('/')[1];
    const doc = JSON.parse((await t.store.readCurrent('DocumentReference', docId))?.json as string);
    expect(doc.content[0].attachment.url).toBe(`Binary/${binaryId}`);
    const got = await raw(request(t.app).get(`/fhir/${doc.content[0].attachment.url}`));
    expect(Buffer.compare(got.body, body)).toBe(0);
  });

  test('a transaction that fails stores no Binary', async () => {
    const before = (await request(t.app).get('/fhir/Binary/_history')).body.total;
    const res = await transaction(
      { resource: { resourceType: 'Binary', contentType: 'text/plain', data: bytes(100).toString('base64') }, request: { method: 'POST', url: 'Binary' } },
      { resource: { resourceType: 'Observation', code: 'invalid' }, request: { method: 'POST', url: 'Observation' } },
    );
    expect(res.status).toBe(400);
    expect((await request(t.app).get('/fhir/Binary/_history')).body.total).toBe(before);
  });

  test('a client cannot point a Binary at content of its choosing', async () => {
    const secret = (await upload(bytes(500, 99), 'text/plain')).body;
    const forged = await request(t.app)
      .post('/fhir/Binary')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Binary', contentType: 'text/plain', meta: secret.meta }));
    expect(forged.status).toBe(201);
    const got = await raw(request(t.app).get(`/fhir/Binary/${forged.body.id}`));
    expect(got.body.length).toBe(0);
  });
});
