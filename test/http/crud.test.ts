import request from 'supertest';
import { BASE_URL, FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';
import { patient } from '../support/resources';

describe.each(STORES)('create, read, vread, update ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).set(headers).send(JSON.stringify(body));

  test('create assigns an id and answers 201 with Location, ETag W/"1" and Last-Modified', async () => {
    const res = await post({ ...patient(), id: 'client-chosen' });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.id).not.toBe('client-chosen');
    expect(res.headers.location).toBe(`${BASE_URL}/Patient/${res.body.id}/_history/1`);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.body.meta.versionId).toBe('1');
    expect(new Date(res.headers['last-modified']).getTime()).toBe(Math.floor(Date.parse(res.body.meta.lastUpdated) / 1000) * 1000);
    expect(res.body.name).toEqual(patient().name);
  });

  test('client meta (tags, profiles) is kept; versionId and lastUpdated are the server\'s', async () => {
    const tag = { system: 'https://example.org/tags', code: 'demo' };
    const res = await post({ ...patient(), meta: { versionId: '99', lastUpdated: '2000-01-01T00:00:00Z', tag: [tag] } });
    expect(res.status).toBe(201);
    expect(res.body.meta.versionId).toBe('1');
    expect(res.body.meta.lastUpdated).not.toBe('2000-01-01T00:00:00Z');
    expect(res.body.meta.tag).toEqual([tag]);
  });

  test('read returns the stored resource with its ETag; application/json is honoured', async () => {
    const created = await post(patient());
    const res = await request(t.app).get(`/fhir/Patient/${created.body.id}`).set('Accept', 'application/json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.body).toEqual(created.body);
  });

  test('read with If-None-Match of the current version answers 304', async () => {
    const created = await post(patient());
    const res = await request(t.app).get(`/fhir/Patient/${created.body.id}`).set('If-None-Match', 'W/"1"');
    expect(res.status).toBe(304);
    const stale = await request(t.app).get(`/fhir/Patient/${created.body.id}`).set('If-None-Match', 'W/"0"');
    expect(stale.status).toBe(200);
  });

  test('_format and _pretty shape the answer', async () => {
    const created = await post(patient());
    const res = await request(t.app).get(`/fhir/Patient/${created.body.id}?_format=json&_pretty=true`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('\n  "resourceType": "Patient"');
  });

  test('read of an unknown id is 404 with an OperationOutcome', async () => {
    const res = await request(t.app).get('/fhir/Patient/does-not-exist');
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('not-found');
  });

  test('update creates a new version; vread returns each version unchanged', async () => {
    const created = await post(patient());
    const id = created.body.id;
    const upd = await request(t.app)
      .put(`/fhir/Patient/${id}`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...patient(), id, gender: 'female' });
    expect(upd.status).toBe(200);
    expect(upd.headers.etag).toBe('W/"2"');
    expect(upd.headers.location).toBeUndefined();
    expect(upd.body.meta.versionId).toBe('2');
    expect(Date.parse(upd.body.meta.lastUpdated)).toBeGreaterThan(Date.parse(created.body.meta.lastUpdated));

    const v1 = await request(t.app).get(`/fhir/Patient/${id}/_history/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.gender).toBe('male');
    expect(v1.headers.etag).toBe('W/"1"');
    const v2 = await request(t.app).get(`/fhir/Patient/${id}/_history/2`);
    expect(v2.body.gender).toBe('female');
    expect((await request(t.app).get(`/fhir/Patient/${id}/_history/3`)).status).toBe(404);
    expect((await request(t.app).get(`/fhir/Patient/${id}/_history/abc`)).status).toBe(404);
  });

  test('update of an absent id creates it with the client id (201, Location)', async () => {
    const res = await request(t.app)
      .put('/fhir/Patient/chosen-by-client')
      .set('Content-Type', FHIR_JSON)
      .send({ ...patient(), id: 'chosen-by-client' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${BASE_URL}/Patient/chosen-by-client/_history/1`);
    expect((await request(t.app).get('/fhir/Patient/chosen-by-client')).status).toBe(200);
  });

  test('update without an id in the body, or with another id, is 400 and stores nothing', async () => {
    const missing = await request(t.app).put('/fhir/Patient/p-missing').set('Content-Type', FHIR_JSON).send(patient());
    expect(missing.status).toBe(400);
    expect(missing.body.resourceType).toBe('OperationOutcome');
    const other = await request(t.app)
      .put('/fhir/Patient/p-one')
      .set('Content-Type', FHIR_JSON)
      .send({ ...patient(), id: 'p-two' });
    expect(other.status).toBe(400);
    expect(other.body.issue[0].expression).toEqual(['Patient.id']);
    expect((await request(t.app).get('/fhir/Patient/p-one')).status).toBe(404);
    expect((await request(t.app).get('/fhir/Patient/p-two')).status).toBe(404);
  });

  test('update with an invalid id in the URL is 400', async () => {
    const res = await request(t.app)
      .put('/fhir/Patient/bad_id!')
      .set('Content-Type', FHIR_JSON)
      .send({ ...patient(), id: 'bad_id!' });
    expect(res.status).toBe(400);
  });

  describe('Prefer: return', () => {
    test('minimal answers with headers only', async () => {
      const res = await post(patient(), { Prefer: 'return=minimal' });
      expect(res.status).toBe(201);
      expect(res.text).toBe('');
      expect(res.headers.location).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
      expect(res.headers.etag).toBe('W/"1"');
    });

    test('OperationOutcome answers with an informational outcome', async () => {
      const res = await post(patient(), { Prefer: 'return=OperationOutcome' });
      expect(res.status).toBe(201);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].severity).toBe('information');
    });

    test('representation (the default) answers with the resource', async () => {
      const res = await post(patient(), { Prefer: 'return=representation' });
      expect(res.body.resourceType).toBe('Patient');
    });
  });
});
