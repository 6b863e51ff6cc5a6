/**
 * Search requests a server must refuse, and values it must treat as plain
 * data, over HTTP on every adapter:
 * - unknown parameter: 400 OperationOutcome, or ignored (and left out of the
 *   self link) under `Prefer: handling=lenient`;
 * - malformed values, prefixes, modifiers, chains: 400;
 * - SQL / MongoDB / regex / LIKE-looking values: 200, matching only what the
 *   oracle says (usually nothing).
 * @see https://hl7.org/fhir/R4/search.html#errors
 */
import type { Patient } from '@medplum/fhirtypes';
import request from 'supertest';
import { FHIR_JSON, openTestApp, type TestApp } from '../support/app';
import { INS } from '../support/dataset';
import { allPages, contains, refOf, refsOf, startsWith, tokenMatches, toUrl } from '../support/oracle';
import { patient } from '../support/resources';
import { STORES } from '../support/stores';

// Families with the characters SQL LIKE, regular expressions and JSON give a meaning to.
const FAMILIES = ['Dupont', 'Dupond', "O'Brien", 'Sous_Tiret', 'Cent%Pour', 'Point.Étoile', 'Accolade{Gt}', 'Dollar$Gt', 'Virgule,Nom', 'Barre|Nom', 'Anti\\Slash'];
const PEOPLE: Patient[] = FAMILIES.map((family, i) =>
  patient({
    id: `inj-${i}`,
    name: [{ family, given: ['Test'] }],
    identifier: [{ system: INS, value: `1800175123456${String(i).padStart(2, '0')}` }, { value: family }],
    gender: i % 2 === 0 ? 'female' : 'male',
    address: [{ city: family }],
  }),
);
const HOSTILE = [`' OR 1=1 --`, `' OR '1'='1`, `1; DROP TABLE resources`, '{"$gt":""}', '{"$ne":null}', '.*', '^D', '[a-z]', '%', '_', 'D_pont', 'Dupon%', '%ont', "O'B", '$Gt', '{Gt}', 'Point.'];
const families = (p: Patient) => (p.name ?? []).map((n) => n.family);

const MALFORMED = [
  'Patient?birthdate=not-a-date',
  'Patient?birthdate=2024-13-45',
  'Patient?birthdate=2023-02-29',
  'Patient?birthdate=xx2020',
  'Patient?birthdate=ge2020-01-01T25:00:00Z',
  'RiskAssessment?probability=abc',
  'RiskAssessment?probability=zz0.5',
  'Observation?value-quantity=gt1.2.3',
  'Observation?code-value-quantity=http://loinc.org|8867-4',
  'Patient?family:fuzzy=dupont',
  'Patient?gender:exact=male',
  'Patient?birthdate:contains=1980',
  'Patient?gender.name=x',
  'Observation?subject:Practitioner.name=x',
  'Patient?_count=-1',
  'Patient?_count=ten',
  'Patient?_sort=shoesize',
  'Patient?_summary=maybe',
  'Patient?_include=Patient:shoesize',
  'Patient?_total=some',
  'Patient?_has:Observation:code:code=1234',
  'Patient?_cursor=not-a-cursor',
];

