import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { patient } from '../support/resources';
import { STORES } from '../support/stores';

// A hospital's local number, not the INS (one Patient per INS): several Patients may share it.
const IPP = 'https://hopital.example/ipp';
const withIpp = (value: string, family = 'Cond') => patient({ identifier: [{ system: IPP, value }], name: [{ family }] });
const byIpp = (value: string) => `identifier=${encodeURIComponent(`${IPP}|${value}`)}`;
const obs = (subject: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'poids' }, subject: { reference: subject } });
const tx = (...entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const statuses = (body: { entry: { response: { status: string } }[] }) => body.entry.map((e) => e.response.status);

describe.each(STORES)('transaction Bundles: conditional references and interactions ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture, { maxBodyBytes: 4 * 1024 * 1024 });
  });
  afterAll(async () => {
    await t.close();
  });

  const send = (bundle: unknown) => request(t.app).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(bundle));
  const create = async (body: unknown) => (await request(t.app).post(`/fhir/${(body as { resourceType: string }).resourceType}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(body))).body;
  const count = async (query: string) => (await request(t.app).get(`/fhir/${query}&_summary=count`)).body.total;

  describe('conditional references (Patient?identifier=...)', () => {
    test('one match: the reference becomes that resource', async () => {
      const p = await create(withIpp('one'));
      const res = await send(tx({ resource: obs(`Patient?${byIpp('one')}`), request: { method: 'POST', url: 'Observation' } }));
      expect(res.status).toBe(200);
      expect(res.body.entry[0].resource.subject.reference).toBe(`Patient/${p.id}`);
    });

    test('no match: 400 naming the entry, nothing stored', async () => {
      const res = await send(
        tx(
          { resource: withIpp('zero-other'), request: { method: 'POST', url: 'Patient' } },
          { resource: obs(`Patient?${byIpp('zero')}`), request: { method: 'POST', url: 'Observation' } },
        ),
      );
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[1]');
      expect(res.body.issue[0].details.text).toMatch(/matches no resource/);
      expect(await count(`Patient?${byIpp('zero-other')}`)).toBe(0);
    });

    test('two matches: 412 naming the entry, nothing stored', async () => {
      await create(withIpp('two'));
      await create(withIpp('two'));
      const res = await send(
        tx(
          { resource: withIpp('two-other'), request: { method: 'POST', url: 'Patient' } },
          { resource: obs(`Patient?${byIpp('two')}`), request: { method: 'POST', url: 'Observation' } },
        ),
      );
      expect(res.status).toBe(412);
      expect(res.body.issue[0].code).toBe('multiple-matches');
      expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[1]');
      expect(await count(`Patient?${byIpp('two-other')}`)).toBe(0);
    });

    test('in a batch a conditional reference fails its entry (transactions only)', async () => {
      await create(withIpp('batch'));
      const res = await send({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: obs(`Patient?${byIpp('batch')}`), request: { method: 'POST', url: 'Observation' } }] });
      expect(statuses(res.body)).toEqual(['400 Bad Request']);
    });
  });

  describe('ifNoneExist, ifMatch and ifNoneMatch per entry', () => {
    test('ifNoneExist: an existing match is returned (200) and references to the entry point to it', async () => {
      const p = await create(withIpp('ine'));
      const res = await send(
        tx(
          { fullUrl: 'urn:uuid:5a5a0000-0000-4000-8000-000000000001', resource: withIpp('ine'), request: { method: 'POST', url: 'Patient', ifNoneExist: byIpp('ine') } },
          { resource: obs('urn:uuid:5a5a0000-0000-4000-8000-000000000001'), request: { method: 'POST', url: 'Observation' } },
        ),
      );
      expect(res.status).toBe(200);
      expect(statuses(res.body)).toEqual(['200 OK', '201 Created']);
      expect(res.body.entry[0].resource.id).toBe(p.id);
      expect(res.body.entry[1].resource.subject.reference).toBe(`Patient/${p.id}`);
      expect(await count(`Patient?${byIpp('ine')}`)).toBe(1);
    });

    test('ifNoneExist with no match creates; with two matches the transaction fails (412)', async () => {
      const created = await send(tx({ resource: withIpp('ine-new'), request: { method: 'POST', url: 'Patient', ifNoneExist: byIpp('ine-new') } }));
      expect(statuses(created.body)).toEqual(['201 Created']);
      await create(withIpp('ine-new'));
      const several = await send(tx({ resource: withIpp('ine-new'), request: { method: 'POST', url: 'Patient', ifNoneExist: byIpp('ine-new') } }));
      expect(several.status).toBe(412);
      expect(await count(`Patient?${byIpp('ine-new')}`)).toBe(2);
    });

    test('ifMatch: the current version updates; a stale one fails the whole transaction (412)', async () => {
      const p = await create(withIpp('im'));
      const upd = (family: string, ifMatch: string) => ({ resource: { ...withIpp('im', family), id: p.id }, request: { method: 'PUT', url: `Patient/${p.id}`, ifMatch } });
      const ok = await send(tx(upd('Courant', 'W/"1"')));
      expect(ok.status).toBe(200);
      expect(ok.body.entry[0].response.etag).toBe('W/"2"');
      const stale = await send(tx({ resource: withIpp('im-side'), request: { method: 'POST', url: 'Patient' } }, upd('Perime', 'W/"1"')));
      expect(stale.status).toBe(412);
      expect(stale.body.issue[0].expression[0]).toBe('Bundle.entry[1]');
      expect(await count(`Patient?${byIpp('im-side')}`)).toBe(0);
      expect((await request(t.app).get(`/fhir/Patient/${p.id}`)).body.name[0].family).toBe('Courant');
    });

    test('GET entries run after the writes; ifNoneMatch on the current version answers 304', async () => {
      const p = await create(withIpp('get'));
      const res = await send(
        tx(
          { request: { method: 'GET', url: `Patient?${byIpp('get-new')}` } },
          { request: { method: 'GET', url: `Patient/${p.id}`, ifNoneMatch: 'W/"1"' } },
          { request: { method: 'GET', url: 'Patient/does-not-exist' } },
          { resource: withIpp('get-new'), request: { method: 'POST', url: 'Patient' } },
        ),
      );
      expect(res.status).toBe(200);
      expect(statuses(res.body)).toEqual(['200 OK', '304 Not Modified', '404 Not Found', '201 Created']);
      // The search ran after the create of the same transaction.
      expect(res.body.entry[0].resource.total).toBe(1);
    });
  });

  describe('processing order: DELETE, POST, PUT/PATCH, GET', () => {
    test('a DELETE and a POST with ifNoneExist on the same criteria: the delete goes first, so the POST creates', async () => {
      const old = await create(withIpp('order'));
      const res = await send(
        tx(
          { resource: withIpp('order', 'Nouveau'), request: { method: 'POST', url: 'Patient', ifNoneExist: byIpp('order') } },
          { request: { method: 'DELETE', url: `Patient?${byIpp('order')}` } },
        ),
      );
      expect(res.status).toBe(200);
      expect(statuses(res.body)).toEqual(['201 Created', '200 OK']);
      expect(res.body.entry[0].resource.id).not.toBe(old.id);
      expect((await request(t.app).get(`/fhir/Patient/${old.id}`)).status).toBe(410);
      const now = (await request(t.app).get(`/fhir/Patient?${byIpp('order')}`)).body;
      expect(now.entry.map((e: { resource: { name: { family: string }[] } }) => e.resource.name[0].family)).toEqual(['Nouveau']);
    });

    test('a conditional update (PUT Type?criteria) and a conditional delete with no match', async () => {
      const p = await create(withIpp('cu'));
      const res = await send(
        tx(
          { resource: withIpp('cu', 'Modifie'), request: { method: 'PUT', url: `Patient?${byIpp('cu')}` } },
          { resource: withIpp('cu-new', 'Cree'), request: { method: 'PUT', url: `Patient?${byIpp('cu-new')}` } },
          { request: { method: 'DELETE', url: `Patient?${byIpp('nobody')}` } },
        ),
      );
      expect(res.status).toBe(200);
      expect(statuses(res.body)).toEqual(['200 OK', '201 Created', '200 OK']);
      expect(res.body.entry[0].resource.id).toBe(p.id);
      expect(res.body.entry[0].resource.name[0].family).toBe('Modifie');
    });

    test('deleting a resource another entry of the same transaction updates is refused (one entry per resource)', async () => {
      const p = await create(withIpp('del-upd'));
      const res = await send(
        tx({ request: { method: 'DELETE', url: `Patient/${p.id}` } }, { resource: { ...withIpp('del-upd'), id: p.id }, request: { method: 'PUT', url: `Patient/${p.id}` } }),
      );
      expect(res.status).toBe(400);
      expect((await request(t.app).get(`/fhir/Patient/${p.id}`)).status).toBe(200);
    });
  });

  test('more entries than BUNDLE_MAX_ENTRIES (default 1000): 413 with an OperationOutcome, nothing stored', async () => {
    const entry = Array.from({ length: 1001 }, () => ({ request: { method: 'GET', url: 'Patient?_count=1' } }));
    const res = await send({ resourceType: 'Bundle', type: 'batch', entry });
    expect(res.status).toBe(413);
    expect(res.body.issue[0].details.text).toMatch(/at most 1000/);
  });

  test('BUNDLE_MAX_ENTRIES is honoured: with 3, a transaction of 4 entries is 413 and stores nothing', async () => {
    const small = await openTestApp(fixture, { bundleMaxEntries: 3 });
    try {
      const entry = Array.from({ length: 4 }, () => ({ resource: withIpp('limit'), request: { method: 'POST', url: 'Patient' } }));
      const res = await request(small.app).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(tx(...entry)));
      expect(res.status).toBe(413);
      expect(res.body.issue[0].details.text).toMatch(/at most 3 \(BUNDLE_MAX_ENTRIES\)/);
      const three = await request(small.app).post('/fhir').set('Content-Type', FHIR_JSON).send(JSON.stringify(tx(...entry.slice(1))));
      expect(three.status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
