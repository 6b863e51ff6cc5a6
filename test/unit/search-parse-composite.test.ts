import { failure, ms, parse, parsePairs, where1 } from './search-parse-helpers';

const entry = (entryKind: string, param: string, predicate: unknown, negate?: boolean) =>
  negate ? { kind: 'entry', entryKind, param, predicate, negate } : { kind: 'entry', entryKind, param, predicate };

describe(':missing works on every scalar type', () => {
  test.each([
    ['Patient', 'family', 'string'],
    ['Patient', 'gender', 'token'],
    ['Observation', 'subject', 'reference'],
    ['Patient', 'birthdate', 'date'],
    ['RiskAssessment', 'probability', 'number'],
    ['Observation', 'value-quantity', 'quantity'],
    ['ValueSet', 'url', 'uri'],
  ])('%s.%s (%s)', (type, param, kind) => {
    expect(where1(type, `${param}:missing=true`)).toEqual(entry(kind, param, [[]], true));
    expect(where1(type, `${param}:missing=false`)).toEqual(entry(kind, param, [[]]));
  });

  test('anything but true/false is a 400', () => {
    expect(failure(() => parse('Patient', 'family:missing=yes')).text).toMatch(/'family:missing' must be 'true' or 'false'/);
  });

  test('composite parameters refuse :missing', () => {
    expect(failure(() => parse('Observation', 'code-value-quantity:missing=true')).text).toMatch(/not supported on composite/);
  });
});

describe('composite parameters', () => {
  test('each part is parsed by its component type; commas are alternatives', () => {
    expect(where1('Observation', 'component-code-value-quantity=http://loinc.org|8480-6$gt100,8462-4$lt90')).toEqual({
      kind: 'composite',
      param: 'component-code-value-quantity',
      anyOf: [
        [
          { entryKind: 'token', predicate: [[{ field: 'system', op: 'eq', value: 'http://loinc.org' }, { field: 'code', op: 'eq', value: '8480-6' }]] },
          { entryKind: 'quantity', predicate: [[{ field: 'value', op: 'gt', value: 100 }]] },
        ],
        [
          { entryKind: 'token', predicate: [[{ field: 'code', op: 'eq', value: '8462-4' }]] },
          { entryKind: 'quantity', predicate: [[{ field: 'value', op: 'lt', value: 90 }]] },
        ],
      ],
    });
  });

  test('a date component takes prefixes', () => {
    const lo = ms('2020-01-01T00:00:00.000Z');
    expect(where1('Observation', 'code-value-date=x$ge2020')).toEqual({
      kind: 'composite',
      param: 'code-value-date',
      anyOf: [
        [
          { entryKind: 'token', predicate: [[{ field: 'code', op: 'eq', value: 'x' }]] },
          {
            entryKind: 'date',
            predicate: [[{ field: 'high', op: 'gt', value: ms('2020-12-31T23:59:59.999Z') }], [{ field: 'low', op: 'ge', value: lo }, { field: 'high', op: 'le', value: ms('2020-12-31T23:59:59.999Z') }]],
          },
        ],
      ],
    });
  });

  test('an escaped $ stays in the part', () => {
    expect(parsePairs('Observation', [['code-value-string', 'a\\$b$c']]).plan.where[0]).toEqual({
      kind: 'composite',
      param: 'code-value-string',
      anyOf: [
        [
          { entryKind: 'token', predicate: [[{ field: 'code', op: 'eq', value: 'a$b' }]] },
          { entryKind: 'string', predicate: [[{ field: 'value', op: 'startsWith', value: 'c' }]] },
        ],
      ],
    });
  });

  test('the wrong number of parts is a 400 naming the components', () => {
    expect(failure(() => parse('Observation', 'code-value-quantity=a')).text).toMatch(/needs 2 parts separated by '\$' \(code\$value-quantity\)/);
  });
});
