import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { createValidator } from '../../src/fhir/validation';

const EXAMPLES = '/work/shared/reference/examples';
const example = (file: string): Resource => JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as Resource;

const validator = createValidator();
const errors = (resource: unknown): OperationOutcomeIssue[] =>
  validator.validate(resource as Resource).filter((i) => i.severity === 'error');
/** The one error issue at `expression`, asserting there is exactly one error. */
const onlyError = (resource: unknown): OperationOutcomeIssue => {
  const found = errors(resource);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('valid reference examples give no error', () => {
  test.each([
    'fr-core/Patient-FRCorePatientExample.json',
    'fr-core/Practitioner-FRCorePractitionerExample.json',
    'fr-core/PractitionerRole-FRCorePractitionerRoleExample.json',
    'pdsm/Patient-fr-patient-123--branch-add-exemples-iti65.json',
    'pdsm/Organization-org-example.json',
    'pdsm/DocumentReference-PDSmSimplifiedExample.json',
    'pdsm/List-ExampleFolder.json',
    'pdsm/Binary-6789.json',
    'pdsm/Bundle-bundle-exemple-comprehensiveprovidedocument-replace.json',
    'pdsm4dmp/DocumentReference-example-td3-1a-cr-consultation.json',
    'pdsm4dmp/Bundle-example-td2-iti65-lot-soumission.json',
    'pdsm4dmp/Bundle-example-annexe-fhir-document.json',
    'ihe-balp/AuditEvent-ex-auditBasicReadClient.json',
    'ihe-pcf/Consent-ex-consent-advanced-normal-break-glass-restricted.json',
  ])('%s', (file) => {
    expect(errors(example(file))).toEqual([]);
  });

  test('a minimal Observation with a valid status and a code', () => {
    expect(errors({ resourceType: 'Observation', status: 'final', code: { text: 'Weight' } })).toEqual([]);
  });
});

describe('structural defects are reported with what and where', () => {
  test('unknown property', () => {
    expect(onlyError({ resourceType: 'Patient', nickname: 'Jo' })).toMatchObject({
      code: 'structure',
      expression: ['Patient.nickname'],
      details: { text: expect.stringContaining('nickname') },
    });
  });

  test('wrong primitive JSON type', () => {
    expect(onlyError({ resourceType: 'Patient', active: 'yes' })).toMatchObject({
      code: 'value',
      expression: ['Patient.active'],
      details: { text: expect.stringContaining('expected boolean') },
    });
  });

  test('badly formatted date', () => {
    expect(onlyError({ resourceType: 'Patient', birthDate: '1980-13-01' })).toMatchObject({
      code: 'value',
      expression: ['Patient.birthDate'],
      details: { text: 'Invalid date format' },
    });
  });

  test('missing required element: Observation without code', () => {
    expect(onlyError({ resourceType: 'Observation', status: 'final' })).toMatchObject({
      severity: 'error',
      code: 'required',
      expression: ['Observation.code'],
    });
  });

  test('cardinality: an array where one value is expected', () => {
    expect(onlyError({ resourceType: 'Patient', gender: ['male'] })).toMatchObject({
      code: 'structure',
      expression: ['Patient.gender'],
      details: { text: expect.stringContaining('single value') },
    });
  });

  test('cardinality: one value where an array is expected', () => {
    expect(onlyError({ resourceType: 'Patient', name: { family: 'Dupont' } })).toMatchObject({
      code: 'structure',
      expression: ['Patient.name'],
    });
  });

  test('invariant failure: a Patient contact with no details (pat-1)', () => {
    const found = errors({ resourceType: 'Patient', contact: [{ gender: 'female' }] });
    expect(found).toEqual([
      expect.objectContaining({
        code: 'invariant',
        expression: ['Patient.contact[0]'],
        details: { text: expect.stringContaining('pat-1') },
      }),
    ]);
  });

  test('invariant failure in real data: PDSm example whose contained Practitioner keeps meta.lastUpdated (dom-4)', () => {
    expect(onlyError(example('pdsm/DocumentReference-exemple-pdsm-documentreference.json'))).toMatchObject({
      code: 'invariant',
      expression: ['DocumentReference'],
      details: { text: expect.stringContaining('dom-4') },
    });
  });

  test('defects inside a contained resource and a Bundle entry carry the nested path', () => {
    expect(
      onlyError({ resourceType: 'Patient', contained: [{ resourceType: 'Patient', id: 'p', birthDate: 'yesterday' }] }),
    ).toMatchObject({ code: 'value', expression: ['Patient.contained[0].birthDate'] });
    expect(
      onlyError({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', foo: 1 } }] }),
    ).toMatchObject({ code: 'structure', expression: ['Bundle.entry[0].resource.foo'] });
  });

  test('choice-type locations are FHIRPath (ofType), not Medplum value[x]', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: '72' } };
    expect(onlyError(obs)).toMatchObject({ code: 'value', expression: ['Observation.value.ofType(Quantity).value'] });
    const ext = { resourceType: 'Patient', gender: 'male', _gender: { extension: [{ url: 'u', valueString: 5 }] } };
    expect(onlyError(ext).expression).toEqual(['Patient.gender.extension[0].value.ofType(string)']);
  });
});

describe('odd input never throws', () => {
  test.each([
    ['null', null, 'structure'],
    ['an array', [], 'structure'],
    ['a string', 'Patient', 'structure'],
    ['no resourceType', { id: 'x' }, 'required'],
    ['a numeric resourceType', { resourceType: 7 }, 'required'],
    ['an unknown resourceType', { resourceType: 'Martian' }, 'not-supported'],
  ])('%s', (_name, input, code) => {
    expect(onlyError(input).code).toBe(code);
  });

  test('null values, nested unknown types and deep nesting become issues', () => {
    expect(errors({ resourceType: 'Patient', name: [null] })[0]).toMatchObject({ expression: ['Patient.name[0]'] });
    expect(onlyError({ resourceType: 'Patient', contained: [{ resourceType: 'Martian' }] })).toMatchObject({
      code: 'not-supported',
      expression: ['Patient.contained[0]'],
    });
    expect(errors({ resourceType: 'Patient', contained: [{ id: 'x' }] })).not.toEqual([]);
    let deep: Record<string, unknown> = { url: 'leaf', valueString: 'x' };
    for (let i = 0; i < 20000; i++) {
      deep = { url: `u${i}`, extension: [deep] };
    }
    expect(() => validator.validate({ resourceType: 'Patient', extension: [deep] } as unknown as Resource)).not.toThrow();
    expect(errors({ resourceType: 'Patient', extension: [deep] })).not.toEqual([]);
  });
});

describe('profiles option', () => {
  test('is accepted and, for now, changes nothing', () => {
    const patient = { resourceType: 'Patient', gender: 'x' } as unknown as Resource;
    const withProfile = validator.validate(patient, { profiles: ['https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient'] });
    expect(withProfile).toEqual(validator.validate(patient));
  });
});
