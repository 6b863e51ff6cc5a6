import type { CompositeCondition, Comparison } from '../../src/fhir/search/plan';
import type { ResourceStore } from '../../src/store/port';
import { STORES } from '../support/stores';
import { cmp, composite, matchIds, qty, Seeder, tok, tokenIs } from './search-support';

const LOINC = 'http://loinc.org';
const CVQ = 'component-code-value-quantity';

/** One alternative of `component-code-value-quantity`: code, then value comparisons. */
const codeValue = (code: string, ...value: Comparison[]) => [
  { entryKind: 'token' as const, predicate: [[cmp('system', 'eq', LOINC), cmp('code', 'eq', code)]] },
  { entryKind: 'quantity' as const, predicate: [value] },
];
const cvq = (...anyOf: ReturnType<typeof codeValue>[]): CompositeCondition => ({ kind: 'composite', param: CVQ, anyOf });
// Parts carry their component parameter codes, the same codes as plain entries of bp3.
const component = (code: string, value: number) =>
  composite(CVQ, tok('component-code', LOINC, code), qty('component-value-quantity', value));

describe.each(STORES)('store search: composite ($name)', (fixture) => {
  let store: ResourceStore;
  beforeAll(async () => {
    store = await fixture.open();
    const s = new Seeder(store);
    await s.put('Observation', 'bp1', [component('8480-6', 120), component('8462-4', 80), tok('status', null, 'final')]);
    await s.put('Observation', 'bp2', [component('8480-6', 90), component('8462-4', 130)]);
    // The same values as plain entries only: no composite combination exists.
    await s.put('Observation', 'bp3', [tok('component-code', LOINC, '8480-6'), qty('component-value-quantity', 150)]);
    await s.put('Observation', 'bp4', [component('8480-6', 140)]);
    await s.remove('Observation', 'bp4');
    await s.put('Observation', 'bp5', [
      composite('code-value-concept', tok('code', 'urn:c', 'x'), tok('value-concept', 'urn:v', 'pos')),
      composite('code-value-concept', tok('code', 'urn:c', 'y'), tok('value-concept', 'urn:v', 'neg')),
    ]);
    await s.put('Observation', 'bp6', [component('8480-6', 200)]);
    await s.put('Observation', 'bp6', [component('8480-6', 100), tok('status', null, 'final')]);
  });
  afterAll(async () => {
    await fixture.dispose(store);
  });

  test('the parts must belong to the same combination', async () => {
    expect(await matchIds(store, 'Observation', [cvq(codeValue('8480-6', cmp('value', 'gt', 100)))])).toEqual(['bp1']);
    // bp1 has 8462-4 (80) and a value 120 > 100, but not in one component.
    expect(await matchIds(store, 'Observation', [cvq(codeValue('8462-4', cmp('value', 'gt', 100)))])).toEqual(['bp2']);
    expect(await matchIds(store, 'Observation', [cvq(codeValue('8462-4', cmp('value', 'lt', 85)))])).toEqual(['bp1']);
  });

  test('updated resources match their new combinations only; deleted ones never', async () => {
    expect(await matchIds(store, 'Observation', [cvq(codeValue('8480-6', cmp('value', 'ge', 100)))])).toEqual(['bp1', 'bp6']);
    expect(await matchIds(store, 'Observation', [cvq(codeValue('8480-6', cmp('value', 'ge', 140)))])).toEqual([]);
  });

  test('alternatives are ORed', async () => {
    const either = cvq(codeValue('8462-4', cmp('value', 'gt', 100)), codeValue('8480-6', cmp('value', 'gt', 100)));
    expect(await matchIds(store, 'Observation', [either])).toEqual(['bp1', 'bp2']);
    expect(await matchIds(store, 'Observation', [{ kind: 'composite', param: CVQ, anyOf: [] }])).toEqual([]);
  });

  test('a part predicate of [[]] only needs the part to exist', async () => {
    expect(await matchIds(store, 'Observation', [cvq(codeValue('8480-6'))])).toEqual(['bp1', 'bp2', 'bp6']);
  });

  test('token$token composites, and parameters kept apart', async () => {
    const concept = (code: string, value: string): CompositeCondition => ({
      kind: 'composite',
      param: 'code-value-concept',
      anyOf: [
        [
          { entryKind: 'token', predicate: [[cmp('code', 'eq', code)]] },
          { entryKind: 'token', predicate: [[cmp('code', 'eq', value)]] },
        ],
      ],
    });
    expect(await matchIds(store, 'Observation', [concept('x', 'pos')])).toEqual(['bp5']);
    expect(await matchIds(store, 'Observation', [concept('y', 'neg')])).toEqual(['bp5']);
    expect(await matchIds(store, 'Observation', [concept('x', 'neg')])).toEqual([]);
    expect(await matchIds(store, 'Observation', [concept('8480-6', '120')])).toEqual([]);
  });

  test('composite parts are not plain entries, and plain entries are not composites', async () => {
    expect(await matchIds(store, 'Observation', [tokenIs('component-code', '8480-6')])).toEqual(['bp3']);
    expect(await matchIds(store, 'Observation', [tokenIs(CVQ, '8480-6')])).toEqual([]);
  });

  test('a composite combined with other conditions', async () => {
    const high = cvq(codeValue('8480-6', cmp('value', 'ge', 100)));
    expect(await matchIds(store, 'Observation', [high, tokenIs('status', 'final')])).toEqual(['bp1', 'bp6']);
    expect(await matchIds(store, 'Observation', [high, { kind: 'id', ids: ['bp6', 'bp2'] }])).toEqual(['bp6']);
  });
});
