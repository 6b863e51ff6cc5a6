import request from 'supertest';
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { listen, openTestApp, type TestApp } from '../support/app';
import { STORES } from '../support/stores';

const COLUMN_QUERIES: Record<string, string> = { _id: '_id=x', _lastUpdated: '_lastUpdated=gt2020' };

describe.each(STORES)('CapabilityStatement ($name)', (fixture) => {
  let t: TestApp;
  let cs: CapabilityStatement;
  let resources: CapabilityStatementRestResource[];
  beforeAll(async () => {
    t = await openTestApp(fixture);
    const res = await request(t.app).get('/fhir/metadata');
    expect(res.status).toBe(200);
    cs = res.body;
    resources = cs.rest?.[0].resource ?? [];
  });
  afterAll(async () => {
    await t.close();
  });

  test('describes an R4 JSON server', () => {
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1' });
    expect(cs.format).toContain('application/fhir+json');
    expect(cs.format).not.toContain('xml');
    expect(cs.patchFormat).toEqual(['application/json-patch+json', 'application/fhir+json']);
    expect(cs.rest?.[0].interaction?.map((i) => i.code).sort()).toEqual(['batch', 'history-system', 'search-system', 'transaction']);
  });

  test('lists the R4 resource types, each with the interactions the server implements', () => {
    const types = resources.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['Patient', 'Observation', 'DocumentReference', 'Consent', 'AuditEvent']));
    expect(types).not.toContain('OperationOutcome');
    expect(types).not.toContain('Parameters');
    const patient = resources.find((r) => r.type === 'Patient') as CapabilityStatementRestResource;
    expect(patient.interaction?.map((i) => i.code).sort()).toEqual(
      ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread'].sort(),
    );
    expect(patient).toMatchObject({ versioning: 'versioned-update', conditionalCreate: true, conditionalUpdate: true, conditionalDelete: 'single' });
    expect(patient.searchParam?.map((p) => p.name)).toEqual(expect.arrayContaining(['_id', '_lastUpdated', 'identifier', 'family', 'birthdate']));
    expect(patient.searchRevInclude).toContain('Observation:subject');
  });

  test('every listed type answers search, and every listed parameter is accepted', async () => {
    const server = await listen(t.app);
    const agent = request.agent(server.url);
    for (const r of resources) {
      const res = await agent.get(`/fhir/${r.type}?_count=1`);
      expect([r.type, res.status]).toEqual([r.type, 200]);
      for (const p of r.searchParam ?? []) {
        if (p.type === 'composite') continue; // composite values need their components; covered by the search tests
        // _id and _lastUpdated are always present, so :missing means nothing for them: search a value.
        const query = COLUMN_QUERIES[p.name] ?? `${encodeURIComponent(p.name)}:missing=true`;
        const q = await agent.get(`/fhir/${r.type}?${query}&_summary=count`);
        expect([r.type, p.name, q.status]).toEqual([r.type, p.name, 200]);
      }
    }
    await server.close();
  }, 120_000);

  test('every listed _include is accepted', async () => {
    for (const r of resources.filter((x) => x.type === 'Patient' || x.type === 'Observation' || x.type === 'DocumentReference')) {
      for (const inc of r.searchInclude ?? []) {
        const res = await request(t.app).get(`/fhir/${r.type}?_include=${encodeURIComponent(inc)}&_count=1`);
        expect([inc, res.status]).toEqual([inc, 200]);
      }
    }
  });
});
