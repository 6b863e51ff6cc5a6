import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';

const DIR = path.join(__dirname, '..', '..', 'fixtures');
const FIXTURES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as Record<string, unknown> & { resourceType: string; id: string }] as const);

/**
 * Public examples that break a profile they claim in meta.profile: the server
 * validates writes against known profiles, so they are refused, with the
 * element named (why: test/profiles/examples.test.ts).
 */
const NON_CONFORMING: Readonly<Record<string, string>> = {
  'documentreference-dmp-consultation-report.json': 'DocumentReference.masterIdentifier.use',
};

/** The resource without what the server owns (meta.versionId / lastUpdated). */
function withoutServerMeta(r: Record<string, unknown>): Record<string, unknown> {
  const { meta, ...rest } = r as { meta?: Record<string, unknown> };
  const { versionId: _v, lastUpdated: _l, ...clientMeta } = meta ?? {};
  return Object.keys(clientMeta).length > 0 ? { ...rest, meta: clientMeta } : rest;
}

describe.each(STORES)('French reference examples round-trip ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
  });
  afterAll(async () => {
    await t.close();
  });

  test('there are fixtures to test', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(5);
  });

  test.each(FIXTURES)('%s is accepted and read back unchanged but for server meta', async (_file, resource) => {
    const put = await request(t.app).put(`/fhir/${resource.resourceType}/${resource.id}`).set('Content-Type', FHIR_JSON).send(resource);
    if (NON_CONFORMING[_file]) {
      expect([put.status, put.body.issue.map((i: { expression?: string[] }) => i.expression?.[0])]).toEqual([400, [NON_CONFORMING[_file]]]);
      return;
    }
    expect(put.status).toBe(201);
    const read = await request(t.app).get(`/fhir/${resource.resourceType}/${resource.id}`);
    expect(read.status).toBe(200);
    expect(withoutServerMeta(read.body)).toEqual(withoutServerMeta(resource));
  });

  test('a patient fixture is found by its INS', async () => {
    const [, patient] = FIXTURES.find(([f]) => f === 'patient-fr-core-ins.json') as (typeof FIXTURES)[number];
    const ins = (patient.identifier as { system: string; value: string }[]).find((i) => i.system === 'urn:oid:1.2.250.1.213.1.4.8');
    expect(ins).toBeDefined();
    const res = await request(t.app).get(`/fhir/Patient?identifier=${encodeURIComponent(`${ins?.system}|${ins?.value}`)}`);
    expect(res.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([patient.id]);
  });
});
