import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, '../../fixtures/profiles', `${name}.json`), 'utf8'));
const DMP_PATIENT = 'https://dmp.example/fhir/StructureDefinition/dmp-patient';
const errorsOf = (body: { issue: { severity: string; code: string; expression?: string[] }[] }) =>
  body.issue.filter((i) => i.severity === 'error').map((i) => [i.code, i.expression?.[0]]);

/** An app for the tests of one describe block, opened before them and closed after. */
function appFor(options: { validateDmpProfiles?: boolean } = {}) {
  let opened: TestApp | undefined;
  beforeAll(async () => {
    opened = await openTestApp(STORES[0], options);
  });
  afterAll(async () => {
    await opened?.close();
  });
  const app = () => (opened as TestApp).app;
  return {
    get app() {
      return app();
    },
    post: (path: string, body: unknown) => request(app()).post(`/fhir/${path}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body)),
  };
}

describe('$validate and writes with DMP profiles', () => {
  const t = appFor({ validateDmpProfiles: true });
  const post = t.post;

  test('a valid DMP DocumentReference posted raw is answered 200 with an informational outcome', async () => {
    const res = await post('DocumentReference/$validate', fixture('documentreference-valid'));
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue).toEqual([expect.objectContaining({ severity: 'information' })]);
  });

  test('an invalid resource is answered 200 with its errors and is not stored', async () => {
    const res = await post('DocumentReference/$validate', fixture('documentreference-invalid-type-not-j66'));
    expect(res.status).toBe(200);
    expect(errorsOf(res.body)).toEqual([['code-invalid', 'DocumentReference.type']]);
    const search = await request(t.app).get('/fhir/DocumentReference');
    expect(search.body.total ?? search.body.entry?.length ?? 0).toBe(0);
  });

  test('Parameters body with profile and mode: the profile is applied in addition to meta.profile', async () => {
    const plain = { resourceType: 'Patient', name: [{ family: 'X' }] };
    const res = await post('Patient/$validate', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: plain },
        { name: 'profile', valueUri: DMP_PATIENT },
        { name: 'mode', valueCode: 'create' },
      ],
    });
    expect(res.status).toBe(200);
    expect(errorsOf(res.body)).toEqual([['invariant', 'Patient'], ['required', 'Patient.identifier']]);
  });

  test('an unknown profile is a warning, not silence', async () => {
    const r = { ...fixture('observation-valid'), meta: { profile: ['https://example.org/StructureDefinition/nope'] } };
    const res = await post('Observation/$validate', r);
    expect(res.body.issue).toEqual([expect.objectContaining({ severity: 'warning', code: 'not-supported', expression: ['meta.profile'] })]);
  });

  test('creating a Patient without INS is refused with the profile issue; with an INS it is created', async () => {
    const bad = await post('Patient', { resourceType: 'Patient', name: [{ family: 'X' }] });
    expect(bad.status).toBe(400);
    expect(errorsOf(bad.body)).toContainEqual(['invariant', 'Patient']);
    const good = await post('Patient', fixture('patient-valid'));
    expect(good.status).toBe(201);
  });

  test('instance level GET validates the stored resource against ?profile=', async () => {
    const created = await post('Observation', fixture('observation-valid'));
    expect(created.status).toBe(201);
    const res = await request(t.app).get(`/fhir/Observation/${created.body.id}/$validate`).query({ profile: DMP_PATIENT });
    expect(res.status).toBe(200);
    expect(errorsOf(res.body)).toEqual([['invalid', 'Observation']]);
    const missing = await request(t.app).get('/fhir/Observation/nope/$validate');
    expect(missing.status).toBe(404);
  });

  test('mode=delete needs no resource; a bad mode, a wrong type or garbage are 4xx OperationOutcomes', async () => {
    const del = await request(t.app).get('/fhir/Patient/x/$validate').query({ mode: 'delete' });
    expect(del.status).toBe(200);
    expect((await request(t.app).get('/fhir/Patient/$validate').query({ mode: 'erase' })).status).toBe(400);
    expect((await post('Patient/$validate', fixture('observation-valid'))).status).toBe(400);
    const garbage = await request(t.app).post('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send('{nope');
    expect(garbage.status).toBe(400);
    expect(garbage.body.resourceType).toBe('OperationOutcome');
    expect((await post('Nope/$validate', {})).status).toBe(404);
    expect((await request(t.app).put('/fhir/Patient/$validate').set('Content-Type', FHIR_JSON).send('{}')).status).toBe(405);
  });
});

describe('terminology operations', () => {
  const t = appFor();
  const J57 = 'https://mos.esante.gouv.fr/NOS/JDV_J57-ClassCode-DMP/FHIR/JDV-J57-ClassCode-DMP';
  const A03 = 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument';

  test('$expand lists the codes, with filter, count and offset', async () => {
    const all = await request(t.app).get('/fhir/ValueSet/$expand').query({ url: J57 });
    expect(all.status).toBe(200);
    const total = all.body.expansion.total as number;
    expect(total).toBeGreaterThan(5);
    const page = await request(t.app).get('/fhir/ValueSet/$expand').query({ url: J57, count: '2', offset: '1' });
    expect(page.body.expansion.contains).toEqual(all.body.expansion.contains.slice(1, 3));
    const filtered = await request(t.app).get('/fhir/ValueSet/$expand').query({ url: J57, filter: 'compte' });
    expect(filtered.body.expansion.contains.map((c: { code: string }) => c.code)).toContain('10');
    expect(filtered.body.expansion.total).toBeLessThan(total);
    expect((await request(t.app).get('/fhir/ValueSet/$expand').query({ url: 'https://nope' })).status).toBe(404);
    expect((await request(t.app).get('/fhir/ValueSet/$expand').query({ url: J57, count: '-1' })).status).toBe(400);
  });

  test('$expand of an inline ValueSet: include with a concept list, exclude, and a filter', async () => {
    const res = await request(t.app)
      .post('/fhir/ValueSet/$expand')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'valueSet',
            resource: {
              resourceType: 'ValueSet',
              status: 'active',
              compose: {
                include: [{ system: A03, concept: [{ code: '10' }, { code: '11' }] }, { system: 'http://hl7.org/fhir/administrative-gender', filter: [{ property: 'concept', op: 'is-a', value: 'other' }] }],
                exclude: [{ system: A03, concept: [{ code: '11' }] }],
              },
            },
          },
        ],
      });
    expect(res.status).toBe(200);
    expect(res.body.expansion.contains.map((c: { code: string }) => c.code)).toEqual(['10', 'other']);
  });

  test('$validate-code and $lookup', async () => {
    const ok = await request(t.app).get('/fhir/ValueSet/$validate-code').query({ url: J57, system: A03, code: '10' });
    expect(ok.body.parameter[0]).toEqual({ name: 'result', valueBoolean: true });
    const no = await request(t.app).get('/fhir/ValueSet/$validate-code').query({ url: J57, system: A03, code: '99' });
    expect(no.body.parameter[0]).toEqual({ name: 'result', valueBoolean: false });
    const look = await request(t.app).get('/fhir/CodeSystem/$lookup').query({ system: A03, code: '99' });
    expect(look.status).toBe(200);
    expect(look.body.parameter).toContainEqual({ name: 'display', valueString: expect.any(String) });
    expect((await request(t.app).get('/fhir/CodeSystem/$lookup').query({ system: A03, code: 'nope' })).status).toBe(404);
    expect((await request(t.app).get('/fhir/CodeSystem/$lookup').query({ code: '10' })).status).toBe(400);
  });
});

describe('CapabilityStatement', () => {
  test('lists the DMP profiles per type and the operations, and instantiates nothing it does not meet', async () => {
    const t = await openTestApp(STORES[0]);
    try {
      const cs = (await request(t.app).get('/fhir/metadata')).body;
      const byType = (type: string) => cs.rest[0].resource.find((r: { type: string }) => r.type === type);
      expect(byType('Patient').supportedProfile).toEqual(['https://dmp.example/fhir/StructureDefinition/dmp-patient']);
      expect(byType('List').supportedProfile).toEqual(['https://dmp.example/fhir/StructureDefinition/dmp-submissionset']);
      expect(byType('ValueSet').operation.map((o: { name: string }) => o.name)).toEqual(['expand', 'validate-code']);
      expect(cs.rest[0].operation).toContainEqual({ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' });
      expect(cs.instantiates).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('conformance resources are readable and searchable', () => {
  const t = appFor();

  test('a DMP profile is read by id with its snapshot, and found by url, name, type and version', async () => {
    const read = await request(t.app).get('/fhir/StructureDefinition/dmp-patient');
    expect(read.status).toBe(200);
    expect(read.body.url).toBe(DMP_PATIENT);
    expect(read.body.snapshot.element.length).toBeGreaterThan(10);
    const byUrl = await request(t.app).get('/fhir/StructureDefinition').query({ url: DMP_PATIENT });
    expect(byUrl.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['dmp-patient']);
    const byType = await request(t.app).get('/fhir/StructureDefinition').query({ type: 'Patient', name: 'DMP' });
    expect(byType.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['dmp-patient']);
    const versioned = await request(t.app).get('/fhir/ValueSet').query({ url: 'https://mos.esante.gouv.fr/NOS/JDV_J66-TypeCode-DMP/FHIR/JDV-J66-TypeCode-DMP', version: '20240927120000' });
    expect(versioned.body.total).toBe(1);
    const params = await request(t.app).get('/fhir/SearchParameter').query({ base: 'DocumentReference', _count: '1' });
    expect(params.body.total).toBeGreaterThanOrEqual(2);
    expect(params.body.entry).toHaveLength(1);
  });

  test('other searches go to the store; a bad _count is 400; an unknown id falls through to the store (404)', async () => {
    const stored = await request(t.app).get('/fhir/CodeSystem').query({ publisher: 'x' });
    expect([stored.status, stored.body.entry ?? []]).toEqual([200, []]);
    expect((await request(t.app).get('/fhir/CodeSystem').query({ url: 'x', _count: 'many' })).status).toBe(400);
    expect((await request(t.app).get('/fhir/CodeSystem/nope')).status).toBe(404);
  });
});

describe('hostile input to the profile operations is a 4xx, never a 500', () => {
  const t = appFor({ validateDmpProfiles: true });
  const post = t.post;

  test.each([
    ['a number in meta.profile', 'Patient', { resourceType: 'Patient', meta: { profile: 5 } }],
    ['a non-string profile', 'Patient', { resourceType: 'Patient', meta: { profile: ['x', 7] } }],
    ['a string where an array is expected', 'Patient', { resourceType: 'Patient', identifier: 'abc' }],
  ])('create with %s is a 400 OperationOutcome', async (_what, type, body) => {
    const res = await post(type, body);
    expect([res.status, res.body.resourceType]).toEqual([400, 'OperationOutcome']);
  });

  test.each([
    ['include is not a list', { include: 'x' }],
    ['include holds null', { include: [null] }],
    ['a filter without op', { include: [{ system: 'http://hl7.org/fhir/administrative-gender', filter: [{}] }] }],
    ['an import that is not a string', { include: [{ valueSet: [5] }] }],
  ])('$expand of an inline ValueSet whose %s is a 400', async (_what, compose) => {
    const res = await post('ValueSet/$expand', { resourceType: 'Parameters', parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active', compose } }] });
    expect([res.status, res.body.resourceType]).toEqual([400, 'OperationOutcome']);
  });

  test('$validate with a Parameters resource that is not an object is a 400', async () => {
    const res = await post('Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', valueString: 'x' }] });
    expect(res.status).toBe(400);
  });
});

describe('write warnings', () => {
  const t = appFor({ validateDmpProfiles: true });

  test('a create naming an unknown profile succeeds, and Prefer: return=OperationOutcome carries the warning', async () => {
    const body = { ...fixture('observation-valid'), meta: { profile: ['https://example.org/StructureDefinition/nope'] } };
    const res = await request(t.app).post('/fhir/Observation').set('Content-Type', FHIR_JSON).set('Prefer', 'return=OperationOutcome').send(JSON.stringify(body));
    expect(res.status).toBe(201);
    expect(res.body.issue.map((i: { severity: string; code: string }) => [i.severity, i.code])).toEqual([
      ['information', 'informational'],
      ['warning', 'not-supported'],
    ]);
  });
});
