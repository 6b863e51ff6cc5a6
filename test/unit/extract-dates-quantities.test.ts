import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../src/fhir/definitions';
import { parseJson } from '../../src/fhir/json/lossless';
import { createIndexer, type Indexer } from '../../src/fhir/search/extract';
import { type IndexEntry, MAX_DATE, MIN_DATE } from '../../src/fhir/search/index-entry';

let indexer: Indexer;
beforeAll(() => {
  loadDefinitions();
  indexer = createIndexer({ baseUrl: 'https://dmp.example/fhir' });
});

const of = (entries: IndexEntry[], param: string) => entries.filter((e) => e.param === param);
const extract = (r: object) => indexer.extract(r as Resource);
const date = (param: string, low: number, high: number) => ({ kind: 'date', param, low, high });
const obsDate = (effective: object) => of(extract({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...effective }), 'date');

describe('dates: the range their precision implies, in epoch ms', () => {
  test.each([
    ['2024', Date.UTC(2024, 0, 1), Date.UTC(2025, 0, 1) - 1],
    ['2024-02', Date.UTC(2024, 1, 1), Date.UTC(2024, 2, 1) - 1],
    ['2024-02-29', Date.UTC(2024, 1, 29), Date.UTC(2024, 2, 1) - 1],
    ['2024-03-01T10:15:00+01:00', Date.UTC(2024, 2, 1, 9, 15), Date.UTC(2024, 2, 1, 9, 15, 1) - 1],
    ['2024-03-01T23:30:00-05:00', Date.UTC(2024, 2, 2, 4, 30), Date.UTC(2024, 2, 2, 4, 30, 1) - 1],
    ['2024-03-01T10:15:00.250Z', Date.UTC(2024, 2, 1, 10, 15, 0, 250), Date.UTC(2024, 2, 1, 10, 15, 0, 250)],
  ])('effectiveDateTime %s', (value, low, high) => {
    expect(obsDate({ effectiveDateTime: value })).toEqual([date('date', low, high)]);
  });

  test('an impossible date is skipped', () => {
    expect(obsDate({ effectiveDateTime: '2024-02-30' })).toEqual([]);
  });

  test('an instant (DocumentReference.date) is a one-millisecond range', () => {
    const doc = extract({ resourceType: 'DocumentReference', status: 'current', content: [], date: '2024-03-01T10:15:00.000+02:00' });
    expect(of(doc, 'date')).toEqual([date('date', Date.UTC(2024, 2, 1, 8, 15), Date.UTC(2024, 2, 1, 8, 15))]);
  });

  test('a Period runs from its start to the end of its end', () => {
    expect(obsDate({ effectivePeriod: { start: '2024-01-10', end: '2024-01-12T18:00:00Z' } })).toEqual([
      date('date', Date.UTC(2024, 0, 10), Date.UTC(2024, 0, 12, 18, 0, 1) - 1),
    ]);
  });

  test('an open Period end is MIN_DATE / MAX_DATE; an empty or broken Period is skipped', () => {
    expect(obsDate({ effectivePeriod: { start: '2024-01-10' } })).toEqual([date('date', Date.UTC(2024, 0, 10), MAX_DATE)]);
    expect(obsDate({ effectivePeriod: { end: '2024-01-10' } })).toEqual([date('date', MIN_DATE, Date.UTC(2024, 0, 11) - 1)]);
    expect(obsDate({ effectivePeriod: {} })).toEqual([]);
    expect(obsDate({ effectivePeriod: { start: 'yesterday', end: '2024-01-10' } })).toEqual([]);
  });

  test('a Timing gives each event and its bounds period', () => {
    const timing = { event: ['2024-05-01', '2024-05-03T08:00:00Z'], repeat: { boundsPeriod: { start: '2024-05-01', end: '2024-05-31' } } };
    expect(obsDate({ effectiveTiming: timing })).toEqual([
      date('date', Date.UTC(2024, 4, 1), Date.UTC(2024, 4, 2) - 1),
      date('date', Date.UTC(2024, 4, 3, 8), Date.UTC(2024, 4, 3, 8, 0, 1) - 1),
      date('date', Date.UTC(2024, 4, 1), Date.UTC(2024, 5, 1) - 1),
    ]);
  });

  test('a free-text performedString is not a date', () => {
    const e = extract({ resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/p' }, performedString: '2020' });
    expect(of(e, 'date')).toEqual([]);
  });
});

describe('quantities and numbers', () => {
  test('Quantity keeps value, system, code and unit', () => {
    const e = extract({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'poids' },
      valueQuantity: { value: 72.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    });
    expect(of(e, 'value-quantity')).toEqual([
      { kind: 'quantity', param: 'value-quantity', value: 72.5, low: 72.45, high: 72.55, system: 'http://unitsofmeasure.org', code: 'kg', unit: 'kg' },
    ]);
  });

  test('a quantity without a numeric value is skipped', () => {
    const e = extract({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: '72', unit: 'kg' } });
    expect(of(e, 'value-quantity')).toEqual([]);
  });

  test('Age (Condition onset-age) is a quantity', () => {
    const e = extract({
      resourceType: 'Condition',
      subject: { reference: 'Patient/p' },
      onsetAge: { value: 45, unit: 'ans', system: 'http://unitsofmeasure.org', code: 'a' },
    });
    expect(of(e, 'onset-age')).toEqual([{ kind: 'quantity', param: 'onset-age', value: 45, low: 44.5, high: 45.5, system: 'http://unitsofmeasure.org', code: 'a', unit: 'ans' }]);
  });

  test('Money: the currency is the code, in ISO 4217', () => {
    const e = extract({ resourceType: 'Invoice', status: 'issued', totalNet: { value: 25, currency: 'EUR' }, totalGross: { value: 30 } });
    expect(of(e, 'totalnet')).toEqual([{ kind: 'quantity', param: 'totalnet', value: 25, low: 24.5, high: 25.5, system: 'urn:iso:std:iso:4217', code: 'EUR', unit: null }]);
    expect(of(e, 'totalgross')).toEqual([{ kind: 'quantity', param: 'totalgross', value: 30, low: 29.5, high: 30.5, system: null, code: null, unit: null }]);
  });

  test('a Range gives its low and high as two quantities', () => {
    const e = extract({
      resourceType: 'ValueSet',
      status: 'active',
      useContext: [
        {
          code: { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'age' },
          valueRange: { low: { value: 18, code: 'a', system: 'http://unitsofmeasure.org' }, high: { value: 65, code: 'a', system: 'http://unitsofmeasure.org' } },
        },
      ],
    });
    expect(of(e, 'context-quantity')).toEqual([
      { kind: 'quantity', param: 'context-quantity', value: 18, low: 17.5, high: 18.5, system: 'http://unitsofmeasure.org', code: 'a', unit: null },
      { kind: 'quantity', param: 'context-quantity', value: 65, low: 64.5, high: 65.5, system: 'http://unitsofmeasure.org', code: 'a', unit: null },
    ]);
  });

  test('decimal and integer numbers', () => {
    const risk = extract({ resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/p' }, prediction: [{ probabilityDecimal: 0.12 }] });
    expect(of(risk, 'probability')).toEqual([{ kind: 'number', param: 'probability', value: 0.12, low: 0.115, high: 0.125 }]);
    const seq = extract({ resourceType: 'MolecularSequence', coordinateSystem: 0, variant: [{ start: 120, end: 121 }] });
    expect(of(seq, 'variant-start')).toEqual([{ kind: 'number', param: 'variant-start', value: 120, low: 119.5, high: 120.5 }]);
  });

  test('the range is the precision of the text as sent: 1.50, 1e2, a bare decimal 0.150', () => {
    const obs = parseJson(
      '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50},"component":[{"code":{"text":"y"},"valueQuantity":{"value":1e2}}]}',
    ) as Resource;
    expect(of(extract(obs), 'value-quantity')).toEqual([{ kind: 'quantity', param: 'value-quantity', value: 1.5, low: 1.495, high: 1.505, system: null, code: null, unit: null }]);
    expect(of(extract(obs), 'component-value-quantity')).toEqual([{ kind: 'quantity', param: 'component-value-quantity', value: 100, low: 50, high: 150, system: null, code: null, unit: null }]);
    const risk = parseJson('{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/p"},"prediction":[{"probabilityDecimal":0.150}]}') as Resource;
    expect(of(extract(risk), 'probability')).toEqual([{ kind: 'number', param: 'probability', value: 0.15, low: 0.1495, high: 0.1505 }]);
  });
});
