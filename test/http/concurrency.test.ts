import request from 'supertest';
import { FHIR_JSON, listen, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';
import { patient } from '../support/resources';

describe.each(STORES)('concurrent writers lose nothing ($name)', (fixture) => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let base: string;
  beforeAll(async () => {
    t = await openTestApp(fixture);
    // A real listening server, so the 20 requests really are in flight together.
    server = await listen(t.app);
    base = server.url;
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  test('20 parallel If-Match PUTs on one resource: exactly one 200, the others 412, no lost update', async () => {
    const created = await request(base).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    const id = created.body.id as string;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(base)
          .put(`/fhir/Patient/${id}`)
          .set('Content-Type', FHIR_JSON)
          .set('If-Match', 'W/"1"')
          .send({ ...patient({ name: [{ family: `Writer${i}` }] }), id }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412 || s === 409)).toHaveLength(19);
    const winner = results.find((r) => r.status === 200) as request.Response;

    const current = await request(base).get(`/fhir/Patient/${id}`);
    expect(current.body.meta.versionId).toBe('2');
    expect(current.body.name).toEqual(winner.body.name);
    const hist = await request(base).get(`/fhir/Patient/${id}/_history`);
    expect(hist.body.total).toBe(2);
  });

  test('20 parallel PUTs without If-Match all succeed, each as its own version', async () => {
    const created = await request(base).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    const id = created.body.id as string;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(base)
          .put(`/fhir/Patient/${id}`)
          .set('Content-Type', FHIR_JSON)
          .send({ ...patient({ name: [{ family: `Writer${i}` }] }), id }),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    const versions = results.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const hist = await request(base).get(`/fhir/Patient/${id}/_history?_count=100`);
    expect(hist.body.total).toBe(21);
  });
});
