import { readFileSync } from 'node:fs';
import type { DocumentReference, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { createIndexer, type Indexer } from '../../src/fhir/search/extract';
import type { IndexEntry, ReferenceEntry } from '../../src/fhir/search/index-entry';

const BASE = 'https://dmp.example/fhir';
const REF = '/work/shared/reference/examples';
const read = <T>(path: string): T => JSON.parse(readFileSync(`${REF}/${path}`, 'utf8')) as T;

let indexer: Indexer;
beforeAll(() => {
  loadDefinitions();
  indexer = createIndexer({ baseUrl: BASE });
});

const of = (entries: IndexEntry[], param: string) => entries.filter((e) => e.param === param);
const ref = (param: string, r: Partial<ReferenceEntry>): ReferenceEntry => ({
  kind: 'reference',
  param,
  ref: null,
  type: null,
  id: null,
  idSystem: null,
  idValue: null,
  ...r,
});
const local = (param: string, type: string, id: string) => ref(param, { ref: `${type}/${id}`, type, id });

describe('references', () => {
  test('relative, versioned and absolute-with-our-base references are the same local Type/id', () => {
    const e = indexer.extract({
      resourceType: 'Patient',
      generalPractitioner: [
        { reference: 'Practitioner/pr-1' },
        { reference: `${BASE}/Practitioner/pr-2` },
        { reference: 'PractitionerRole/prr-3/_history/4' },
        { reference: `${BASE}/Practitioner/pr-1/_history/2` },
      ],
    });
    expect(of(e, 'general-practitioner')).toEqual([
      local('general-practitioner', 'Practitioner', 'pr-1'),
      local('general-practitioner', 'Practitioner', 'pr-2'),
      local('general-practitioner', 'PractitionerRole', 'prr-3'),
    ]);
  });

  test('a reference to another server is kept whole, without type or id', () => {
    const e = indexer.extract({ resourceType: 'Patient', managingOrganization: { reference: 'https://annuaire.example/fhir/Organization/o-9' } });
    expect(of(e, 'organization')).toEqual([ref('organization', { ref: 'https://annuaire.example/fhir/Organization/o-9' })]);
  });

  test('contained (#) and conditional (Type?query) references name no stored target and are skipped', () => {
    const doc = read<DocumentReference>('pdsm4dmp/DocumentReference-example-td3-1a-cr-consultation.json');
    expect(doc.author?.[0].reference?.startsWith('#')).toBe(true);
    expect(doc.subject?.reference).toContain('?');
    const e = indexer.extract(doc);
    expect(of(e, 'author')).toEqual([]);
    expect(of(e, 'subject')).toEqual([]);
    expect(of(e, 'patient')).toEqual([]);
  });

  test('identifier references index for :identifier, with or without a literal reference', () => {
    const e = indexer.extract({
      resourceType: 'Patient',
      generalPractitioner: [
        { identifier: { system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810002909371' }, display: 'Dr Martin' },
        { reference: 'Practitioner/pr-5', identifier: { system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810000000005' } },
        { reference: '#contained', identifier: { value: 'only-value' } },
        { display: 'nothing to index' },
      ],
    });
    expect(of(e, 'general-practitioner')).toEqual([
      ref('general-practitioner', { idSystem: 'urn:oid:1.2.250.1.71.4.2.1', idValue: '810002909371' }),
      ref('general-practitioner', { ref: 'Practitioner/pr-5', type: 'Practitioner', id: 'pr-5', idSystem: 'urn:oid:1.2.250.1.71.4.2.1', idValue: '810000000005' }),
      ref('general-practitioner', { idValue: 'only-value' }),
    ]);
  });

  test('`patient` (where(resolve() is Patient)) recognizes the target type of local, absolute and typed references', () => {
    const obs = (subject: object) => indexer.extract({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject } as Resource);
    expect(of(obs({ reference: `${BASE}/Patient/p1` }), 'patient')).toEqual([local('patient', 'Patient', 'p1')]);
    expect(of(obs({ reference: 'https://other.example/fhir/Patient/p2/_history/1' }), 'patient')).toEqual([
      ref('patient', { ref: 'https://other.example/fhir/Patient/p2/_history/1' }),
    ]);
    expect(of(obs({ type: 'Patient', identifier: { system: 'urn:oid:1.2.250.1.213.1.4.8', value: '1' } }), 'patient')).toEqual([
      ref('patient', { idSystem: 'urn:oid:1.2.250.1.213.1.4.8', idValue: '1' }),
    ]);
    // A Group subject is a subject, not a patient.
    expect(of(obs({ reference: 'Group/g1' }), 'patient')).toEqual([]);
    expect(of(obs({ reference: 'Group/g1' }), 'subject')).toEqual([local('subject', 'Group', 'g1')]);
  });

  test('canonical references drop their |version; uri entries stay verbatim', () => {
    const e = indexer.extract({
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      meta: { profile: ['https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/p|3.1.1'] },
      questionnaire: 'https://forms.example/Questionnaire/q-consult|2.0',
    });
    expect(of(e, 'questionnaire')).toEqual([ref('questionnaire', { ref: 'https://forms.example/Questionnaire/q-consult' })]);
    expect(of(e, '_profile')).toEqual([{ kind: 'uri', param: '_profile', value: 'https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/p|3.1.1' }]);
  });

  test('PDSm DocumentReference: every reference parameter, relatesTo target included', () => {
    const doc = read<DocumentReference>('pdsm/DocumentReference-exemple-pdsm-documentreference.json');
    const e = indexer.extract({ ...doc, relatesTo: [{ code: 'replaces', target: { reference: `${BASE}/DocumentReference/doc-old` } }] });
    const refs = e.filter((x) => x.kind === 'reference');
    expect(refs).toEqual([
      local('patient', 'Patient', 'fr-patient-123'),
      local('authenticator', 'Organization', 'org-example'),
      local('author', 'PractitionerRole', 'practitionerrole-example'),
      local('custodian', 'Organization', 'org-example'),
      local('relatesto', 'DocumentReference', 'doc-old'),
      local('subject', 'Patient', 'fr-patient-123'),
    ]);
    expect(of(e, 'location')).toEqual([{ kind: 'uri', param: 'location', value: doc.content[0].attachment.url }]);
  });
});
