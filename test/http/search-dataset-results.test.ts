/**
 * Search result parameters over HTTP on the French data set, every adapter:
 * `_sort` (several keys, `-`), `_count` paging, `_total`, `_summary=count`,
 * `_include` (with target type and `:iterate`), `_revinclude`, system-level
 * search over several types, and `POST _search` with a form body. Every
 * expectation is computed by the oracle from the generated resources.
 * @see https://hl7.org/fhir/R4/search.html#return
 */
import type { DiagnosticReport, Observation, Patient, Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { BASE_URL } from '../support/app';
import { BP, generateDataset, LOINC, PATIENTS_PER_ADAPTER } from '../support/dataset';
import { datasetApp } from '../support/dataset-app';
import { allPages, dateMatches, dateRange, expectExactMatches, expectSortedMatches, fold, localRef, oracleCase as c, refOf, refsOf, startsWith, toUrl } from '../support/oracle';
import { STORES } from '../support/stores';

const familyKeys = (p: Patient) => (p.name ?? []).map((n) => fold(n.family as string)).sort();
const refTo = (r: { reference?: string } | undefined) => localRef(r);

describe.each(STORES)('search result parameters on the French data set ($name)', (fixture) => {
  const ds = generateDataset({ patients: PATIENTS_PER_ADAPTER[fixture.name] });
  const all: Resource[] = [...ds.practitioners, ...ds.patients, ...ds.observations, ...ds.conditions, ...ds.reports, ...ds.documents];
  const byRef = new Map(all.map((r) => [refOf(r), r]));
  const t = datasetApp(fixture, ds);

  /**
   * One page holding every match: the matches are exactly `matches`, the
   * included entries exactly `included` minus the matches, each once.
   */
  async function expectIncludes(query: string, matches: Resource[], included: (string | undefined)[]): Promise<void> {
    expect(matches.length).toBeGreaterThan(0);
    expect(matches.length).toBeLessThanOrEqual(100);
    const pages = await allPages(t.app, toUrl(query));
    expect(pages).toHaveLength(1);
    expect(refsOf(pages).sort()).toEqual(matches.map(refOf).sort());
    const inc = refsOf(pages, 'include');
    expect(new Set(inc).size).toBe(inc.length);
    const want = [...new Set(included.filter((r): r is string => r !== undefined && !matches.some((m) => refOf(m) === r)))];
    expect(want.length).toBeGreaterThan(0);
    expect(inc.sort()).toEqual(want.sort());
    for (const e of pages[0].body.entry ?? []) {
      expect(e.fullUrl).toBe(`${BASE_URL}/${e.resource.resourceType}/${e.resource.id}`);
    }
  }

  test('_sort=family,-birthdate over several pages', async () => {
    await expectSortedMatches(t.app, 'Patient?birthdate:missing=false&_sort=family,-birthdate&_count=7', ds.patients, (p) => p.birthDate !== undefined, [
      { key: (p) => familyKeys(p)[0] },
      { key: (p) => dateRange(p.birthDate as string)[1], desc: true },
    ]);
  });

  test('_sort=-family uses the highest family of each patient (maiden names included)', async () => {
    await expectSortedMatches(t.app, 'Patient?gender=female&_sort=-family&_count=11', ds.patients, (p) => p.gender === 'female', [
      { key: (p) => familyKeys(p)[familyKeys(p).length - 1], desc: true },
    ]);
  });

  test('_sort=_id and _sort=-_id give one exact order across pages', async () => {
    await expectSortedMatches(t.app, 'Patient?_sort=_id&_count=13', ds.patients, () => true, [{ key: (p) => p.id as string }]);
    await expectSortedMatches(t.app, 'Condition?clinical-status=active&_sort=-_id&_count=10', ds.conditions,
      (x) => x.clinicalStatus?.coding?.[0].code === 'active', [{ key: (x) => x.id as string, desc: true }]);
  });

  test('_sort=status,-date on DocumentReference (token then instant)', async () => {
    await expectSortedMatches(t.app, 'DocumentReference?_sort=status,-date&_count=5', ds.documents, () => true, [
      { key: (d) => d.status },
      { key: (d) => Date.parse(d.date as string), desc: true },
    ]);
  });

  test('_count pages the default order: full pages, no row twice, none missing', async () => {
    const final = ds.observations.filter((o) => o.status === 'final');
    const pages = await allPages(t.app, '/fhir/Observation?status=final&_count=10');
    expect(pages).toHaveLength(Math.ceil(final.length / 10));
    pages.forEach((p, i) => expect(p.body.entry ?? []).toHaveLength(i < pages.length - 1 ? 10 : final.length - 10 * i));
    const got = refsOf(pages);
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual(final.map(refOf).sort());
  });

  test('_total=accurate counts every match, not just the page', async () => {
    const males = ds.patients.filter((p) => p.gender === 'male');
    const res = await request(t.app).get('/fhir/Patient?gender=male&_total=accurate&_count=5');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(males.length);
    expect(res.body.entry).toHaveLength(Math.min(5, males.length));
  });

  test('_summary=count answers the number of matches and no entries', async () => {
    const hr = ds.observations.filter((o) => o.code.coding?.[0].code === '8867-4');
    const res = await request(t.app).get(toUrl(`Observation?code=${LOINC}|8867-4&_summary=count`));
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(hr.length);
    expect((res.body.entry ?? []).filter((e: { search?: { mode: string } }) => e.search?.mode === 'match')).toEqual([]);
  });

  test('totals of chained and reverse-chained searches count resources, not joined rows; includes are not counted', async () => {
    const hasHr = ds.patients.filter((p) => ds.observations.some((o) => localRef(o.subject) === refOf(p) && o.code.coding?.[0].code === '8867-4'));
    const has = await request(t.app).get(toUrl(`Patient?_has:Observation:subject:code=${LOINC}|8867-4&_summary=count`));
    expect(has.body.total).toBe(hasHr.length);
    const female = new Set(ds.patients.filter((p) => p.gender === 'female').map(refOf));
    const chained = ds.observations.filter((o) => female.has(localRef(o.subject) as string));
    const chain = await request(t.app).get(toUrl('Observation?subject:Patient.gender=female&_total=accurate&_include=Observation:subject&_count=3'));
    expect(chain.status).toBe(200);
    expect(chain.body.total).toBe(chained.length);
  });

  test('_include Observation:subject and _include:iterate Patient:general-practitioner', async () => {
    const matches = ds.observations.filter((o) => o.code.coding?.[0].code === BP.panel && dateMatches(dateOf(o), 'ge2025-01-01'));
    const patients = matches.map((o) => refTo(o.subject));
    const gps = patients.map((p) => refTo((byRef.get(p as string) as Patient).generalPractitioner?.[0]));
    await expectIncludes(
      `Observation?code=${LOINC}|${BP.panel}&date=ge2025-01-01&_include=Observation:subject&_include:iterate=Patient:general-practitioner&_count=100`,
      matches,
      [...patients, ...gps],
    );
  });

  test('_include with a target type, and several _include', async () => {
    const heights = ds.observations.filter((o) => o.code.coding?.[0].code === '8302-2');
    await expectIncludes(`Observation?code=${LOINC}|8302-2&_include=Observation:subject:Patient&_count=100`, heights, heights.map((o) => refTo(o.subject)));
    const recent = ds.reports.filter((r) => dateMatches(r.effectiveDateTime, 'ge2025'));
    await expectIncludes('DiagnosticReport?date=ge2025&_include=DiagnosticReport:result&_include=DiagnosticReport:performer&_count=100', recent,
      recent.flatMap((r) => [...(r.result ?? []), ...(r.performer ?? [])].map(refTo)));
  });

  test('_revinclude, alone and followed by _include:iterate', async () => {
    const prefix = (ds.patients[0].name?.[0].family as string).slice(0, 3);
    const dups = ds.patients.filter((p) => startsWith((p.name ?? []).map((n) => n.family), prefix));
    const theirs = (r: { subject?: { reference?: string } }) => dups.some((p) => localRef(r.subject) === refOf(p));
    await expectIncludes(`Patient?family=${prefix}&_revinclude=Condition:subject&_revinclude=DocumentReference:patient&_count=100`, dups,
      [...ds.conditions.filter(theirs), ...ds.documents.filter(theirs)].map(refOf));

    const withResults = ds.reports.filter((r) => (r.result?.length ?? 0) > 0).slice(0, 3).map((r) => byRef.get(refTo(r.subject) as string) as Patient);
    const reports = ds.reports.filter((r) => withResults.some((p) => refTo(r.subject) === refOf(p)));
    await expectIncludes(
      `Patient?_id=${withResults.map((p) => p.id).join(',')}&_revinclude=DiagnosticReport:subject&_include:iterate=DiagnosticReport:result&_count=100`,
      [...new Set(withResults)],
      [...reports.map(refOf), ...reports.flatMap((r: DiagnosticReport) => (r.result ?? []).map(refTo))],
    );
  });

  test('system-level search over Patient and Practitioner', async () => {
    const picked = [ds.patients[1], ds.practitioners[2], ds.patients[5]];
    await expectExactMatches(t.app, c(`?_type=Patient,Practitioner&_id=${picked.map((r) => r.id).join(',')}`, all, (r) => picked.includes(r as never)));
    const people = [...ds.patients, ...ds.practitioners];
    await expectExactMatches(t.app, c('?_type=Patient,Practitioner&family=le', people, (r) => startsWith((r.name ?? []).map((n) => n.family), 'le')),
      fixture.name === 'sqlite');
  });

  test('POST _search with a form body finds what GET finds (URL and body parameters are ANDed)', async () => {
    const givens = (p: Patient) => (p.name ?? []).flatMap((n) => n.given ?? []);
    const expected = ds.patients.filter((p) => startsWith(givens(p), 'j') && dateMatches(p.birthDate, 'ge1960'));
    const get = refsOf(await allPages(t.app, '/fhir/Patient?given=j&birthdate=ge1960&_count=100'));
    const post = await request(t.app).post('/fhir/Patient/_search').type('form').send('given=j&birthdate=ge1960&_count=100');
    expect(post.status).toBe(200);
    expect(refsOf([post]).sort()).toEqual(get.sort());
    expect(get.sort()).toEqual(expected.map(refOf).sort());
    const mixed = await request(t.app).post('/fhir/Patient/_search?gender=female').type('form').send('given=j&_count=100');
    expect(mixed.status).toBe(200);
    expect(refsOf([mixed]).sort()).toEqual(
      ds.patients.filter((p) => p.gender === 'female' && startsWith(givens(p), 'j')).map(refOf).sort(),
    );
  });
});

function dateOf(o: Observation): string | [number, number] | undefined {
  if (o.effectivePeriod) return [dateRange(o.effectivePeriod.start as string)[0], dateRange(o.effectivePeriod.end as string)[1]];
  return o.effectiveDateTime;
}
