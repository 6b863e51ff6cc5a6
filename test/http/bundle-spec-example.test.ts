import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';

/**
 * The transaction example of the FHIR R4 specification
 * (https://hl7.org/fhir/R4/bundle-transaction.json.html), unchanged in
 * fixtures/bundles/. The resources it acts on by id are created first
 * (fixtures/bundles/README.md): Patient/123a at version 2, Patient/234 and
 * Patient/12334.
 */
const EXAMPLE = fs.readFileSync(path.join(__dirname, '../../fixtures/bundles/transaction-r4-example.json'), 'utf8');

describe.each(STORES)('the R4 specification transaction example ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
    const put = (id: string, family: string) =>
      request(t.app).put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', id, name: [{ family }] }));
    expect((await put('123a', 'Before')).status).toBe(201);
    expect((await put('123a', 'Before')).status).toBe(200); // now at version 2
    expect((await put('234', 'ToDelete')).status).toBe(201);
    expect((await put('12334', 'Read')).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  test('is processed whole: every entry answered in order, writes visible, reads after the writes', async () => {
    const res = await request(t.app).post('/fhir').set('Content-Type', FHIR_JSON).send(EXAMPLE);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Bundle');
    expect(res.body.type).toBe('transaction-response');
    const entries = res.body.entry as { resource?: { id?: string; total?: number; resourceType: string }; response: { status: string; location?: string; etag?: string } }[];
    expect(entries).toHaveLength(10);
    const status = entries.map((e) => e.response.status.split(' ')[0]);
    expect(status.slice(0, 7)).toEqual(['201', '201', '201', '201', '200', '200', '200']);
    expect(entries[2].response.location).toBe('Patient/123/_history/1');
    expect(entries[4].response).toMatchObject({ location: 'Patient/123a/_history/3', etag: 'W/"3"' });
    expect(entries[5].response.etag).toBe('W/"2"'); // the tombstone of Patient/234

    // GET Patient?name=peter ran after the writes: it finds the four Chalmers created or updated.
    expect(entries[8].response.status).toBe('200 OK');
    expect(entries[8].resource?.resourceType).toBe('Bundle');
    expect(entries[8].resource?.total).toBe(5);
    // GET Patient/12334 with ifNoneMatch W/"4": our version is 1, so the resource comes back.
    expect(entries[9].response.status).toBe('200 OK');
    expect(entries[9].resource?.id).toBe('12334');
    // $lookup of a LOINC code this server does not hold: answered in its entry; the writes stand.
    expect(entries[7].response.status).toBe('404 Not Found');
    expect(JSON.stringify(entries[7].response)).toContain('1963-8 is not in http://loinc.org');

    expect((await request(t.app).get('/fhir/Patient/234')).status).toBe(410);
    expect((await request(t.app).get('/fhir/Patient/123a')).body.name[0].family).toBe('Chalmers');
    const byIdentifier = await request(t.app).get(`/fhir/Patient?identifier=${encodeURIComponent('http:/example.org/fhir/ids|456456')}`);
    expect(byIdentifier.body.total).toBe(1);
    expect(byIdentifier.body.entry[0].resource.id).toBe(entries[3].response.location?.split('/')[1]);
  });

  test('sent again: ifNoneExist and the conditional update find what the first run created, and ifMatch W/"2" is now stale (412)', async () => {
    const res = await request(t.app).post('/fhir').set('Content-Type', FHIR_JSON).send(EXAMPLE);
    expect(res.status).toBe(412);
    expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[4]');
    // Nothing of the second run is visible: still one Patient with identifier 234234, and 123 at version 1.
    expect((await request(t.app).get(`/fhir/Patient?identifier=${encodeURIComponent('http:/example.org/fhir/ids|234234')}`)).body.total).toBe(1);
    expect((await request(t.app).get('/fhir/Patient/123')).body.meta.versionId).toBe('1');
  });
});
