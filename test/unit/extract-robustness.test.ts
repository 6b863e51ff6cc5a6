import { readFileSync } from 'node:fs';
import { indexSearchParameter } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { createIndexer, type Indexer } from '../../src/fhir/search/extract';
import type { IndexEntry } from '../../src/fhir/search/index-entry';

const REF = '/work/shared/reference';
const read = <T>(path: string): T => JSON.parse(readFileSync(`${REF}/${path}`, 'utf8')) as T;

let indexer: Indexer;
beforeAll(() => {
  loadDefinitions();
  // A profile's SearchParameter, registered before the indexer first sees the type.
  indexSearchParameter(read<SearchParameter>('profiles/pdsm/SearchParameter-PDSm-isArchived.json'));
  indexer = createIndexer({ baseUrl: 'https://dmp.example/fhir' });
});

const of = (entries: IndexEntry[], param: string) => entries.filter((e) => e.param === param);
const extract = (r: unknown) => indexer.extract(r as Resource);

describe('odd data never blocks a write', () => {
  const garbage: unknown[] = [null, 42, 'text', true, [], [null], [42, 'x', {}], { system: 5, value: [] }, { reference: 7 }, { start: 3 }];
  const samples = [
    read<Resource>('examples/fr-core/Patient-FRCorePatientExample.json'),
    read<Resource>('examples/pdsm/DocumentReference-exemple-pdsm-documentreference.json'),
    read<Resource>('examples/pdsm/List-ExampleSubmissionSet.json'),
  ];

  test.each(samples.map((r) => [r.resourceType, r] as const))('every element of a %s replaced by junk: no throw', (_type, resource) => {
    for (const key of Object.keys(resource)) {
      if (key === 'resourceType') continue;
      for (const junk of garbage) {
        expect(() => extract({ ...resource, [key]: junk })).not.toThrow();
      }
    }
  });

  test('junk values are skipped, good ones next to them are still indexed', () => {
    const e = extract({
      resourceType: 'Patient',
      birthDate: '1974-13-01',
      gender: 12,
      name: [null, { family: ['not', 'a', 'string'], given: ['Anne', 3, null] }],
      identifier: [{ system: 'urn:oid:1', value: 'ok' }, 'just a string', { value: { nested: true } }],
      generalPractitioner: [{ reference: 12 }, { reference: 'Practitioner/ok' }],
    });
    expect(of(e, 'birthdate')).toEqual([]);
    expect(of(e, 'gender')).toEqual([]);
    expect(of(e, 'given')).toEqual([{ kind: 'string', param: 'given', value: 'anne', exact: 'Anne' }]);
    expect(of(e, 'identifier')).toEqual([{ kind: 'token', param: 'identifier', system: 'urn:oid:1', code: 'ok', text: null }]);
    expect(of(e, 'general-practitioner')).toHaveLength(1);
  });

  test('every stored R4 type can be indexed (parameters compile on first use)', () => {
    for (const type of loadDefinitions().resourceTypes) {
      expect(() => extract({ resourceType: type, id: 'x', meta: { tag: [{ code: 't' }] } })).not.toThrow();
    }
    expect(of(extract({ resourceType: 'Provenance', meta: { tag: [{ code: 't' }] } }), '_tag')).toHaveLength(1);
    // AuditEvents are indexed on the access history's parameters only (NARROW_INDEX).
    expect(of(extract({ resourceType: 'AuditEvent', meta: { tag: [{ code: 't' }] } }), '_tag')).toHaveLength(0);
  });

  test('not a resource, or an unknown type: no entries', () => {
    expect(extract(null)).toEqual([]);
    expect(extract({})).toEqual([]);
    expect(extract({ resourceType: 'NotAType', id: 'x', meta: { tag: [{ code: 'a' }] } })).toEqual([]);
  });
});

describe('what is extracted, and what is not', () => {
  test('identical values give one entry per parameter', () => {
    const id = { system: 'urn:oid:1.2.250.1.213.1.4.8', value: '277076322082910' };
    const e = extract({ resourceType: 'Patient', identifier: [id, { ...id }], name: [{ family: 'Durand' }, { family: 'Durand', given: ['Durand'] }] });
    expect(of(e, 'identifier')).toHaveLength(1);
    expect(of(e, 'family')).toHaveLength(1);
    expect(of(e, 'name')).toEqual([{ kind: 'string', param: 'name', value: 'durand', exact: 'Durand' }]);
  });

  test('_id, _lastUpdated and special parameters (Location near) are not extracted', () => {
    const e = extract({
      resourceType: 'Location',
      id: 'loc-1',
      meta: { lastUpdated: '2024-01-01T00:00:00Z', versionId: '1' },
      name: 'CHU de Lyon',
      position: { latitude: 45.74, longitude: 4.88 },
    });
    expect(e).toEqual([{ kind: 'string', param: 'name', value: 'chu de lyon', exact: 'CHU de Lyon' }]);
  });

  test('Binary has its meta parameters (_tag, _security) although Medplum lists none for it', () => {
    const e = extract({ resourceType: 'Binary', contentType: 'application/pdf', meta: { security: [{ system: 'urn:s', code: 'R' }] } });
    expect(e).toEqual([{ kind: 'token', param: '_security', system: 'urn:s', code: 'R', text: null }]);
  });

  test('a profile SearchParameter on an extension (PDSm isArchived) is extracted', () => {
    const url = 'https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived';
    const e = extract({ resourceType: 'DocumentReference', status: 'current', content: [], extension: [{ url, valueBoolean: true }, { url: 'urn:other', valueBoolean: false }] });
    expect(of(e, 'isArchived')).toEqual([{ kind: 'token', param: 'isArchived', system: null, code: 'true', text: null }]);
  });

  test('Bundle: identifier, type with its bound system, timestamp; entry[0].resource is not a reference', () => {
    const e = extract({
      resourceType: 'Bundle',
      type: 'document',
      identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0c6a1f36-5e1d-4d4b-9b7e-8a4f0d2c1e11' },
      timestamp: '2024-03-01T10:00:00Z',
      entry: [{ resource: { resourceType: 'Composition', status: 'final' } }],
    });
    expect(e).toEqual([
      { kind: 'token', param: 'identifier', system: 'urn:ietf:rfc:3986', code: 'urn:uuid:0c6a1f36-5e1d-4d4b-9b7e-8a4f0d2c1e11', text: null },
      { kind: 'date', param: 'timestamp', low: Date.UTC(2024, 2, 1, 10), high: Date.UTC(2024, 2, 1, 10, 0, 1) - 1 },
      { kind: 'token', param: 'type', system: 'http://hl7.org/fhir/bundle-type', code: 'document', text: null },
    ]);
  });
});
