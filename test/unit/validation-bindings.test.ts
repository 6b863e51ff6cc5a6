import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { createValidator } from '../../src/fhir/validation';
import type { BindingPlans, TypePlan } from '../../src/fhir/validation/binding-plan';
import { BindingWalk } from '../../src/fhir/validation/binding-walk';
import type { RequiredValueSet } from '../../src/fhir/validation/required-valuesets';

const validator = createValidator();
const errors = (resource: object): OperationOutcomeIssue[] =>
  validator.validate(resource as Resource).filter((i) => i.severity === 'error');
/** Locations of the code-invalid errors, the structural validator's findings left aside. */
const badCodes = (resource: object): string[] =>
  errors(resource)
    .filter((i) => i.code === 'code-invalid')
    .flatMap((i) => i.expression ?? ['(none)']);

const observation = (extra: object = {}): object => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Weight' },
  ...extra,
});
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
/** An AllergyIntolerance that is valid as is (ait-1 wants a clinicalStatus). */
const allergy = (extra: object): object => ({
  resourceType: 'AllergyIntolerance',
  patient: { reference: 'Patient/1' },
  clinicalStatus: { coding: [{ system: CLINICAL, code: 'active' }] },
  ...extra,
});

describe('required bindings on code elements of resources', () => {
  test('a bad Patient.gender is reported in plain English, with where and what is allowed', () => {
    const found = errors({ resourceType: 'Patient', gender: 'M' });
    expect(found).toEqual([
      {
        severity: 'error',
        code: 'code-invalid',
        details: {
          text: 'The code "M" is not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1: expected one of male | female | other | unknown',
        },
        expression: ['Patient.gender'],
      },
    ]);
  });

  test.each([
    ['Observation.status', observation({ status: 'done' })],
    ['DocumentReference.status', { resourceType: 'DocumentReference', status: 'active', content: [{ attachment: { url: 'x' } }] }],
    ['AllergyIntolerance.criticality', allergy({ criticality: 'very-high' })],
    ['Bundle.type', { resourceType: 'Bundle', type: 'bag' }],
    ['Composition.confidentiality', { resourceType: 'Composition', status: 'final', type: { text: 't' }, date: '2024-01-01', author: [{ display: 'a' }], title: 't', confidentiality: 'Z' }],
    ['Binary.contentType', { resourceType: 'Binary', contentType: 'pdf' }],
  ])('%s', (where, resource) => {
    expect(badCodes(resource)).toEqual([where]);
  });

  test('each element of a repeating code is checked at its index', () => {
    const location = { resourceType: 'Location', hoursOfOperation: [{ daysOfWeek: ['mon', 'funday'] }] };
    expect(badCodes(location)).toEqual(['Location.hoursOfOperation[0].daysOfWeek[1]']);
  });

  test('MIME types and currencies, which cannot be enumerated, are checked by syntax', () => {
    const capability = { resourceType: 'CapabilityStatement', format: ['json', 'application/fhir+json', 'fhir json'] };
    expect(badCodes(capability)).toEqual(['CapabilityStatement.format[2]']);
    const invoice = { resourceType: 'Invoice', status: 'issued', totalNet: { value: 10, currency: 'euro' } };
    expect(badCodes(invoice)).toEqual(['Invoice.totalNet.currency']);
  });

  test('valid codes pass', () => {
    expect(errors({ resourceType: 'Patient', gender: 'female' })).toEqual([]);
    expect(errors(allergy({ criticality: 'high' }))).toEqual([]);
    expect(errors({ resourceType: 'Binary', contentType: 'text/plain; charset=UTF-8' })).toEqual([]);
    expect(errors({ resourceType: 'Bundle', type: 'transaction' })).toEqual([]);
  });
});

describe('required bindings inside datatypes and backbone elements', () => {
  test.each([
    ['Patient.telecom[1].system', { telecom: [{ system: 'phone', value: '1' }, { system: 'pigeon', value: '2' }] }],
    ['Patient.name[0].use', { name: [{ use: 'alias', family: 'Dupont' }] }],
    ['Patient.identifier[0].use', { identifier: [{ use: 'main', value: '1' }] }],
    ['Patient.address[0].type', { address: [{ type: 'castle', city: 'Paris' }] }],
    ['Patient.text.status', { text: { status: 'pretty', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } }],
    ['Patient.contact[0].gender', { contact: [{ gender: 'M', name: { family: 'Dupont' } }] }],
    ['Patient.managingOrganization.identifier.use', { managingOrganization: { identifier: { use: 'x', value: '1' } } }],
  ])('%s', (where, extra) => {
    expect(badCodes({ resourceType: 'Patient', ...extra })).toEqual([where]);
  });

  test('Quantity.comparator inside a choice type is located with ofType()', () => {
    expect(badCodes(observation({ valueQuantity: { value: 1, comparator: '~' } }))).toEqual([
      'Observation.value.ofType(Quantity).comparator',
    ]);
    expect(badCodes(observation({ component: [{ code: { text: 'c' }, valueQuantity: { value: 1, comparator: '=' } }] }))).toEqual([
      'Observation.component[0].value.ofType(Quantity).comparator',
    ]);
  });

  test('codes inside extension values, on primitives too', () => {
    const patient = {
      resourceType: 'Patient',
      extension: [{ url: 'http://example.org/a', valueIdentifier: { use: 'bad', value: '1' } }],
      gender: 'male',
      _gender: { extension: [{ url: 'http://example.org/b', valueContactPoint: { system: 'zz', value: '1' } }] },
    };
    expect(badCodes(patient)).toEqual([
      'Patient.extension[0].value.ofType(Identifier).use',
      'Patient.gender.extension[0].value.ofType(ContactPoint).system',
    ]);
  });
});

