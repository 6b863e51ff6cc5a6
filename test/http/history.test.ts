import request from 'supertest';
import { BASE_URL, FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';
import { observation, patient } from '../support/resources';

interface Entry {
  fullUrl: string;
  resource?: { id: string; meta: { versionId: string } };
  request: { method: string; url: string };
  response: { status: string; etag: string };
}

/** Follows `next` links from `first`, returning every entry in order. */
async function walk(app: TestApp['app'], first: string): Promise<Entry[]> {
  const out: Entry[] = [];
  let url: string | undefined = first;
  for (let guard = 0; url && guard < 50; guard++) {
    const res: request.Response = await request(app).get(url.replace(BASE_URL, '/fhir'));
    expect(res.status).toBe(200);
    out.push(...(res.body.entry ?? []));
    url = res.body.link.find((l: { relation: string }) => l.relation === 'next')?.url;
  }
  return out;
}

describe.each(STORES)('history ($name)', (fixture) => {
  let t: TestApp;
  let pid: string;
  beforeAll(async () => {
    t = await openTestApp(fixture);
    const created = await request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    pid = created.body.id;
    await request(t.app).put(`/fhir/Patient/${pid}`).set('Content-Type', FHIR_JSON).send({ ...patient({ gender: 'female' }), id: pid });
    await request(t.app).post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(observation(`Patient/${pid}`));
    await request(t.app).delete(`/fhir/Patient/${pid}`);
  });
  afterAll(async () => {
    await t.close();
  });

  test('instance history: Bundle type history, newest first, with request/response per entry', async () => {
    const res = await request(t.app).get(`/fhir/Patient/${pid}/_history`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'history', total: 3 });
    const entries = res.body.entry as Entry[];
    expect(entries.map((e) => e.request.method)).toEqual(['DELETE', 'PUT', 'POST']);
    expect(entries[0].resource).toBeUndefined();
    expect(entries[0].response.etag).toBe('W/"3"');
    expect(entries[1].resource?.meta.versionId).toBe('2');
    expect(entries[2].request.url).toBe('Patient');
    expect(entries[1].request.url).toBe(`Patient/${pid}`);
    expect(entries[2].fullUrl).toBe(`${BASE_URL}/Patient/${pid}`);
    expect(res.body.link[0]).toEqual({ relation: 'self', url: `${BASE_URL}/Patient/${pid}/_history` });
  });

  test('instance history of a deleted resource is still readable; of an unknown one 404', async () => {
    expect((await request(t.app).get('/fhir/Patient/nobody/_history')).status).toBe(404);
  });

  test('type and system history', async () => {
    const type = await request(t.app).get('/fhir/Patient/_history');
    expect(type.body.total).toBe(3);
    expect(type.body.entry.every((e: Entry) => e.fullUrl.includes('/Patient/'))).toBe(true);
    const system = await request(t.app).get('/fhir/_history');
    expect(system.body.total).toBe(4);
    expect(system.body.entry[1].fullUrl).toMatch(/\/Observation\//);
  });

  test('paging with _count walks every version once, newest first', async () => {
    for (let i = 0; i < 5; i++) {
      await request(t.app).post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient());
    }
    const all = await request(t.app).get('/fhir/_history?_count=100');
    const paged = await walk(t.app, '/fhir/_history?_count=3');
    expect(paged.map((e) => `${e.fullUrl}@${e.response.etag}`)).toEqual(
      all.body.entry.map((e: Entry) => `${e.fullUrl}@${e.response.etag}`),
    );
    expect(paged.length).toBe(all.body.total);
  });

  test('a previous link leads back to the page before', async () => {
    const first = await request(t.app).get('/fhir/_history?_count=2');
    const nextUrl = first.body.link.find((l: { relation: string }) => l.relation === 'next').url;
    const second = await request(t.app).get(nextUrl.replace(BASE_URL, '/fhir'));
    const prevUrl = second.body.link.find((l: { relation: string }) => l.relation === 'previous').url;
    const back = await request(t.app).get(prevUrl.replace(BASE_URL, '/fhir'));
    expect(back.body.entry).toEqual(first.body.entry);
  });

  test('_since keeps only later versions', async () => {
    const all = await request(t.app).get('/fhir/Patient/_history?_count=100');
    const entries = all.body.entry as Entry[];
    const pivot = entries[2];
    const lm = (await request(t.app).get(`/fhir/Patient/${pid}/_history`)).body.entry;
    expect(lm).toBeDefined();
    const since = (pivot.response as unknown as { lastModified: string }).lastModified;
    const res = await request(t.app).get(`/fhir/Patient/_history?_since=${encodeURIComponent(since)}`);
    expect(res.body.entry.length).toBeGreaterThanOrEqual(3);
    for (const e of res.body.entry) {
      expect(Date.parse(e.response.lastModified)).toBeGreaterThanOrEqual(Date.parse(since));
    }
    expect(res.body.total).toBeLessThan(all.body.total);
  });

  test('bad history parameters are 400; lenient handling ignores unknown ones', async () => {
    expect((await request(t.app).get('/fhir/_history?_count=zero')).status).toBe(400);
    expect((await request(t.app).get('/fhir/_history?_since=yesterday')).status).toBe(400);
    expect((await request(t.app).get('/fhir/_history?_at=2020')).status).toBe(400);
    expect((await request(t.app).get('/fhir/_history?_cursor=garbage')).status).toBe(400);
    expect((await request(t.app).get('/fhir/_history?color=blue')).status).toBe(400);
    expect((await request(t.app).get('/fhir/_history?color=blue').set('Prefer', 'handling=lenient')).status).toBe(200);
  });
});
