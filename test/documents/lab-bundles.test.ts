import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dmpPatient, openDmpWorld, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

const LAB_DIR = join(__dirname, '..', '..', 'fixtures', 'lab');
const LAB_SYSTEM = 'urn:oid:1.2.250.1.999.1.1';
const INS = '285047512399401';
type Entry = { response: { status: string; location: string } };

const fixture = (name: string) => JSON.parse(readFileSync(join(LAB_DIR, `${name}.json`), 'utf8'));
const types = (b: { entry: { resource: { resourceType: string } }[] }) => b.entry.map((e) => e.resource.resourceType);

/**
 * Labs feed the DMP with transaction Bundles (DMP-RULES.md § 2): a
 * DiagnosticReport, its Observations, the Specimen and the performing
 * Organization, created on their business identifiers (ifNoneExist), so a
 * re-sent Bundle creates nothing; an amended report updates the same
 * resources (conditional update). Sent by the lab's system (a feeder, no
 * read right on the DMP), validated against the DMP lab profiles.
 */
describe.each(STORES)('lab result bundles ($name)', (store) => {
  let w: DmpWorld;
  let lab: Client;
  let gp: Client;
  let P: string;

  beforeAll(async () => {
    w = await openDmpWorld(store, { validateDmpProfiles: true });
    gp = await w.as('gp');
    lab = await w.as('lab');
    P = (await gp.post('Patient', dmpPatient(INS))).body.id;
  });
  afterAll(async () => {
    await w.close();
  });

  const count = async (type: string) => (await gp.get(`${type}?_summary=count&${type === 'Organization' ? '' : `patient=${P}`}`)).body.total as number;
  const counts = async () => Object.fromEntries(await Promise.all(['DiagnosticReport', 'Observation', 'Specimen', 'Organization'].map(async (t) => [t, await count(t)])));

  describe.each([
    ['lab-biochemistry', { DiagnosticReport: 1, Observation: 4, Specimen: 1 }],
    ['lab-haematology', { DiagnosticReport: 1, Observation: 3, Specimen: 1 }],
    ['lab-microbiology', { DiagnosticReport: 1, Observation: 6, Specimen: 1 }],
  ] as const)('%s', (name, added) => {
    let first: Entry[];

    test('first sending: every entry created (201), the references rewritten, the patient found by INS', async () => {
      const before = await counts();
      const res = await lab.post('', fixture(name));
      expect(res.status).toBe(200);
      first = res.body.entry;
      const orgCreated = before.Organization === 0;
      expect(first.map((e) => e.response.status)).toEqual(types(fixture(name)).map((t) => (t === 'Organization' && !orgCreated ? '200 OK' : '201 Created')));
      expect(await counts()).toEqual({
        DiagnosticReport: before.DiagnosticReport + added.DiagnosticReport,
        Observation: before.Observation + added.Observation,
        Specimen: before.Specimen + added.Specimen,
        Organization: 1,
      });
      const reportId = first.find((e) => e.response.location.startsWith('DiagnosticReport/'))?.response.location.split('/')[1];
      const report = (await gp.get(`DiagnosticReport/${reportId}`)).body;
      expect(report.subject.reference).toBe(`Patient/${P}`);
      expect(report.result.every((r: { reference: string }) => /^Observation\/[\w-]+$/.test(r.reference))).toBe(true);
      expect(report.specimen[0].reference).toMatch(/^Specimen\//);
      expect(report.performer[0].reference).toMatch(/^Organization\//);
    });

    test('sent again: nothing new, 200 for each entry, the same resources (same versions)', async () => {
      const before = await counts();
      const res = await lab.post('', fixture(name));
      expect(res.status).toBe(200);
      expect(res.body.entry.map((e: Entry) => e.response.status)).toEqual(first.map(() => '200 OK'));
      expect(res.body.entry.map((e: Entry) => e.response.location)).toEqual(first.map((e) => (e.response.location)));
      expect(await counts()).toEqual(before);
    });
  });

  test('the Observations keep their components, reference ranges and interpretations', async () => {
    const wbc = (await gp.get(`Observation?identifier=${LAB_SYSTEM}|NFS-2026-0977-WBC`)).body.entry[0].resource;
    expect(wbc.component.map((c: { code: { coding: { code: string }[] } }) => c.code.coding[0].code)).toEqual(['770-8', '736-9', '5905-5', '713-8', '706-2']);
    expect(wbc.component[0].interpretation[0].coding[0].code).toBe('H');
    expect(wbc.referenceRange[0].high.value).toBe(10);
    // Searchable by component and by interpretation, on both stores.
    const byComponent = (await gp.get(`Observation?patient=${P}&component-code-value-quantity=http://loinc.org|770-8$gt75`)).body;
    expect(byComponent.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([wbc.id]);
    const culture = (await gp.get(`Observation?identifier=${LAB_SYSTEM}|ECBU-2026-0510-CULT`)).body.entry[0].resource;
    expect(culture.hasMember).toHaveLength(4);
    const resistant = (await gp.get(`Observation?patient=${P}&code=http://loinc.org|18864-9`)).body.entry[0].resource;
    expect(resistant.interpretation[0].coding[0].code).toBe('R');
    expect(culture.hasMember.map((m: { reference: string }) => m.reference)).toContain(`Observation/${resistant.id}`);
  });

  test('an amended report updates the same report and results (new versions, no new resource); sent twice, still no duplicate', async () => {
    const before = await counts();
    const report = (await gp.get(`DiagnosticReport?identifier=${LAB_SYSTEM}|CR-2026-1101`)).body.entry[0].resource;
    const res = await lab.post('', fixture('lab-biochemistry-amended'));
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: Entry) => e.response.status)).toEqual(types(fixture('lab-biochemistry-amended')).map(() => '200 OK'));
    expect(await counts()).toEqual(before);
    const amended = (await gp.get(`DiagnosticReport/${report.id}`)).body;
    expect(amended.status).toBe('amended');
    expect(amended.meta.versionId).toBe('2');
    const k = (await gp.get(`Observation?identifier=${LAB_SYSTEM}|CR-2026-1101-K`)).body.entry[0].resource;
    expect([k.status, k.valueQuantity.value, k.meta.versionId]).toEqual(['amended', 4.6, '2']);
    // The first version is in the history, as sent.
    expect((await gp.get(`Observation/${k.id}/_history/1`)).body.valueQuantity.value).toBe(5.9);
    expect((await lab.post('', fixture('lab-biochemistry-amended'))).status).toBe(200);
    expect(await counts()).toEqual(before);
    expect(ids(await gp.get(`DiagnosticReport?patient=${P}&status=amended`))).toEqual([report.id]);
  });
});

test.each(STORES)('the DMP lab profiles apply: a result with neither value nor data-absent reason refuses the whole bundle ($name)', async (store) => {
  const w = await openDmpWorld(store, { validateDmpProfiles: true });
  try {
    const gp = await w.as('gp');
    await gp.post('Patient', dmpPatient(INS));
    const b = fixture('lab-haematology');
    delete b.entry[2].resource.valueQuantity;
    const res = await (await w.as('lab')).post('', b);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.issue)).toMatch(/dmp-obs-1/);
    expect((await gp.get('Observation?_summary=count')).body.total).toBe(0);
  } finally {
    await w.close();
  }
});

function ids(res: { body: { entry?: { resource: { id: string } }[] } }): string[] {
  return (res.body.entry ?? []).map((e) => e.resource.id);
}
