import type { Resource } from '@medplum/fhirtypes';
import { IS_ARCHIVED_EXTENSION } from '../../src/fhir/document-rules';
import { MHD_LIST_TYPES } from '../../src/fhir/documents/provide-bundle';
import { dmpPatient, ids, openDmpWorld, type Client, type DmpWorld } from '../support/dmp-world';
import { STORES } from '../support/stores';
import { provideBundle } from './examples';

const MHD_EXT = 'https://profiles.ihe.net/ITI/MHD/StructureDefinition';
const A03 = 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument';
const SCT = 'http://snomed.info/sct';

function list(patient: string, o: { code: 'submissionset' | 'folder'; designation: [string, string]; sourceId?: string; date: string; status?: string; source?: string; authorOrg?: string; archived?: boolean }): Resource {
  return {
    resourceType: 'List',
    extension: [
      { url: `${MHD_EXT}/ihe-designationType`, valueCodeableConcept: { coding: [{ system: o.designation[0], code: o.designation[1] }] } },
      ...(o.sourceId ? [{ url: `${MHD_EXT}/ihe-sourceId`, valueIdentifier: { system: 'urn:ietf:rfc:3986', value: o.sourceId } }] : []),
      ...(o.authorOrg ? [{ url: `${MHD_EXT}/ihe-authorOrg`, valueReference: { reference: o.authorOrg } }] : []),
      ...(o.archived !== undefined ? [{ url: IS_ARCHIVED_EXTENSION, valueBoolean: o.archived }] : []),
    ],
    status: o.status ?? 'current',
    mode: 'working',
    code: { coding: [{ system: MHD_LIST_TYPES, code: o.code }] },
    subject: { reference: `Patient/${patient}` },
    date: o.date,
    ...(o.source ? { source: { reference: o.source } } : {}),
  } as Resource;
}

/** ITI-66 Find Lists: SubmissionSets and Folders, by every MHD / PDSm parameter, exact result sets on each store. */
describe.each(STORES)('ITI-66 Find Lists ($name)', (fixture) => {
  let w: DmpWorld;
  let gp: Client;
  let P: string;
  const L: Record<string, string> = {};

  beforeAll(async () => {
    w = await openDmpWorld(fixture);
    gp = await w.as('gp');
    const author = await w.as('author');
    P = (await gp.post('Patient', dmpPatient('285047512399201'))).body.id;
    const Q = (await gp.post('Patient', dmpPatient('285047512399202'))).body.id;
    const post = async (r: Resource) => {
      const res = await author.post('List', r);
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    L.SS1 = await post(list(P, { code: 'submissionset', designation: [A03, '11'], sourceId: 'urn:oid:1.2.3.1', date: '2026-01-10T10:00:00+01:00', source: `Patient/${P}`, authorOrg: 'Organization/org-1' }));
    L.SS2 = await post(list(P, { code: 'submissionset', designation: [A03, '10'], sourceId: 'urn:oid:1.2.3.2', date: '2026-02-10T10:00:00+01:00', status: 'retired', source: 'PractitionerRole/role-1' }));
    L.F1 = await post(list(P, { code: 'folder', designation: [SCT, '80146002'], date: '2026-03-10T10:00:00+01:00', archived: true }));
    L.SSQ = await post(list(Q, { code: 'submissionset', designation: [A03, '11'], sourceId: 'urn:oid:1.2.3.1', date: '2026-01-10T10:00:00+01:00' }));
    // A SubmissionSet as an ITI-65 stores it.
    const res = await author.post('', provideBundle(`Patient/${P}`, 'submitted'));
    expect(res.status).toBe(200);
    L.SS65 = (res.body.entry[0].response.location as string).split('/')[1];
  });
  afterAll(async () => {
    await w.close();
  });

  const find = async (query: string) => {
    const res = await gp.get(`List?${query}&_count=100`);
    expect(res.status).toBe(200);
    const names = new Map(Object.entries(L).map(([k, v]) => [v, k]));
    return ids(res.body).map((id) => names.get(id) ?? id).sort();
  };

  test.each([
    ['patient', () => `patient=${P}`, ['F1', 'SS1', 'SS2', 'SS65']],
    ['patient.identifier (the INS)', () => `patient.identifier=urn:oid:1.2.250.1.213.1.4.8|285047512399202`, ['SSQ']],
    ['code=submissionset', () => `patient=${P}&code=${MHD_LIST_TYPES}|submissionset`, ['SS1', 'SS2', 'SS65']],
    ['code=folder', () => `patient=${P}&code=${MHD_LIST_TYPES}|folder`, ['F1']],
    ['designationType', () => `patient=${P}&designationType=${A03}|11`, ['SS1', 'SS65']],
    ['designationType (a folder)', () => `patient=${P}&designationType=${SCT}|80146002`, ['F1']],
    ['sourceId', () => `sourceId=urn:ietf:rfc:3986|urn:oid:1.2.3.1`, ['SS1', 'SSQ']],
    ['sourceId (the ITI-65 one)', () => `patient=${P}&sourceId=urn:oid:1.2.3.4.5.6.7.8`, ['SS65']],
    ['status', () => `patient=${P}&status=current`, ['F1', 'SS1', 'SS65']],
    ['date', () => `patient=${P}&date=ge2026-02-01&date=lt2026-04-01`, ['F1', 'SS2']],
    ['source (PDSm PatientAsSource, answered by R4 List-source)', () => `source=Patient/${P}`, ['SS1']],
    ['source (PDSm PractitionerRoleAsSource)', () => `patient=${P}&source=PractitionerRole/role-1`, ['SS2']],
    ['authorOrg (PDSm)', () => `authorOrg=Organization/org-1`, ['SS1']],
    ['isArchived (PDSm)', () => `patient=${P}&isArchived=true`, ['F1']],
  ])('%s', async (_name, query, expected) => {
    expect(await find(query())).toEqual(expected);
  });

  test('the MHD / PDSm List parameters are declared in the CapabilityStatement', async () => {
    const cs = (await gp.get('metadata')).body;
    const res = cs.rest[0].resource.find((r: { type: string }) => r.type === 'List');
    const declared = new Map<string, string>(res.searchParam.map((p: { name: string; definition: string }) => [p.name, p.definition]));
    expect(declared.get('designationType')).toBe('https://profiles.ihe.net/ITI/MHD/SearchParameter/List-DesignationType');
    expect(declared.get('sourceId')).toBe('https://profiles.ihe.net/ITI/MHD/SearchParameter/List-SourceId');
    expect(declared.get('authorOrg')).toBe('https://interop.esante.gouv.fr/ig/fhir/pdsm/SearchParameter/PDSm-List-authorOrg');
    expect(declared.get('isArchived')).toBe('https://interop.esante.gouv.fr/ig/fhir/pdsm/SearchParameter/PDSm-isArchived');
    for (const name of ['patient', 'code', 'status', 'date', 'source', 'patient.identifier']) expect(declared.has(name)).toBe(true);
  });
});
