import type { Parameters } from '@medplum/fhirtypes';
import { fhirPathPatchToJsonPatch } from '../../src/fhir/fhirpath-patch';
import { resolveExtensionSelectors } from '../../src/fhir/patch-selectors';
import { FhirError } from '../../src/fhir/outcomes';

const op = (...part: object[]): Parameters => ({ resourceType: 'Parameters', parameter: [{ name: 'operation', part }] as Parameters['parameter'] });
const ARCHIVED = 'https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived';

describe('FHIRPath Patch translated to JSON Patch (the IHE MHD subset)', () => {
  test('replace of a simple path, in any part order', () => {
    const body = op({ name: 'path', valueString: 'DocumentReference.status' }, { name: 'value', valueCode: 'superseded' }, { name: 'type', valueCode: 'replace' });
    expect(fhirPathPatchToJsonPatch(body, 'DocumentReference')).toEqual([{ op: 'replace', path: '/status', value: 'superseded' }]);
  });
  test('an indexed step and delete', () => {
    expect(fhirPathPatchToJsonPatch(op({ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: 'DocumentReference.securityLabel[1]' }), 'DocumentReference')).toEqual([
      { op: 'remove', path: '/securityLabel/1' },
    ]);
  });
  test.each([
    ['another operation type', op({ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'DocumentReference.category' }), /only replace and delete/],
    ['a FHIRPath function', op({ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: "DocumentReference.extension.where(url='x')" }, { name: 'value', valueBoolean: true }), /only simple paths/],
    ['another resource type', op({ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.active' }, { name: 'value', valueBoolean: true }), /only simple paths on DocumentReference/],
    ['a replace without value', op({ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'DocumentReference.status' }), /needs a primitive or datatype value/],
    ['no operation', { resourceType: 'Parameters' } as Parameters, /has no operation/],
  ])('%s is a 400', (_what, body, text) => {
    let err: unknown;
    try {
      fhirPathPatchToJsonPatch(body, 'DocumentReference');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
    expect((err as FhirError).outcome.issue?.[0].details?.text).toMatch(text);
  });
});

describe('PDSm extension selectors in JSON Patch paths', () => {
  const path = `/extension[url:'${ARCHIVED}']/valueBoolean`;
  test('an existing extension: its index', () => {
    const doc = { extension: [{ url: 'other' }, { url: ARCHIVED, valueBoolean: false }] };
    expect(resolveExtensionSelectors(doc, [{ op: 'replace', path, value: true }])).toEqual([{ op: 'replace', path: '/extension/1/valueBoolean', value: true }]);
  });
  test('none yet: replace adds it, to the list or as the list', () => {
    expect(resolveExtensionSelectors({ extension: [{ url: 'other' }] }, [{ op: 'replace', path, value: true }])).toEqual([
      { op: 'add', path: '/extension/-', value: { url: ARCHIVED, valueBoolean: true } },
    ]);
    expect(resolveExtensionSelectors({}, [{ op: 'replace', path, value: true }])).toEqual([{ op: 'add', path: '/extension', value: [{ url: ARCHIVED, valueBoolean: true }] }]);
  });
  test('a removal of a missing extension, typographic quotes and plain pointers are left as they are', () => {
    const ops = [
      { op: 'remove' as const, path },
      { op: 'replace' as const, path: `/extension[url:\u201d${ARCHIVED}\u201d]/valueBoolean`, value: true },
      { op: 'replace' as const, path: '/status', value: 'current' },
    ];
    expect(resolveExtensionSelectors({}, ops)).toEqual(ops);
  });
});
