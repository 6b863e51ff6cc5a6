/**
 * The searchset Bundle over HTTP, every adapter: its shape (type, fullUrl,
 * search.mode, total, self / next / previous links), paging that stays
 * stable while the data changes, `_elements` / `_summary=true` subsetting,
 * and that deleted or superseded data never matches. Errors and hostile
 * values: search-errors.test.ts.
 * @see https://hl7.org/fhir/R4/search.html
 * @see https://hl7.org/fhir/R4/bundle.html#searchset
 */
import type { Patient } from '@medplum/fhirtypes';
import request from 'supertest';
import { BASE_URL, FHIR_JSON } from '../support/app';
import { generateDataset } from '../support/dataset';
import { datasetApp } from '../support/dataset-app';
import { allPages, localRef, refOf, refsOf, toUrl, type Page } from '../support/oracle';
import { patient } from '../support/resources';
import { STORES } from '../support/stores';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const link = (page: Page['body'], rel: string) => page.link.find((l) => l.relation === rel)?.url;
const paramsOf = (url: string) => [...new URL(url).searchParams.entries()].sort();

describe.each(STORES)('searchset Bundle ($name)', (fixture) => {
  const ds = generateDataset({ seed: 77, patients: 8, practitioners: 3 });
  const t = datasetApp(fixture, ds);

  const put = async (p: Patient) => {
    const res = await request(t.app).put(`/fhir/Patient/${p.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(p));
    expect([200, 201]).toContain(res.status);
    return res;
  };
  const get = (path: string) => request(t.app).get(path.replace(BASE_URL, '/fhir'));
  /** `n` patients of family `family`, with ids `${prefix}-00`, `${prefix}-01`, ... */
  const family = async (prefix: string, name: string, n: number) => {
    const made: Patient[] = [];
    for (let i = 0; i < n; i++) {
      const p = patient({ id: `${prefix}-${String(i * 2).padStart(2, '0')}`, name: [{ family: name, given: ['Test'] }] });
      await put(p);
      made.push(p);
    }
    return made;
  };

  test('type searchset, total when asked, fullUrl and search.mode on each entry, self link echoing the parameters', async () => {
    const women = ds.patients.filter((p) => p.gender === 'female');
    const res = await get(toUrl('Patient?gender=female&_count=3&_total=accurate'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: women.length });
    expect(res.body.entry).toHaveLength(Math.min(3, women.length));
    for (const e of res.body.entry) {
      expect(e.fullUrl).toBe(`${BASE_URL}/Patient/${e.resource.id}`);
      expect(e.search.mode).toBe('match');
      expect(e.resource.gender).toBe('female');
    }
    const self = link(res.body, 'self') as string;
    expect(self.startsWith(`${BASE_URL}/Patient?`)).toBe(true);
    expect(paramsOf(self)).toEqual([['_count', '3'], ['_total', 'accurate'], ['gender', 'female']]);
  });

  test('next and previous links: following previous returns the page before, unchanged', async () => {
    const first = await get('/fhir/Patient?_count=4&_sort=family');
    expect(first.status).toBe(200);
    expect(link(first.body, 'previous')).toBeUndefined();
    const nextUrl = link(first.body, 'next') as string;
    expect(nextUrl.startsWith(`${BASE_URL}/Patient?`)).toBe(true);
    // The link keeps the search: same parameters, plus the server's paging state.
    expect(new URL(nextUrl).searchParams.get('_sort')).toBe('family');
    expect(new URL(nextUrl).searchParams.get('_count')).toBe('4');
    const second = await get(nextUrl);
    expect(second.status).toBe(200);
    const ids = (b: Page['body']) => (b.entry ?? []).map((e) => e.resource.id);
    expect(ids(second.body)).toHaveLength(4);
    expect(ids(second.body).filter((id) => ids(first.body).includes(id))).toEqual([]);
    const back = await get(link(second.body, 'previous') as string);
    expect(back.status).toBe(200);
    expect(ids(back.body)).toEqual(ids(first.body));
    expect(link(back.body, 'next')).toBeDefined();
  });

  test('_include entries are marked include; matches match', async () => {
    const pages = await allPages(t.app, toUrl('Observation?_include=Observation:subject&_count=100'));
    expect(refsOf(pages).sort()).toEqual(ds.observations.map(refOf).sort());
    const subjects = [...new Set(ds.observations.map((o) => localRef(o.subject) as string))].sort();
    expect(refsOf(pages, 'include').sort()).toEqual(subjects);
  });

  test.each(['_sort=_id', '', '_sort=-family'])('paging stays stable when rows are added and removed between pages (%s)', async (sort) => {
    const tag = `stab${sort.replace(/[^a-z]/g, '')}`;
    const before = await family(tag, `Stabilité${tag}`, 8);
    const q = `/fhir/Patient?family:exact=${encodeURIComponent(`Stabilité${tag}`)}&_count=3${sort ? `&${sort}` : ''}`;
    const first = await get(q);
    expect(first.status).toBe(200);
    const seen = (first.body.entry as Page['body']['entry'] ?? []).map((e) => e.resource.id);
    expect(seen).toHaveLength(3);
    // New matching rows on both sides of the page boundary (odd ids fall between existing ones).
    for (const id of [`${tag}-01`, `${tag}-07`, `${tag}-13`, `${tag}-99`]) {
      await put(patient({ id, name: [{ family: `Stabilité${tag}`, given: ['Nouveau'] }] }));
    }
    // And one not yet seen is deleted: it must not come back.
    const gone = before.map((p) => p.id as string).find((id) => !seen.includes(id)) as string;
    expect((await request(t.app).delete(`/fhir/Patient/${gone}`)).status).toBe(200);
    const rest = refsOf(await allPages(t.app, (link(first.body, 'next') as string).replace(BASE_URL, '/fhir'))).map((r) => r.split('/')[1]);
    const all = [...seen, ...rest];
    expect(new Set(all).size).toBe(all.length);
    expect(rest).not.toContain(gone);
    const preExisting = before.map((p) => p.id as string).filter((id) => id !== gone);
    expect(preExisting.filter((id) => !all.includes(id))).toEqual([]);
  });

  test('_elements keeps the asked elements (and mandatory ones) and tags the resource SUBSETTED', async () => {
    const res = await get(`/fhir/Patient?_id=${ds.patients.map((p) => p.id).join(',')}&_elements=birthDate,identifier&_count=50`);
    expect(res.status).toBe(200);
    expect(res.body.entry).toHaveLength(ds.patients.length);
    for (const e of res.body.entry) {
      const r = e.resource;
      expect(Object.keys(r).filter((k) => !['resourceType', 'id', 'meta', 'birthDate', 'identifier'].includes(k))).toEqual([]);
      expect(r.meta.tag).toEqual(expect.arrayContaining([expect.objectContaining(SUBSETTED)]));
      const source = ds.patients.find((p) => p.id === r.id) as Patient;
      expect(r.identifier).toEqual(source.identifier);
      expect(r.birthDate).toEqual(source.birthDate);
    }
  });

  test('_summary=true returns only summary elements (no generalPractitioner), tagged SUBSETTED', async () => {
    const withGp = ds.patients.filter((p) => p.generalPractitioner);
    const res = await get(`/fhir/Patient?_id=${withGp.map((p) => p.id).join(',')}&_summary=true`);
    expect(res.status).toBe(200);
    expect(res.body.entry).toHaveLength(withGp.length);
    for (const e of res.body.entry) {
      const source = withGp.find((p) => p.id === e.resource.id) as Patient;
      expect(e.resource.generalPractitioner).toBeUndefined();
      expect(e.resource.name).toEqual(source.name);
      expect(e.resource.gender).toEqual(source.gender);
      expect(e.resource.meta.tag).toEqual(expect.arrayContaining([expect.objectContaining(SUBSETTED)]));
    }
  });

  test('deleted resources are never returned: not by value, _id, chain, _has or _include', async () => {
    const [keep, drop] = await family('del', 'Supprimée', 2);
    const obs = { resourceType: 'Observation', id: 'del-obs', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: `Patient/${drop.id}` }, valueQuantity: { value: 61, system: 'http://unitsofmeasure.org', code: '/min', unit: '/min' } };
    expect((await request(t.app).put('/fhir/Observation/del-obs').set('Content-Type', FHIR_JSON).send(obs)).status).toBe(201);
    expect((await request(t.app).delete(`/fhir/Patient/${drop.id}`)).status).toBe(200);
    const ids = async (q: string, mode: 'match' | 'include' = 'match') => refsOf(await allPages(t.app, toUrl(q)), mode);
    expect(await ids('Patient?family=supprimee')).toEqual([refOf(keep)]);
    expect(await ids(`Patient?_id=${drop.id},${keep.id}`)).toEqual([refOf(keep)]);
    expect(await ids('Observation?subject:Patient.family=supprimee')).toEqual([]);
    expect(await ids('Patient?_has:Observation:subject:code=8867-4&family=supprimee')).toEqual([]);
    expect(await ids('Observation?_id=del-obs&_include=Observation:subject', 'include')).toEqual([]);
    // The Observation itself, once deleted, is not found by its subject either.
    expect((await request(t.app).delete('/fhir/Observation/del-obs')).status).toBe(200);
    expect(await ids(`Observation?subject=Patient/${drop.id}`)).toEqual([]);
  });

  test('an updated resource is found by its new values only', async () => {
    const p = patient({ id: 'upd-1', name: [{ family: 'Ancienvaleur' }], identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: '299999999999901' }], birthDate: '1950-02-03' });
    await put(p);
    await put({ ...p, name: [{ family: 'Nouvellevaleur' }], identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: '299999999999902' }], birthDate: '1951' });
    const ids = async (q: string) => refsOf(await allPages(t.app, toUrl(q)));
    expect(await ids('Patient?family=ancienvaleur')).toEqual([]);
    expect(await ids('Patient?family=nouvellevaleur')).toEqual(['Patient/upd-1']);
    expect(await ids('Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|299999999999901')).toEqual([]);
    expect(await ids('Patient?identifier=299999999999902')).toEqual(['Patient/upd-1']);
    expect(await ids('Patient?birthdate=1950-02-03&_id=upd-1')).toEqual([]);
    expect(await ids('Patient?birthdate=1951&_id=upd-1')).toEqual(['Patient/upd-1']);
    const count = await get('/fhir/Patient?_id=upd-1&_summary=count');
    expect(count.body.total).toBe(1);
  });
});
