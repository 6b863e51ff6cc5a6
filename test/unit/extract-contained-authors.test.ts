import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { ContainedAuthorParam } from '../../src/fhir/search/contained-authors';
import { createIndexer, type Indexer } from '../../src/fhir/search/extract';
import type { IndexEntry } from '../../src/fhir/search/index-entry';
import { sortValues } from '../../src/fhir/search/index-entry';
import { example, TD2 } from '../documents/examples';

const BASE = 'https://dmp.example/fhir';

let indexer: Indexer;
beforeAll(() => {
  loadDefinitions();
  indexer = createIndexer({ baseUrl: BASE });
});

const P = ContainedAuthorParam;
/** The contained-author entries of a resource, as [param, value, exact] / [param, ref]. */
const authorEntries = (r: unknown) =>
  indexer
    .extract(r as Resource)
    .filter((e) => Object.values(P).includes(e.param as never))
    .map((e: IndexEntry) => (e.kind === 'string' ? [e.param, e.value, e.exact] : e.kind === 'reference' ? [e.param, e.ref] : [e.param, e.kind]));

const doc = (author: string[], contained: unknown[], extra: Record<string, unknown> = {}) => ({
  resourceType: 'DocumentReference',
  status: 'current',
  content: [{ attachment: { url: 'Binary/b' } }],
  contained,
  author: author.map((reference) => ({ reference })),
  ...extra,
});
const practitioner = (id: string, family: string, ...given: string[]) => ({ resourceType: 'Practitioner', id, name: [{ family, given }] });
const role = (id: string, practitionerRef: string) => ({ resourceType: 'PractitionerRole', id, practitioner: { reference: practitionerRef } });

describe('contained authors of a DocumentReference', () => {
  test('a contained Practitioner author: each given and the family, normalized, with the text as written for :exact', () => {
    expect(authorEntries(doc(['#pr'], [practitioner('pr', 'Lefèvre', 'Élodie', 'Anne  Marie')]))).toEqual([
      [P.given, 'elodie', 'Élodie'],
      [P.given, 'anne marie', 'Anne  Marie'],
      [P.family, 'lefevre', 'Lefèvre'],
    ]);
  });

  test('a contained PractitionerRole whose practitioner is contained: that practitioner\'s names', () => {
    expect(authorEntries(doc(['#role'], [role('role', '#pr'), practitioner('pr', 'Martin', 'Paul')]))).toEqual([
      [P.given, 'paul', 'Paul'],
      [P.family, 'martin', 'Martin'],
    ]);
  });

  test('a contained PractitionerRole whose practitioner is not contained: a reference to it, local form', () => {
    expect(authorEntries(doc(['#role'], [role('role', `${BASE}/Practitioner/pr-9/_history/2`)]))).toEqual([[P.practitioner, 'Practitioner/pr-9']]);
  });

  test('a contained Patient or RelatedPerson author (the patient writing his own document, a relative): their names, as the plain chain would', () => {
    const patient = { resourceType: 'Patient', id: 'me', name: [{ family: 'Dupré', given: ['Léa'] }] };
    const relative = { resourceType: 'RelatedPerson', id: 'mum', name: [{ family: 'Dupré', given: ['Anne'] }] };
    expect(authorEntries(doc(['#me', '#mum'], [patient, relative]))).toEqual([
      [P.given, 'lea', 'Léa'],
      [P.family, 'dupre', 'Dupré'],
      [P.given, 'anne', 'Anne'],
      // The same family twice is one entry (the indexer deduplicates).
    ]);
    // A contained Organization author has no person's name: nothing.
    expect(authorEntries(doc(['#org'], [{ resourceType: 'Organization', id: 'org', name: 'Clinique' }]))).toEqual([]);
  });

  test('a contained Practitioner that is not an author (an authenticator) gives nothing; nor does a non-author role', () => {
    const d = doc(['Practitioner/ext'], [practitioner('pr', 'Martin', 'Paul'), role('role', '#pr')], { authenticator: { reference: '#pr' } });
    expect(authorEntries(d)).toEqual([]);
  });

  test('shapes that name no contained author person give nothing, and never throw', () => {
    expect(authorEntries(doc(['#org'], [{ resourceType: 'Organization', id: 'org', name: 'CHU' }]))).toEqual([]);
    expect(authorEntries(doc(['#missing'], [practitioner('pr', 'Martin', 'Paul')]))).toEqual([]);
    expect(authorEntries(doc(['#', '#role'], [role('role', '#role'), { resourceType: 'Practitioner', id: 'x', name: 'not a list' }]))).toEqual([]);
    expect(authorEntries(doc(['#pr'], [{ resourceType: 'Practitioner', id: 'pr', name: [{ given: [42, ''], family: { no: 1 } }] }]))).toEqual([]);
    expect(authorEntries({ ...doc(['#pr'], [practitioner('pr', 'Martin', 'Paul')]), contained: 'junk' })).toEqual([]);
    expect(authorEntries({ ...doc([], [practitioner('pr', 'Martin', 'Paul')]), author: 'junk' })).toEqual([]);
  });

  test('two authors naming the same person index it once', () => {
    expect(authorEntries(doc(['#pr', '#role'], [practitioner('pr', 'Martin', 'Paul'), role('role', '#pr')]))).toEqual([
      [P.given, 'paul', 'Paul'],
      [P.family, 'martin', 'Martin'],
    ]);
  });

  test('only DocumentReference: a Composition with the same contained author gives nothing', () => {
    expect(authorEntries({ ...doc(['#pr'], [practitioner('pr', 'Martin', 'Paul')]), resourceType: 'Composition' })).toEqual([]);
  });

  test('the synthetic entries give no sort value (no client can _sort by them)', () => {
    const entries = indexer.extract(doc(['#pr'], [practitioner('pr', 'Martin', 'Paul')]) as Resource);
    expect(Object.keys(sortValues(entries)).filter((k) => k.includes('author.'))).toEqual([]);
  });

  test('the public PDSm examples: doc-old\'s contained role points to Practitioner/practitioner-example; td2\'s contained Practitioner has no name', () => {
    expect(authorEntries(example('pdsm/DocumentReference-doc-old.json'))).toEqual([[P.practitioner, 'Practitioner/practitioner-example']]);
    const td2 = example(TD2).entry.find((e: { resource: Resource }) => e.resource.resourceType === 'DocumentReference').resource;
    expect(td2.author).toEqual([{ reference: '#practitioner-author' }]);
    expect(authorEntries(td2)).toEqual([]);
    td2.contained.find((c: { id: string }) => c.id === 'practitioner-author').name = [{ family: 'Doe', given: ['Jane'] }];
    expect(authorEntries(td2)).toEqual([
      [P.given, 'jane', 'Jane'],
      [P.family, 'doe', 'Doe'],
    ]);
  });
});
