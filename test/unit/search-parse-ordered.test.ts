import { failure, ms, NOW, parse, where1 } from './search-parse-helpers';

const entry = (entryKind: string, param: string, predicate: unknown, negate?: boolean) =>
  negate ? { kind: 'entry', entryKind, param, predicate, negate } : { kind: 'entry', entryKind, param, predicate };

describe('date parameters: the R4 prefix table on ranges', () => {
  // birthdate=2020-03 is the range [lo, hi] below; entries are [low, high].
  const lo = ms('2020-03-01T00:00:00.000Z');
  const hi = ms('2020-03-31T23:59:59.999Z');
  const inside = [
    { field: 'low', op: 'ge', value: lo },
    { field: 'high', op: 'le', value: hi },
  ];
  test.each([
    ['', [inside]],
    ['eq', [inside]],
    ['ne', [[{ field: 'low', op: 'lt', value: lo }], [{ field: 'high', op: 'gt', value: hi }]]],
    ['gt', [[{ field: 'high', op: 'gt', value: hi }]]],
    ['lt', [[{ field: 'low', op: 'lt', value: lo }]]],
    ['ge', [[{ field: 'high', op: 'gt', value: hi }], inside]],
    ['le', [[{ field: 'low', op: 'lt', value: lo }], inside]],
    ['sa', [[{ field: 'low', op: 'gt', value: hi }]]],
    ['eb', [[{ field: 'high', op: 'lt', value: lo }]]],
  ])('prefix %s', (prefix, predicate) => {
    expect(where1('Patient', `birthdate=${prefix}2020-03`)).toEqual(entry('date', 'birthdate', predicate));
  });

  test('ap widens the range by 10% of its distance to now, then matches overlap', () => {
    const m = Math.round((NOW - hi) / 10);
    expect(where1('Patient', 'birthdate=ap2020-03')).toEqual(
      entry('date', 'birthdate', [[{ field: 'low', op: 'le', value: hi + m }, { field: 'high', op: 'ge', value: lo - m }]]),
    );
  });

  test('a time zone + decoded to a space is restored', () => {
    const t = ms('2020-03-04T10:00:05+02:00');
    expect(where1('Encounter', 'date=gt2020-03-04T10:00:05+02:00')).toEqual(entry('date', 'date', [[{ field: 'high', op: 'gt', value: t + 999 }]]));
  });

  test.each(['birthdate=2020-13', 'birthdate=yesterday', 'birthdate=xx2020', 'birthdate=ge', 'birthdate=2020-02-30'])('%s is a 400', (q) => {
    const f = failure(() => parse('Patient', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(/'birthdate'/);
  });

  test('birthdate:exact is an unsupported modifier for dates', () => {
    expect(failure(() => parse('Patient', 'birthdate:exact=2020')).text).toMatch(/':exact' is not supported on date parameter/);
  });
});

describe('number parameters: precision ranges and prefixes', () => {
  // eq: the search range contains the stored range [low, high) (with the value bounds it implies).
  const eq = (lo: number, hi: number) => [
    [
      { field: 'value', op: 'ge', value: lo },
      { field: 'value', op: 'lt', value: hi },
      { field: 'low', op: 'ge', value: lo },
      { field: 'high', op: 'le', value: hi },
    ],
  ];
  test.each([
    ['100', eq(99.5, 100.5)],
    ['100.00', eq(99.995, 100.005)],
    ['1e2', eq(50, 150)],
    ['0.3', eq(0.25, 0.35)],
    ['-2', eq(-2.5, -1.5)],
    ['eq100', eq(99.5, 100.5)],
    ['ne100', [[{ field: 'low', op: 'lt', value: 99.5 }], [{ field: 'high', op: 'gt', value: 100.5 }]]],
    ['gt100', [[{ field: 'value', op: 'gt', value: 100 }]]],
    ['lt100', [[{ field: 'value', op: 'lt', value: 100 }]]],
    ['ge100', [[{ field: 'value', op: 'ge', value: 100 }]]],
    ['le100', [[{ field: 'value', op: 'le', value: 100 }]]],
    ['sa100', [[{ field: 'value', op: 'ge', value: 100.5 }, { field: 'low', op: 'ge', value: 100.5 }]]],
    ['eb100', [[{ field: 'value', op: 'lt', value: 99.5 }, { field: 'high', op: 'le', value: 99.5 }]]],
    ['ap100', [[{ field: 'low', op: 'le', value: 110 }, { field: 'high', op: 'gt', value: 90 }]]],
  ])('%s', (value, predicate) => {
    expect(where1('RiskAssessment', `probability=${value}`)).toEqual(entry('number', 'probability', predicate));
  });

  test.each(['abc', '1,2x', '--1', '1e', 'xx5', '1e999'])('%s is a 400', (value) => {
    const f = failure(() => parse('RiskAssessment', `probability=${value}`));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(/'probability'/);
  });
});

describe('quantity parameters', () => {
  const eq54 = [
    { field: 'value', op: 'ge', value: 5.35 },
    { field: 'value', op: 'lt', value: 5.45 },
    { field: 'low', op: 'ge', value: 5.35 },
    { field: 'high', op: 'le', value: 5.45 },
  ];
  test('number|system|code matches system and code', () => {
    expect(where1('Observation', 'value-quantity=5.4|http://unitsofmeasure.org|mg')).toEqual(
      entry('quantity', 'value-quantity', [[...eq54, { field: 'system', op: 'eq', value: 'http://unitsofmeasure.org' }, { field: 'code', op: 'eq', value: 'mg' }]]),
    );
  });

  test('number||unit matches the code or the unit, any system', () => {
    expect(where1('Observation', 'value-quantity=gt5.4||mg')).toEqual(
      entry('quantity', 'value-quantity', [
        [{ field: 'value', op: 'gt', value: 5.4 }, { field: 'code', op: 'eq', value: 'mg' }],
        [{ field: 'value', op: 'gt', value: 5.4 }, { field: 'unit', op: 'eq', value: 'mg' }],
      ]),
    );
  });

  test('a bare number matches any unit; ne distributes over the units', () => {
    expect(where1('Observation', 'value-quantity=5.4')).toEqual(entry('quantity', 'value-quantity', [eq54]));
    expect(where1('Observation', 'value-quantity=ne5.4|http://unitsofmeasure.org|mg')).toEqual(
      entry('quantity', 'value-quantity', [
        [{ field: 'low', op: 'lt', value: 5.35 }, { field: 'system', op: 'eq', value: 'http://unitsofmeasure.org' }, { field: 'code', op: 'eq', value: 'mg' }],
        [{ field: 'high', op: 'gt', value: 5.45 }, { field: 'system', op: 'eq', value: 'http://unitsofmeasure.org' }, { field: 'code', op: 'eq', value: 'mg' }],
      ]),
    );
  });

  test.each(['value-quantity=5.4|mg', 'value-quantity=mg', 'value-quantity=|x|mg'])('%s is a 400', (q) => {
    expect(failure(() => parse('Observation', q)).status).toBe(400);
  });
});
