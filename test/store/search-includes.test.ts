import type { IncludeSpec, SearchPage } from '../../src/fhir/search/plan';
import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { plan, ref, refs, Seeder, tok } from './search-support';

const inc = (sourceType: string, param: string, targetType?: string): IncludeSpec =>
  targetType ? { sourceType, param, targetType, iterate: false } : { sourceType, param, iterate: false };
const iter = (sourceType: string, param: string, targetType?: string): IncludeSpec => ({ ...inc(sourceType, param, targetType), iterate: true });
const ids = (...list: string[]) => ({ kind: 'id' as const, ids: list });
const shape = (page: SearchPage) => ({ matches: refs(page.matches), included: refs(page.included), truncated: page.includesTruncated });

describe.each(STORES)('store search: _include and _revinclude ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('Patient', 'pat1');
    await s.put('Patient', 'pat2');
    await s.put('Patient', 'gone');
    await s.remove('Patient', 'gone');
    await s.put('Practitioner', 'prac1');
    await s.put('Organization', 'org1');
    await s.put('Observation', 'obs1', [
      ref('subject', 'Patient/pat1'),
      ref('performer', 'Practitioner/prac1'),
      ref('has-member', 'Observation/obs3'),
    ]);
    await s.put('Observation', 'obs2', [ref('subject', 'Patient/pat2'), ref('performer', 'Organization/org1')]);
    await s.put('Observation', 'obs3', [ref('subject', 'Patient/pat1')]);
    await s.put('Observation', 'obs4', [ref('subject', 'Patient/gone')]);
    await s.put('Observation', 'obs5', [ref('subject', 'http://other.example/fhir/Patient/pat1')]);
    const report = (id: string, status: string, subject: string, ...results: string[]) =>
      s.put('DiagnosticReport', id, [tok('status', null, status), ref('subject', subject), ...results.map((r) => ref('result', r))]);
    await report('dr1', 'final', 'Patient/pat1', 'Observation/obs1', 'Observation/obs2');
    await report('dr2', 'final', 'Patient/pat2', 'Observation/obs2', 'Observation/obs4');
    await report('dr3', 'partial', 'Patient/pat1', 'http://other.example/fhir/Observation/obs5');
    await s.put('Provenance', 'prov1', [ref('target', 'Observation/obs1')]);
    await s.put('Provenance', 'prov2', [ref('target', 'DiagnosticReport/dr1')]);
    await s.put('Provenance', 'prov3', [ref('target', 'Patient/pat1')]);
    await s.put('Provenance', 'prov4', [ref('target', 'Observation/obs1')]);
    await s.remove('Provenance', 'prov4');
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  test('_include adds the referenced resources, ordered by Type/id', async () => {
    const page = await store.search(plan('DiagnosticReport', [ids('dr1')], { include: [inc('DiagnosticReport', 'result')] }));
    expect(shape(page)).toEqual({ matches: ['DiagnosticReport/dr1'], included: ['Observation/obs1', 'Observation/obs2'], truncated: false });
  });

  test('a resource referenced several times is included once', async () => {
    const both = [inc('DiagnosticReport', 'subject'), inc('DiagnosticReport', 'result')];
    const page = await store.search(plan('DiagnosticReport', [], { include: both }));
    expect(refs(page.included)).toEqual(['Observation/obs1', 'Observation/obs2', 'Observation/obs4', 'Patient/pat1', 'Patient/pat2']);
  });

  test('targetType restricts the included type', async () => {
    const all = await store.search(plan('Observation', [], { include: [inc('Observation', 'performer')] }));
    expect(refs(all.included)).toEqual(['Organization/org1', 'Practitioner/prac1']);
    const some = await store.search(plan('Observation', [], { include: [inc('Observation', 'performer', 'Practitioner')] }));
    expect(refs(some.included)).toEqual(['Practitioner/prac1']);
  });

  test('deleted and external targets are not included', async () => {
    const page = await store.search(plan('Observation', [ids('obs4', 'obs5')], { include: [inc('Observation', 'subject')] }));
    expect(shape(page)).toEqual({ matches: ['Observation/obs4', 'Observation/obs5'], included: [], truncated: false });
  });

  test('a resource that is already a match is not also included', async () => {
    const p = plan(['DiagnosticReport', 'Observation'], [ids('dr1', 'obs1')], { include: [inc('DiagnosticReport', 'result')] });
    expect(shape(await store.search(p))).toEqual({
      matches: ['DiagnosticReport/dr1', 'Observation/obs1'],
      included: ['Observation/obs2'],
      truncated: false,
    });
  });

  test('includes apply to the page, not to every match', async () => {
    const page = await store.search(plan('DiagnosticReport', [], { count: 1, include: [inc('DiagnosticReport', 'result')] }));
    expect(shape(page)).toEqual({ matches: ['DiagnosticReport/dr1'], included: ['Observation/obs1', 'Observation/obs2'], truncated: false });
  });

  test('_revinclude adds the current resources referring to the matches', async () => {
    const page = await store.search(plan('Patient', [ids('pat1')], { revinclude: [inc('Observation', 'subject')] }));
    expect(refs(page.included)).toEqual(['Observation/obs1', 'Observation/obs3']);
    const prov = await store.search(plan('Observation', [ids('obs1')], { revinclude: [inc('Provenance', 'target')] }));
    expect(refs(prov.included)).toEqual(['Provenance/prov1']);
  });

  test('_revinclude targetType restricts which matches count as targets', async () => {
    const p = plan(['Patient', 'Observation'], [ids('pat1', 'obs1')], { revinclude: [inc('Provenance', 'target', 'Observation')] });
    expect(refs((await store.search(p)).included)).toEqual(['Provenance/prov1']);
    const q = plan(['Patient', 'Observation'], [ids('pat1', 'obs1')], { revinclude: [inc('Provenance', 'target')] });
    expect(refs((await store.search(q)).included)).toEqual(['Provenance/prov1', 'Provenance/prov3']);
  });

  test('without iterate, an include spec applies to the matches only', async () => {
    const p = plan('DiagnosticReport', [ids('dr1')], { include: [inc('DiagnosticReport', 'result'), inc('Observation', 'performer')] });
    expect(refs((await store.search(p)).included)).toEqual(['Observation/obs1', 'Observation/obs2']);
  });

  test(':iterate follows included resources, over several rounds', async () => {
    const p = plan('DiagnosticReport', [ids('dr1')], { include: [inc('DiagnosticReport', 'result'), iter('Observation', 'performer')] });
    expect(refs((await store.search(p)).included)).toEqual([
      'Observation/obs1',
      'Observation/obs2',
      'Organization/org1',
      'Practitioner/prac1',
    ]);
    const deep = plan('DiagnosticReport', [ids('dr1')], {
      include: [inc('DiagnosticReport', 'result'), iter('Observation', 'has-member'), iter('Observation', 'subject')],
    });
    expect(refs((await store.search(deep)).included)).toEqual([
      'Observation/obs1',
      'Observation/obs2',
      'Observation/obs3',
      'Patient/pat1',
      'Patient/pat2',
    ]);
  });

  test(':iterate on _revinclude, and _include:iterate from revincluded resources', async () => {
    const rev = plan('Patient', [ids('pat1')], { revinclude: [inc('Observation', 'subject'), iter('Provenance', 'target')] });
    expect(refs((await store.search(rev)).included)).toEqual([
      'Observation/obs1',
      'Observation/obs3',
      'Provenance/prov1',
      'Provenance/prov3',
    ]);
    const plain = plan('Patient', [ids('pat1')], { revinclude: [inc('Observation', 'subject'), inc('Provenance', 'target')] });
    expect(refs((await store.search(plain)).included)).toEqual(['Observation/obs1', 'Observation/obs3', 'Provenance/prov3']);
    const mixed = plan('Patient', [ids('pat1')], {
      revinclude: [inc('DiagnosticReport', 'subject')],
      include: [iter('DiagnosticReport', 'result')],
    });
    expect(refs((await store.search(mixed)).included)).toEqual([
      'DiagnosticReport/dr1',
      'DiagnosticReport/dr3',
      'Observation/obs1',
      'Observation/obs2',
    ]);
  });

  test('maxIncludes truncates (keeping the first by Type/id) and says so', async () => {
    const p = plan('DiagnosticReport', [], { include: [inc('DiagnosticReport', 'result')], maxIncludes: 2 });
    expect(shape(await store.search(p))).toMatchObject({ included: ['Observation/obs1', 'Observation/obs2'], truncated: true });
    const enough = await store.search({ ...p, maxIncludes: 3 });
    expect(shape(enough)).toMatchObject({ included: ['Observation/obs1', 'Observation/obs2', 'Observation/obs4'], truncated: false });
  });

  test('included records are current versions with their JSON', async () => {
    const page = await store.search(plan('DiagnosticReport', [ids('dr1')], { include: [inc('DiagnosticReport', 'subject')] }));
    expect(page.included[0]).toMatchObject({ type: 'Patient', id: 'pat1', versionId: 1, deleted: false });
    expect(JSON.parse(page.included[0].json as string)).toMatchObject({ resourceType: 'Patient', id: 'pat1' });
    expect(page.matches[0]).toMatchObject({ type: 'DiagnosticReport', id: 'dr1', versionId: 1 });
  });
});
