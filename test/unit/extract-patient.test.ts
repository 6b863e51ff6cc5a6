import { readFileSync } from 'node:fs';
import type { Patient } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { createIndexer, type Indexer } from '../../src/fhir/search/extract';
import type { IndexEntry } from '../../src/fhir/search/index-entry';

const REF = '/work/shared/reference/examples';
const read = <T>(path: string): T => JSON.parse(readFileSync(`${REF}/${path}`, 'utf8')) as T;

let indexer: Indexer;
beforeAll(() => {
  loadDefinitions();
  indexer = createIndexer({ baseUrl: 'https://dmp.example/fhir' });
});

const of = (entries: IndexEntry[], param: string) => entries.filter((e) => e.param === param);
const utc = (...p: [number, number, number]) => Date.UTC(...p);

describe('FR Core INS patient (reference example)', () => {
  let patient: Patient;
  let entries: IndexEntry[];
  beforeAll(() => {
    patient = read<Patient>('fr-core/Patient-FRCorePatientExample.json');
    entries = indexer.extract(patient);
  });

  test('the INS identifier is a token system|value, and its type is indexed for :of-type', () => {
    expect(of(entries, 'identifier')).toEqual([
      { kind: 'token', param: 'identifier', system: 'urn:oid:1.2.250.1.213.1.4.8', code: '123456789012244', text: null },
    ]);
    expect(of(entries, 'identifier:of-type')).toEqual([
      {
        kind: 'token',
        param: 'identifier:of-type',
        system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203',
        code: 'INS-NIR|123456789012244',
        text: null,
      },
    ]);
  });

  test('gender is a token in the code system of its required binding', () => {
    expect(of(entries, 'gender')).toEqual([
      { kind: 'token', param: 'gender', system: 'http://hl7.org/fhir/administrative-gender', code: 'male', text: null },
    ]);
    expect(of(entries, 'address-use')).toEqual([
      { kind: 'token', param: 'address-use', system: 'http://hl7.org/fhir/address-use', code: 'home', text: null },
    ]);
  });

  test('birthDate covers the whole day', () => {
    expect(of(entries, 'birthdate')).toEqual([{ kind: 'date', param: 'birthdate', low: utc(1974, 11, 25), high: utc(1974, 11, 26) - 1 }]);
  });

  test('booleans are tokens without a system; deceased is false when deceasedBoolean is false', () => {
    expect(of(entries, 'active')).toEqual([{ kind: 'token', param: 'active', system: null, code: 'true', text: null }]);
    expect(of(entries, 'deceased')).toEqual([{ kind: 'token', param: 'deceased', system: null, code: 'false', text: null }]);
  });

  test('deceased follows its R4 expression: true with a death date, false without any deceased element', () => {
    const dead = indexer.extract({ resourceType: 'Patient', deceasedDateTime: '2024-02-10T08:30:00+01:00' });
    expect(of(dead, 'deceased')).toEqual([{ kind: 'token', param: 'deceased', system: null, code: 'true', text: null }]);
    expect(of(dead, 'death-date')).toEqual([
      { kind: 'date', param: 'death-date', low: Date.UTC(2024, 1, 10, 7, 30), high: Date.UTC(2024, 1, 10, 7, 30, 1) - 1 },
    ]);
    const unknown = indexer.extract({ resourceType: 'Patient' });
    expect(of(unknown, 'deceased')).toEqual([{ kind: 'token', param: 'deceased', system: null, code: 'false', text: null }]);
  });

  test('names: one string entry per part, normalized, with the original for :exact', () => {
    expect(of(entries, 'family')).toEqual([{ kind: 'string', param: 'family', value: 'durand', exact: 'Durand' }]);
    expect(of(entries, 'given')).toEqual([{ kind: 'string', param: 'given', value: 'pierre', exact: 'Pierre' }]);
    expect(of(entries, 'name').map((e) => e.kind === 'string' && e.exact)).toEqual(['Durand', 'Pierre']);
  });

  test('address: every part, accents removed', () => {
    expect(of(entries, 'address')).toEqual(
      ['367 rue Troussier', 'Orléans', '45100', '367 rue Troussier, 45100 Orléans, France'].map((exact) => ({
        kind: 'string',
        param: 'address',
        value: exact.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase(),
        exact,
      })),
    );
    expect(of(entries, 'address-city')).toEqual([{ kind: 'string', param: 'address-city', value: 'orleans', exact: 'Orléans' }]);
  });

  test('telecom: ContactPoint system and value; phone keeps only phones; no email', () => {
    const phones = (patient.telecom ?? []).map((t) => t.value);
    expect(of(entries, 'telecom')).toEqual(phones.map((code) => ({ kind: 'token', param: 'telecom', system: 'phone', code, text: null })));
    expect(of(entries, 'phone')).toEqual(phones.map((code) => ({ kind: 'token', param: 'phone', system: 'phone', code, text: null })));
    expect(of(entries, 'email')).toEqual([]);
  });

  test('_profile is a uri entry; _id and _lastUpdated are left to the stores', () => {
    expect(of(entries, '_profile')).toEqual([
      { kind: 'uri', param: '_profile', value: 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins' },
    ]);
    expect(entries.filter((e) => ['_id', '_lastUpdated', '_compartment'].includes(e.param))).toEqual([]);
  });
});

describe('names and addresses are normalized like search values', () => {
  const patient: Patient = {
    resourceType: 'Patient',
    name: [{ text: '  Élodie   LEFÈVRE ', family: 'LEFÈVRE-Çaglar', given: ['Élodie', 'Anne-Sophie'], prefix: ['Mme'], suffix: ['Jr'] }],
    address: [{ line: ['12 Rue de la République', 'Bât. Œ'], district: 'Rhône', state: 'Auvergne-Rhône-Alpes', country: 'FR' }],
  };

  test('accents and case are removed, whitespace collapsed; exact keeps the original', () => {
    const e = indexer.extract(patient);
    expect(of(e, 'name')).toEqual([
      { kind: 'string', param: 'name', value: 'lefevre-caglar', exact: 'LEFÈVRE-Çaglar' },
      { kind: 'string', param: 'name', value: 'elodie', exact: 'Élodie' },
      { kind: 'string', param: 'name', value: 'anne-sophie', exact: 'Anne-Sophie' },
      { kind: 'string', param: 'name', value: 'mme', exact: 'Mme' },
      { kind: 'string', param: 'name', value: 'jr', exact: 'Jr' },
      { kind: 'string', param: 'name', value: 'elodie lefevre', exact: '  Élodie   LEFÈVRE ' },
    ]);
    expect(of(e, 'address').map((x) => x.kind === 'string' && x.value)).toEqual([
      '12 rue de la republique',
      'bat. œ',
      'rhone',
      'auvergne-rhone-alpes',
      'fr',
    ]);
    expect(of(e, 'address-state')).toEqual([{ kind: 'string', param: 'address-state', value: 'auvergne-rhone-alpes', exact: 'Auvergne-Rhône-Alpes' }]);
  });
});

describe('tokens', () => {
  test('an Identifier type text is the token text; each type coding gives an :of-type entry', () => {
    const e = indexer.extract({
      resourceType: 'Patient',
      identifier: [
        {
          system: 'urn:oid:1.2.250.1.71.4.2.7',
          value: 'IPP-42',
          type: { text: 'Identifiant Patient', coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PI' }, { code: 'MR' }] },
        },
        { value: 'no-system' },
        { system: 'urn:only-system' },
      ],
    });
    expect(of(e, 'identifier')).toEqual([
      { kind: 'token', param: 'identifier', system: 'urn:oid:1.2.250.1.71.4.2.7', code: 'IPP-42', text: 'identifiant patient' },
      { kind: 'token', param: 'identifier', system: null, code: 'no-system', text: null },
      { kind: 'token', param: 'identifier', system: 'urn:only-system', code: null, text: null },
    ]);
    expect(of(e, 'identifier:of-type')).toEqual([
      { kind: 'token', param: 'identifier:of-type', system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PI|IPP-42', text: null },
      { kind: 'token', param: 'identifier:of-type', system: null, code: 'MR|IPP-42', text: null },
    ]);
  });

  test('a CodeableConcept gives each coding (display as text) and its own text', () => {
    const e = indexer.extract({
      resourceType: 'Patient',
      communication: [
        { language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'fr-FR', display: 'Français (France)' }, { system: 'urn:ietf:bcp:47', code: 'fr' }], text: 'Français' } },
      ],
    });
    expect(of(e, 'language')).toEqual([
      { kind: 'token', param: 'language', system: 'urn:ietf:bcp:47', code: 'fr-FR', text: 'francais (france)' },
      { kind: 'token', param: 'language', system: 'urn:ietf:bcp:47', code: 'fr', text: null },
      { kind: 'token', param: 'language', system: null, code: null, text: 'francais' },
    ]);
  });

  test('a code without a required single-system binding has no system', () => {
    // Attachment.language is bound with strength "preferred".
    const e = indexer.extract({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { language: 'fr-FR' } }] });
    expect(of(e, 'language')).toEqual([{ kind: 'token', param: 'language', system: null, code: 'fr-FR', text: null }]);
  });

  test('_tag and _security are Codings, _source a uri', () => {
    const e = indexer.extract({
      resourceType: 'Patient',
      meta: {
        source: 'https://lps.example/fr#req-1',
        tag: [{ system: 'http://example.org/tags', code: 'import', display: 'Importé' }],
        security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
      },
    });
    expect(e.filter((x) => x.param.startsWith('_'))).toEqual([
      { kind: 'token', param: '_security', system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R', text: null },
      { kind: 'uri', param: '_source', value: 'https://lps.example/fr#req-1' },
      { kind: 'token', param: '_tag', system: 'http://example.org/tags', code: 'import', text: 'importe' },
    ]);
  });
});
