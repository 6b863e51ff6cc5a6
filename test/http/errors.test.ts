import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';
import { patient } from '../support/resources';

/** Every refusal is an OperationOutcome with at least one error issue. */
function expectOutcome(res: request.Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue.length).toBeGreaterThan(0);
  expect(res.body.issue[0].severity).toBe('error');
}

describe.each(STORES)('bad input never yields a 500 ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture, { maxBodyBytes: 4096 });
  });
  afterAll(async () => {
    await t.close();
  });

  async function patientCount(): Promise<number> {
    const res = await request(t.app).get('/fhir/Patient/_history');
    return res.body.total;
  }

  test('malformed JSON is 400 and the message does not echo the body', async () => {
    const res = await request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType": "Patient", secret');
    expectOutcome(res, 400);
    expect(JSON.stringify(res.body)).not.toContain('secret');
  });

  test.each([
    ['an empty body', ''],
    ['a JSON array', '[]'],
    ['a JSON string', '"Patient"'],
    ['null', 'null'],
    ['an object without resourceType', '{"name":[{"family":"X"}]}'],
  ])('%s is 400', async (_what, body) => {
    const before = await patientCount();
    expectOutcome(await request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(body), 400);
    expect(await patientCount()).toBe(before);
  });

  test('a resourceType that differs from the URL is 400', async () => {
    const res = await request(t.app)
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    expectOutcome(res, 400);
    expect(res.body.issue[0].expression).toEqual(['resourceType']);
  });

  test('an unknown resource type is 404 on every interaction', async () => {
    expectOutcome(await request(t.app).get('/fhir/Unicorn'), 404);
    expectOutcome(await request(t.app).get('/fhir/Unicorn/1'), 404);
    expectOutcome(await request(t.app).post('/fhir/Unicorn').set('Content-Type', FHIR_JSON).send('{"resourceType":"Unicorn"}'), 404);
    expectOutcome(await request(t.app).get('/fhir/Unicorn/1/_history'), 404);
    expectOutcome(await request(t.app).delete('/fhir/Unicorn/1'), 404);
  });

  test('an unsupported Content-Type is 415', async () => {
    expectOutcome(await request(t.app).post('/fhir/Patient').set('Content-Type', 'application/fhir+xml').send('<Patient/>'), 415);
    expectOutcome(await request(t.app).post('/fhir/Patient').set('Content-Type', 'text/plain').send('hello'), 415);
    expectOutcome(await request(t.app).patch('/fhir/Patient/1').set('Content-Type', 'application/fhir+xml').send('<Parameters/>'), 415);
    // FHIR JSON is a FHIRPath Patch: a body that is not a Parameters resource is a bad request, not a media type problem.
    expectOutcome(await request(t.app).patch('/fhir/Patient/1').set('Content-Type', FHIR_JSON).send('[]'), 400);
  });

  test('a body over the size limit is 413 and nothing is stored', async () => {
    const before = await patientCount();
    const big = patient({ name: [{ family: 'x'.repeat(10_000) }] });
    expectOutcome(await request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(big)), 413);
    expect(await patientCount()).toBe(before);
  });

  test('an unsupported method is 405', async () => {
    expectOutcome(await request(t.app).post('/fhir/Patient/123').set('Content-Type', FHIR_JSON).send('{}'), 405);
    expectOutcome(await request(t.app).put('/fhir/Patient/1/_history/1').set('Content-Type', FHIR_JSON).send('{}'), 405);
    expectOutcome(await request(t.app).delete('/fhir/metadata'), 405);
    expectOutcome(await request(t.app).post('/fhir/Patient/_history'), 405);
  });

  test('asking for XML is 406', async () => {
    expectOutcome(await request(t.app).get('/fhir/metadata?_format=xml'), 406);
    expectOutcome(await request(t.app).get('/fhir/metadata').set('Accept', 'application/fhir+xml'), 406);
  });

  test('an unknown path is 404 OperationOutcome, inside and outside /fhir', async () => {
    expectOutcome(await request(t.app).get('/fhir/Patient/1/extra/segments/here'), 404);
    expectOutcome(await request(t.app).get('/nothing-here'), 404);
  });

  test('a malformed If-Match is 400', async () => {
    const res = await request(t.app)
      .put('/fhir/Patient/abc')
      .set('Content-Type', FHIR_JSON)
      .set('If-Match', 'yesterday')
      .send({ ...patient(), id: 'abc' });
    expectOutcome(res, 400);
  });

  test('an undecodable URL is 400', async () => {
    expectOutcome(await request(t.app).get('/fhir/Patient/%E0%A4%A'), 400);
  });

  test('invalid resources are 400 with issues that say what and where; nothing stored', async () => {
    const before = await patientCount();
    const res = await request(t.app)
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Patient', gender: 'bogus', birthDate: '1980-13-45', unknownThing: 1 });
    expectOutcome(res, 400);
    const where = res.body.issue.flatMap((i: { expression?: string[] }) => i.expression ?? []);
    expect(where).toEqual(expect.arrayContaining(['Patient.gender', 'Patient.birthDate', 'Patient.unknownThing']));
    expect(await patientCount()).toBe(before);
  });

  test('a missing required element is 400 (Observation without code)', async () => {
    const res = await request(t.app)
      .post('/fhir/Observation')
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Observation', status: 'final' });
    expectOutcome(res, 400);
    expect(JSON.stringify(res.body.issue)).toContain('Observation.code');
  });
});
