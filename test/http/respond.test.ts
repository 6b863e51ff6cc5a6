import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';
import { patient } from '../support/resources';

/**
 * The JSON answer's headers and the HTTP cases res.send handles (HEAD,
 * conditional GET), whichever path sendJson takes.
 * @see https://hl7.org/fhir/R4/http.html
 */
describe.each(STORES)('JSON answers ($name)', (fixture) => {
  let t: TestApp;
  let id: string;
  beforeAll(async () => {
    t = await openTestApp(fixture);
    const created = await request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient()));
    expect(created.status).toBe(201);
    id = created.body.id as string;
  });
  afterAll(async () => {
    await t.close();
  });

  test('a read carries the FHIR type, the exact byte length and the version headers', async () => {
    const res = await request(t.app).get(`/fhir/Patient/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.id).toBe(id);
  });

  test('non-ASCII text: Content-Length counts bytes, not characters', async () => {
    const accented = { ...patient(), name: [{ family: 'Lévêque', given: ['Hélène'] }] };
    const created = await request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(accented));
    const res = await request(t.app).get(`/fhir/Patient/${created.body.id}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Lévêque');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(Buffer.byteLength(res.text)).toBeGreaterThan(res.text.length);
  });

  test('HEAD answers the headers of GET without a body', async () => {
    const get = await request(t.app).get(`/fhir/Patient/${id}`);
    const head = await request(t.app).head(`/fhir/Patient/${id}`);
    expect(head.status).toBe(200);
    expect(head.text ?? '').toBe('');
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
  });

  test('If-Modified-Since at or after the last update answers 304; before it, 200', async () => {
    const get = await request(t.app).get(`/fhir/Patient/${id}`);
    const lastModified = get.headers['last-modified'] as string;
    const fresh = await request(t.app).get(`/fhir/Patient/${id}`).set('If-Modified-Since', lastModified);
    expect(fresh.status).toBe(304);
    expect(fresh.text ?? '').toBe('');
    const stale = await request(t.app).get(`/fhir/Patient/${id}`).set('If-Modified-Since', new Date(Date.parse(lastModified) - 60_000).toUTCString());
    expect(stale.status).toBe(200);
    expect(stale.body.id).toBe(id);
  });

  test('$validate answers its OperationOutcome as application/fhir+json, or application/json when asked', async () => {
    const post = (accept?: string) => {
      const r = request(t.app).post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON);
      return (accept ? r.set('Accept', accept) : r).send(JSON.stringify(patient()));
    };
    const res = await post();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.body.resourceType).toBe('OperationOutcome');
    const plain = await post('application/json');
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
    const pretty = await request(t.app).post('/fhir/Patient/$validate?_pretty=true').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient()));
    expect(pretty.text).toBe(JSON.stringify(res.body, null, 2));
  });
});
