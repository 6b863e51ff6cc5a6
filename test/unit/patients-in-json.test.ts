import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { accessFacets, patientsInJson } from '../../src/access/facets';
import { loadAccessMatrix } from '../../src/access/matrix';

/**
 * The audit names the DMPs of search results from their JSON text
 * (patientsInJson): it must find exactly the patients the access rules see
 * (accessFacets), on every fixture of the project and on hand-made cases.
 */
function* jsonFiles(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* jsonFiles(p);
    else if (e.name.endsWith('.json')) yield p;
  }
}

describe('patients of a resource from its JSON text', () => {
  const matrix = loadAccessMatrix();
  const same = (r: Resource) => {
    const json = JSON.stringify(r);
    expect(patientsInJson(r.resourceType, r.id as string, json).sort()).toEqual([...accessFacets(r, matrix).patients].sort());
  };

  test('hand-made cases: nested, absolute, versioned, several, none, a Patient, the directory', () => {
    const cases: Resource[] = [
      { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } },
      { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, subject: { reference: 'https://dmp.test/fhir/Patient/p2/_history/3' }, performer: [{ reference: 'Patient/p3' }] },
      { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, subject: { identifier: { value: 'ins' } } },
      { resourceType: 'Patient', id: 'me', link: [{ other: { reference: 'Patient/other' }, type: 'seealso' }] },
      { resourceType: 'Practitioner', id: 'dr', extension: [{ url: 'x', valueReference: { reference: 'Patient/p9' } }] },
      { resourceType: 'DocumentReference', id: 'd', status: 'current', content: [{ attachment: { title: '"reference":"Patient/fake"' } }], subject: { reference: 'Patient/p4' } },
    ] as Resource[];
    for (const r of cases) same(r);
  });

  test('every fixture of the project', () => {
    let n = 0;
    for (const file of jsonFiles(path.join(__dirname, '..', '..', 'fixtures'))) {
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Resource & { entry?: { resource?: Resource }[] };
      for (const res of [r, ...(r.entry ?? []).map((e) => e.resource)]) {
        if (res?.resourceType && res.id) {
          same(res);
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(10);
  });
});
