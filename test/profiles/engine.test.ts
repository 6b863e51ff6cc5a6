import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ElementDefinition, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { loadProfileRegistry, validateAgainstProfiles, type ProfileRegistry } from '../../src/fhir/profiles';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

/**
 * Focused tests of the engine on small profiles written here (as
 * differentials, so snapshot generation is exercised too): slicing
 * (value, pattern, type, profile, exists; open, closed, ordered),
 * extensions by URL, bindings of each strength, constraints.
 */
const BASE = 'https://test.example/fhir/StructureDefinition/';

function profile(id: string, type: string, elements: ElementDefinition[], base = `http://hl7.org/fhir/StructureDefinition/${type}`): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    id,
    url: BASE + id,
    version: '1',
    name: id,
    status: 'draft',
    kind: type === 'Extension' ? 'complex-type' : 'resource',
    abstract: false,
    type,
    baseDefinition: base,
    derivation: 'constraint',
    differential: { element: elements },
  };
}

const el = (id: string, rest: Partial<ElementDefinition> = {}): ElementDefinition => ({ id, path: id.replace(/:[^.]+/g, ''), ...rest });

const VS = {
  resourceType: 'ValueSet',
  url: 'https://test.example/fhir/ValueSet/colours',
  version: '1',
  status: 'active',
  compose: { include: [{ system: 'https://test.example/colours', concept: [{ code: 'red' }, { code: 'blue' }] }] },
};

const PROFILES: StructureDefinition[] = [
  profile('ext-colour', 'Extension', [
    el('Extension.url', { fixedUri: `${BASE}ext-colour` }),
    el('Extension.value[x]', { min: 1, type: [{ code: 'code' }] }),
  ], 'http://hl7.org/fhir/StructureDefinition/Extension'),
  profile('sliced-patient', 'Patient', [
    el('Patient.identifier', { slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'closed', ordered: true } }),
    el('Patient.identifier:a', { sliceName: 'a', min: 1, max: '1' }),
    el('Patient.identifier:a.system', { fixedUri: 'urn:a' }),
    el('Patient.identifier:b', { sliceName: 'b', max: '2' }),
    el('Patient.identifier:b.system', { fixedUri: 'urn:b' }),
    el('Patient.name', { slicing: { discriminator: [{ type: 'exists', path: 'family' }], rules: 'open' } }),
    el('Patient.name:withFamily', { sliceName: 'withFamily', min: 1 }),
    el('Patient.name:withFamily.family', { min: 1 }),
    el('Patient.extension', { slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } }),
    el('Patient.extension:colour', { sliceName: 'colour', max: '1', type: [{ code: 'Extension', profile: [`${BASE}ext-colour`] }] }),
  ]),
  profile('pattern-obs', 'Observation', [
    el('Observation', { constraint: [{ key: 't-1', severity: 'error', human: 'A value or a note', expression: 'value.exists() or note.exists()' }, { key: 't-2', severity: 'warning', human: 'Prefer an issued time', expression: 'issued.exists()' }] }),
    el('Observation.category', { slicing: { discriminator: [{ type: 'pattern', path: '$this' }], rules: 'open' } }),
    el('Observation.category:lab', { sliceName: 'lab', min: 1, max: '1', patternCodeableConcept: { coding: [{ system: 'urn:cat', code: 'lab' }] } }),
    el('Observation.code', { binding: { strength: 'required', valueSet: VS.url } }),
    el('Observation.method', { binding: { strength: 'extensible', valueSet: VS.url } }),
    el('Observation.bodySite', { binding: { strength: 'preferred', valueSet: VS.url } }),
    el('Observation.interpretation', { binding: { strength: 'example', valueSet: VS.url } }),
    el('Observation.value[x]', { slicing: { discriminator: [{ type: 'type', path: '$this' }], rules: 'closed' } }),
    el('Observation.value[x]:valueQuantity', { sliceName: 'valueQuantity', type: [{ code: 'Quantity' }] }),
    el('Observation.subject', { type: [{ code: 'Reference', targetProfile: [`${BASE}sliced-patient`] }] }),
  ]),
  profile('entry-bundle', 'Bundle', [
    el('Bundle.entry', { slicing: { discriminator: [{ type: 'profile', path: 'resource' }], rules: 'closed' } }),
    el('Bundle.entry:obs', { sliceName: 'obs', min: 1 }),
    el('Bundle.entry:obs.resource', { type: [{ code: 'Observation', profile: [`${BASE}pattern-obs`] }] }),
    el('Bundle.entry:pat', { sliceName: 'pat' }),
    el('Bundle.entry:pat.resource', { type: [{ code: 'Patient', profile: [`${BASE}sliced-patient`] }] }),
  ]),
];

let registry: ProfileRegistry;
beforeAll(() => {
  loadDefinitions();
  const dir = tempDir('profiles-');
  mkdirSync(join(dir, 'p'));
  PROFILES.forEach((p) => writeFileSync(join(dir, 'p', `${p.id}.json`), JSON.stringify(p)));
  writeFileSync(join(dir, 'p', 'vs.json'), JSON.stringify(VS));
  registry = loadProfileRegistry([join(dir, 'p')]);
});
afterAll(removeTempDirs);

const run = (r: Record<string, unknown>, p: string) =>
  validateAgainstProfiles(registry, r as unknown as Resource, [BASE + p]).map((i) => [i.severity, i.code, i.expression?.[0]]);

const goodPatient = () => ({
  resourceType: 'Patient',
  identifier: [{ system: 'urn:a', value: '1' }, { system: 'urn:b', value: '2' }],
  name: [{ family: 'F' }],
  extension: [{ url: `${BASE}ext-colour`, valueCode: 'red' }],
});
const goodObs = () => ({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'urn:cat', code: 'lab' }] }],
  code: { coding: [{ system: 'https://test.example/colours', code: 'red' }] },
  valueQuantity: { value: 1 },
  issued: '2026-01-01T00:00:00Z',
});

