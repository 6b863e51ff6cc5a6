import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';
import { patient } from '../support/resources';

// A hospital's local patient number, not the INS: the INS is unique per Patient
// (DMP-RULES.md § 1), and these tests need several Patients to match one criterion.
const INS = 'https://hopital.example/ipp';
const withIns = (value: string) => patient({ identifier: [{ system: INS, value }] });
const byIns = (value: string) => `identifier=${encodeURIComponent(`${INS}|${value}`)}`;

describe.each(STORES)('conditional interactions ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (body: unknown, headers: Record<string, string> = {}) =>
    request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).set(headers).send(JSON.stringify(body));
  const count = async (query: string) => (await request(t.app).get(`/fhir/Patient?${query}&_summary=count`)).body.total;

  describe('If-None-Exist (conditional create)', () => {
    test('no match: creates (201)', async () => {
      const res = await create(withIns('100000000000001'), { 'If-None-Exist': byIns('100000000000001') });
      expect(res.status).toBe(201);
      expect(await count(byIns('100000000000001'))).toBe(1);
    });

    test('one match: returns the existing resource (200) and creates nothing', async () => {
      const first = await create(withIns('100000000000002'));
      const again = await create(withIns('100000000000002'), { 'If-None-Exist': byIns('100000000000002') });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      expect(again.headers.etag).toBe('W/"1"');
      expect(await count(byIns('100000000000002'))).toBe(1);
    });

    test('several matches: 412 and nothing created', async () => {
      await create(withIns('100000000000003'));
      await create(withIns('100000000000003'));
      const res = await create(withIns('100000000000003'), { 'If-None-Exist': byIns('100000000000003') });
      expect(res.status).toBe(412);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(await count(byIns('100000000000003'))).toBe(2);
    });

    test('bad criteria are 400', async () => {
      const res = await create(withIns('100000000000004'), { 'If-None-Exist': 'nonsense-param=1' });
      expect(res.status).toBe(400);
    });
  });

  describe('conditional update', () => {
    test('no match: creates', async () => {
      const res = await request(t.app)
        .put(`/fhir/Patient?${byIns('200000000000001')}`)
        .set('Content-Type', FHIR_JSON)
        .send(withIns('200000000000001'));
      expect(res.status).toBe(201);
      expect(res.headers.location).toContain(`/Patient/${res.body.id}/_history/1`);
    });

    test('one match: updates that resource', async () => {
      const first = await create(withIns('200000000000002'));
      const res = await request(t.app)
        .put(`/fhir/Patient?${byIns('200000000000002')}`)
        .set('Content-Type', FHIR_JSON)
        .send({ ...withIns('200000000000002'), gender: 'female' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: first.body.id, gender: 'female', meta: { versionId: '2' } });
    });

    test('one match but another id in the body: 400', async () => {
      await create(withIns('200000000000003'));
      const res = await request(t.app)
        .put(`/fhir/Patient?${byIns('200000000000003')}`)
        .set('Content-Type', FHIR_JSON)
        .send({ ...withIns('200000000000003'), id: 'someone-else' });
      expect(res.status).toBe(400);
    });

    test('several matches: 412', async () => {
      await create(withIns('200000000000004'));
      await create(withIns('200000000000004'));
      const res = await request(t.app)
        .put(`/fhir/Patient?${byIns('200000000000004')}`)
        .set('Content-Type', FHIR_JSON)
        .send(withIns('200000000000004'));
      expect(res.status).toBe(412);
    });

    test('no criteria: 400', async () => {
      const res = await request(t.app).put('/fhir/Patient').set('Content-Type', FHIR_JSON).send(withIns('200000000000005'));
      expect(res.status).toBe(400);
    });
  });

  describe('conditional patch', () => {
    const ops = JSON.stringify([{ op: 'replace', path: '/gender', value: 'other' }]);
    test('one match is patched; none is 404; several 412', async () => {
      const first = await create(withIns('300000000000001'));
      const res = await request(t.app)
        .patch(`/fhir/Patient?${byIns('300000000000001')}`)
        .set('Content-Type', 'application/json-patch+json')
        .send(ops);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: first.body.id, gender: 'other' });

      const none = await request(t.app)
        .patch(`/fhir/Patient?${byIns('300000000000099')}`)
        .set('Content-Type', 'application/json-patch+json')
        .send(ops);
      expect(none.status).toBe(404);

      await create(withIns('300000000000002'));
      await create(withIns('300000000000002'));
      const many = await request(t.app)
        .patch(`/fhir/Patient?${byIns('300000000000002')}`)
        .set('Content-Type', 'application/json-patch+json')
        .send(ops);
      expect(many.status).toBe(412);
    });
  });

  describe('conditional delete', () => {
    test('one match is deleted; later reads are 410', async () => {
      const first = await create(withIns('400000000000001'));
      const res = await request(t.app).delete(`/fhir/Patient?${byIns('400000000000001')}`);
      expect(res.status).toBe(200);
      expect((await request(t.app).get(`/fhir/Patient/${first.body.id}`)).status).toBe(410);
      expect(await count(byIns('400000000000001'))).toBe(0);
    });

    test('no match deletes nothing and answers 200', async () => {
      const res = await request(t.app).delete(`/fhir/Patient?${byIns('400000000000099')}`);
      expect(res.status).toBe(200);
      expect(res.body.issue[0].severity).toBe('information');
    });

    test('several matches: 412 and nothing deleted', async () => {
      await create(withIns('400000000000002'));
      await create(withIns('400000000000002'));
      expect((await request(t.app).delete(`/fhir/Patient?${byIns('400000000000002')}`)).status).toBe(412);
      expect(await count(byIns('400000000000002'))).toBe(2);
    });
  });
});
