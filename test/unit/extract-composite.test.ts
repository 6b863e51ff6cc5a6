import { readFileSync } from 'node:fs';
import type { Bundle, DocumentReference, Observation } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { createIndexer, type Indexer } from '../../src/fhir/search/extract';
import type { CompositeEntry, IndexEntry } from '../../src/fhir/search/index-entry';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

let indexer: Indexer;
beforeAll(() => {
  loadDefinitions();
  indexer = createIndexer({ baseUrl: 'https://dmp.example/fhir' });
});

const composites = (entries: IndexEntry[], param: string) => entries.filter((e): e is CompositeEntry => e.kind === 'composite' && e.param === param);
/** A composite entry as `partParam=system|code` / `partParam=value unit` strings, for readable comparisons. */
const show = (c: CompositeEntry) =>
  c.parts.map((p) => {
    switch (p.kind) {
      case 'token':
        return `${p.param}=${p.system}|${p.code}`;
      case 'quantity':
        return `${p.param}=${p.value} ${p.code}`;
      case 'reference':
        return `${p.param}=${p.ref}`;
      default:
        return `${p.param}=${JSON.stringify(p)}`;
    }
  });

const bloodPressure: Observation = {
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }], text: 'Tension artérielle' },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2024-03-01T10:15:00+01:00',
  component: [
    { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 132, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
    { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 84, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
  ],
};

describe('composite parameters keep the values of one element together', () => {
  test('component-code-value-quantity pairs each component code with its own value only', () => {
    const e = indexer.extract(bloodPressure);
    expect(composites(e, 'component-code-value-quantity').map(show)).toEqual([
      [`component-code=${LOINC}|8480-6`, 'component-value-quantity=132 mm[Hg]'],
      [`component-code=${LOINC}|8462-4`, 'component-value-quantity=84 mm[Hg]'],
    ]);
  });

  test('each part is a complete entry of the component parameter', () => {
    const [first] = composites(indexer.extract(bloodPressure), 'component-code-value-quantity');
    expect(first.parts).toEqual([
      { kind: 'token', param: 'component-code', system: LOINC, code: '8480-6', text: null },
      { kind: 'quantity', param: 'component-value-quantity', value: 132, low: 131.5, high: 132.5, system: UCUM, code: 'mm[Hg]', unit: 'mmHg' },
    ]);
  });

  test('code-value-quantity needs a value on the Observation itself', () => {
    expect(composites(indexer.extract(bloodPressure), 'code-value-quantity')).toEqual([]);
    const withValue = indexer.extract({ ...bloodPressure, valueQuantity: { value: 1, system: UCUM, code: '1' } });
    // The code's text-only token cannot be matched as a part (parts match on system|code), so only the coding pairs.
    expect(composites(withValue, 'code-value-quantity').map(show)).toEqual([[`code=${LOINC}|85354-9`, 'value-quantity=1 1']]);
  });

  test('combo-code-value-quantity covers the Observation and its components, still correlated', () => {
    const e = indexer.extract({ ...bloodPressure, valueQuantity: { value: 1, system: UCUM, code: '1' } });
    expect(composites(e, 'combo-code-value-quantity').map(show)).toEqual([
      [`combo-code=${LOINC}|85354-9`, 'combo-value-quantity=1 1'],
      [`combo-code=${LOINC}|8480-6`, 'combo-value-quantity=132 mm[Hg]'],
      [`combo-code=${LOINC}|8462-4`, 'combo-value-quantity=84 mm[Hg]'],
    ]);
  });

  test('a component with two codings gives one entry per coding, each with that component value', () => {
    const e = indexer.extract({
      ...bloodPressure,
      component: [
        {
          code: { coding: [{ system: LOINC, code: '8480-6' }, { system: 'http://snomed.info/sct', code: '271649006' }] },
          valueQuantity: { value: 132, system: UCUM, code: 'mm[Hg]' },
        },
      ],
    });
    expect(composites(e, 'component-code-value-quantity').map(show)).toEqual([
      [`component-code=${LOINC}|8480-6`, 'component-value-quantity=132 mm[Hg]'],
      ['component-code=http://snomed.info/sct|271649006', 'component-value-quantity=132 mm[Hg]'],
    ]);
  });

  test('code-value-date takes a dateTime value (`value.as(DateTime)` names the FHIRPath type)', () => {
    const e = indexer.extract({ ...bloodPressure, component: undefined, valueDateTime: '2024-03-01' });
    expect(composites(e, 'code-value-date').map((c) => c.parts[1])).toEqual([
      { kind: 'date', param: 'value-date', low: Date.UTC(2024, 2, 1), high: Date.UTC(2024, 2, 2) - 1 },
    ]);
  });

  test('a component without a value gives no composite entry', () => {
    const e = indexer.extract({ ...bloodPressure, component: [{ code: { coding: [{ system: LOINC, code: '8480-6' }] } }] });
    expect(composites(e, 'component-code-value-quantity')).toEqual([]);
    expect(e.filter((x) => x.param === 'component-code')).toHaveLength(1);
  });

  // R4 lists the components as relatesto (reference) then relation (token) but
  // gives each the other's expression; parts follow the definitions' order,
  // as the query parser does, with the values where they belong.
  test('DocumentReference relationship pairs relatesTo.target with relatesTo.code (PDSm replace example)', () => {
    const bundle = JSON.parse(
      readFileSync('/work/shared/reference/examples/pdsm/Bundle-bundle-exemple-comprehensiveprovidedocument-replace.json', 'utf8'),
    ) as Bundle;
    const doc = bundle.entry?.map((x) => x.resource).find((r): r is DocumentReference => r?.resourceType === 'DocumentReference');
    expect(doc?.relatesTo).toHaveLength(1);
    const e = indexer.extract(doc as DocumentReference);
    expect(composites(e, 'relationship').map(show)).toEqual([
      ['relatesto=DocumentReference/doc-old', 'relation=http://hl7.org/fhir/document-relationship-type|replaces'],
    ]);
  });
});