describe('slicing', () => {
  test('a conforming resource has no issues', () => {
    expect(run(goodPatient(), 'sliced-patient')).toEqual([]);
  });
  test('value discriminator: a required slice missing, a slice over its max', () => {
    const p = { ...goodPatient(), identifier: [{ system: 'urn:b', value: '1' }, { system: 'urn:b', value: '2' }, { system: 'urn:b', value: '3' }] };
    expect(run(p, 'sliced-patient')).toEqual([
      ['error', 'required', 'Patient.identifier'],
      ['error', 'structure', 'Patient.identifier'],
    ]);
  });
  test('closed slicing refuses an unmatched value; ordered slicing refuses slices out of order', () => {
    expect(run({ ...goodPatient(), identifier: [{ system: 'urn:a', value: '1' }, { system: 'urn:c', value: '2' }] }, 'sliced-patient')).toEqual([
      ['error', 'structure', 'Patient.identifier[1]'],
    ]);
    expect(run({ ...goodPatient(), identifier: [{ system: 'urn:b', value: '2' }, { system: 'urn:a', value: '1' }] }, 'sliced-patient')).toEqual([
      ['error', 'structure', 'Patient.identifier[1]'],
    ]);
  });
  test('exists discriminator: a name without family is not the required slice', () => {
    expect(run({ ...goodPatient(), name: [{ given: ['G'] }] }, 'sliced-patient')).toEqual([['error', 'required', 'Patient.name']]);
  });
  test('pattern discriminator on $this, and type discriminator on a choice (closed)', () => {
    expect(run({ ...goodObs(), category: [{ coding: [{ system: 'urn:cat', code: 'other' }] }] }, 'pattern-obs')).toEqual([['error', 'required', 'Observation.category']]);
    const { valueQuantity: _q, ...noValue } = goodObs();
    expect(run({ ...noValue, valueString: 'x' }, 'pattern-obs')).toEqual([['error', 'structure', 'Observation.value.ofType(string)']]);
  });
  test('profile discriminator: a Bundle entry belongs to the slice whose profile it meets', () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: goodObs() }, { resource: goodPatient() }] };
    expect(run(bundle, 'entry-bundle')).toEqual([]);
    const bad = { ...bundle, entry: [{ resource: { ...goodObs(), category: [] } }] };
    expect(run(bad, 'entry-bundle')).toEqual([
      ['error', 'structure', 'Bundle.entry[0]'],
      ['error', 'required', 'Bundle.entry'],
    ]);
  });
});

describe('extensions', () => {
  test('an extension is checked against its own definition, found by URL', () => {
    expect(run({ ...goodPatient(), extension: [{ url: `${BASE}ext-colour`, valueString: 'red' }] }, 'sliced-patient')).toEqual([
      ['error', 'structure', 'Patient.extension[0].value.ofType(string)'],
    ]);
    expect(run({ ...goodPatient(), extension: [{ url: `${BASE}ext-colour` }] }, 'sliced-patient')).toEqual([
      ['error', 'required', 'Patient.extension[0].value'],
    ]);
  });
  test('an extension the server does not know is a warning', () => {
    expect(run({ ...goodPatient(), extension: [{ url: 'https://unknown.example/ext', valueCode: 'x' }] }, 'sliced-patient')).toEqual([
      ['warning', 'extension', 'Patient.extension[0]'],
    ]);
  });
});

describe('bindings by strength', () => {
  const other = { coding: [{ system: 'https://test.example/colours', code: 'green' }] };
  test('required: a code outside the value set is an error', () => {
    expect(run({ ...goodObs(), code: other }, 'pattern-obs')).toEqual([['error', 'code-invalid', 'Observation.code']]);
  });
  test('extensible: a warning; preferred and example: nothing', () => {
    expect(run({ ...goodObs(), method: other }, 'pattern-obs')).toEqual([['warning', 'code-invalid', 'Observation.method']]);
    expect(run({ ...goodObs(), bodySite: other, interpretation: [other] }, 'pattern-obs')).toEqual([]);
  });
});

describe('constraints', () => {
  test('an error constraint fails with its key and text; a warning constraint is a warning', () => {
    const { valueQuantity: _q, issued: _i, ...bare } = goodObs();
    const issues = validateAgainstProfiles(registry, bare as unknown as Resource, [`${BASE}pattern-obs`]);
    expect(issues.map((i) => [i.severity, i.code, i.expression?.[0], i.details?.text])).toEqual([
      ['error', 'invariant', 'Observation', 'Constraint t-1 failed: A value or a note'],
      ['warning', 'invariant', 'Observation', 'Constraint t-2 failed: Prefer an issued time'],
    ]);
    expect(run({ ...bare, note: [{ text: 'n' }], issued: '2026-01-01T00:00:00Z' }, 'pattern-obs')).toEqual([]);
  });
});

describe('reference targets', () => {
  test('a contained subject must conform to the target profile; a wrong type is refused', () => {
    const obs = { ...goodObs(), contained: [{ ...goodPatient(), id: 'p' }], subject: { reference: '#p' } };
    expect(run(obs, 'pattern-obs')).toEqual([]);
    const badTarget = { ...obs, contained: [{ ...goodPatient(), id: 'p', identifier: [] }] };
    expect(run(badTarget, 'pattern-obs')).toEqual([['error', 'structure', 'Observation.subject.reference']]);
    expect(run({ ...goodObs(), subject: { reference: 'Group/1' } }, 'pattern-obs')).toEqual([['error', 'structure', 'Observation.subject.reference']]);
  });
});
