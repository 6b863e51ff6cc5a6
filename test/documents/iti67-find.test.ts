import type { Resource } from '@medplum/fhirtypes';
import { VISIBILITY_SYSTEM } from '../../src/access/codes';
import { IS_ARCHIVED_EXTENSION } from '../../src/fhir/document-rules';
import { dmpDocument, dmpPatient, ids, openDmpWorld, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';

const INS_P = '285047512399101';
const SCT = 'http://snomed.info/sct';
const A03 = 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument';
const FORMAT = 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode';
const V3 = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/** One document of the dataset: dmpDocument plus the ITI-67 metadata that tells the documents apart. */
function document(patient: string, o: {
  type: string; category: string; date: string; period: { start: string; end?: string }; setting: string; facility: string;
  event?: string; labels?: string[]; confidentiality?: string; format: string; related?: string; creation: string; author: string; archived?: boolean;
}): Resource {
  const d = dmpDocument(patient, o.type, o.labels ?? []) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  d.category = [{ coding: [{ system: A03, code: o.category }] }];
  d.date = o.date;
  d.author = [{ reference: o.author }];
  if (o.confidentiality) d.securityLabel.push({ coding: [{ system: V3, code: o.confidentiality }] });
  d.content[0].attachment.creation = o.creation;
  d.content[0].format = { system: FORMAT, code: o.format };
  d.context = {
    period: o.period,
    practiceSetting: { coding: [{ system: SCT, code: o.setting }] },
    facilityType: { coding: [{ system: SCT, code: o.facility }] },
    ...(o.event ? { event: [{ coding: [{ system: SCT, code: o.event }] }] } : {}),
    ...(o.related ? { related: [{ reference: o.related }] } : {}),
  };
  if (o.archived !== undefined) d.extension = [{ url: IS_ARCHIVED_EXTENSION, valueBoolean: o.archived }];
  return d as Resource;
}

/**
 * ITI-67 Find Document References: every parameter the issue lists, plus
 * the PDSm ones, with the exact result set, on each store. The médecin
 * traitant searches (he may see every document, masked ones included), so
 * the sets are the data's, not the access rules'.
 */
describe.each(STORES)('ITI-67 Find Document References ($name)', (fixture) => {
  let w: DmpWorld;
  let gp: Client;
  let P: string;
  let Q: string;
  const D: Record<'A' | 'B' | 'C' | 'S' | 'E', string> = { A: '', B: '', C: '', S: '', E: '' };

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    gp = await w.as('gp');
    const author = await w.as('author');
    const lab = await w.as('lab');
    P = (await gp.post('Patient', dmpPatient(INS_P))).body.id;
    Q = (await gp.post('Patient', dmpPatient('285047512399102'))).body.id;
    for (const [id, family, given] of [['pr-dupont', 'Dupont', 'Jean'], ['pr-curie', 'Curie', 'Marie']]) {
      expect((await lab.put(`Practitioner/${id}`, { resourceType: 'Practitioner', id, name: [{ family, given: [given] }] })).status).toBe(201);
    }
    const post = async (r: Resource) => {
      const res = await author.post('DocumentReference', r);
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    D.A = await post(document(P, {
      type: '11488-4', category: '11', date: '2026-01-10T10:00:00+01:00', period: { start: '2026-01-01', end: '2026-01-05' }, setting: '394802001',
      facility: '22232009', event: '185349003', confidentiality: 'N', format: 'urn:ihe:iti:xds:2017:mimeTypeSufficient', related: 'Encounter/enc-a',
      creation: '2026-01-10T09:00:00+01:00', author: 'Practitioner/pr-dupont',
    }));
    D.B = await post(document(P, {
      type: '34133-9', category: '10', date: '2026-02-10T10:00:00+01:00', period: { start: '2026-02-01', end: '2026-02-03' }, setting: '394814009',
      facility: '394761003', labels: ['MASQUE_PS'], format: 'urn:ihe:pcc:xds-ms:2007', creation: '2026-02-10T09:00:00+01:00', author: 'Practitioner/pr-curie',
    }));
    D.C = await post(document(P, {
      type: '18842-5', category: '10', date: '2026-03-10T10:00:00+01:00', period: { start: '2026-03-01' }, setting: '394802001', facility: '394761003',
      labels: ['INVISIBLE_PATIENT'], format: 'urn:ihe:pcc:xds-ms:2007', creation: '2026-03-10T09:00:00+01:00', author: 'Practitioner/pr-dupont', archived: true,
    }));
    // S is superseded by A.
    D.S = await post(document(P, {
      type: '11488-4', category: '11', date: '2025-12-01T10:00:00+01:00', period: { start: '2025-11-20', end: '2025-11-21' }, setting: '394814009',
      facility: '22232009', format: 'urn:ihe:pcc:xds-ms:2007', creation: '2025-12-01T09:00:00+01:00', author: 'Practitioner/pr-curie', archived: false,
    }));
    expect((await author.patch(`DocumentReference/${D.A}`, [{ op: 'add', path: '/relatesTo', value: [{ code: 'replaces', target: { reference: `DocumentReference/${D.S}` } }] }])).status).toBe(405);
    expect((await author.patch(`DocumentReference/${D.S}`, [{ op: 'replace', path: '/status', value: 'superseded' }])).status).toBe(200);
    D.E = await post(document(Q, {
      type: '11488-4', category: '11', date: '2026-01-10T10:00:00+01:00', period: { start: '2026-01-01', end: '2026-01-05' }, setting: '394802001',
      facility: '22232009', format: 'urn:ihe:iti:xds:2017:mimeTypeSufficient', creation: '2026-01-10T09:00:00+01:00', author: 'Practitioner/pr-dupont',
    }));
  });
  afterAll(async () => {
    await w.close();
  });

  const find = async (query: string) => {
    const res = await gp.get(`DocumentReference?${query}&_count=100`);
    expect(res.status).toBe(200);
    const map = new Map(Object.entries(D).map(([k, v]) => [v, k]));
    return ids(res.body).map((id) => map.get(id) ?? id).sort();
  };

  test.each([
    ['patient', () => `patient=${P}`, ['A', 'B', 'C', 'S']],
    ['patient (the other DMP)', () => `patient=Patient/${Q}`, ['E']],
    ['patient.identifier (INS)', () => `patient.identifier=urn:oid:1.2.250.1.213.1.4.8|${INS_P}`, ['A', 'B', 'C', 'S']],
    ['status=current leaves the superseded one out', () => `patient=${P}&status=current`, ['A', 'B', 'C']],
    ['status=superseded', () => `patient=${P}&status=superseded`, ['S']],
    ['type', () => `patient=${P}&type=http://loinc.org|11488-4`, ['A', 'S']],
    ['category', () => `patient=${P}&category=${A03}|10`, ['B', 'C']],
    ['date (ge)', () => `patient=${P}&date=ge2026-02-01`, ['B', 'C']],
    ['date (range)', () => `patient=${P}&date=ge2026-01-01&date=lt2026-03-01`, ['A', 'B']],
    // eq: the search value (January) contains the whole period.
    ['period', () => `patient=${P}&period=2026-01`, ['A']],
    ['period (a day inside the period is not eq)', () => `patient=${P}&period=2026-01-03`, []],
    ['setting', () => `patient=${P}&setting=${SCT}|394802001`, ['A', 'C']],
    ['facility', () => `patient=${P}&facility=${SCT}|22232009`, ['A', 'S']],
    ['event', () => `patient=${P}&event=${SCT}|185349003`, ['A']],
    ['security-label (TRE_A07)', () => `patient=${P}&security-label=${VISIBILITY_SYSTEM}|MASQUE_PS`, ['B']],
    ['security-label (v3 N)', () => `patient=${P}&security-label=${V3}|N`, ['A']],
    ['format', () => `patient=${P}&format=${FORMAT}|urn:ihe:iti:xds:2017:mimeTypeSufficient`, ['A']],
    ['related', () => `patient=${P}&related=Encounter/enc-a`, ['A']],
    ['creation (MHD)', () => `patient=${P}&creation=lt2026-02-01`, ['A', 'S']],
    ['author.given', () => `patient=${P}&author.given=Marie`, ['B', 'S']],
    ['author.family', () => `patient=${P}&author.family=dupont`, ['A', 'C']],
    ['period-start (PDSm)', () => `patient=${P}&period-start=ge2026-02-01`, ['B', 'C']],
    ['period-end (PDSm)', () => `patient=${P}&period-end=le2026-01-31`, ['A', 'S']],
    ['isArchived=true (PDSm)', () => `patient=${P}&isArchived=true`, ['C']],
    ['isArchived=false (PDSm)', () => `patient=${P}&isArchived=false`, ['S']],
    ['isArchived:missing (PDSm)', () => `patient=${P}&isArchived:missing=true`, ['A', 'B']],
    ['several at once (ITI-67 as a DMP client sends it)', () => `patient.identifier=urn:oid:1.2.250.1.213.1.4.8|${INS_P}&status=current&type=http://loinc.org|11488-4`, ['A']],
  ])('%s', async (_name, query, expected) => {
    expect(await find(query())).toEqual(expected);
  });

  test('the totals agree with the entries', async () => {
    const res = await gp.get(`DocumentReference?patient=${P}&status=current&_total=accurate`);
    expect(res.body.total).toBe(3);
  });

  test('a search by INS follows the Patients that carry it: a Patient written since the last search counts', async () => {
    const stranger = await w.as('stranger');
    const ins = '285047512399103';
    const query = `DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.8|${ins}`;
    // Nobody carries this INS yet: the search names no DMP, there is nothing to refuse.
    expect((await stranger.get(query)).status).toBe(200);
    expect((await gp.post('Patient', dmpPatient(ins))).status).toBe(201);
    // Now it names a DMP the stranger has no right to (the INS was looked up again, not taken from before).
    expect((await stranger.get(query)).status).toBe(403);
    expect((await gp.get(query)).status).toBe(200);
  });

  test('every ITI-67 parameter is declared in the CapabilityStatement, the MHD / PDSm ones with their definitions', async () => {
    const cs = (await gp.get('metadata')).body;
    const dr = cs.rest[0].resource.find((r: { type: string }) => r.type === 'DocumentReference');
    const declared = new Map<string, string>(dr.searchParam.map((p: { name: string; definition: string }) => [p.name, p.definition]));
    for (const name of ['patient', 'status', 'type', 'category', 'date', 'period', 'setting', 'facility', 'event', 'security-label', 'format', 'related', 'author']) {
      expect(declared.get(name)).toMatch(/^http:\/\/hl7\.org\/fhir\/SearchParameter\/(clinical|DocumentReference)-/);
    }
    expect(declared.get('creation')).toBe('https://profiles.ihe.net/ITI/MHD/SearchParameter/DocumentReference-Creation');
    expect(declared.get('period-start')).toBe('https://interop.esante.gouv.fr/ig/fhir/pdsm/SearchParameter/PDSm-DocumentReference-period-start');
    expect(declared.get('period-end')).toBe('https://interop.esante.gouv.fr/ig/fhir/pdsm/SearchParameter/PDSm-DocumentReference-period-end');
    expect(declared.get('isArchived')).toBe('https://interop.esante.gouv.fr/ig/fhir/pdsm/SearchParameter/PDSm-isArchived');
    // The INS chain, declared as MHD's Document Responder does.
    expect(dr.searchParam.find((p: { name: string }) => p.name === 'patient.identifier')?.type).toBe('token');
  });
});
