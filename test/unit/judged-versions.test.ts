import type { Resource } from '@medplum/fhirtypes';
import { accessFacets } from '../../src/access/facets';
import { loadAccessMatrix } from '../../src/access/matrix';
import { JudgedVersions } from '../../src/fhir/judged-versions';
import type { VersionRecord } from '../../src/store/port';

function version(type: string, id: string, versionId: number, resource: object): VersionRecord {
  return { type, id, versionId, lastUpdated: '2026-12-02T10:00:00.000Z', deleted: false, json: JSON.stringify({ resourceType: type, id, ...resource }) } as VersionRecord;
}

describe('JudgedVersions: the facets of recently read versions', () => {
  const matrix = loadAccessMatrix();
  let computed = 0;
  const judged = new JudgedVersions((r: Resource) => {
    computed++;
    return accessFacets(r, matrix);
  }, 3);
  beforeEach(() => (computed = 0));

  it('computes a version once, and again only when its stored text differs (a purged id re-created)', () => {
    const v1 = version('Observation', 'o1', 1, { subject: { reference: 'Patient/a' } });
    expect(judged.of(v1).facets.patients).toEqual(['a']);
    expect(judged.of({ ...v1 }).facets.patients).toEqual(['a']);
    expect(computed).toBe(1);
    const recreated = version('Observation', 'o1', 1, { subject: { reference: 'Patient/b' } });
    expect(judged.of(recreated).facets.patients).toEqual(['b']);
    expect(computed).toBe(2);
  });

  it('keeps documents and Binaries whole, other types as type and id only', () => {
    const doc = judged.of(version('DocumentReference', 'd1', 1, { description: 'CR', subject: { reference: 'Patient/a' } }));
    expect((doc.resource as { description?: string }).description).toBe('CR');
    const bin = judged.of(version('Binary', 'b1', 1, { contentType: 'application/pdf', securityContext: { reference: 'DocumentReference/d1' } }));
    expect((bin.resource as { securityContext?: unknown }).securityContext).toEqual({ reference: 'DocumentReference/d1' });
    expect(judged.of(version('Observation', 'o2', 3, { status: 'final', subject: { reference: 'Patient/a' } })).resource).toEqual({ resourceType: 'Observation', id: 'o2' });
  });

  it('is bounded: the oldest version is forgotten first', () => {
    const vs = ['x1', 'x2', 'x3', 'x4'].map((id) => version('Observation', id, 1, { subject: { reference: `Patient/${id}` } }));
    for (const v of vs) judged.of(v);
    expect(computed).toBe(4);
    judged.of(vs[3]);
    judged.of(vs[1]);
    expect(computed).toBe(4);
    judged.of(vs[0]);
    expect(computed).toBe(5);
  });

  it('does not keep a very large version, and bounds the characters it keeps', () => {
    let n = 0;
    const small = new JudgedVersions((r: Resource) => {
      n++;
      return accessFacets(r, matrix);
    }, 100, 2000, 3000);
    const big = version('DocumentReference', 'big', 1, { subject: { reference: 'Patient/a' }, content: [{ attachment: { data: 'A'.repeat(4000) } }] });
    small.of(big);
    small.of(big);
    expect(n).toBe(2);
    const vs = ['m1', 'm2', 'm3'].map((id) => version('DocumentReference', id, 1, { subject: { reference: 'Patient/a' }, description: 'x'.repeat(1200) }));
    for (const v of vs) small.of(v);
    expect(n).toBe(5);
    // Three of ~1.3 k characters exceed 3,000: the first was dropped, the last two are kept.
    small.of(vs[2]);
    small.of(vs[1]);
    expect(n).toBe(5);
    small.of(vs[0]);
    expect(n).toBe(6);
  });
});
