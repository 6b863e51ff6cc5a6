import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { observation, patient } from '../support/resources';
import { STORES } from '../support/stores';

type Entry = { fullUrl?: string; resource?: unknown; request: Record<string, unknown> };
const tx = (...entry: Entry[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const batch = (...entry: Entry[]) => ({ resourceType: 'Bundle', type: 'batch', entry });
const post = (resource: unknown, fullUrl?: string, extra: Record<string, unknown> = {}): Entry => ({
  ...(fullUrl ? { fullUrl } : {}),
  resource,
  request: { method: 'POST', url: (resource as { resourceType: string }).resourceType, ...extra },
});
/** An Observation that fails base validation (status is required, code is not a CodeableConcept). */
const invalidObservation = (subject: string) => ({ resourceType: 'Observation', code: 'not-a-codeable-concept', subject: { reference: subject } });

describe.each(STORES)('transaction and batch Bundles ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
  });
  afterAll(async () => {
    await t.close();
  });

  const send = (bundle: unknown, headers: Record<string, string> = {}) =>
    request(t.app).post('/fhir').set('Content-Type', FHIR_JSON).set(headers).send(JSON.stringify(bundle));
  const family = async (name: string) => (await request(t.app).get(`/fhir/Patient?family=${name}`)).body;
  const history = async (type: string) => (await request(t.app).get(`/fhir/${type}/_history`)).body;

  test('a transaction with one invalid entry stores nothing, and the error names the entry', async () => {
    const before = (await history('Patient')).total;
    const res = await send(
      tx(
        post(patient({ name: [{ family: 'Atomique' }] }), 'urn:uuid:0b8c3a4e-0000-4000-8000-000000000001'),
        post(observation('urn:uuid:0b8c3a4e-0000-4000-8000-000000000001')),
        post(invalidObservation('urn:uuid:0b8c3a4e-0000-4000-8000-000000000001')),
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[2]');
    expect(res.body.issue[0].details.text).toMatch(/^Bundle\.entry\[2\] \(POST Observation\)/);
    expect((await family('Atomique')).total).toBe(0);
    expect((await history('Patient')).total).toBe(before);
    expect((await request(t.app).get('/fhir/Observation?code=8867-4')).body.total).toBe(0);
  });

  test('a batch with one invalid entry stores the others and reports the failure in its entry', async () => {
    const res = await send(batch(post(patient({ name: [{ family: 'Lot' }] })), post(invalidObservation('Patient/x')), post(patient({ name: [{ family: 'Lot' }] }))));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    const statuses = res.body.entry.map((e: { response: { status: string } }) => e.response.status);
    expect(statuses).toEqual(['201 Created', '400 Bad Request', '201 Created']);
    expect(res.body.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
    expect(res.body.entry[1].response.outcome.issue[0].expression[0]).toBe('Bundle.entry[1]');
    expect((await family('Lot')).total).toBe(2);
  });

  test('a committed transaction answers each entry with status, location, etag and lastModified', async () => {
    const p = patient({ name: [{ family: 'Reponse' }] });
    const res = await send(tx(post(p, 'urn:uuid:0b8c3a4e-0000-4000-8000-000000000002'), post(observation('urn:uuid:0b8c3a4e-0000-4000-8000-000000000002'))));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    const [pe, oe] = res.body.entry;
    expect(pe.response).toMatchObject({ status: '201 Created', etag: 'W/"1"' });
    expect(pe.response.location).toMatch(/^Patient\/[0-9a-f-]{36}\/_history\/1$/);
    expect(Date.parse(pe.response.lastModified)).not.toBeNaN();
    expect(pe.resource.resourceType).toBe('Patient');
    expect(oe.resource.subject.reference).toBe(`Patient/${pe.resource.id}`);
  });

  test('Prefer: return=minimal and return=OperationOutcome apply to every entry', async () => {
    const minimal = await send(tx(post(patient()), post(patient())), { Prefer: 'return=minimal' });
    expect(minimal.status).toBe(200);
    for (const e of minimal.body.entry) {
      expect(e.resource).toBeUndefined();
      expect(e.response.location).toBeDefined();
    }
    const oo = await send(batch(post(patient()), post(patient())), { Prefer: 'return=OperationOutcome' });
    for (const e of oo.body.entry) {
      expect(e.resource).toBeUndefined();
      expect(e.response.outcome.issue[0].severity).toBe('information');
    }
  });

  test('not a batch or transaction, a malformed entry, an unknown method: 400 with an OperationOutcome', async () => {
    expect((await send({ resourceType: 'Bundle', type: 'collection', entry: [] })).status).toBe(400);
    expect((await send({ resourceType: 'Patient' })).status).toBe(400);
    const bad = await send(tx({ request: { method: 'FETCH', url: 'Patient' } }));
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].expression).toEqual(['Bundle.entry[0]']);
    const noResource = await send(tx({ request: { method: 'POST', url: 'Patient' } }));
    expect(noResource.status).toBe(400);
    const badBatch = await send(batch({ request: { method: 'POST', url: 'Nope' } }, post(patient())));
    expect(badBatch.status).toBe(200);
    expect(badBatch.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['404 Not Found', '201 Created']);
  });

  test('hostile entries are 400s, never 500s, and store nothing', async () => {
    // 20,000 levels of nested extensions, with a urn:uuid reference at the bottom (built as text: JSON.stringify would overflow).
    const deep = `${'{"url":"u","extension":['.repeat(20000)}{"url":"leaf","valueReference":{"reference":"urn:uuid:0b8c3a4e-0000-4000-8000-000000000009"}}${']}'.repeat(20000)}`;
    const deepBundle = `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:0b8c3a4e-0000-4000-8000-000000000009","resource":{"resourceType":"Patient","name":[{"family":"Profond"}]},"request":{"method":"POST","url":"Patient"}},{"resource":{"resourceType":"Basic","code":{"text":"x"},"extension":[${deep}]},"request":{"method":"POST","url":"Basic"}}]}`;
    const big = await openTestApp(fixture, { maxBodyBytes: 4 * 1024 * 1024 });
    try {
      const res = await request(big.app).post('/fhir').set('Content-Type', FHIR_JSON).send(deepBundle);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[1]');
      expect((await request(big.app).get('/fhir/Patient?family=Profond')).body.total).toBe(0);
    } finally {
      await big.close();
    }
    const cases: unknown[] = [
      tx('not an entry' as unknown as Entry),
      tx({ request: { method: 'GET', url: 'Patient/../../etc/passwd' } }),
      tx({ request: { method: 'GET', url: 'https://elsewhere.example/fhir/Patient/1' } }),
      tx({ resource: { resourceType: 'Parameters', parameter: [] }, request: { method: 'PATCH', url: 'Patient/1' } }),
      tx({ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: 'bm90IGpzb24=' }, request: { method: 'PATCH', url: 'Patient/1' } }),
      tx({ request: { method: 'POST', url: 'Patient/$everything' }, resource: { resourceType: 'Parameters' } }),
      tx({ request: { method: 'PUT', url: 'Patient' }, resource: patient() }),
      tx({ request: { method: 'DELETE', url: 'Patient', ifMatch: 'yesterday' } }),
      { resourceType: 'Bundle', type: 'transaction', entry: { not: 'an array' } },
    ];
    for (const body of cases) {
      const res = await send(body);
      expect([JSON.stringify(body).slice(0, 80), res.status]).toEqual([JSON.stringify(body).slice(0, 80), 400]);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
  });

  test('a Bundle over the body limit is 413 before any entry is read', async () => {
    const small = await openTestApp(fixture, { maxBodyBytes: 2048 });
    try {
      const big = tx(...Array.from({ length: 40 }, () => post(patient({ name: [{ family: 'Tropgros' }] }))));
      const res = await request(small.app).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(big));
      expect(res.status).toBe(413);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect((await request(small.app).get('/fhir/Patient?family=Tropgros')).body.total).toBe(0);
    } finally {
      await small.close();
    }
  });

  test('the same resource twice in a transaction is refused (400), nothing stored', async () => {
    const p = patient({ id: 'twice', name: [{ family: 'Deuxfois' }] });
    const res = await send(tx({ resource: p, request: { method: 'PUT', url: 'Patient/twice' } }, { resource: p, request: { method: 'PUT', url: 'Patient/twice' } }));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[1]');
    expect((await request(t.app).get('/fhir/Patient/twice')).status).toBe(404);
  });
});
