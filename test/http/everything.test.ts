import type { Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { Label } from '../../src/access/codes';
import { patientChain } from '../../src/audit/codes';
import { dmpConsent, dmpDocument, dmpPatient, openDmpWorld, RPPS, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

type Entry = { resource: Resource & { id: string }; search?: { mode?: string } };
type Page = { total?: number; entry?: Entry[]; link?: { relation: string; url: string }[] };

/** Every page of an $everything, following the next links as given. */
async function allPages(client: Client, path: string): Promise<Page[]> {
  const pages: Page[] = [];
  let next: string | undefined = path;
  while (next) {
    const res = await client.get(next);
    expect(res.status).toBe(200);
    pages.push(res.body as Page);
    const url = (res.body as Page).link?.find((l) => l.relation === 'next')?.url;
    next = url?.replace(/^https:\/\/dmp\.test\/fhir\//, '');
    if (pages.length > 50) throw new Error('too many pages');
  }
  return pages;
}
const refs = (pages: Page[], mode: 'match' | 'include') =>
  pages.flatMap((p) => (p.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => `${e.resource.resourceType}/${e.resource.id}`));

describe.each(STORES)('Patient/{id}/$everything ($name)', (fixture) => {
  let w: DmpWorld;
  let P: string;
  let Q: string;
  const mine: Record<string, string> = {};

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    const gp = await w.as('gp');
    const admin = await w.as('admin');
    P = (await gp.post('Patient', dmpPatient('277017512345611'))).body.id;
    Q = (await gp.post('Patient', dmpPatient('277017512345612'))).body.id;
    mine.practitioner = (await admin.post('Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Durand' }] })).body.id;
    mine.organization = (await admin.post('Organization', { resourceType: 'Organization', name: 'Labo' })).body.id;
    mine.unreferenced = (await admin.post('Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Ailleurs' }] })).body.id;
    await (await w.as('patient', P)).post('Consent', dmpConsent(P, 'permit', [RPPS.pharmacist]));
    const author = await w.as('author');
    const obs = (subject: string, extra: object = {}) => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${subject}` },
      valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      ...extra,
    });
    mine.observation = (await author.post('Observation', obs(P, { performer: [{ reference: `Practitioner/${mine.practitioner}` }, { reference: `Organization/${mine.organization}` }] }))).body.id;
    mine.prescription = (await author.post('DocumentReference', dmpDocument(P, '57833-6', [], 'prescription'))).body.id;
    mine.masked = (await author.post('DocumentReference', dmpDocument(P, '57833-6', [Label.maskedFromProfessionals], 'masked'))).body.id;
    mine.invisible = (await author.post('DocumentReference', dmpDocument(P, '57833-6', [Label.invisibleToPatient], 'not yet announced'))).body.id;
    // Q's observation that mentions P only in `focus`: in Q's compartment, not in P's.
    mine.other = (await author.post('Observation', obs(Q, { focus: [{ reference: `Patient/${P}` }] }))).body.id;
    for (const id of Object.values(mine)) expect(id).toBeDefined();
  });
  afterAll(async () => {
    await w.close();
  });

  test('the patient gets the compartment and the directory resources it references, not what is hidden from them', async () => {
    const pages = await allPages(await w.as('patient', P), `Patient/${P}/$everything`);
    const matches = refs(pages, 'match');
    const consents = matches.filter((r) => r.startsWith('Consent/'));
    expect(consents).toHaveLength(1);
    expect(matches.filter((r) => !r.startsWith('Consent/')).sort()).toEqual(
      [`Patient/${P}`, `Observation/${mine.observation}`, `DocumentReference/${mine.prescription}`, `DocumentReference/${mine.masked}`].sort(),
    );
    expect(matches).not.toContain(`DocumentReference/${mine.invisible}`);
    expect(matches).not.toContain(`Observation/${mine.other}`);
    expect(refs(pages, 'include').sort()).toEqual([`Organization/${mine.organization}`, `Practitioner/${mine.practitioner}`].sort());
    expect(pages[0].total).toBe(matches.length);
  });

  test('an authorised pharmacist does not see the masked document, and the total agrees', async () => {
    const ph = await w.as('pharmacist');
    const pages = await allPages(ph, `Patient/${P}/$everything?_count=2`);
    const matches = refs(pages, 'match');
    expect(matches).toContain(`DocumentReference/${mine.prescription}`);
    expect(matches).not.toContain(`DocumentReference/${mine.masked}`);
    // Hidden from the patient, not from professionals.
    expect(matches).toContain(`DocumentReference/${mine.invisible}`);
    for (const p of pages) expect(p.total).toBe(matches.length);
    // The same count as the pharmacist's own searches of each type.
    const docs = (await ph.get(`DocumentReference?patient=${P}`)).body.total as number;
    expect(matches.filter((r) => r.startsWith('DocumentReference/'))).toHaveLength(docs);
  });

  test('_type limits the compartment and the directory resources', async () => {
    const res = await (await w.as('gp')).get(`Patient/${P}/$everything?_type=Observation,Practitioner`);
    expect(res.status).toBe(200);
    const body = res.body as Page;
    expect(refs([body], 'match')).toEqual([`Observation/${mine.observation}`]);
    expect(refs([body], 'include')).toEqual([`Practitioner/${mine.practitioner}`]);
    expect(body.total).toBe(1);
    expect((await (await w.as('gp')).get(`Patient/${P}/$everything?_type=Nonsense`)).status).toBe(400);
  });

  test('_since returns only what changed at or after the instant', async () => {
    const gp = await w.as('gp');
    const since = new Date(Date.now() + 5).toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const late = (await (await w.as('author')).post('Condition', {
      resourceType: 'Condition',
      subject: { reference: `Patient/${P}` },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] },
    })).body.id as string;
    const body = (await gp.get(`Patient/${P}/$everything?_since=${encodeURIComponent(since)}`)).body as Page;
    expect(refs([body], 'match')).toEqual([`Condition/${late}`]);
    expect(body.total).toBe(1);
    expect((await gp.get(`Patient/${P}/$everything?_since=yesterday`)).status).toBe(400);
  });

  test('paging with _count: next links cover every match once, in a stable order, whatever is written between pages', async () => {
    const gp = await w.as('gp');
    const whole = refs(await allPages(gp, `Patient/${P}/$everything?_count=100`), 'match');
    const first = await gp.get(`Patient/${P}/$everything?_count=2`);
    expect(first.body.entry.filter((e: Entry) => e.search?.mode === 'match')).toHaveLength(2);
    // A write between two pages neither repeats nor skips what existed.
    await (await w.as('author')).post('DocumentReference', dmpDocument(P, '11488-4', [], 'written meanwhile'));
    const rest = await allPages(gp, (first.body as Page).link?.find((l) => l.relation === 'next')?.url.replace(/^https:\/\/dmp\.test\/fhir\//, '') as string);
    const paged = [...refs([first.body as Page], 'match'), ...refs(rest, 'match')];
    expect(new Set(paged).size).toBe(paged.length);
    for (const r of whole) expect(paged).toContain(r);
    expect((await gp.get(`Patient/${P}/$everything?_cursor=bogus!`)).status).toBe(400);
  });

  test('refused: no right to the DMP is 403, an unknown patient 404, the always-refused roles 403', async () => {
    expect((await (await w.as('stranger')).get(`Patient/${P}/$everything`)).status).toBe(403);
    expect((await (await w.as('insurer')).get(`Patient/${P}/$everything`)).status).toBe(403);
    expect((await (await w.as('patient', Q)).get(`Patient/${P}/$everything`)).status).toBe(403);
    expect((await (await w.as('admin')).get(`Patient/${P}/$everything`)).status).toBe(403);
    expect((await (await w.as('gp')).get('Patient/unknown-patient/$everything')).status).toBe(404);
    expect((await request(w.app).get(`/fhir/Patient/${P}/$everything`)).status).toBe(401);
  });

  test('the CapabilityStatement declares $everything and $export', async () => {
    const cs = (await request(w.app).get('/fhir/metadata')).body;
    const patient = cs.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    expect(patient.operation.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['everything', 'export', 'close']));
    expect(cs.rest[0].operation.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['export']));
  });

  test('one AuditEvent per $everything, in the patient\'s chain, refusals included', async () => {
    const seq = async () => (await w.store.chainHead(patientChain(P)))?.seq ?? 0;
    const before = await seq();
    expect((await (await w.as('gp')).get(`Patient/${P}/$everything?_count=1`)).status).toBe(200);
    expect(await seq()).toBe(before + 1);
    expect((await (await w.as('stranger')).get(`Patient/${P}/$everything`)).status).toBe(403);
    expect(await seq()).toBe(before + 2);
  });
});
