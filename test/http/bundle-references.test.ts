import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { patient } from '../support/resources';
import { STORES } from '../support/stores';

const P = 'urn:uuid:7f1b2c3d-0000-4000-8000-0000000000a1';
const PRACT = 'urn:oid:1.2.250.1.71.4.2.1.999';
const BIN = 'urn:uuid:7f1b2c3d-0000-4000-8000-0000000000b1';

describe.each(STORES)('transaction Bundles: references to other entries are rewritten ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
  });
  afterAll(async () => {
    await t.close();
  });

  const send = (bundle: unknown, headers: Record<string, string> = {}) =>
    request(t.app).post('/fhir').set('Content-Type', FHIR_JSON).set(headers).send(JSON.stringify(bundle));

  test('urn:uuid and urn:oid references at any depth, Attachment.url and narrative href/src become the assigned ids', async () => {
    const doc = {
      resourceType: 'DocumentReference',
      status: 'current',
      text: {
        status: 'generated',
        div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${P}">patient</a> <img src="${BIN}" alt="scan"/> <a href="http://other.example/x">other</a></div>`,
      },
      subject: { reference: P },
      author: [{ reference: PRACT }],
      context: { related: [{ reference: P }], sourcePatientInfo: { reference: P } },
      content: [{ attachment: { contentType: 'application/pdf', url: BIN } }],
    };
    const res = await send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:7f1b2c3d-0000-4000-8000-0000000000d1', resource: doc, request: { method: 'POST', url: 'DocumentReference' } },
        { fullUrl: P, resource: patient({ name: [{ family: 'Renvoi' }] }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: PRACT, resource: { resourceType: 'Practitioner', name: [{ family: 'Soin' }] }, request: { method: 'POST', url: 'Practitioner' } },
        { fullUrl: BIN, resource: { resourceType: 'Binary', contentType: 'application/pdf', data: 'JVBERi0=' }, request: { method: 'POST', url: 'Binary' } },
      ],
    });
    expect(res.status).toBe(200);
    const [d, p, pr, b] = res.body.entry.map((e: { resource: { id: string } }) => e.resource);
    expect(d.subject.reference).toBe(`Patient/${p.id}`);
    expect(d.author[0].reference).toBe(`Practitioner/${pr.id}`);
    expect(d.context.related[0].reference).toBe(`Patient/${p.id}`);
    expect(d.context.sourcePatientInfo.reference).toBe(`Patient/${p.id}`);
    expect(d.content[0].attachment.url).toBe(`Binary/${b.id}`);
    expect(d.text.div).toContain(`href="Patient/${p.id}"`);
    expect(d.text.div).toContain(`src="Binary/${b.id}"`);
    expect(d.text.div).toContain('href="http://other.example/x"');
    // As stored, and found by a search on the rewritten reference.
    const stored = (await request(t.app).get(`/fhir/DocumentReference?subject=Patient/${p.id}`)).body;
    expect(stored.total).toBe(1);
    expect(stored.entry[0].resource.content[0].attachment.url).toBe(`Binary/${b.id}`);
  });

  test('a PUT entry whose fullUrl is an absolute URL is referred to by it; a patch (Binary JSON Patch) is rewritten too', async () => {
    await request(t.app).put('/fhir/Patient/pt-abs').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient({ id: 'pt-abs' })));
    const ops = [{ op: 'add', path: '/generalPractitioner', value: [{ reference: PRACT }] }];
    const res = await send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'http://example.org/fhir/Patient/pt-abs', resource: patient({ id: 'pt-abs', name: [{ family: 'Absolu' }] }), request: { method: 'PUT', url: 'Patient/pt-abs' } },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'http://example.org/fhir/Patient/pt-abs' } },
          request: { method: 'POST', url: 'Observation' },
        },
        { fullUrl: PRACT, resource: { resourceType: 'Practitioner', name: [{ family: 'Soin' }] }, request: { method: 'POST', url: 'Practitioner' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry[1].resource.subject.reference).toBe('Patient/pt-abs');
    const pr = res.body.entry[2].resource.id;
    const patch = await send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: PRACT, resource: { resourceType: 'Practitioner', name: [{ family: 'Autre' }] }, request: { method: 'POST', url: 'Practitioner' } },
        {
          resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify(ops)).toString('base64') },
          request: { method: 'PATCH', url: 'Patient/pt-abs' },
        },
      ],
    });
    expect(patch.status).toBe(200);
    expect(patch.body.entry[1].response.status).toBe('200 OK');
    expect(patch.body.entry[1].resource.generalPractitioner[0].reference).toBe(`Practitioner/${patch.body.entry[0].resource.id}`);
    expect(patch.body.entry[1].resource.generalPractitioner[0].reference).not.toBe(`Practitioner/${pr}`);
  });

  test('in a batch, an entry referring to another entry fails alone (400: use a transaction)', async () => {
    const res = await send({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { fullUrl: P, resource: patient(), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: P } }, request: { method: 'POST', url: 'Observation' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '400 Bad Request']);
  });
});