describe.each(STORES)('search errors and hostile values ($name)', (fixture) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(fixture);
    for (const p of PEOPLE) {
      const res = await request(t.app).put(`/fhir/Patient/${p.id}`).set('Content-Type', FHIR_JSON).send(JSON.stringify(p));
      expect(res.status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  test('an unknown parameter is a 400 OperationOutcome naming it', async () => {
    for (const prefer of [undefined, 'handling=strict']) {
      const res = await request(t.app).get('/fhir/Patient?shoesize=42&gender=female').set(prefer ? { Prefer: prefer } : {});
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].severity).toBe('error');
      expect(JSON.stringify(res.body.issue)).toContain('shoesize');
    }
  });

  test('Prefer: handling=lenient ignores the unknown parameter and leaves it out of the self link', async () => {
    const res = await request(t.app).get('/fhir/Patient?shoesize=42&gender=female').set('Prefer', 'handling=lenient');
    expect(res.status).toBe(200);
    expect(refsOf([res]).sort()).toEqual(PEOPLE.filter((p) => p.gender === 'female').map(refOf).sort());
    const self = res.body.link.find((l: { relation: string }) => l.relation === 'self').url as string;
    expect(new URL(self).searchParams.has('shoesize')).toBe(false);
    expect(new URL(self).searchParams.get('gender')).toBe('female');
  });

  test.each(MALFORMED)('%s is a 400 OperationOutcome', async (query) => {
    const res = await request(t.app).get(toUrl(query));
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].severity).toBe('error');
  });

  test('a malformed value stays a 400 under lenient handling (only unknown parameters are ignored)', async () => {
    const res = await request(t.app).get('/fhir/Patient?birthdate=not-a-date').set('Prefer', 'handling=lenient');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('search escapes: \\, \\| \\$ and \\\\ stand for the character itself; a bare comma is OR', async () => {
    const cases: [string, (p: Patient) => boolean][] = [
      ['family=virgule\\,nom', (p) => startsWith(families(p), 'virgule,nom')],
      ['family=barre,virgule', (p) => startsWith(families(p), 'barre') || startsWith(families(p), 'virgule')],
      ['family:exact=Virgule\\,Nom', (p) => families(p).includes('Virgule,Nom')],
      ['identifier=Barre\\|Nom', (p) => (p.identifier ?? []).some((i) => i.value === 'Barre|Nom')],
      ['family:exact=Anti\\\\Slash', (p) => families(p).includes('Anti\\Slash')],
      ['family:contains=r\\$g', (p) => contains(families(p), 'r$g')],
    ];
    for (const [query, pred] of cases) {
      const got = refsOf(await allPages(t.app, toUrl(`Patient?${query}`))).sort();
      expect({ query, got }).toEqual({ query, got: PEOPLE.filter(pred).map(refOf).sort() });
      expect(got.length).toBeGreaterThan(0);
    }
  });

  // A server may refuse a query it finds too large (400), but must not fail on it (500).
  test.each([
    ['1000 repeated parameters (AND)', Array.from({ length: 1000 }, () => 'family=dup').join('&')],
    ['600 alternatives (OR)', `family=${[...Array.from({ length: 599 }, (_, i) => `nobody${i}`), 'dup'].join(',')}`],
    ['3000 alternatives (OR)', `family=${[...Array.from({ length: 2999 }, (_, i) => `nobody${i}`), 'dup'].join(',')}`],
  ])('a very large query (%s) is answered or refused with 400, never a 500', async (_what, body) => {
    const res = await request(t.app).post('/fhir/Patient/_search').type('form').send(`${body}&_count=100`);
    if (res.status === 200) {
      expect(refsOf([res]).sort()).toEqual(PEOPLE.filter((p) => startsWith(families(p), 'dup')).map(refOf).sort());
    } else {
      // Shows the OperationOutcome when it fails.
      expect({ status: res.status, body: res.body }).toMatchObject({ status: 400, body: { resourceType: 'OperationOutcome' } });
    }
  });

  test.each(HOSTILE)('%s is only data: every parameter type matches exactly what the oracle says', async (value) => {
    const expectSame = async (query: string, pred: (p: Patient) => boolean) => {
      const got = refsOf(await allPages(t.app, `/fhir/Patient?${query}=${encodeURIComponent(value)}`)).sort();
      expect({ query, got }).toEqual({ query, got: PEOPLE.filter(pred).map(refOf).sort() });
    };
    await expectSame('family', (p) => startsWith(families(p), value));
    await expectSame('family:contains', (p) => contains(families(p), value));
    await expectSame('family:exact', (p) => families(p).includes(value));
    await expectSame('address-city', (p) => startsWith((p.address ?? []).map((a) => a.city), value));
    // `$` and `,` are not special in token values of a non-composite parameter; `|` is not used here.
    await expectSame('identifier', (p) => value.split(',').some((v) => tokenMatches(p.identifier, v)));
    await expectSame('_id', (p) => p.id === value);
  });
});