describe('nested resources are checked with their own type', () => {
  test('a bad code inside a contained resource', () => {
    const patient = { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o', name: 'x', telecom: [{ system: 'carrier-pigeon', value: '1' }] }] };
    expect(badCodes(patient)).toEqual(['Patient.contained[0].telecom[0].system']);
  });

  test('a bad code inside a Bundle entry, and inside a resource contained in that entry', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', gender: 'female' } },
        { resource: observation({ status: 'done' }) },
        { resource: { resourceType: 'Patient', contained: [{ resourceType: 'Patient', id: 'p', gender: 'X' }] } },
      ],
    };
    expect(badCodes(bundle)).toEqual(['Bundle.entry[1].resource.status', 'Bundle.entry[2].resource.contained[0].gender']);
  });

  test('a bad code inside a Parameters resource part', () => {
    const parameters = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', gender: 'X' } }] };
    expect(badCodes(parameters)).toEqual(['Parameters.parameter[0].resource.gender']);
  });
});

describe('required bindings on CodeableConcept: at least one coding from the value set', () => {
  test('a coding with the right code but another system is rejected', () => {
    const found = errors(allergy({ clinicalStatus: { coding: [{ system: 'http://example.org', code: 'active' }] } }));
    expect(found).toEqual([
      expect.objectContaining({
        code: 'code-invalid',
        expression: ['AllergyIntolerance.clinicalStatus'],
        details: { text: expect.stringContaining(`expected system ${CLINICAL} with code one of active | inactive | resolved`) },
      }),
    ]);
  });

  test('text alone is not a code from the value set', () => {
    expect(badCodes(allergy({ clinicalStatus: { text: 'active' } }))).toEqual(['AllergyIntolerance.clinicalStatus']);
  });

  test('one matching coding among others is enough', () => {
    const clinicalStatus = { coding: [{ system: 'http://example.org', code: 'x' }, { system: CLINICAL, code: 'active' }] };
    expect(errors(allergy({ clinicalStatus }))).toEqual([]);
  });

  test('Condition.verificationStatus', () => {
    const condition = (code: string): object => ({
      resourceType: 'Condition',
      subject: { reference: 'Patient/1' },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code }] },
    });
    expect(errors(condition('confirmed'))).toEqual([]);
    expect(badCodes(condition('sure'))).toEqual(['Condition.verificationStatus']);
  });
});

describe('required bindings on a Coding (none in base R4; profiles will bind some)', () => {
  const valueSet: RequiredValueSet = {
    url: 'http://example.org/ValueSet/modes',
    acceptsCode: (code) => code === 'normal',
    acceptsCoding: (system, code) => system === 'http://example.org/modes' && code === 'normal',
    expected: 'one of normal',
    expectedCoding: 'system http://example.org/modes with code one of normal',
  };
  const plan: TypePlan = new Map([['mode', { segment: 'mode', binding: { kind: 'coding' as const, valueSet } }]]);
  const plans: BindingPlans = { resources: new Map([['Basic', plan]]), types: new Map(), element: new Map(), checked: 1, unchecked: [] };
  const walk = (mode: unknown): OperationOutcomeIssue[] => {
    const issues: OperationOutcomeIssue[] = [];
    new BindingWalk(plans, issues).resource({ resourceType: 'Basic', mode }, 'Basic');
    return issues;
  };

  test('a member passes; another system or no code is reported; a non-object is left to the structural pass', () => {
    expect(walk({ system: 'http://example.org/modes', code: 'normal' })).toEqual([]);
    expect(walk({ system: 'http://other.org', code: 'normal' })).toEqual([
      expect.objectContaining({
        code: 'code-invalid',
        expression: ['Basic.mode'],
        details: { text: expect.stringContaining('The coding http://other.org|normal is not in the required value set') },
      }),
    ]);
    expect(walk({ display: 'Normal' })[0].details?.text).toContain('(no system)|(no code)');
    expect(walk('normal')).toEqual([]);
  });
});

describe('what is compiled at start-up', () => {
  test('hundreds of bindings are enforced; the few unexpandable ones are listed', () => {
    expect(validator.info.checkedBindings).toBeGreaterThan(300);
    expect(validator.info.uncheckedBindings).toEqual(
      expect.arrayContaining(['MolecularSequence.structureVariant.variantType', 'RiskEvidenceSynthesis.riskEstimate.unitOfMeasure']),
    );
    expect(validator.info.uncheckedBindings.length).toBeLessThan(10);
  });
});
