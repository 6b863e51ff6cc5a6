import { failure, ms, NOW, parse, parsePairs, where1 } from './search-parse-helpers';

const entry = (entryKind: string, param: string, predicate: unknown, negate?: boolean) =>
  negate ? { kind: 'entry', entryKind, param, predicate, negate } : { kind: 'entry', entryKind, param, predicate };

describe('string parameters', () => {
  test('default is starts-with on the normalized value (accents, case, spaces)', () => {
    expect(where1('Patient', 'family=%C3%89lo%C3%AFse++Du')).toEqual(
      entry('string', 'family', [[{ field: 'value', op: 'startsWith', value: 'eloise du' }]]),
    );
  });

  test(':exact compares the original text', () => {
    expect(where1('Patient', 'family:exact=%C3%89lo%C3%AFse')).toEqual(entry('string', 'family', [[{ field: 'exact', op: 'eq', value: 'Éloïse' }]]));
  });

  test(':contains matches anywhere in the normalized value', () => {
    expect(where1('Patient', 'name:contains=MART')).toEqual(entry('string', 'name', [[{ field: 'value', op: 'contains', value: 'mart' }]]));
  });

  test('comma = OR inside one condition, repeated parameter = AND', () => {
    const { plan } = parse('Patient', 'given=jean,marie&given=paul');
    expect(plan.where).toEqual([
      entry('string', 'given', [[{ field: 'value', op: 'startsWith', value: 'jean' }], [{ field: 'value', op: 'startsWith', value: 'marie' }]]),
      entry('string', 'given', [[{ field: 'value', op: 'startsWith', value: 'paul' }]]),
    ]);
  });

  test('escaped comma, dollar, bar and backslash are literal characters', () => {
    const { plan } = parsePairs('Patient', [['family:exact', 'a\\,b\\$c\\|d\\\\e,f']]);
    expect(plan.where[0]).toEqual(
      entry('string', 'family', [[{ field: 'exact', op: 'in', value: ['a,b$c|d\\e', 'f'] }]]),
    );
  });

  test.each(['family=', 'family=a,,b', 'family=%20%20'])('%s is a 400 naming the parameter', (q) => {
    const f = failure(() => parse('Patient', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(/'family' has an empty value/);
  });

  test.each(["family=' OR 1=1 --", 'family={"$gt":""}', 'family=.*', 'family=%25'])('injection-looking %s stays plain data', (q) => {
    const value = new URLSearchParams(q).get('family') as string;
    expect(where1('Patient', q)).toEqual(entry('string', 'family', [[{ field: 'value', op: 'startsWith', value: value.toLowerCase() }]]));
  });
});

describe('token parameters', () => {
  test.each([
    ['code', [[{ field: 'code', op: 'eq', value: 'male' }]]],
    ['http://hl7.org/fhir/administrative-gender|male', [[{ field: 'system', op: 'eq', value: 'http://hl7.org/fhir/administrative-gender' }, { field: 'code', op: 'eq', value: 'male' }]]],
    ['|male', [[{ field: 'system', op: 'isNull' }, { field: 'code', op: 'eq', value: 'male' }]]],
    ['http://hl7.org/fhir/administrative-gender|', [[{ field: 'system', op: 'eq', value: 'http://hl7.org/fhir/administrative-gender' }]]],
  ])('form %s', (form, predicate) => {
    const value = form === 'code' ? 'male' : form;
    expect(where1('Patient', `gender=${encodeURIComponent(value)}`)).toEqual(entry('token', 'gender', predicate));
  });

  test('several bare codes become one `in`', () => {
    expect(where1('Patient', 'gender=male,female')).toEqual(entry('token', 'gender', [[{ field: 'code', op: 'in', value: ['male', 'female'] }]]));
  });

  test('mixed forms stay separate alternatives', () => {
    expect(where1('Observation', 'code=http://loinc.org|1234-5,9999')).toEqual(
      entry('token', 'code', [
        [{ field: 'system', op: 'eq', value: 'http://loinc.org' }, { field: 'code', op: 'eq', value: '1234-5' }],
        [{ field: 'code', op: 'eq', value: '9999' }],
      ]),
    );
  });

  test(':not negates the whole match (resources without a value included)', () => {
    expect(where1('Patient', 'gender:not=male')).toEqual(entry('token', 'gender', [[{ field: 'code', op: 'eq', value: 'male' }]], true));
  });

  test(':text is starts-with on the normalized display text', () => {
    expect(where1('Observation', 'code:text=H%C3%A9moglobine')).toEqual(entry('token', 'code', [[{ field: 'text', op: 'startsWith', value: 'hemoglobine' }]]));
  });

  test(':of-type searches the <code>:of-type entries of an Identifier parameter', () => {
    expect(where1('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053')).toEqual(
      entry('token', 'identifier:of-type', [
        [{ field: 'system', op: 'eq', value: 'http://terminology.hl7.org/CodeSystem/v2-0203' }, { field: 'code', op: 'eq', value: 'MR|446053' }],
      ]),
    );
  });

  test('an escaped bar belongs to the code', () => {
    expect(parsePairs('Observation', [['code', 'sys|a\\|b']]).plan.where[0]).toEqual(
      entry('token', 'code', [[{ field: 'system', op: 'eq', value: 'sys' }, { field: 'code', op: 'eq', value: 'a|b' }]]),
    );
  });

  test.each([
    ['gender:of-type=a|b|c', /':of-type' only applies to Identifier/],
    ['identifier:of-type=a|b', /needs 'typeSystem\|typeCode\|value'/],
    ['gender=a|b|c', /more than one unescaped '\|'/],
    ['gender=|', /neither a system nor a code/],
    ['gender:in=http://vs', /':in' is not supported on token parameter 'gender'/],
    ['gender:below=x', /':below' is not supported/],
    ['gender:bogus=x', /unknown modifier ':bogus'/],
    ['gender:not:text=x', /only one modifier/],
  ])('%s is a 400', (q, message) => {
    const f = failure(() => parse('Patient', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(message);
  });
});

describe('reference parameters', () => {
  test('a bare id matches that id in every allowed target type', () => {
    expect(where1('Patient', 'general-practitioner=abc')).toEqual(
      entry('reference', 'general-practitioner', [[{ field: 'ref', op: 'in', value: ['Organization/abc', 'Practitioner/abc', 'PractitionerRole/abc'] }]]),
    );
  });

  test('a single-target parameter gives one eq', () => {
    expect(where1('Observation', 'patient=p1')).toEqual(entry('reference', 'patient', [[{ field: 'ref', op: 'eq', value: 'Patient/p1' }]]));
  });

  test.each([
    ['Patient/p1', 'Patient/p1'],
    ['Patient/p1/_history/3', 'Patient/p1'],
    ['https://dmp.example/fhir/Patient/p1', 'Patient/p1'],
    ['https://other.example/fhir/Patient/p1', 'https://other.example/fhir/Patient/p1'],
  ])('%s is normalized like stored references', (value, ref) => {
    expect(where1('Observation', `subject=${encodeURIComponent(value)}`)).toEqual(entry('reference', 'subject', [[{ field: 'ref', op: 'eq', value: ref }]]));
  });

  test(':[Type] restricts the id to that type', () => {
    expect(where1('Observation', 'subject:Patient=p1')).toEqual(entry('reference', 'subject', [[{ field: 'ref', op: 'eq', value: 'Patient/p1' }]]));
  });

  test(':identifier matches Reference.identifier', () => {
    expect(where1('Observation', 'subject:identifier=urn:oid:1.2.250.1.213.1.4.8|123')).toEqual(
      entry('reference', 'subject', [[{ field: 'idSystem', op: 'eq', value: 'urn:oid:1.2.250.1.213.1.4.8' }, { field: 'idValue', op: 'eq', value: '123' }]]),
    );
  });

  test.each([
    ['subject:Practitioner=1', /cannot refer to a Practitioner/],
    ['subject:Patient=Group/1', /not a reference to a Patient/],
    ['subject=%23contained', /not a searchable reference/],
    ['subject:Bogus=1', /unknown modifier ':Bogus'/],
    ['subject:below=1', /':below' is not supported on reference/],
  ])('%s is a 400', (q, message) => {
    const f = failure(() => parse('Observation', q));
    expect(f.status).toBe(400);
    expect(f.text).toMatch(message);
  });
});

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
  test.each([
    ['100', [[{ field: 'value', op: 'ge', value: 99.5 }, { field: 'value', op: 'lt', value: 100.5 }]]],
    ['100.00', [[{ field: 'value', op: 'ge', value: 99.995 }, { field: 'value', op: 'lt', value: 100.005 }]]],
    ['1e2', [[{ field: 'value', op: 'ge', value: 50 }, { field: 'value', op: 'lt', value: 150 }]]],
    ['0.3', [[{ field: 'value', op: 'ge', value: 0.25 }, { field: 'value', op: 'lt', value: 0.35 }]]],
    ['-2', [[{ field: 'value', op: 'ge', value: -2.5 }, { field: 'value', op: 'lt', value: -1.5 }]]],
    ['eq100', [[{ field: 'value', op: 'ge', value: 99.5 }, { field: 'value', op: 'lt', value: 100.5 }]]],
    ['ne100', [[{ field: 'value', op: 'lt', value: 99.5 }], [{ field: 'value', op: 'ge', value: 100.5 }]]],
    ['gt100', [[{ field: 'value', op: 'gt', value: 100 }]]],
    ['lt100', [[{ field: 'value', op: 'lt', value: 100 }]]],
    ['ge100', [[{ field: 'value', op: 'ge', value: 100 }]]],
    ['le100', [[{ field: 'value', op: 'le', value: 100 }]]],
    ['sa100', [[{ field: 'value', op: 'gt', value: 100 }]]],
    ['eb100', [[{ field: 'value', op: 'lt', value: 100 }]]],
    ['ap100', [[{ field: 'value', op: 'ge', value: 90 }, { field: 'value', op: 'le', value: 110 }]]],
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
        [{ field: 'value', op: 'lt', value: 5.35 }, { field: 'system', op: 'eq', value: 'http://unitsofmeasure.org' }, { field: 'code', op: 'eq', value: 'mg' }],
        [{ field: 'value', op: 'ge', value: 5.45 }, { field: 'system', op: 'eq', value: 'http://unitsofmeasure.org' }, { field: 'code', op: 'eq', value: 'mg' }],
      ]),
    );
  });

  test.each(['value-quantity=5.4|mg', 'value-quantity=mg', 'value-quantity=|x|mg'])('%s is a 400', (q) => {
    expect(failure(() => parse('Observation', q)).status).toBe(400);
  });
});

describe('uri parameters', () => {
  const url = 'http://acme.org/fhir/ValueSet/123';
  test('exact by default', () => {
    expect(where1('ValueSet', `url=${url}`)).toEqual(entry('uri', 'url', [[{ field: 'value', op: 'eq', value: url }]]));
  });
  test(':below is starts-with', () => {
    expect(where1('ValueSet', 'url:below=http://acme.org/fhir')).toEqual(entry('uri', 'url', [[{ field: 'value', op: 'startsWith', value: 'http://acme.org/fhir' }]]));
  });
  test(':above is the URL or any of its parent paths', () => {
    expect(where1('ValueSet', `url:above=${url}`)).toEqual(
      entry('uri', 'url', [[{ field: 'value', op: 'in', value: [url, 'http://acme.org/fhir/ValueSet', 'http://acme.org/fhir', 'http://acme.org'] }]]),
    );
  });
  test('_profile is an ordinary uri parameter', () => {
    expect(where1('Patient', '_profile=http://x/sd')).toEqual(entry('uri', '_profile', [[{ field: 'value', op: 'eq', value: 'http://x/sd' }]]));
  });
});

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
