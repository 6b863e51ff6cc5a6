import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';
import { patient } from '../support/resources';

const JSON_PATCH = 'application/json-patch+json';

describe.each(STORES)('delete and patch ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
  });
  afterAll(async () => {
    await t.close();
  });

  async function create(): Promise<string> {
    const res = await request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    expect(res.status).toBe(201);
    return res.body.id;
  }

  describe('delete', () => {
    test('is logical: later reads are 410 Gone, history keeps every version', async () => {
      const id = await create();
      const del = await request(t.app).delete(`/fhir/Patient/${id}`);
      expect(del.status).toBe(200);
      expect(del.body.resourceType).toBe('OperationOutcome');
      expect(del.headers.etag).toBe('W/"2"');

      const read = await request(t.app).get(`/fhir/Patient/${id}`);
      expect(read.status).toBe(410);
      expect(read.body.resourceType).toBe('OperationOutcome');
      expect((await request(t.app).get(`/fhir/Patient/${id}/_history/1`)).status).toBe(200);
      expect((await request(t.app).get(`/fhir/Patient/${id}/_history/2`)).status).toBe(410);

      const hist = await request(t.app).get(`/fhir/Patient/${id}/_history`);
      expect(hist.body.entry.map((e: { request: { method: string } }) => e.request.method)).toEqual(['DELETE', 'POST']);
    });

    test('deleting again changes nothing and still answers 200', async () => {
      const id = await create();
      await request(t.app).delete(`/fhir/Patient/${id}`);
      const again = await request(t.app).delete(`/fhir/Patient/${id}`);
      expect(again.status).toBe(200);
      expect(again.headers.etag).toBe('W/"2"');
      const hist = await request(t.app).get(`/fhir/Patient/${id}/_history`);
      expect(hist.body.total).toBe(2);
    });

    test('deleting what never existed is 404', async () => {
      expect((await request(t.app).delete('/fhir/Patient/never-there')).status).toBe(404);
    });

    test('If-Match on delete: a stale version is 412 and the resource stays', async () => {
      const id = await create();
      await request(t.app).put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send({ ...patient(), id });
      const stale = await request(t.app).delete(`/fhir/Patient/${id}`).set('If-Match', 'W/"1"');
      expect(stale.status).toBe(412);
      expect((await request(t.app).get(`/fhir/Patient/${id}`)).status).toBe(200);
      expect((await request(t.app).delete(`/fhir/Patient/${id}`).set('If-Match', 'W/"2"')).status).toBe(200);
    });

    test('a deleted resource can be re-created by update (201, next version)', async () => {
      const id = await create();
      await request(t.app).delete(`/fhir/Patient/${id}`);
      const res = await request(t.app).put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send({ ...patient(), id });
      expect(res.status).toBe(201);
      expect(res.body.meta.versionId).toBe('3');
    });
  });

  describe('patch (JSON Patch)', () => {
    test('applies the operations as a new version', async () => {
      const id = await create();
      const res = await request(t.app)
        .patch(`/fhir/Patient/${id}`)
        .set('Content-Type', JSON_PATCH)
        .send(JSON.stringify([
          { op: 'test', path: '/gender', value: 'male' },
          { op: 'replace', path: '/gender', value: 'female' },
          { op: 'add', path: '/active', value: true },
        ]));
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe('W/"2"');
      expect(res.body).toMatchObject({ gender: 'female', active: true, meta: { versionId: '2' } });
      expect((await request(t.app).get(`/fhir/Patient/${id}`)).body.gender).toBe('female');
    });

    test('a failing test operation is 422 and changes nothing', async () => {
      const id = await create();
      const res = await request(t.app)
        .patch(`/fhir/Patient/${id}`)
        .set('Content-Type', JSON_PATCH)
        .send(JSON.stringify([
          { op: 'replace', path: '/gender', value: 'female' },
          { op: 'test', path: '/birthDate', value: '1999-01-01' },
        ]));
      expect(res.status).toBe(422);
      expect(res.body.resourceType).toBe('OperationOutcome');
      const read = await request(t.app).get(`/fhir/Patient/${id}`);
      expect(read.body).toMatchObject({ gender: 'male', meta: { versionId: '1' } });
    });

    test('a patch whose result is invalid is 400 with the validation issues', async () => {
      const id = await create();
      const res = await request(t.app)
        .patch(`/fhir/Patient/${id}`)
        .set('Content-Type', JSON_PATCH)
        .send(JSON.stringify([{ op: 'replace', path: '/gender', value: 'robot' }]));
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression).toEqual(['Patient.gender']);
    });

    test('a patch may not change the id or resourceType', async () => {
      const id = await create();
      const res = await request(t.app)
        .patch(`/fhir/Patient/${id}`)
        .set('Content-Type', JSON_PATCH)
        .send(JSON.stringify([{ op: 'replace', path: '/id', value: 'other' }]));
      expect(res.status).toBe(422);
    });

    test.each([
      ['not an array', { op: 'add' }],
      ['an unknown op', [{ op: 'frobnicate', path: '/a' }]],
      ['a path that is not a pointer', [{ op: 'add', path: 'gender', value: 'x' }]],
      ['a missing value', [{ op: 'replace', path: '/gender' }]],
      ['a prototype path', [{ op: 'add', path: '/__proto__/polluted', value: 1 }]],
    ])('a malformed patch document (%s) is 400', async (_what, doc) => {
      const id = await create();
      const res = await request(t.app).patch(`/fhir/Patient/${id}`).set('Content-Type', JSON_PATCH).send(JSON.stringify(doc));
      expect(res.status).toBe(400);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    test('If-Match on patch: stale is 412, current applies', async () => {
      const id = await create();
      const ops = JSON.stringify([{ op: 'replace', path: '/gender', value: 'other' }]);
      expect((await request(t.app).patch(`/fhir/Patient/${id}`).set('Content-Type', JSON_PATCH).set('If-Match', 'W/"7"').send(ops)).status).toBe(412);
      expect((await request(t.app).patch(`/fhir/Patient/${id}`).set('Content-Type', JSON_PATCH).set('If-Match', 'W/"1"').send(ops)).status).toBe(200);
    });

    test('patching an unknown resource is 404, a deleted one 410', async () => {
      const ops = JSON.stringify([{ op: 'replace', path: '/gender', value: 'other' }]);
      expect((await request(t.app).patch('/fhir/Patient/nobody').set('Content-Type', JSON_PATCH).send(ops)).status).toBe(404);
      const id = await create();
      await request(t.app).delete(`/fhir/Patient/${id}`);
      expect((await request(t.app).patch(`/fhir/Patient/${id}`).set('Content-Type', JSON_PATCH).send(ops)).status).toBe(410);
    });

    test('a FHIRPath Patch (Parameters in FHIR JSON) applies like the JSON Patch it stands for; other bodies are 400 or 415', async () => {
      const id = await create();
      const fhirPath = (type: string, path: string, value?: string) => ({
        resourceType: 'Parameters',
        parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: type }, { name: 'path', valueString: path }, ...(value ? [{ name: 'value', valueCode: value }] : [])] }],
      });
      const res = await request(t.app).patch(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(fhirPath('replace', 'Patient.gender', 'other')));
      expect(res.status).toBe(200);
      expect(res.body.gender).toBe('other');
      expect(res.headers.etag).toBe('W/"2"');
      const removed = await request(t.app).patch(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(fhirPath('delete', 'Patient.gender')));
      expect(removed.status).toBe(200);
      expect(removed.body.gender).toBeUndefined();
      // A path on another type, an unsupported operation, a body that is not Parameters: 400, nothing changed.
      for (const body of [fhirPath('replace', 'Observation.status', 'final'), fhirPath('insert', 'Patient.name'), { resourceType: 'Patient', gender: 'male' }]) {
        const bad = await request(t.app).patch(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
        expect(bad.status).toBe(400);
        expect(bad.body.resourceType).toBe('OperationOutcome');
      }
      expect((await request(t.app).patch(`/fhir/Patient/${id}`).set('Content-Type', 'text/plain').send('gender=male')).status).toBe(415);
      expect((await request(t.app).get(`/fhir/Patient/${id}`)).body.meta.versionId).toBe('3');
    });
  });
});
